#!/usr/bin/env bash
# Cold starts of the release functions under the CPU share Lambda gives a MemorySize (default
# 128 MB): Lambda allocates CPU in proportion to memory, one vCPU at 1,769 MB
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). Each function runs
# in a cgroup whose CPU quota is that share of one core per 20 ms period; the DynamoDB server
# and its TLS terminator run outside it, unthrottled. Two passes, each printing `bench cold`
# rows (function | init ms | first invocation ms | exec to first answer ms):
# 1. the whole process in the cgroup from exec (a wrapper joins it, then execs the binary);
# 2. Init unthrottled, the invocation in the cgroup: the harness moves the process into it once
#    Init is over (its first `/next`), then hands out the event. Lambda is observed to run Init
#    with more CPU than the invocations (README, "Cold start"), so the truth lies between.
# Needs a writable cgroup (cgroup v1 `cpu` or v2 `cpu.max`, for example as root).
set -euo pipefail
cd "$(dirname "$0")/.."
memory=${1:-128}
period=20000
quota=$((period * memory / 1769))
name="tally-cold-$$"
if [ -d /sys/fs/cgroup/cpu ] && [ -w /sys/fs/cgroup/cpu ]; then
  group=/sys/fs/cgroup/cpu/$name
  mkdir "$group"
  echo "$period" > "$group/cpu.cfs_period_us"
  echo "$quota" > "$group/cpu.cfs_quota_us"
elif [ -w /sys/fs/cgroup/cgroup.subtree_control ]; then
  group=/sys/fs/cgroup/$name
  mkdir "$group"
  echo "$quota $period" > "$group/cpu.max"
else
  echo "no writable cgroup for a CPU quota: run as root on Linux" >&2
  exit 2
fi
wrappers=$(mktemp -d)
trap 'rmdir "$group" 2>/dev/null || true; rm -rf "$wrappers"' EXIT
for event in events/*.json; do
  function=$(basename "$event" .json)
  binary="$PWD/target/release/$function"
  [ -x "$binary" ] || { echo "$binary missing: cargo build --release -p tally-functions --bins" >&2; exit 2; }
  printf '#!/bin/sh\necho $$ > %s\nexec %s "$@"\n' "$group/cgroup.procs" "$binary" > "$wrappers/$function"
  chmod +x "$wrappers/$function"
done
echo "CPU quota: $quota us per $period us ($memory MB of 1,769 MB per vCPU)"
echo "whole process throttled:"
scripts/with-dynamodb.sh target/release/bench cold "$wrappers"
echo "Init at full CPU, invocation throttled:"
scripts/with-dynamodb.sh target/release/bench cold target/release "$group/cgroup.procs"
