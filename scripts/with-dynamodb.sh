#!/usr/bin/env bash
# Runs a command with a DynamoDB-protocol server (moto from the project's virtualenv, one
# request at a time: see dynamodb_server.py) on a
# free loopback port, exported as TALLY_TEST_DYNAMODB_ENDPOINT; stops the server afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p .test-output
.venv/bin/python scripts/dynamodb_server.py 127.0.0.1 "$port" > .test-output/moto.log 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true; wait $moto 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import socket,sys; socket.create_connection((\"127.0.0.1\", $port), 0.2)" 2>/dev/null; then break; fi
  if ! kill -0 $moto 2>/dev/null; then echo "moto_server died:"; cat .test-output/moto.log; exit 1; fi
  sleep 0.1
done
echo "DynamoDB-protocol server (moto) on http://127.0.0.1:$port"
export TALLY_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
"$@"
