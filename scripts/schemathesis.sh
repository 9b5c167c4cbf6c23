#!/usr/bin/env bash
# Fuzzes the local API against openapi.yaml with schemathesis: a fresh embedded store, the ad
# server played by a loopback stub that answers VAST XML (so /ad never leaves the machine),
# no response of 500 or above, and every response as the document says.
# `schemathesis.sh lambda`: the same through Lambda mode (each route's function binary behind
# the gateway, on a fresh dynalite), with fewer examples, API Gateway's 30 s as the request
# timeout, and without POST /test/{n}: each of its examples sends up to 10,000 requests through
# the whole Lambda path (minutes here); the every-route test runs it through Lambda mode.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/servers.sh
mode="${1:-in-process}"
port=$(free_port)
data=$(mktemp -d)
mkdir -p .test-output
ad_port=$(free_port)
python3 - "$ad_port" > .test-output/schemathesis-ad-server.log 2>&1 <<'PY' &
import http.server, sys
VAST = b'<?xml version="1.0"?><VAST version="3.0"><Ad id="stub"/></VAST>'
class Vast(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(VAST)))
        self.end_headers()
        self.wfile.write(VAST)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Vast).serve_forever()
PY
ad_server=$!
serve=(target/debug/tally-local)
extra=(--max-examples "${SCHEMATHESIS_EXAMPLES:-60}")
if [ "$mode" = lambda ]; then
  serve=(scripts/run-lambda.sh target/debug/tally-local)
  extra=(--max-examples "${SCHEMATHESIS_EXAMPLES:-30}" --request-timeout 30 --exclude-path '/test/{n}')
fi
TALLY_ADDR="127.0.0.1:$port" TALLY_DATA_DIR="$data" VAST_URL="http://127.0.0.1:$ad_port/vast" \
  RUST_LOG=warn "${serve[@]}" > ".test-output/schemathesis-$mode-api.log" 2>&1 &
api=$!
trap 'kill $api $ad_server 2>/dev/null || true; wait $api $ad_server 2>/dev/null || true; rm -rf "$data"' EXIT
wait_port "$port" "$api" ".test-output/schemathesis-$mode-api.log"
.venv/bin/schemathesis run openapi.yaml \
  --url "http://127.0.0.1:$port" \
  \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  "${extra[@]}" \
  --phases examples,coverage,fuzzing \
  --seed 20261125 \
  --workers 2 \
  --no-color \
  --report junit --report-junit-path ".test-output/schemathesis-$mode.xml"
