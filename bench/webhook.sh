#!/usr/bin/env bash
# Webhook benchmark: starts the packaged server (embedded example cluster) with the Deployment's JVM
# flags and drives it over HTTPS keep-alive with a clone-authorization review (RBAC check + clone
# token + patch), a Pod CREATE review (pod-mounts-exported-pvc through the claim index: the
# cluster-wide hot path) and a trivial allow review (a kind no rule handles), side by side; client-side
# p50/p99/p99.9, the server-side p99 from its own histogram, closed-loop maximum. Also prints
# startup-to-ready time, server RSS, and the per-token cost of the signing algorithms.
#   ./lk bench webhook [--rate N] [--seconds N] [--connections N]
#   ./lk bench webhook memory [N ...]   peak RSS under N concurrent 2.9 MB reviews (default 32 64)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jar="$root/webhook/target/lockkeeper-webhook.jar"
work=$(mktemp -d /tmp/lockkeeper-bench.XXXXXX)
port=${BENCH_PORT:-18443}
server=
trap '[ -n "$server" ] && { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }; rm -rf "$work"' EXIT
# The server runs as the Deployment runs it: the same JAVA_TOOL_OPTIONS and MALLOC_ARENA_MAX.
deployment_env() { # deployment_env NAME: the value of env NAME in manifests/base/deployment.yaml
  awk -v name="$1" '$0 ~ "- name: " name "$" {getline; sub(/^ *value: "?/, ""); sub(/"$/, ""); print; exit}' "$root/manifests/base/deployment.yaml"
}
read -r -a server_flags <<<"$(deployment_env JAVA_TOOL_OPTIONS)"
export MALLOC_ARENA_MAX
MALLOC_ARENA_MAX=$(deployment_env MALLOC_ARENA_MAX)

mkdir -p "$work/cluster"
cp "$root/webhook/examples/example-cluster.yaml" "$work/cluster/"
serve() { # serve PORT [JVM options...]: start the server in the background, set $server
  local listen=$1; shift
  java "${server_flags[@]}" "$@" -jar "$jar" serve --cluster "$work/cluster" --cert-dir "$work/certs" --bind 127.0.0.1 --port "$listen" \
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

if [ "${1:-}" = memory ]; then
  shift
  [ $# -gt 0 ] || set -- 32 64
  # A Pod CREATE of 45,000 small claim volumes, 2.9 MB: about the largest body the API server sends,
  # and a parse tree several times its size.
  python3 - "$work/large.json" <<'PY'
import json, sys
volumes = [{"name": "v%d" % i, "persistentVolumeClaim": {"claimName": "c%d" % i}} for i in range(45000)]
json.dump({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "bench-large", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "resource": {"group": "", "version": "v1", "resource": "pods"},
    "operation": "CREATE", "namespace": "team-a", "userInfo": {"username": "alice"},
    "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big", "namespace": "team-a"},
               "spec": {"containers": [{"name": "c", "image": "x"}], "volumes": volumes}}}}, open(sys.argv[1], "w"), separators=(",", ":"))
PY
  serve "$port"
  ready_after "$(date +%s%N)" "$port" >/dev/null
  echo "== peak RSS under concurrent maximum-size reviews; server flags: ${server_flags[*]} MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX"
  echo "idle: RSS $(( $(awk '/VmRSS/ {print $2}' "/proc/$server/status") / 1024 )) MiB"
  for n in "$@"; do
    java -Xmx512m -cp "$jar" "$root/bench/WebhookLoad.java" --port "$port" --ca "$work/certs/ca.crt" \
      --review "large-pod=$work/large.json:/validate" --burst "$n" --rounds 5
    kill -0 "$server" 2>/dev/null || { echo "server exited:"; tail -3 "$work/server.log"; exit 1; }
    echo "  server RSS now $(( $(awk '/VmRSS/ {print $2}' "/proc/$server/status") / 1024 )) MiB, peak so far $(( $(awk '/VmHWM/ {print $2}' "/proc/$server/status") / 1024 )) MiB"
  done
  limit=$(sed -n 's/.*limits: {memory: \([0-9]*\)Mi}.*/\1/p' "$root/manifests/base/deployment.yaml")
  echo "Deployment memory limit: ${limit} MiB; 429 = refused by the intake budget (retried by the API server), 200 = reviewed"
  exit 0
fi

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

python3 - "$root/webhook/examples/reviews/datavolume-clone-alice.json" "$work/trivial.json" "$work/pod.json" <<'PY'
import copy, json, sys
review = json.load(open(sys.argv[1]))
trivial = copy.deepcopy(review)
trivial["request"].update({"uid": "bench-trivial", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                           "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                           "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "team-a"}}})
json.dump(trivial, open(sys.argv[2], "w"))
# A launcher-sized Pod: two claim volumes looked up in the pod-claims index against active exports, plus the usual noise.
pod = copy.deepcopy(review)
pod["request"].update({"uid": "bench-pod", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                       "resource": {"group": "", "version": "v1", "resource": "pods"}, "operation": "CREATE", "object": {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"generateName": "virt-launcher-web-", "namespace": "team-a",
                 "labels": {"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": "web"},
                 "annotations": {"kubevirt.io/domain": "web", "kubectl.kubernetes.io/default-container": "compute"}},
    "spec": {"containers": [{"name": "compute", "image": "quay.io/kubevirt/virt-launcher:v1.5.0",
                             "resources": {"requests": {"cpu": "100m", "memory": "2Gi"}},
                             "volumeMounts": [{"name": "rootdisk", "mountPath": "/var/run/kubevirt-private/vmi-disks/rootdisk"}]}],
             "volumes": [{"name": "rootdisk", "persistentVolumeClaim": {"claimName": "web-root"}},
                         {"name": "datadisk", "persistentVolumeClaim": {"claimName": "web-data"}},
                         {"name": "private", "emptyDir": {}}]}}})
json.dump(pod, open(sys.argv[3], "w"))
PY

echo "== Lockkeeper webhook benchmark ($(nproc) cores; load generator shares the machine)"
echo "startup to ready (median of 3; JVM start, manifests, TLS, listener; /readyz polled every 20 ms):"
echo "  plain java -jar: ${ready_plain} ms; with a JDK 25 AOT cache from a training run: ${ready_aot} ms (load below runs on this one)"
java -Xmx512m -cp "$jar" "$root/bench/WebhookLoad.java" --port "$port" --ca "$work/certs/ca.crt" \
  --review "clone-review=$root/webhook/examples/reviews/datavolume-clone-alice.json:/mutate" \
  --review "pod-create=$work/pod.json:/validate" --review "trivial-allow=$work/trivial.json:/mutate" "$@"
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
echo "server RSS: idle $((rss_idle / 1024)) MiB, after load $((rss_after / 1024)) MiB, peak $((hwm / 1024)) MiB (${server_flags[*]})"
