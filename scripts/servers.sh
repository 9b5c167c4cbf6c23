# Sourced by with-dynamodb.sh and run-lambda.sh: free ports, waiting for a server, dynalite.
# Needs `cd` to the repository first.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID LOG: until PORT accepts connections; fails if PID dies.
wait_port() {
  for _ in $(seq 1 100); do
    if python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $1), 0.2)" 2>/dev/null; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then echo "server died:"; cat "$3"; return 1; fi
    sleep 0.1
  done
  echo "no server on port $1"; return 1
}

# dynalite (npm, project-local node_modules), installed on first use.
install_dynalite() {
  [ -x node_modules/.bin/dynalite ] || npm install --no-audit --no-fund --silent
}

# start_dynalite PORT LOG [DATA_DIR]: in memory, or kept in DATA_DIR; sets $dynalite (its pid).
start_dynalite() {
  install_dynalite
  local keep=()
  if [ -n "${3:-}" ]; then mkdir -p "$3"; keep=(--path "$3"); fi
  node_modules/.bin/dynalite --host 127.0.0.1 --port "$1" --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 "${keep[@]}" > "$2" 2>&1 &
  dynalite=$!
}
