#!/usr/bin/env bash
# `make run-lambda`: Lambda mode on DYNAMODB_ENDPOINT, or on a dynalite server started here
# that keeps its data in $TALLY_DATA_DIR/dynalite (default .tally/dynalite). Stops what it
# started when it ends or is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/servers.sh
bin="${1:-target/debug/tally-local}"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
trap 'exit 143' INT TERM
if [ -z "${DYNAMODB_ENDPOINT:-}" ]; then
  port=$(free_port)
  mkdir -p .test-output
  start_dynalite "$port" .test-output/run-lambda-dynalite.log "${TALLY_DATA_DIR:-.tally}/dynalite"
  pids+=("$dynalite")
  wait_port "$port" "$dynalite" .test-output/run-lambda-dynalite.log
  export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
  echo "DynamoDB-protocol server (dynalite) on $DYNAMODB_ENDPOINT"
fi
"$bin" lambda &
pids+=("$!")
wait "$!"
