#!/usr/bin/env bash
# Copy benchmark: Lockkeeper's copy command against the usual tools, same inputs, same run.
#   ./lk bench copy                 (builds first)   or   bash bench/copy.sh [runs]
# Every timing: caches dropped before, `sync` included, JVM start included. Prints median wall time,
# ratio to the fastest peer (not Lockkeeper), target allocation (du), peak RSS and peak dirty page cache.
# Needs root (loop devices, drop_caches). Scratch space: bench/out/ (gitignored), about 14 GiB.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-5}
out=${LK_BENCH_DIR:-$root/bench/out}
jar=$root/sidecar/target/lockkeeper-sidecar.jar
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
[ -f "$jar" ] && [ -f "$aot_cache" ] || { echo "bench/copy.sh: build first (./lk build): $jar or its AOT cache missing" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need qemu-img qemu-utils
[ -x /usr/bin/time ] || need /usr/bin/time time

mkdir -p "$out"
cd "$out"
devices=()
cleanup() { for d in "${devices[@]}"; do losetup -d "$d" 2>/dev/null || true; done; }
trap cleanup EXIT

MiB=$((1 << 20))
# ---- inputs (made once, reused across runs of this script) ----
if [ ! -f sparse.img ]; then
  echo "making sparse.img: 4 GiB, 1 GiB of data in 4 MiB extents" >&2
  truncate -s 4G sparse.img.tmp
  for i in $(seq 0 255); do
    head -c $((4 * MiB)) /dev/urandom | dd of=sparse.img.tmp bs=4M seek=$((i * 4)) conv=notrunc status=none
  done
  mv sparse.img.tmp sparse.img
fi
if [ ! -f dense.img ]; then
  echo "making dense.img: 2 GiB of data" >&2
  head -c $((2048 * MiB)) /dev/urandom > dense.img.tmp && mv dense.img.tmp dense.img
fi
if [ ! -d tree ]; then
  echo "making tree: 20,000 small files, nested" >&2
  python3 - <<'EOF'
import os, random
random.seed(7)
for i in range(20000):
    d = os.path.join("tree.tmp", f"a{i % 20}", f"b{i % 13}", f"c{i % 7}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}"), "wb") as f:
        f.write(random.randbytes(random.randint(100, 16384)))
EOF
  mv tree.tmp tree
fi
sync

# block source: a loop device over a copy of sparse.img; block target: a loop device over a sparse 4 GiB file
[ -f source-dev.backing ] || cp --sparse=always sparse.img source-dev.backing
rm -f target-dev.backing && truncate -s 4G target-dev.backing
src_dev=$(losetup -f --show source-dev.backing); devices+=("$src_dev")
dst_dev=$(losetup -f --show target-dev.backing); devices+=("$dst_dev")

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
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
specs=()
add() { local case=$1 tool=$2 target=$3; shift 3; specs+=("$case;$tool;$target;$(printf '%q ' "$@")"); }
declare -A times rss dirty
measure_once() {   # index of a spec: one run, caches dropped before, sync included
  local case tool target command
  IFS=';' read -r case tool target command <<< "${specs[$1]}"
  reset_target "$target"
  [ "$case" = tree ] && [ "$tool" != lockkeeper ] && mkdir -p "$target"
  drop_caches
  ( while :; do awk '/^Dirty:/{print $2}' /proc/meminfo; sleep 0.1; done ) > dirty.log &
  local sampler=$!
  if ! /usr/bin/time -f '%e %M' -o time.log bash -c "$command && sync" >/dev/null 2>cmd.err; then
    kill $sampler; echo "FAILED: $case / $tool: $(tail -3 cmd.err)" >&2; return 0
  fi
  kill $sampler; wait $sampler 2>/dev/null || true
  local t m d
  read -r t m < time.log
  d=$(sort -n dirty.log | tail -1)
  times[$1]="${times[$1]:-} $t"
  [ "$m" -gt "${rss[$1]:-0}" ] && rss[$1]=$m
  [ "${d:-0}" -gt "${dirty[$1]:-0}" ] && dirty[$1]=$d
  allocation_of[$1]=$(allocation "$target")
  echo "  round $round: $case / $tool: $t s" >&2
}
declare -A allocation_of

# file -> file: sparse image
add sparse-file lockkeeper out.img "${lk[@]}" sparse.img out.img
add sparse-file "cp --sparse=always" out.img cp --sparse=always sparse.img out.img
add sparse-file "qemu-img convert" out.img qemu-img convert -f raw -O raw sparse.img out.img
add sparse-file "qemu-img -t none -W -m 4" out.img qemu-img convert -f raw -O raw -t none -W -m 4 sparse.img out.img
add sparse-file "dd conv=sparse oflag=direct" out.img dd if=sparse.img of=out.img bs=4M conv=sparse oflag=direct status=none
add sparse-file "tar -S | tar -x" out.d bash -c 'mkdir out.d && tar -S -cf - sparse.img | tar -xf - -C out.d'
add sparse-file "cp -a" out.img cp -a sparse.img out.img
# file -> file: dense
add dense-file lockkeeper out.img "${lk[@]}" dense.img out.img
add dense-file "cp --sparse=always" out.img cp --sparse=always dense.img out.img
add dense-file "qemu-img convert" out.img qemu-img convert -f raw -O raw dense.img out.img
add dense-file "qemu-img -t none -W -m 4" out.img qemu-img convert -f raw -O raw -t none -W -m 4 dense.img out.img
add dense-file "dd conv=sparse oflag=direct" out.img dd if=dense.img of=out.img bs=4M conv=sparse oflag=direct status=none
add dense-file "tar -S | tar -x" out.d bash -c 'mkdir out.d && tar -S -cf - dense.img | tar -xf - -C out.d'
add dense-file "cp -a" out.img cp -a dense.img out.img
# block -> file
add block-to-file lockkeeper out.img "${lk[@]}" "$src_dev" out.img
add block-to-file "cp --sparse=always" out.img cp --sparse=always "$src_dev" out.img
add block-to-file "qemu-img convert" out.img qemu-img convert -f raw -O raw "$src_dev" out.img
add block-to-file "qemu-img -T none -t none -W -m 4" out.img qemu-img convert -f raw -O raw -T none -t none -W -m 4 "$src_dev" out.img
add block-to-file "dd conv=sparse oflag=direct" out.img dd if="$src_dev" of=out.img bs=4M conv=sparse iflag=direct oflag=direct status=none
# file -> block (the target is discarded to zeros before each run, so every tool may skip holes)
add file-to-block lockkeeper "$dst_dev" "${lk[@]}" --target-is-zero sparse.img "$dst_dev"
add file-to-block "lockkeeper (zeroes holes)" "$dst_dev" "${lk[@]}" sparse.img "$dst_dev"
add file-to-block "cp --sparse=always" "$dst_dev" cp --sparse=always sparse.img "$dst_dev"
add file-to-block "qemu-img convert -n --target-is-zero" "$dst_dev" qemu-img convert -n --target-is-zero -f raw -O raw sparse.img "$dst_dev"
add file-to-block "qemu-img -n --target-is-zero -t none -W -m 4" "$dst_dev" qemu-img convert -n --target-is-zero -f raw -O raw -t none -W -m 4 sparse.img "$dst_dev"
add file-to-block "dd conv=sparse oflag=direct" "$dst_dev" dd if=sparse.img of="$dst_dev" bs=4M conv=sparse oflag=direct status=none
# tree of 20,000 small files
add tree lockkeeper out.d "${lk[@]}" tree out.d
add tree "cp -a" out.d cp -a tree/. out.d/
add tree "tar -S | tar -x" out.d bash -c 'tar -S -cf - -C tree . | tar -xf - -C out.d'
echo "timing: $runs rounds over ${#specs[@]} measurements..." >&2
for round in $(seq "$runs"); do
  for i in "${!specs[@]}"; do measure_once "$i"; done
done
reset_target out.img; reset_target out.d
results=()
for i in "${!specs[@]}"; do
  IFS=';' read -r case tool _ _ <<< "${specs[$i]}"
  median=$(printf '%s\n' ${times[$i]:-0} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  results+=("$case;$tool;$median;${allocation_of[$i]:-?};$(( ${rss[$i]:-0} / 1024 ));$(( ${dirty[$i]:-0} / 1024 ))")
done

# ---- table ----
printf '\n%-14s %-46s %9s %8s %9s %9s %10s\n' case tool "median s" ratio alloc "RSS MiB" "dirty MiB"
for case in sparse-file dense-file block-to-file file-to-block tree; do
  best=$(printf '%s\n' "${results[@]}" | awk -F';' -v c="$case" '$1==c && $2 !~ /^lockkeeper/ {print $3}' | sort -n | head -1)
  printf '%s\n' "${results[@]}" | awk -F';' -v c="$case" -v best="$best" '$1==c {
      printf "%-14s %-46s %9.2f %8.2f %9s %9s %10s\n", $1, $2, $3, (best > 0 ? $3 / best : 0), $4, $5, $6 }'
done
echo "ratio = median / fastest peer's median (peers: every tool except lockkeeper); < 1.00 means faster than all peers"
echo "dirty = peak of /proc/meminfo Dirty during the run; for a loop-device target it is the loop driver's own"
echo "buffered writes to its backing file, whatever the tool does"
