#!/usr/bin/env bash
# Webhook benchmark: starts the packaged server (embedded example cluster) and drives it over
# HTTPS keep-alive with a clone-authorization review (RBAC check + ES256 clone token + patch) and a
# trivial allow review (a kind no rule handles), side by side. Also prints startup-to-ready time,
# server RSS, and the per-token cost of ES256 vs upstream's PS256.
# Run as ./lk bench webhook [--rate N] [--seconds N] [--connections N]   (./lk builds first)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jar="$root/webhook/target/lockkeeper-webhook.jar"
work=$(mktemp -d /tmp/lockkeeper-bench.XXXXXX)
port=${BENCH_PORT:-18443}
server=
trap '[ -n "$server" ] && { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }; rm -rf "$work"' EXIT

mkdir -p "$work/cluster"
cp "$root/webhook/examples/example-cluster.yaml" "$work/cluster/"
serve() { # serve PORT [JVM options...]: start the server in the background, set $server
  local listen=$1; shift
  java -Xmx256m "$@" -jar "$jar" serve --cluster "$work/cluster" --cert-dir "$work/certs" --bind 127.0.0.1 --port "$listen" \
    >"$work/server.log" 2>&1 &
  server=$!
}
ready_after() { # milliseconds from launch until /readyz answers
  local started=$1 listen=$2
  until curl -sf --cacert "$work/certs/ca.crt" "https://localhost:$listen/readyz" >/dev/null 2>&1; do
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.02
  done
  echo $(( ($(date +%s%N) - started) / 1000000 ))
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; }

# Training run for a JDK 25 AOT cache (class loading and linking recorded, written at exit);
# it also creates the certificate directory, so the timed starts below reuse it.
serve "$port" -XX:AOTCacheOutput="$work/webhook.aot"
ready_after "$(date +%s%N)" "$port" >/dev/null
for _ in $(seq 1 200); do
  curl -s --cacert "$work/certs/ca.crt" -X POST --data-binary @"$root/webhook/examples/reviews/datavolume-clone-alice.json" \
    "https://localhost:$port/mutate" >/dev/null
done
stop

startup() { # median of three starts, with the given JVM options
  local times=()
  for _ in 1 2 3; do
    serve "$port" "$@"; times+=("$(ready_after "$(date +%s%N)" "$port")"); stop
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}
ready_plain=$(startup)
ready_aot=$(startup -XX:AOTCache="$work/webhook.aot")
serve "$port" -XX:AOTCache="$work/webhook.aot"
ready_after "$(date +%s%N)" "$port" >/dev/null
rss_idle=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")

python3 - "$root/webhook/examples/reviews/datavolume-clone-alice.json" "$work/trivial.json" <<'PY'
import json, sys
review = json.load(open(sys.argv[1]))
review["request"].update({"uid": "bench-trivial", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                          "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                          "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "team-a"}}})
json.dump(review, open(sys.argv[2], "w"))
PY

echo "== Lockkeeper webhook benchmark ($(nproc) cores; load generator shares the machine)"
echo "startup to ready (median of 3; JVM start, manifests, TLS, listener; /readyz polled every 20 ms):"
echo "  plain java -jar: ${ready_plain} ms; with a JDK 25 AOT cache from a training run: ${ready_aot} ms (load below runs on this one)"
java -Xmx512m -cp "$jar" "$root/bench/WebhookLoad.java" --port "$port" --ca "$work/certs/ca.crt" \
  --review "clone-review=$root/webhook/examples/reviews/datavolume-clone-alice.json:/mutate" \
  --review "trivial-allow=$work/trivial.json:/mutate" "$@"
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
echo "server RSS: idle $((rss_idle / 1024)) MiB, after load $((rss_after / 1024)) MiB, peak $((hwm / 1024)) MiB (-Xmx256m)"
