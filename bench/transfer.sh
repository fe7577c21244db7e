#!/usr/bin/env bash
# Transfer benchmark (issue 10 (a)-(e)), with the real node agent (`lockkeeper-sidecar agent`, the flags of
# `./lk agent`: C2, serial GC, 96 MiB heap, and a 16 MiB initial heap as bench/copy.sh explains). Prints ratios, not a test.
#   ./lk bench transfer [runs]      (builds first)   or   bash bench/transfer.sh [runs]   (default 3 runs)
# Needs root (network namespaces, loop devices, drop_caches). Every timing: caches dropped before, sync included;
# the agents are started once and stay up (as on a node), each copy is handed to them as a task file.
#   (a) the agent copying on one node vs the fastest peer of bench/copy.sh, per row (runs bench/copy.sh)
#   (b) agent -> agent across two network namespaces joined by a veth, vs the same agent copying locally, vs
#       `tar -S -c | socat OPENSSL` -> `socat OPENSSL-LISTEN | tar -x`, vs a raw `dd | socat OPENSSL` stream; and two
#       floors: the image's data bytes from memory to memory through socat OPENSSL, and through plain TCP
#   (c) bytes on the veth (TLS, TCP and IP included) and payload data bytes vs the image's allocated data
#   (d) kill -9 of the target agent, then of the source agent, at 50 %: bytes sent again, total time vs uninterrupted
#   (e) peak RSS of each agent; heap, RSS and dirty page cache with two tasks running at once
# Environment: LK_BENCH_SIZE (image size, default 4G, a quarter of it data), LK_BENCH_FILES (tree files for (a)),
# LK_BENCH_SKIP_COPY=1 (leave (a) out), LK_BENCH_DIR (scratch directory, default bench/out), LK_BENCH_ROWS (the rows
# to run, default abcde; (c) comes with (b), (d)'s reference is (b)'s agent -> agent time), LK_BENCH_WARMUP (untimed
# copies each way before (b), default 3), LK_BENCH_PEERS=0 (in (b),
# only the agent rows: no verify, tar or dd runs), LK_BENCH_JAR (another build of the jar, for A/B runs),
# LK_BENCH_JVM_OPTS (more JVM options for the agents, e.g. a flight recording), LK_BENCH_PIN=0 (the two nodes' processes
# not pinned to their own halves of the CPUs).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-3}
base=$(realpath -m "${LK_BENCH_DIR:-$root/bench/out}")
out=$base/transfer
size=${LK_BENCH_SIZE:-4G}
bytes=$(numfmt --from=iec "$size")
MiB=$((1 << 20))
jar=${LK_BENCH_JAR:-$root/sidecar/target/lockkeeper-sidecar.jar}
rows_wanted=${LK_BENCH_ROWS:-abcde}
wants() { [[ $rows_wanted == *"$1"* ]]; }
peers=${LK_BENCH_PEERS:-1}
[ "$(id -u)" = 0 ] || { echo "bench/transfer.sh: needs root (network namespaces, drop_caches)" >&2; exit 1; }
command -v ip >/dev/null || { echo "bench/transfer.sh: needs iproute2's ip" >&2; exit 1; }
[ -f "$jar" ] || { echo "bench/transfer.sh: build first (./lk build): $jar missing" >&2; exit 1; }
[ $((bytes % (16 * MiB))) = 0 ] && [ "$bytes" -ge $((64 * MiB)) ] \
  || { echo "bench/transfer.sh: LK_BENCH_SIZE must be a multiple of 16M, at least 64M (got $size)" >&2; exit 2; }
need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need socat socat
need curl curl
[ -x /usr/bin/time ] || need /usr/bin/time time
java_bin=
for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
  [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
  [ "$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$candidate/release" 2>/dev/null)" -ge 25 ] 2>/dev/null && { java_bin=$candidate/bin/java; break; }
done
[ -n "$java_bin" ] || { echo "bench/transfer.sh: no JDK 25" >&2; exit 1; }
# shellcheck disable=SC2206
agent_cmd=("$java_bin" -XX:+UseSerialGC -Xms16m -Xmx96m --enable-native-access=ALL-UNNAMED ${LK_BENCH_JVM_OPTS:-} -jar "$jar" agent)

rows=()   # section;what;value;reference;ratio
row() { rows+=("$1;$2;$3;$4;$5"); }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "-" }'; }
median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# ---- (a) on one node: bench/copy.sh with the agent as one of its tools ----
if [ "${LK_BENCH_SKIP_COPY:-0}" != 1 ] && wants a; then
  echo "(a) bench/copy.sh, $runs rounds..." >&2
  mkdir -p "$out"
  LK_BENCH_DIR=$base LK_BENCH_TABLE=$out/copy-table LK_BENCH_AGENT=1 bash "$root/bench/copy.sh" "$runs" > "$out/copy.txt"
  for case in sparse-file dense-file block-to-file file-to-block tree; do
    agent=$(awk -F';' -v c="$case" '$1==c && $2=="lockkeeper agent" {print $3}' "$out/copy-table")
    best=$(awk -F';' -v c="$case" '$1==c && $2 !~ /^lockkeeper/ {print $3 ";" $2}' "$out/copy-table" | sort -n | head -1)
    row "(a)" "agent, $case vs ${best#*;}" "${agent}s" "${best%%;*}s" "$(ratio "$agent" "${best%%;*}")"
  done
fi

mkdir -p "$out"; cd "$out"
sparse=$base/sparse-$size.img
if [ ! -f "$sparse" ]; then
  echo "making $sparse: $size, a quarter of it data in 4 MiB extents" >&2
  truncate -s "$bytes" "$sparse.tmp"
  for i in $(seq 0 $((bytes / (16 * MiB) - 1))); do
    head -c $((4 * MiB)) /dev/urandom | dd of="$sparse.tmp" bs=4M seek=$((i * 4)) conv=notrunc status=none
  done
  mv "$sparse.tmp" "$sparse"
fi
allocated=$(du --block-size=1 "$sparse" | cut -f1)

# node certificates from an agent CA, made with openssl (SAN spiffe://lockkeeper.dev/node/NODE, as the agent requires)
if [ ! -f pki/node-b/tls.crt ]; then
  rm -rf pki; mkdir -p pki
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out pki/ca.key
  openssl req -x509 -new -key pki/ca.key -subj /CN=bench-agent-ca -days 2 -out pki/ca.crt 2>/dev/null
  for node in node-a node-b; do
    mkdir -p pki/$node
    openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out pki/$node/tls.key
    openssl req -new -key pki/$node/tls.key -subj "/CN=node:$node" -out pki/$node/tls.csr 2>/dev/null
    printf 'subjectAltName=critical,URI:spiffe://lockkeeper.dev/node/%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n' $node > pki/$node/ext
    openssl x509 -req -in pki/$node/tls.csr -CA pki/ca.crt -CAkey pki/ca.key -CAcreateserial -days 1 \
      -extfile pki/$node/ext -out pki/$node/tls.crt 2>/dev/null
    cp pki/ca.crt pki/$node/ca.crt
  done
fi

# two "nodes": a network namespace each, one veth pair between them, addresses only on that pair; and each node's
# processes on its own half of the CPUs (LK_BENCH_PIN=0: anywhere). Two real nodes never share cores; unpinned, the
# scheduler kept waking the target's receiving thread on the core where the source's sending thread had just
# written, and the two took turns on one core while the other idled (2 cores: agent -> agent 1.05-1.14 s unpinned,
# 0.90-0.94 s pinned; the local copy, disk-bound at 0.05 CPU-s, 0.76-0.83 s against 0.74-0.77 s)
ns_a=lk-bench-a ns_b=lk-bench-b link_a=lk-bva link_b=lk-bvb addr_a=198.18.40.1 addr_b=198.18.40.2
declare -A pid addr=([node-a]=$addr_a [node-b]=$addr_b) ns=([node-a]=$ns_a [node-b]=$ns_b)
cpus=$(nproc)
declare -A on=([node-a]="ip netns exec $ns_a" [node-b]="ip netns exec $ns_b")
if [ "${LK_BENCH_PIN:-1}" = 1 ] && [ "$cpus" -ge 2 ]; then
  on[node-a]+=" taskset -c 0-$((cpus / 2 - 1))"; on[node-b]+=" taskset -c $((cpus / 2))-$((cpus - 1))"
fi
on_a=${on[node-a]} on_b=${on[node-b]}
cleanup() {  # agents get SIGTERM first, so a flight recording in LK_BENCH_JVM_OPTS is written out
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0; for p in "${pid[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.1
  done
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  ip netns del $ns_a 2>/dev/null || true; ip netns del $ns_b 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add $ns_a; ip netns add $ns_b
ip -n $ns_a link add $link_a type veth peer name $link_b netns $ns_b
ip -n $ns_a addr add $addr_a/30 dev $link_a; ip -n $ns_b addr add $addr_b/30 dev $link_b
ip -n $ns_a link set $link_a up; ip -n $ns_b link set $link_b up
ip -n $ns_a link set lo up; ip -n $ns_b link set lo up

starts=0
declare -A peak_rss=([node-a]=0 [node-b]=0)
start_agent() {  # NODE: starts (or restarts) that node's agent in its namespace and waits until it listens
  local node=$1 log=agent-$1-$starts.log
  starts=$((starts + 1))
  mkdir -p tasks-$node
  ${on[$node]} "${agent_cmd[@]}" --node "$node" --tasks "$out/tasks-$node" --state-dir "$out/state-$node" \
    --allowed-root "$out" --allowed-root "$base" --tls-dir "pki/$node" --bind-address "${addr[$node]}" \
    --data-port 8444 --admin-port 8445 --peer node-a=$addr_a:8444 > "$log" 2>&1 &
  pid[$node]=$!
  for _ in $(seq 600); do grep -q "data port" "$log" && return 0; kill -0 "${pid[$node]}" 2>/dev/null || break; sleep 0.1; done
  echo "bench/transfer.sh: agent $node did not start: $(tail -5 "$log")" >&2; exit 1
}
note_rss() {  # NODE: keeps the agent's peak RSS (VmHWM) before it is killed or at the end
  local hwm
  hwm=$(awk '/VmHWM/{print $2}' /proc/"${pid[$1]}"/status 2>/dev/null || echo 0)
  [ "${hwm:-0}" -gt "${peak_rss[$1]}" ] && peak_rss[$1]=$hwm
  return 0
}
kill_agent() { note_rss "$1"; kill -9 "${pid[$1]}"; wait "${pid[$1]}" 2>/dev/null || true; }
metric() {  # NODE NAME-AND-LABELS: one value from the agent's /metrics
  ip netns exec "${ns[$1]}" curl -s "http://${addr[$1]}:8445/metrics" | awk -v m="$2" 'index($0, m " ") == 1 {print $2}'
}
# data bytes the target agent (node-b) has received since it started, as an integer (Prometheus prints 5.36870912E8;
# %.0f, since mawk's %d stops at 2^31)
target_data() { metric node-b 'lockkeeper_agent_bytes_total{kind="data",role="target"}' | awk '{printf "%.0f", $1 + 0}'; }
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"${pid[$1]}"/stat; }   # NODE: the agent's utime + stime so far
sys_ticks() { awk '{ print $15 }' /proc/"${pid[$1]}"/stat; }          # NODE: its stime alone
rx_bytes() { ip netns exec $ns_b cat /sys/class/net/$link_b/statistics/rx_bytes; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
task() {  # SOURCE-NODE TARGET EXTRA-SPEC [TASK-NAME]: one copy through the agents, to node-b; prints its final status
  local dirs="$out/tasks-node-b"
  [ "$1" = node-a ] && dirs="$out/tasks-node-b $out/tasks-node-a"
  # shellcheck disable=SC2086
  bash "$root/bench/agent-task.sh" "${4:--}" "$1" "$sparse" node-b "$2" "$3" $dirs
}
rm -rf tasks-* state-*
start_agent node-a
start_agent node-b
# C2 keeps compiling the data path through the first copies (seconds of compiler CPU on both agents, on the cores the
# copy needs); a node's agent that has run for a while has that code, so the timed rounds come after it
warmups=${LK_BENCH_WARMUP:-3}
echo "warming the agents up ($warmups untimed copies each way)" >&2
for _ in $(seq "$warmups"); do
  task node-a "$out/out.img" "" > /dev/null; task node-b "$out/out.img" "" > /dev/null; rm -f out.img
done

# ---- (b) and (c) ----
declare -A times
timed() {  # NAME COMMAND: one run, caches dropped, sync included
  local name=$1; shift
  rm -rf out.img out.d; drop_caches
  local before; before=$(rx_bytes)
  if ! /usr/bin/time -f '%e' -o time.log bash -c "$* && sync" > run.log 2> run.err; then
    echo "FAILED: $name: $(tail -3 run.err) $(tail -c 300 run.log)" >&2; return 0
  fi
  times[$name]="${times[$name]:-} $(cat time.log)"
  echo "$(( $(rx_bytes) - before ))" > "veth.$(echo "$name" | tr -c 'a-z0-9\n' _)"
  echo "  $name: $(cat time.log) s" >&2
}
tls_listen="OPENSSL-LISTEN:9555,bind=$addr_b,reuseaddr,cert=pki/node-b/tls.crt,key=pki/node-b/tls.key,cafile=pki/ca.crt,verify=1"
tls_connect="OPENSSL:$addr_b:9555,cert=pki/node-a/tls.crt,key=pki/node-a/tls.key,cafile=pki/ca.crt,verify=0"
a2a="agent -> agent (veth)"
names=("agent, local on node-b" "$a2a" "agent -> agent + verify" "tar -S | socat OPENSSL" "dd | socat OPENSSL (raw)"
  "floor: socat OPENSSL, memory to memory (no disk)" "floor: socat TCP, no TLS, memory to memory")
[ "$peers" = 1 ] || names=("${names[@]:0:2}")
a2a_t=0
if wants b || wants c; then
task_q=$(declare -f task); vars="root=$root sparse=$sparse out=$out"
declare -A cpu
for round in $(seq "$runs"); do
  echo "(b) round $round" >&2
  local_before=$(cpu_ticks node-b) local_sys_before=$(sys_ticks node-b)
  timed "${names[0]}" "$task_q; $vars; task node-b $out/out.img ''"
  cpu[local]="${cpu[local]:-} $(( $(cpu_ticks node-b) - local_before ))"
  cpu[local_sys]="${cpu[local_sys]:-} $(( $(sys_ticks node-b) - local_sys_before ))"
  source_data_before=$(metric node-a 'lockkeeper_agent_bytes_total{kind="data",role="source"}')
  source_before=$(cpu_ticks node-a) target_before=$(cpu_ticks node-b)
  source_sys_before=$(sys_ticks node-a) target_sys_before=$(sys_ticks node-b)
  timed "${names[1]}" "$task_q; $vars; task node-a $out/out.img ''"
  cpu[source]="${cpu[source]:-} $(( $(cpu_ticks node-a) - source_before ))"
  cpu[target]="${cpu[target]:-} $(( $(cpu_ticks node-b) - target_before ))"
  cpu[source_sys]="${cpu[source_sys]:-} $(( $(sys_ticks node-a) - source_sys_before ))"
  cpu[target_sys]="${cpu[target_sys]:-} $(( $(sys_ticks node-b) - target_sys_before ))"
  source_data=$(awk -v a="$(metric node-a 'lockkeeper_agent_bytes_total{kind="data",role="source"}')" -v b="$source_data_before" 'BEGIN { printf "%.0f", a - b }')
  cp run.log outcome.json
  [ "$peers" = 1 ] || continue
  timed "${names[2]}" "$task_q; $vars; task node-a $out/out.img 'verify: true'"
  timed "${names[3]}" "mkdir out.d && ($on_b bash -c \"socat -u '$tls_listen' - | tar -xf - -C out.d\") & sleep 0.5; $on_a bash -c 'tar -S -cf - -C $(dirname "$sparse") $(basename "$sparse") | socat -u - \"$tls_connect\"'; wait"
  timed "${names[4]}" "($on_b bash -c \"socat -u '$tls_listen' - | dd of=out.img bs=4M conv=sparse status=none\") & sleep 0.5; $on_a bash -c 'dd if=$sparse bs=4M status=none | socat -u - \"$tls_connect\"'; wait"
  # the floors: the image's data bytes through the same veth by OpenSSL and by plain TCP, no disk on either side;
  # the listener is up before the clock starts
  for floor in 5 6; do
    listen=$tls_listen connect=$tls_connect
    [ $floor = 6 ] && listen="TCP-LISTEN:9555,bind=$addr_b,reuseaddr" connect="TCP:$addr_b:9555"
    $on_b socat -b 262144 -u "$listen" - > /dev/null & listener=$!
    until ip netns exec $ns_b ss -ltn | grep -q ":9555 "; do sleep 0.05; done
    timed "${names[$floor]}" "$on_a bash -c 'head -c $allocated /dev/zero | socat -b 262144 -u - \"$connect\"'; while kill -0 $listener 2>/dev/null; do sleep 0.01; done"
    wait $listener 2>/dev/null || true
  done
done
a2a_t=$(median "${times[$a2a]:-0}")
for name in "${names[@]}"; do
  t=$(median "${times[$name]:-0}")
  row "(b)" "$name (s, ratio = row / agent->agent)" "$t" "$a2a_t" "$(ratio "$t" "$a2a_t")"
done
ticks=$(getconf CLK_TCK)
cpu_s() { awk -v t="$(median "$1")" -v hz="$ticks" 'BEGIN { printf "%.2f", t / hz }'; }
row "(b)" "CPU s (user+sys) of the agents: local copy / a2a source + a2a target" "$(cpu_s "${cpu[local]}")" \
  "$(cpu_s "${cpu[source]}") + $(cpu_s "${cpu[target]}")" "-"
row "(b)" "  of which sys (kernel): local copy / a2a source + a2a target" "$(cpu_s "${cpu[local_sys]}")" \
  "$(cpu_s "${cpu[source_sys]}") + $(cpu_s "${cpu[target_sys]}")" "-"
veth=$(cat "veth.$(echo "$a2a" | tr -c 'a-z0-9\n' _)")
row "(c)" "bytes on the veth (TLS+TCP+IP) vs allocated" "$veth" "$allocated" "$(ratio "$veth" "$allocated")"
row "(c)" "data bytes sent by the source agent vs allocated" "$source_data" "$allocated" "$(ratio "$source_data" "$allocated")"
fi

# ---- (d) kill -9 at 50 % ----
interrupted() {  # NODE to kill: one a->a copy, that agent killed at half and restarted; writes seconds, veth bytes and the
  # resume gap (from the restarted agent listening to its first DATA byte moved: the retry policy's share) to kill.result
  local victim=$1 start end before received name=kill-$1-$(date +%s%N)
  rm -f out.img; drop_caches
  received=$(target_data)
  before=$(rx_bytes); start=$(date +%s.%N)
  task node-a "$out/out.img" "" "$name" > kill.json &
  local waiter=$!
  # half is half of the data, as the target's live counter has it (the status file is written once a second, too
  # coarse for a copy of about that long); a copy that ends before it is seen at half is not interrupted, and
  # kill.result says so
  until [ $(( $(target_data) - received )) -ge $((allocated / 2)) ] || ! kill -0 "$waiter" 2>/dev/null; do
    sleep 0.01
  done
  kill -0 "$waiter" 2>/dev/null || echo "WARNING: the copy ended before half of its data had arrived; nothing interrupted" >&2
  kill_agent "$victim"
  start_agent "$victim"
  local up role gap=-
  up=$(date +%s.%N)
  role=$([ "$victim" = node-b ] && echo target || echo source)
  while kill -0 "$waiter" 2>/dev/null; do
    if [ "$(metric "$victim" "lockkeeper_agent_bytes_total{kind=\"data\",role=\"$role\"}" | cut -d. -f1)" -gt 0 ] 2>/dev/null; then
      gap=$(echo "$(date +%s.%N) - $up" | bc -l | awk '{ printf "%.2f", $1 }'); break
    fi
    sleep 0.05
  done
  wait "$waiter" || echo "FAILED: the copy after kill -9 of $victim: $(cat kill.json)" >&2
  sync; end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc -l) $(( $(rx_bytes) - before )) $gap" > kill.result
}
for victim in node-b node-a; do
  wants d || break
  echo "(d) kill -9 of $victim at 50 %" >&2
  interrupted $victim
  read -r took moved gap < kill.result
  cmp -s -n "$bytes" "$sparse" out.img || echo "WARNING: after kill -9 of $victim the copy differs from the source" >&2
  from=$(grep -o '"resumedFrom" *: *[0-9]*' kill.json | grep -o '[0-9]*$' || echo 0)
  which=$([ $victim = node-b ] && echo target || echo source)
  again=$(( (moved - ${veth:-$allocated}) / MiB ))
  row "(d)" "kill -9 $which at 50 %: MiB again on the veth (resumed from $((from / MiB)) MiB)" "$again" 1024 "$(ratio "$again" 1024)"
  row "(d)" "kill -9 $which at 50 %: total s (restart included) vs uninterrupted" "$took" "$a2a_t" "$(ratio "$took" "$a2a_t")"
  row "(d)" "kill -9 $which at 50 %: s from the restarted agent listening to data moving" "$gap" - -
done

# ---- (e) memory: two tasks at once, sampled every 0.1 s ----
if wants e; then
rm -f out.img out2.img; drop_caches
(while :; do
   heap=$(ip netns exec $ns_b curl -s "http://$addr_b:8445/metrics" \
     | awk 'index($0, "jvm_memory_used_bytes{area=\"heap\"") == 1 { sum += $NF } END { printf "%d", sum }')
   printf '%s %s %s %s\n' "$(awk '/VmRSS/{print $2}' /proc/"${pid[node-a]}"/status)" "$(awk '/VmRSS/{print $2}' /proc/"${pid[node-b]}"/status)" \
     "$(awk '/^Dirty:/{print $2}' /proc/meminfo)" "$heap"
   sleep 0.2
 done) > memory.log &
sampler=$!
task node-a "$out/out.img" "" > /dev/null & first=$!
task node-a "$out/out2.img" "" > /dev/null & second=$!
wait $first $second || echo "FAILED: the two tasks at once" >&2
kill $sampler; wait $sampler 2>/dev/null || true
rm -f out.img out2.img
for node in node-a node-b; do note_rss $node; done
read -r rss_a rss_b dirty heap <<< "$(awk '{ if ($1 > a) a = $1; if ($2 > b) b = $2; if ($3 > d) d = $3; if ($4 > hp) hp = $4 }
  END { printf "%d %d %d %d", a / 1024, b / 1024, d / 1024, hp / 1048576 }' memory.log)"
row "(e)" "peak RSS, source agent node-a, whole run (MiB, VmHWM)" "$(( peak_rss[node-a] / 1024 ))" 160 "$(ratio $(( peak_rss[node-a] / 1024 )) 160)"
row "(e)" "peak RSS, target agent node-b, whole run (MiB, VmHWM)" "$(( peak_rss[node-b] / 1024 ))" 160 "$(ratio $(( peak_rss[node-b] / 1024 )) 160)"
row "(e)" "two tasks at once: RSS source / target (MiB)" "$rss_a / $rss_b" 160 "$(ratio "$(( rss_a > rss_b ? rss_a : rss_b ))" 160)"
row "(e)" "two tasks at once: target heap used, peak (MiB)" "$heap" 96 "$(ratio "$heap" 96)"
row "(e)" "two tasks at once: peak Dirty page cache (MiB)" "$dirty" 0 "-"
fi

# ---- the table ----
printf '\n%s of %s (%s MiB allocated), %s runs, medians\n' "bench/transfer.sh" "$size" "$((allocated / MiB))" "$runs"
printf '%-4s %-72s %14s %12s %7s\n' "" measurement value reference ratio
printf '%s\n' "${rows[@]}" | awk -F';' '{ printf "%-4s %-72s %14s %12s %7s\n", $1, $2, $3, $4, $5 }'
echo "(a) ratio = agent / fastest peer (goal <= 1.00); (b) ratio = row / agent->agent: above 1.00 the agent is faster"
echo "    (goal for the local row: >= 0.80); (c) goal <= 1.02; (d) reference = one checkpoint interval (1 GiB or 10 s);"
echo "(e) references: RSS 160 MiB, heap 96 MiB; Dirty is the whole machine's, a loop device's backing file included"
