#!/usr/bin/env bash
# Runs a command with two DynamoDB-protocol servers on free loopback ports: moto (from the
# project's virtualenv, one request at a time: see dynamodb_server.py) exported as
# TALLY_TEST_DYNAMODB_ENDPOINT, and dynalite (npm) as TALLY_TEST_DYNALITE_ENDPOINT, so the
# store suites run on two independent implementations. Stops both afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/servers.sh
mkdir -p .test-output
port=$(free_port)
.venv/bin/python scripts/dynamodb_server.py 127.0.0.1 "$port" > .test-output/moto.log 2>&1 &
moto=$!
dynalite_port=$(free_port)
start_dynalite "$dynalite_port" .test-output/dynalite.log
trap 'kill $moto $dynalite 2>/dev/null || true; wait $moto $dynalite 2>/dev/null || true' EXIT
wait_port "$port" "$moto" .test-output/moto.log
wait_port "$dynalite_port" "$dynalite" .test-output/dynalite.log
echo "DynamoDB-protocol servers: moto on http://127.0.0.1:$port, dynalite on http://127.0.0.1:$dynalite_port"
export TALLY_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
export TALLY_TEST_DYNALITE_ENDPOINT="http://127.0.0.1:$dynalite_port"
"$@"
