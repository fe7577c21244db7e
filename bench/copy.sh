#!/usr/bin/env bash
# Copy benchmark: Lockkeeper's copy command and its node agent against the usual tools, same inputs, same run.
#   ./lk bench copy                 (builds first)   or   bash bench/copy.sh [runs]
# Every timing: caches dropped and the disk settled before, `sync` included, JVM start included for `lockkeeper` (the
# copy command); `lockkeeper agent` is one agent JVM started once and kept running (as on a node), handed each copy as
# a task file. The block devices are loop devices in direct-I/O mode.
# Prints median wall time, ratio to the fastest peer (not Lockkeeper), target allocation (du), peak RSS and peak
# dirty page cache. Needs root (loop devices, drop_caches). Scratch space: bench/out/ (gitignored), about 14 GiB.
# Environment: LK_BENCH_SIZE (sparse image size, default 4G; 1/4 of it data; the dense image is half of it),
# LK_BENCH_FILES (files in the tree, default 20000), LK_BENCH_AGENT=0 (leave the agent out), LK_BENCH_TABLE=FILE
# (also write the results as case;tool;median;alloc;rss;dirty;cpu lines), LK_BENCH_DIR (scratch directory),
# LK_BENCH_CASES (only these cases, comma-separated: sparse-file,dense-file,block-to-file,file-to-block,tree),
# LK_BENCH_TOOLS (only tools whose name matches this extended regex; the ratio is then to the fastest peer kept),
# LK_BENCH_CONTROL_JAR (a second agent from another build of the jar, timed as "lockkeeper agent (control)" in the
# same rounds, for A/B runs). CPU s: user+system CPU seconds of the command (of the agent process for agent rows).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-5}
out=$(realpath -m "${LK_BENCH_DIR:-$root/bench/out}")
size=${LK_BENCH_SIZE:-4G}
bytes=$(numfmt --from=iec "$size")
files=${LK_BENCH_FILES:-20000}
jar=$root/sidecar/target/lockkeeper-sidecar.jar
cases_wanted=${LK_BENCH_CASES:-sparse-file,dense-file,block-to-file,file-to-block,tree}
tools_wanted=${LK_BENCH_TOOLS:-}
wants_case() { [[ ,$cases_wanted, == *,$1,* ]]; }
# the machine's default java may be older than the jar's 25: use $JAVA_HOME if it is new enough, else look around
find_java() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    [ "$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$candidate/release" 2>/dev/null)" -ge 25 ] 2>/dev/null \
      && { echo "$candidate/bin/java"; return; }
  done
  echo "bench/copy.sh: no JDK 25 or newer found" >&2; exit 1
}
java_bin=$(find_java)
# JVM flags and AOT cache as ./lk copy uses them (sidecar/jvm.options: C1 only, serial GC, 64 MiB heap; the cache
# is written by the build next to the jar)
aot_cache=$root/sidecar/target/lockkeeper-sidecar.aot
lk=("$java_bin" "@$root/sidecar/jvm.options" -XX:AOTCache="$aot_cache" -jar "$jar" copy --progress none)

[ "$(id -u)" = 0 ] || { echo "bench/copy.sh: needs root (loop devices, drop_caches)" >&2; exit 1; }
[ -f "$jar" ] || { echo "bench/copy.sh: build first (./lk build): $jar missing" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need qemu-img qemu-utils
[ -x /usr/bin/time ] || need /usr/bin/time time

mkdir -p "$out"
cd "$out"
devices=()
agent_pid= control_pid=
cleanup() {
  [ -n "$agent_pid" ] && kill -9 "$agent_pid" 2>/dev/null || true
  [ -n "$control_pid" ] && kill -9 "$control_pid" 2>/dev/null || true
  for d in "${devices[@]}"; do losetup -d "$d" 2>/dev/null || true; done
}
trap cleanup EXIT

MiB=$((1 << 20))
[ $((bytes % (16 * MiB))) = 0 ] && [ "$bytes" -ge $((64 * MiB)) ] \
  || { echo "bench/copy.sh: LK_BENCH_SIZE must be a multiple of 16M, at least 64M (got $size)" >&2; exit 2; }
# ---- inputs (made once per size, reused across runs of this script) ----
sparse=sparse-$size.img dense=dense-$size.img tree=tree-$files
if [ ! -f "$sparse" ]; then
  echo "making $sparse: $size, a quarter of it data in 4 MiB extents" >&2
  truncate -s "$bytes" sparse.img.tmp
  for i in $(seq 0 $((bytes / (16 * MiB) - 1))); do
    head -c $((4 * MiB)) /dev/urandom | dd of=sparse.img.tmp bs=4M seek=$((i * 4)) conv=notrunc status=none
  done
  mv sparse.img.tmp "$sparse"
fi
if wants_case dense-file && [ ! -f "$dense" ]; then
  echo "making $dense: $((bytes / 2 / MiB)) MiB of data" >&2
  head -c $((bytes / 2)) /dev/urandom > dense.img.tmp && mv dense.img.tmp "$dense"
fi
if wants_case tree && [ ! -d "$tree" ]; then
  echo "making $tree: $files small files, nested" >&2
  rm -rf tree.tmp
  python3 - "$files" <<'EOF2'
import os, random, sys
random.seed(7)
for i in range(int(sys.argv[1])):
    d = os.path.join("tree.tmp", f"a{i % 20}", f"b{i % 13}", f"c{i % 7}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}"), "wb") as f:
        f.write(random.randbytes(random.randint(100, 16384)))
EOF2
  mv tree.tmp "$tree"
fi
sync

# block source: a loop device over a copy of the sparse image; block target: a loop device over a sparse file of its
# size. Both in direct-I/O mode: a real device has no backing file and so no page cache under it. In losetup's default
# (buffered) mode the loop's one kernel worker ran every request through the backing file's page cache, and the block
# rows timed that: the agent's block -> file runs spread 1.2-9.4 s, caches dropped and the disk settled before each,
# against 0.9-1.2 s in direct-I/O mode (sidecar/README.md, issue 10 (a))
[ -f "source-dev-$size.backing" ] || cp --sparse=always "$sparse" "source-dev-$size.backing"
rm -f target-dev.backing && truncate -s "$bytes" target-dev.backing
loop_device() {  # BACKING: sets loop to a direct-I/O loop device over it; fails when the kernel kept it buffered
  loop=$(losetup -f --show --direct-io=on "$1"); devices+=("$loop")
  [ "$(cat "/sys/block/${loop#/dev/}/loop/dio")" = 1 ] \
    || { echo "bench/copy.sh: $loop over $1 is not in direct-I/O mode (the backing filesystem refused it)" >&2; exit 1; }
}
loop_device "source-dev-$size.backing"; src_dev=$loop
loop_device target-dev.backing; dst_dev=$loop

# the node agent, started once with the flags ./lk agent uses (C2, serial GC, 96 MiB heap) and a 16 MiB initial heap
# (-Xms16m: the initial heap is otherwise the whole 96 MiB, and a young generation that size is all touched, RSS that
# the live data never needs; ./lk agent should take the flag too), bound to loopback
# TASK-NAME is made unique per run inside agent-task.sh when given as -
agent_task=(bash "$root/bench/agent-task.sh" - bench)
start_agent() {  # JAR NAME: starts an agent with tasks in NAME-tasks, state in NAME-state, log in NAME.log; sets started_pid
  rm -rf "$2-tasks" "$2-state"; mkdir "$2-tasks"
  "$java_bin" -XX:+UseSerialGC -Xms16m -Xmx96m --enable-native-access=ALL-UNNAMED -jar "$1" agent --node bench \
    --tasks "$out/$2-tasks" --state-dir "$out/$2-state" --allowed-root "$out" --allowed-root /dev \
    --bind-address 127.0.0.1 --data-port 0 --admin-port 0 > "$2.log" 2>&1 &
  started_pid=$!
  for _ in $(seq 600); do grep -q "data port" "$2.log" && break; kill -0 "$started_pid" || break; sleep 0.1; done
  grep -q "data port" "$2.log" || { echo "bench/copy.sh: the agent did not start: $(tail -5 "$2.log")" >&2; exit 1; }
  # a node's agent has copied before: untimed copies of an image and of a tree warm its JIT up. The image code alone
  # left the first timed tree round at twice the later ones; after one tree copy C2 still compiles through the next
  # two (user CPU of consecutive tree copies on a fresh agent: 3.1, 1.0, 0.95, 0.46, 0.35 s), so the tree goes three
  # times (when the tree is timed)
  "${agent_task[@]}" "$out/$sparse" bench "$out/warm-up.img" "" "$out/$2-tasks" > /dev/null && rm -f warm-up.img
  # and from a device and onto one: the first copy of a kind the JIT had not seen cost a fresh agent 0.6-1.1 CPU-s
  # (recompiling) against 0.3-0.6 for the next one
  if wants_case block-to-file; then
    "${agent_task[@]}" "$src_dev" bench "$out/warm-up.img" "" "$out/$2-tasks" > /dev/null && rm -f warm-up.img
  fi
  if wants_case file-to-block; then
    "${agent_task[@]}" "$out/$sparse" bench "$dst_dev" "targetIsZero: true" "$out/$2-tasks" > /dev/null
  fi
  if wants_case tree; then
    for _ in 1 2 3; do
      "${agent_task[@]}" "$out/$tree" bench "$out/warm-up.d" "" "$out/$2-tasks" > /dev/null && rm -rf warm-up.d
    done
  fi
}
if [ "${LK_BENCH_AGENT:-1}" = 1 ]; then
  start_agent "$jar" agent; agent_pid=$started_pid
  if [ -n "${LK_BENCH_CONTROL_JAR:-}" ]; then
    start_agent "$(realpath "$LK_BENCH_CONTROL_JAR")" agent-control; control_pid=$started_pid
  fi
fi
add_agent() {  # CASE TARGET SOURCE EXTRA-SPEC: the agent's row of a case (and the control agent's), when they run
  [ -n "$agent_pid" ] || return 0
  cpu_of_next=$agent_pid
  add "$1" "lockkeeper agent" "$2" "${agent_task[@]}" "$(abs "$3")" bench "$(abs "$2")" "$4" "$out/agent-tasks"
  [ -n "$control_pid" ] || return 0
  cpu_of_next=$control_pid
  add "$1" "lockkeeper agent (control)" "$2" "${agent_task[@]}" "$(abs "$3")" bench "$(abs "$2")" "$4" \
    "$out/agent-control-tasks"
}
abs() { case "$1" in /*) echo "$1" ;; *) echo "$out/$1" ;; esac; }

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# the disk under the scratch directory, whose own queue the runs share (its stat's 10th field: ms it had I/O in flight)
disk_stat=/sys/class/block/$(basename "$(realpath -m "$(findmnt -T "$out" -no SOURCE)")")/stat
[ -f "$disk_stat" ] || disk_stat=
busy_ms() { [ -n "$disk_stat" ] && awk '{print $10}' "$disk_stat" || echo 0; }
# before each timed run: caches dropped, then waiting (up to 60 s) until the machine has no dirty or writeback pages
# left (under 32 MiB) and the disk has been idle for half a second (busy under 25 ms of it), so that no run starts
# behind writeback or another process's I/O, whichever tool it is
settle() {
  drop_caches
  local before after pending
  for _ in $(seq 120); do
    before=$(busy_ms); sleep 0.5; after=$(busy_ms)
    pending=$(awk '/^(Dirty|Writeback):/ {kib += $2} END {print kib}' /proc/meminfo)
    [ "$pending" -lt 32768 ] && [ $((after - before)) -lt 25 ] && return 0
  done
  echo "  (the disk did not settle in 60 s: $pending KiB dirty or in writeback, $((after - before)) ms busy of 500)" >&2
}
reset_target() {   # $1 = target path; a device is discarded back to zeros, anything else removed
  case "$1" in
    /dev/*) blkdiscard -f "$1" 2>/dev/null || blkdiscard "$1"; sync ;;
    *) rm -rf "$1" ;;
  esac
}
allocation() {   # du of the target; for the device, of its backing file
  case "$1" in
    /dev/*) du -sh target-dev.backing | cut -f1 ;;
    *) du -sh "$1" | cut -f1 ;;
  esac
}

# add CASE TOOL TARGET COMMAND... : registers one measurement; all are run round-robin below, so that
# disturbances from the VM's neighbours spread over every tool instead of hitting one tool's runs
# CPU seconds: /usr/bin/time's user+system of the command, or for an agent row the agent process's (its utime+stime
# in /proc/PID/stat, before and after): cpu_of_next names that process for the next add
specs=() cpu_of_next=
declare -A cpu_pid
add() {
  local case=$1 tool=$2 target=$3; shift 3
  local pid=$cpu_of_next; cpu_of_next=
  wants_case "$case" || return 0
  [ -z "$tools_wanted" ] || [[ $tool =~ $tools_wanted ]] || return 0
  [ "$tool" != lockkeeper ] && [[ $tool != "lockkeeper (zeroes holes)" ]] || [ -f "$aot_cache" ] \
    || { echo "bench/copy.sh: build first (./lk build): the AOT cache $aot_cache is missing" >&2; exit 1; }
  [ -n "$pid" ] && cpu_pid[${#specs[@]}]=$pid
  specs+=("$case;$tool;$target;$(printf '%q ' "$@")")
}
process_cpu() { awk '{printf "%d", $14 + $15}' "/proc/$1/stat"; }  # clock ticks
ticks=$(getconf CLK_TCK)
declare -A times rss dirty cpu
measure_once() {   # index of a spec: one run, caches dropped and the disk settled before, sync included
  local case tool target command
  IFS=';' read -r case tool target command <<< "${specs[$1]}"
  reset_target "$target"
  [ "$case" = tree ] && [[ $tool != lockkeeper* ]] && mkdir -p "$target"
  settle
  ( while :; do awk '/^Dirty:/{print $2}' /proc/meminfo; sleep 0.1; done ) > dirty.log &
  local sampler=$! pid=${cpu_pid[$1]:-} before=0
  [ -n "$pid" ] && before=$(process_cpu "$pid")
  if ! /usr/bin/time -f '%e %M %U %S' -o time.log bash -c "$command && sync" >/dev/null 2>cmd.err; then
    kill $sampler; echo "FAILED: $case / $tool: $(tail -3 cmd.err)" >&2; return 0
  fi
  kill $sampler; wait $sampler 2>/dev/null || true
  local t m u s c d
  read -r t m u s < time.log
  if [ -n "$pid" ]; then c=$(awk -v t="$(( $(process_cpu "$pid") - before ))" -v hz="$ticks" 'BEGIN {printf "%.2f", t / hz}')
  else c=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}'); fi
  d=$(sort -n dirty.log | tail -1)
  times[$1]="${times[$1]:-} $t"
  cpu[$1]="${cpu[$1]:-} $c"
  [ "$m" -gt "${rss[$1]:-0}" ] && rss[$1]=$m
  [ "${d:-0}" -gt "${dirty[$1]:-0}" ] && dirty[$1]=$d
  allocation_of[$1]=$(allocation "$target")
  echo "  round $round: $case / $tool: $t s, $c CPU s" >&2
}
declare -A allocation_of

# file -> file: sparse image
add sparse-file lockkeeper out.img "${lk[@]}" "$sparse" out.img
add_agent sparse-file out.img "$sparse" ""
add sparse-file "cp --sparse=always" out.img cp --sparse=always "$sparse" out.img
add sparse-file "qemu-img convert" out.img qemu-img convert -f raw -O raw "$sparse" out.img
add sparse-file "qemu-img -t none -W -m 4" out.img qemu-img convert -f raw -O raw -t none -W -m 4 "$sparse" out.img
add sparse-file "dd conv=sparse oflag=direct" out.img dd if=$sparse of=out.img bs=4M conv=sparse oflag=direct status=none
add sparse-file "tar -S | tar -x" out.d bash -c "mkdir out.d && tar -S -cf - $sparse | tar -xf - -C out.d"
add sparse-file "cp -a" out.img cp -a "$sparse" out.img
# file -> file: dense
add dense-file lockkeeper out.img "${lk[@]}" "$dense" out.img
add_agent dense-file out.img "$dense" ""
add dense-file "cp --sparse=always" out.img cp --sparse=always "$dense" out.img
add dense-file "qemu-img convert" out.img qemu-img convert -f raw -O raw "$dense" out.img
add dense-file "qemu-img -t none -W -m 4" out.img qemu-img convert -f raw -O raw -t none -W -m 4 "$dense" out.img
add dense-file "dd conv=sparse oflag=direct" out.img dd if=$dense of=out.img bs=4M conv=sparse oflag=direct status=none
add dense-file "tar -S | tar -x" out.d bash -c "mkdir out.d && tar -S -cf - $dense | tar -xf - -C out.d"
add dense-file "cp -a" out.img cp -a "$dense" out.img
# block -> file
add block-to-file lockkeeper out.img "${lk[@]}" "$src_dev" out.img
add_agent block-to-file out.img "$src_dev" ""
add block-to-file "cp --sparse=always" out.img cp --sparse=always "$src_dev" out.img
add block-to-file "qemu-img convert" out.img qemu-img convert -f raw -O raw "$src_dev" out.img
add block-to-file "qemu-img -T none -t none -W -m 4" out.img qemu-img convert -f raw -O raw -T none -t none -W -m 4 "$src_dev" out.img
add block-to-file "dd conv=sparse oflag=direct" out.img dd if="$src_dev" of=out.img bs=4M conv=sparse iflag=direct oflag=direct status=none
# file -> block (the target is discarded to zeros before each run, so every tool may skip holes)
add file-to-block lockkeeper "$dst_dev" "${lk[@]}" --target-is-zero "$sparse" "$dst_dev"
add_agent file-to-block "$dst_dev" "$sparse" "targetIsZero: true"
add file-to-block "lockkeeper (zeroes holes)" "$dst_dev" "${lk[@]}" "$sparse" "$dst_dev"
add file-to-block "cp --sparse=always" "$dst_dev" cp --sparse=always "$sparse" "$dst_dev"
add file-to-block "qemu-img convert -n --target-is-zero" "$dst_dev" qemu-img convert -n --target-is-zero -f raw -O raw "$sparse" "$dst_dev"
add file-to-block "qemu-img -n --target-is-zero -t none -W -m 4" "$dst_dev" qemu-img convert -n --target-is-zero -f raw -O raw -t none -W -m 4 "$sparse" "$dst_dev"
add file-to-block "dd conv=sparse oflag=direct" "$dst_dev" dd if=$sparse of="$dst_dev" bs=4M conv=sparse oflag=direct status=none
# tree of small files
add tree lockkeeper out.d "${lk[@]}" "$tree" out.d
add_agent tree out.d "$tree" ""
add tree "cp -a" out.d cp -a "$tree/." out.d/
add tree "tar -S | tar -x" out.d bash -c "tar -S -cf - -C $tree . | tar -xf - -C out.d"
echo "timing: $runs rounds over ${#specs[@]} measurements..." >&2
# each round in its own random order: a run is slowed by what ran just before it (it seems the VM's disk is still
# writing back the gigabyte the previous run wrote, and the next run's reads wait behind it), and in a fixed order,
# rotated or not, the same tool always follows the same one (the agent's block-to-file row always came right after
# the last file-to-block run and took 5x the time of a second agent timed right after it, same jar)
for round in $(seq "$runs"); do
  for i in $(shuf -i 0-$(( ${#specs[@]} - 1 ))); do measure_once "$i"; done
done
reset_target out.img; reset_target out.d
results=()
for i in "${!specs[@]}"; do
  IFS=';' read -r case tool _ _ <<< "${specs[$i]}"
  median=$(printf '%s\n' ${times[$i]:-0} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  cpu_median=$(printf '%s\n' ${cpu[$i]:-0} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  results+=("$case;$tool;$median;${allocation_of[$i]:-?};$(( ${rss[$i]:-0} / 1024 ));$(( ${dirty[$i]:-0} / 1024 ));$cpu_median")
done

# ---- table ----
printf '\n%-14s %-46s %9s %8s %9s %9s %10s %7s\n' case tool "median s" ratio alloc "RSS MiB" "dirty MiB" "CPU s"
for case in sparse-file dense-file block-to-file file-to-block tree; do
  best=$(printf '%s\n' "${results[@]}" | awk -F';' -v c="$case" '$1==c && $2 !~ /^lockkeeper/ {print $3}' | sort -n | head -1)
  printf '%s\n' "${results[@]}" | awk -F';' -v c="$case" -v best="$best" '$1==c {
      printf "%-14s %-46s %9.2f %8.2f %9s %9s %10s %7s\n", $1, $2, $3, (best > 0 ? $3 / best : 0), $4, $5, $6, $7 }'
done
[ -n "${LK_BENCH_TABLE:-}" ] && printf '%s\n' "${results[@]}" > "$LK_BENCH_TABLE"
[ -n "$agent_pid" ] && printf 'lockkeeper agent: one JVM for every run, peak RSS %d MiB (VmHWM)\n' \
  $(( $(awk '/VmHWM/{print $2}' /proc/"$agent_pid"/status) / 1024 ))
[ -n "$control_pid" ] && printf 'lockkeeper agent (control, %s): peak RSS %d MiB (VmHWM)\n' "$LK_BENCH_CONTROL_JAR" \
  $(( $(awk '/VmHWM/{print $2}' /proc/"$control_pid"/status) / 1024 ))
echo "CPU s = median user+system CPU seconds (for agent rows, of the agent process)"
echo "ratio = median / fastest peer's median (peers: every tool except lockkeeper); < 1.00 means faster than all peers"
echo "dirty = peak of /proc/meminfo Dirty during the run (the loop devices are in direct-I/O mode: none of their own)"
