#!/usr/bin/env bash
# Fuzzes the local API against openapi.yaml with schemathesis: a fresh embedded store, the ad
# server pointed at a closed loopback port (so /ad answers 502 without leaving the machine),
# no response of 500 or above, and every response as the document says.
set -euo pipefail
cd "$(dirname "$0")/.."
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
data=$(mktemp -d)
mkdir -p .test-output
TALLY_ADDR="127.0.0.1:$port" TALLY_DATA_DIR="$data" VAST_URL="http://127.0.0.1:$(free_port)/vast" \
  RUST_LOG=warn target/debug/tally-local > .test-output/schemathesis-api.log 2>&1 &
api=$!
trap 'kill $api 2>/dev/null || true; wait $api 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
.venv/bin/schemathesis run openapi.yaml \
  --url "http://127.0.0.1:$port" \
  \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-60}" \
  --phases examples,coverage,fuzzing \
  --seed 20261125 \
  --workers 2 \
  --no-color \
  --report junit --report-junit-path .test-output/schemathesis.xml
