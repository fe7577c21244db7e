#!/usr/bin/env bash
# Cross-node transfer benchmark (issue 10 (b)-(e)): the data plane between two network namespaces joined by a veth
# pair, against the same data copied locally and against tar/dd streams over socat OPENSSL. Prints ratios, not a test.
#   bash bench/transfer.sh [runs]      (root; builds the sidecar's test classes first)
# Until the agent exists the two ends are the data plane's own test main (sidecar/src/test/.../wire/WireChild), one
# JVM per side: the source JVM is started once and stays up (as an agent would), the target JVM is started for each
# run (its start is included, as `lk copy`'s is). Caches dropped before each run, sync included.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-3}
out=${LK_BENCH_DIR:-$root/bench/out}/transfer
[ "$(id -u)" = 0 ] || { echo "bench/transfer.sh: needs root (network namespaces, drop_caches)" >&2; exit 1; }
command -v ip >/dev/null || { echo "bench/transfer.sh: needs iproute2's ip" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need socat socat
[ -x /usr/bin/time ] || need /usr/bin/time time
java_bin=
for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
  [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
  [ "$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$candidate/release" 2>/dev/null)" -ge 25 ] 2>/dev/null && { java_bin=$candidate/bin/java; break; }
done
[ -n "$java_bin" ] || { echo "bench/transfer.sh: no JDK 25" >&2; exit 1; }
(cd "$root" && JAVA_HOME=$(dirname "$(dirname "$java_bin")") mvn -B -ntp -q -pl certs,sidecar -DskipTests test-compile)
cp_dirs=$root/sidecar/target/classes:$root/sidecar/target/test-classes
jvm=("$java_bin" "@$root/sidecar/jvm.options" -Xmx96m -cp "$cp_dirs" dev.lockkeeper.sidecar.wire.WireChild)
lk=("$java_bin" "@$root/sidecar/jvm.options" -cp "$cp_dirs:$(ls ~/.m2/repository/commons-cli/commons-cli/*/commons-cli-*.jar | tail -1)"
    dev.lockkeeper.sidecar.Main copy --progress none)

mkdir -p "$out"; cd "$out"
MiB=$((1 << 20))
if [ ! -f sparse.img ]; then
  echo "making sparse.img: 4 GiB, 1 GiB of data in 4 MiB extents" >&2
  truncate -s 4G sparse.img.tmp
  for i in $(seq 0 255); do
    head -c $((4 * MiB)) /dev/urandom | dd of=sparse.img.tmp bs=4M seek=$((i * 4)) conv=notrunc status=none
  done
  mv sparse.img.tmp sparse.img
fi

# node certificates from an agent CA, made with openssl (the data plane reads them with the plain JDK)
if [ ! -f pki/dst/tls.crt ]; then
  rm -rf pki; mkdir -p pki
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out pki/ca.key
  openssl req -x509 -new -key pki/ca.key -subj /CN=bench-agent-ca -days 2 -out pki/ca.crt 2>/dev/null
  for node in src dst; do
    mkdir -p pki/$node
    openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out pki/$node/tls.key
    openssl req -new -key pki/$node/tls.key -subj "/CN=node:$node" -out pki/$node/tls.csr 2>/dev/null
    printf 'subjectAltName=critical,URI:spiffe://lockkeeper.dev/node/%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n' $node > pki/$node/ext
    openssl x509 -req -in pki/$node/tls.csr -CA pki/ca.crt -CAkey pki/ca.key -CAcreateserial -days 1 \
      -extfile pki/$node/ext -out pki/$node/tls.crt 2>/dev/null
    cp pki/ca.crt pki/$node/ca.crt
  done
fi

ns_a=ha-bench-a ns_b=ha-bench-b addr_a=198.18.20.1 addr_b=198.18.20.2
children=()
cleanup() {
  for pid in "${children[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  ip netns del $ns_a 2>/dev/null || true; ip netns del $ns_b 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add $ns_a; ip netns add $ns_b
ip -n $ns_a link add ha-bva type veth peer name ha-bvb netns $ns_b
ip -n $ns_a addr add $addr_a/30 dev ha-bva; ip -n $ns_b addr add $addr_b/30 dev ha-bvb
ip -n $ns_a link set ha-bva up; ip -n $ns_b link set ha-bvb up
ip -n $ns_a link set lo up; ip -n $ns_b link set lo up

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
rm -f port
ip netns exec $ns_a "${jvm[@]}" serve pki/src $addr_a port k "$out/sparse.img" dst > server.log 2>&1 &
children+=($!)
server_pid=$!
for _ in $(seq 300); do [ -f port ] && break; sleep 0.1; done
port=$(cat port)
source_java_pid() { pgrep -P "$server_pid" java 2>/dev/null || echo "$server_pid"; }

pull() {  # $1 = verify|no-verify, $2 = rate; prints the outcome line
  rm -f checkpoint
  ip netns exec $ns_b "${jvm[@]}" pull pki/dst $addr_a "$port" src k "$out/out.img" "$out/checkpoint" "${2:-0}" $((1 << 30)) 30 "$1"
}

declare -A times
row() { times[$1]="${times[$1]:-} $2"; }
timed() {  # NAME COMMAND...: one run, caches dropped, sync included; peak RSS of the command kept in rss.$NAME
  local name=$1; shift
  rm -rf out.img out.d; drop_caches
  /usr/bin/time -f '%e %M' -o time.log bash -c "$* && sync" > run.log 2>run.err || { echo "FAILED: $name: $(tail -3 run.err)" >&2; return; }
  local t m; read -r t m < time.log
  row "$name" "$t"; echo "$m" >> "rss.$name"
  echo "  $name: $t s" >&2
}
rm -f rss.*
tls_listen="OPENSSL-LISTEN:9555,bind=$addr_b,reuseaddr,cert=pki/dst/tls.crt,key=pki/dst/tls.key,cafile=pki/ca.crt,verify=1"
tls_connect="OPENSSL:$addr_b:9555,cert=pki/src/tls.crt,key=pki/src/tls.key,cafile=pki/ca.crt,verify=0"
for round in $(seq "$runs"); do
  timed "local lk copy" "$(printf '%q ' "${lk[@]}") sparse.img out.img"
  timed "wire (no verify)" "$(declare -f pull); jvm=($(printf '%q ' "${jvm[@]}")); ns_b=$ns_b addr_a=$addr_a port=$port out=$out; pull no-verify"
  cp run.log outcome.log
  timed "wire + verify" "$(declare -f pull); jvm=($(printf '%q ' "${jvm[@]}")); ns_b=$ns_b addr_a=$addr_a port=$port out=$out; pull verify"
  timed "tar -S | socat OPENSSL" "mkdir out.d && (ip netns exec $ns_b socat -u '$tls_listen' - | tar -xf - -C out.d) & sleep 0.5; ip netns exec $ns_a bash -c 'tar -S -cf - sparse.img | socat -u - \"$tls_connect\"'; wait"
  timed "dd | socat OPENSSL (raw)" "(ip netns exec $ns_b socat -u '$tls_listen' - | dd of=out.img bs=4M conv=sparse status=none) & sleep 0.5; ip netns exec $ns_a bash -c 'dd if=sparse.img bs=4M status=none | socat -u - \"$tls_connect\"'; wait"
done

median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
local_t=$(median "${times[local lk copy]}")
printf '\n(b) 4 GiB image, 1 GiB data, across a veth between two netns (median of %s, s; ratio = local lk copy / row)\n' "$runs"
for name in "local lk copy" "wire (no verify)" "wire + verify" "tar -S | socat OPENSSL" "dd | socat OPENSSL (raw)"; do
  t=$(median "${times[$name]:-0}")
  printf '  %-28s %7.2f s   speed vs local %5.2fx   peak RSS %4d MiB\n' "$name" "$t" "$(echo "$local_t / $t" | bc -l)" \
    $(( $(sort -n "rss.$name" 2>/dev/null | tail -1 || echo 0) / 1024 ))
done
# (c) wire bytes vs allocated data
wire=$(sed -n 's/.* wire=\([0-9]*\).*/\1/p' outcome.log)
allocated=$(du --block-size=1 sparse.img | cut -f1)
printf '(c) wire bytes %d vs allocated %d: %.4fx\n' "$wire" "$allocated" "$(echo "$wire / $allocated" | bc -l)"

# (d) kill -9 of the target at 50 %, restart, resume
rm -rf out.img checkpoint; drop_caches
start=$(date +%s.%N)
ip netns exec $ns_b "${jvm[@]}" pull pki/dst $addr_a "$port" src k "$out/out.img" "$out/checkpoint" 0 $((1 << 30)) 30 no-verify > kill.log 2>&1 &
puller=$!
until grep -q "^progress" kill.log 2>/dev/null && [ "$(sed -n 's/^progress //p' kill.log | tail -1)" -ge $((2048 * MiB)) ]; do sleep 0.05; done
pkill -9 -P "$puller" java 2>/dev/null || true; kill -9 "$puller" 2>/dev/null || true; wait "$puller" 2>/dev/null || true
ip netns exec $ns_b "${jvm[@]}" pull pki/dst $addr_a "$port" src k "$out/out.img" "$out/checkpoint" 0 $((1 << 30)) 30 no-verify > resume.log 2>&1
sync
end=$(date +%s.%N)
resent=$(sed -n 's/.* data=\([0-9]*\).*/\1/p' resume.log)
from=$(sed -n 's/.*resumedFrom=\([0-9]*\).*/\1/p' resume.log)
wire_t=$(median "${times[wire (no verify)]}")
printf '(d) kill -9 of the target at 50 %%: resumed from %d MiB, re-sent %d MiB of data, total %.2f s vs %.2f s uninterrupted (%.2fx)\n' \
  $((from / MiB)) $((resent / MiB)) "$(echo "$end - $start" | bc -l)" "$wire_t" "$(echo "($end - $start) / $wire_t" | bc -l)"
cmp -n $((4096 * MiB)) sparse.img out.img && echo "    content identical (cmp)"
# (e) peak RSS of the source JVM over every run
printf '(e) peak RSS: source JVM %s MiB (VmHWM), target JVM in the rows above\n' \
  $(( $(awk '/VmHWM/{print $2}' /proc/"$(source_java_pid)"/status) / 1024 ))
rm -f out.img; rm -rf out.d
