# Tally's two commands: `make run` (the API on http://127.0.0.1:3000) and `make test`.
.PHONY: run run-lambda layers test exactness amortized amortized-people logs-mix bench bench-warm bench-cold-share cost check-template lambda-build lint fmt nextest smoke lambda-test

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

## The whole API locally, on the embedded store in $TALLY_DATA_DIR (default .tally/), in the
## `local` build (Cargo.toml: release, opt-level 3), the build `make bench` measures: a debug
## build answers several times slower. The first build takes a few minutes.
run:
	cargo run --profile local -p tally-local

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
test: layers check-template .venv/.installed nextest
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	cargo build --workspace --bins
	scripts/with-dynamodb.sh cargo nextest run --workspace --no-fail-fast
	scripts/schemathesis.sh
	scripts/schemathesis.sh lambda

## cargo-nextest, the test runner, from crates.io when this machine has none.
nextest:
	@cargo nextest --version >/dev/null 2>&1 || cargo install --locked cargo-nextest

## One safe request per route against a running API, a line per route (scripts/smoke.py):
## `make smoke` for the local API, `make smoke API_URL=https://...` for a deployed stack.
API_URL ?= http://127.0.0.1:3000
smoke:
	python3 scripts/smoke.py $(API_URL)

## Exactness under load (CI runs it after `make test`): for every counter service, 2 x 10,000
## concurrent calls through the local API on the embedded store end exactly right.
exactness: nextest
	cargo nextest run -p tally-tests --test integration --run-ignored only exactness

## Cold start, warm throughput and cost per request; rewrites the README's benchmark and cost
## tables.
## The local API is measured in its own `local` build (Cargo.toml: release, opt-level 3).
bench: .venv/.installed
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cargo build --release -p tally-functions --bins
	cargo build --profile local -p tally-local --bin tally-local
	cargo build --release -p tally-tests --bin bench
	scripts/with-dynamodb.sh target/release/bench

## The warm part of `make bench` alone (about 10 minutes, no DynamoDB server): the local API
## under wrk on the embedded store, empty then grown; rewrites the README's warm section.
bench-warm:
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cargo build --profile local -p tally-local --bin tally-local
	cargo build --release -p tally-tests --bin bench
	target/release/bench warm

## Cold starts under Lambda's CPU share at 128 MB (a cgroup CPU quota: Linux, writable cgroup,
## for example as root; not in CI). MEMORY=512 for another MemorySize.
bench-cold-share: .venv/.installed
	cargo build --release -p tally-functions --bins
	cargo build --release -p tally-tests --bin bench
	scripts/cold-cpu-share.sh $(or $(MEMORY),128)

## The cost table alone (debug build is enough: units do not depend on speed): every route's
## request through the meter on small and realistic data; rewrites the README's cost section.
cost: .venv/.installed
	cargo build -p tally-tests --bin bench
	scripts/with-dynamodb.sh target/debug/bench cost

## Write units per increment of the visit and path counters, amortized over a million
## simulated increments on Zipf and uniform keys, served by 1 and by 100 processes
## (tests/src/bench/counters.rs; about 15 seconds in debug).
amortized:
	cargo run -q -p tally-tests --bin bench -- counters

## Write units of `POST /log` amortized over a simulated mix of batches, against issue 14's
## goal (tests/src/bench/logs_mix.rs; about 4 minutes in debug).
logs-mix:
	cargo run -q -p tally-tests --bin bench -- logs-mix

## Units per POST /people over 10,000 creates of each workload, measured by the meter on
## dynalite (tests/src/bench/people.rs; several minutes in a debug build).
amortized-people: .venv/.installed
	cargo build -q -p tally-tests --bin bench
	scripts/with-dynamodb.sh target/debug/bench people

## sam validate --lint, cfn-lint and checkov on template.yaml (offline, dummy credentials).
check-template: .venv-iac/.installed .venv-checkov/.installed
	AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline SAM_CLI_TELEMETRY=0 \
	  .venv-iac/bin/sam validate --lint --region us-east-1 --template template.yaml
	.venv-iac/bin/cfn-lint template.yaml
	.venv-checkov/bin/checkov --config-file .checkov.yaml --file template.yaml

## The deploy build: every function as an arm64 Lambda `bootstrap` in target/lambda/<function>/,
## the CodeUri `sam deploy` uploads (no `sam build`: nothing cached that could go stale). One
## release profile, the workspace's (Cargo.toml); cargo-lambda's own optimizations are off.
## Then each artifact's size and SHA-256 (scripts/artifacts.py).
lambda-build: .venv-iac/.installed
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/.venv-iac/bin:$$PATH" cargo lambda build --release --arm64 --disable-optimizations --package tally-functions
	python3 scripts/artifacts.py --budget

## The deploy artifacts as they are, under qemu's arm64 user-mode emulation (Debian's
## qemu-user-static and arm64 glibc, installed here if missing): each answers its event.
lambda-test: nextest
	command -v qemu-aarch64-static >/dev/null && test -d /usr/aarch64-linux-gnu || \
	  (apt-get update -qq && apt-get install -y -qq qemu-user-static libc6-arm64-cross)
	scripts/with-dynamodb.sh cargo nextest run -p tally-tests --test integration --run-ignored only deploy_artifact

## The module layers (scripts/layers.py): no module cycle in shared/, functions/, local/, and no
## domain module naming an engine adapter. A second; `make test` and `make lint` run it.
layers:
	python3 scripts/layers.py

lint: layers
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all
