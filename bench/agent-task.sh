#!/usr/bin/env bash
# Hands one copy to running agents as a task file and waits for its end, for the benchmarks.
#   bash bench/agent-task.sh NAME|- SOURCE_NODE SOURCE TARGET_NODE TARGET 'EXTRA SPEC' TARGET_TASKS [SOURCE_TASKS]
# The task goes into TARGET_TASKS (the driving agent's directory) and, for a copy between nodes, SOURCE_TASKS too.
# EXTRA SPEC: further spec lines ("targetIsZero: true"), one per line; verify is off unless they turn it on.
# Prints the final status (JSON) on stdout; exit 0 only when the task Succeeded. The task files are removed after.
set -euo pipefail
name=$1 source_node=$2 source=$3 target_node=$4 target=$5 extra=$6 target_tasks=$7 source_tasks=${8:-}
[ "$name" = - ] && name=bench-$(date +%s%N)
case "$extra" in *verify:*) ;; *) extra="verify: false${extra:+
$extra}" ;; esac
task="apiVersion: lockkeeper.dev/v1alpha1
kind: CopyTask
metadata: {name: $name}
spec:
  source: {node: $source_node, path: $source}
  target: {node: $target_node, path: $target}
$(printf '%s\n' "$extra" | sed 's/^/  /')
"
for dir in "$target_tasks" $source_tasks; do
  printf '%s' "$task" > "$dir/.$name.yaml.tmp" && mv "$dir/.$name.yaml.tmp" "$dir/$name.yaml"
done
status=$target_tasks/$name.status.json
phase=
while :; do
  phase=$(grep -o '"phase" *: *"[A-Za-z]*"' "$status" 2>/dev/null | sed 's/.*"\([A-Za-z]*\)"$/\1/' || true)
  case "$phase" in Succeeded|Failed|Canceled) break ;; esac
  sleep 0.02
done
cat "$status"
for dir in "$target_tasks" $source_tasks; do rm -f "$dir/$name.yaml"; done
[ "$phase" = Succeeded ]
