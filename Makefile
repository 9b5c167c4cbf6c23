# Tally's two commands: `make run` (the API on http://127.0.0.1:3000) and `make test`.
.PHONY: run test lint fmt

VENV := .venv
VENV_STAMP := $(VENV)/.installed

$(VENV_STAMP): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## The whole API locally, on the embedded store in $TALLY_DATA_DIR (default .tally/).
run:
	cargo run -p tally-local

## Every test: unit tests, and integration tests on SQLite and on a local DynamoDB server.
test: $(VENV_STAMP)
	cargo build --workspace --bins
	scripts/with-dynamodb.sh cargo test --workspace --no-fail-fast

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all
