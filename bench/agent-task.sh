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
# the wait starts no processes (bash builtins only): a grep | sed and a sleep every 20 ms were ~150 processes a
# second on the cores the copy is timed on (1.2 CPU-s during an 8.6 s copy)
exec {never}<> <(:)
while :; do
  phase=; [ -f "$status" ] && { read -r -d "" json < "$status" || true; [[ $json =~ \"phase\"\ *:\ *\"([A-Za-z]*)\" ]] && phase=${BASH_REMATCH[1]}; }
  case "$phase" in Succeeded|Failed|Canceled) break ;; esac
  read -t 0.02 -u "$never" || true
done
cat "$status"
for dir in "$target_tasks" $source_tasks; do rm -f "$dir/$name.yaml"; done
[ "$phase" = Succeeded ]
