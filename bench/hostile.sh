#!/usr/bin/env bash
# The hostile inputs of issue #12 against the webhook, one fresh server per input (bench/HostileInputs.java).
#   bash bench/hostile.sh            this build only
#   bash bench/hostile.sh REV        this build and git revision REV side by side (REV built in a temporary worktree,
#                                    run with the Deployment flags of its own time: -XX:MaxRAMPercentage=70 of 384Mi)
# ./lk bench hostile [REV] builds first. Not a test: it prints a table.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jars=("after=$root/webhook/target/lockkeeper-webhook.jar")
flags=()
if [ $# -gt 0 ]; then
  rev=$1
  tree=$(mktemp -d /tmp/lk-hostile-before.XXXXXX)
  trap 'git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || true' EXIT
  git worktree add -q --detach "$tree" "$rev"
  echo "building $rev in $tree ..." >&2
  (cd "$tree" && mvn -B -ntp -q -pl webhook -am package -DskipTests >/dev/null)
  cp "$tree/webhook/target/lockkeeper-webhook.jar" "$tree/before.jar"
  jars=("before=$tree/before.jar" "${jars[@]}")
  flags=("-Dhostile.flags.before=-XX:MaxRAM=384m -XX:MaxRAMPercentage=70 -XX:+ExitOnOutOfMemoryError")
fi
java "${flags[@]}" -Dlockkeeper.root="$root" bench/HostileInputs.java "${jars[@]}"
