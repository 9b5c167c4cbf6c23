# Tally's two commands: `make run` (the API on http://127.0.0.1:3000) and `make test`.
.PHONY: run run-lambda test exactness bench check-template lambda-build lint fmt

# Python tools live in three virtualenvs because their pins conflict.
define venv
$(1)/.installed: $(2)
	python3 -m venv $(1)
	$(1)/bin/pip install --quiet --disable-pip-version-check -r $(2)
	touch $$@
endef
$(eval $(call venv,.venv,requirements/test.txt))
$(eval $(call venv,.venv-iac,requirements/iac.txt))
$(eval $(call venv,.venv-checkov,requirements/checkov.txt))

## The whole API locally, on the embedded store in $TALLY_DATA_DIR (default .tally/).
run:
	cargo run -p tally-local

## Lambda mode (README): every route through its own function binary under a Lambda Runtime
## API, behind API Gateway HTTP API's rules, DynamoDB over TLS: on DYNAMODB_ENDPOINT, or on a
## dynalite server (npm, installed here) keeping its data in $TALLY_DATA_DIR/dynalite.
run-lambda:
	cargo build -p tally-functions --bins
	cargo build -p tally-local
	scripts/run-lambda.sh target/debug/tally-local

## Every test: template checks, unit tests, integration tests on SQLite and on a local
## DynamoDB server, Lambda binaries under a loopback Runtime API, the dashboard in headless
## Chromium (Debian's `chromium`, installed here if missing), and schemathesis.
test: check-template .venv/.installed
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	cargo build --workspace --bins
	scripts/with-dynamodb.sh cargo nextest run --workspace --no-fail-fast
	scripts/schemathesis.sh

## Exactness under load (CI runs it after `make test`): for every counter service, 2 x 10,000
## concurrent calls through the local API on the embedded store end exactly right.
exactness:
	cargo nextest run -p tally-tests --test integration --run-ignored only exactness

## Cold start, warm throughput and cost per request; rewrites the README's benchmark table.
bench: .venv/.installed
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cargo build --release -p tally-functions --bins
	cargo build --release -p tally-local -p tally-tests --bin tally-local --bin bench
	scripts/with-dynamodb.sh target/release/bench

## sam validate --lint, cfn-lint and checkov on template.yaml (offline, dummy credentials).
check-template: .venv-iac/.installed .venv-checkov/.installed
	AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline SAM_CLI_TELEMETRY=0 \
	  .venv-iac/bin/sam validate --lint --region us-east-1 --template template.yaml
	.venv-iac/bin/cfn-lint template.yaml
	.venv-checkov/bin/checkov --config-file .checkov.yaml --file template.yaml

## Every function as an arm64 Lambda `bootstrap` (release), as `sam build` does, but with the
## workspace's release profile: cargo-lambda's defaults (codegen-units=1, thin LTO per binary)
## make each binary ~5% smaller and the build several times slower.
lambda-build: .venv-iac/.installed
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/.venv-iac/bin:$$PATH" cargo lambda build --release --arm64 --disable-optimizations --package tally-functions
	@ls -l target/lambda/*/bootstrap | awk '{printf "%-40s %6.2f MB\n", $$9, $$5/1048576}'

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all
