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
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/cluster"
cp "$root/webhook/examples/example-cluster.yaml" "$work/cluster/"
# Warm certificate directory, so startup measures the server, not key generation.
java -jar "$jar" review --cluster "$work/cluster" "$root/webhook/examples/reviews/datavolume-clone-alice.json" >/dev/null

started=$(date +%s%N)
java -Xmx256m -jar "$jar" serve --cluster "$work/cluster" --cert-dir "$work/certs" --bind 127.0.0.1 --port "$port" \
  >"$work/server.log" 2>&1 &
server=$!
until curl -sf --cacert "$work/certs/ca.crt" "https://localhost:$port/readyz" >/dev/null 2>&1; do
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.02
done
ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
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
echo "startup to ready: ${ready_ms} ms (JVM start, manifests, TLS, listener; /readyz polled every 20 ms)"
java -cp "$jar" "$root/bench/WebhookLoad.java" --port "$port" --ca "$work/certs/ca.crt" \
  --review "clone-review=$root/webhook/examples/reviews/datavolume-clone-alice.json:/mutate" \
  --review "trivial-allow=$work/trivial.json:/mutate" "$@"
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
echo "server RSS: idle $((rss_idle / 1024)) MiB, after load $((rss_after / 1024)) MiB, peak $((hwm / 1024)) MiB (-Xmx256m)"
