# Onboard. On a fresh Debian machine with rustup's Rust, `make run` and `make test` are the only
# set-up commands: each installs what it needs first (scripts/setup-toolchain.sh).

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/onboard/target
# cargo-leptos builds debug binaries with exactly this RUSTFLAGS; giving `cargo test` and
# `cargo clippy` the same lets them reuse its dependency builds instead of compiling a second set.
LEPTOS_RUSTFLAGS := --cfg erase_components
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

RUN_ARGS ?=

.PHONY: run build release run-release test lint unit-tests e2e quickstart fuzz fuzz-smoke bench bench-micro setup setup-rust clean-data help prune

help:
	@echo "make run    build and start Onboard on its embedded default (SQLite in ./data)"
	@echo "make release  the optimised build to deploy: server and console in release, the console's"
	@echo "            assets with Brotli and gzip copies; make run-release starts it"
	@echo "make test   every check CI runs: format, lints, unit, contract (SQLite and PostgreSQL),"
	@echo "            full-server and browser tests, and the release build"
	@echo "make fuzz   every fuzz target for FUZZ_SECONDS (default 300) each"
	@echo "make bench  Onboard (release) against the peer oidc-provider; BENCH_DB=postgres for PostgreSQL"

setup:
	@scripts/setup-toolchain.sh all

setup-rust:
	@scripts/setup-toolchain.sh rust-tools

build: setup-rust
	cargo leptos build

run: build
	$(CARGO_TARGET_DIR)/debug/onboard serve --site-root target/site --sandbox-workspace $(RUN_ARGS)

# A release build runs wasm-opt, which must be npm's binaryen (Debian's breaks hydration).
release:
	@scripts/setup-toolchain.sh release-tools
	cargo leptos build --release --precompress

run-release: release
	$(CARGO_TARGET_DIR)/release/onboard serve --site-root target/site $(RUN_ARGS)

test: setup prune lint build unit-tests fuzz-smoke e2e quickstart release
	@echo "make test: all checks passed"

# Repeated CI runs from fresh clones grow the shared build cache; keep it bounded.
prune:
	@scripts/prune-target.sh

lint:
	cargo fmt --all --check
	RUSTFLAGS="$(LEPTOS_RUSTFLAGS)" cargo clippy -p app -p server -p onboard-fuzz --features app/ssr --all-targets -- -D warnings

unit-tests:
	RUSTFLAGS="$(LEPTOS_RUSTFLAGS)" scripts/with-postgres.sh cargo test -p app -p server --features app/ssr

e2e:
	scripts/e2e.sh

# cargo-fuzz targets (fuzz/): JWS, JWKS, the registration pipeline, distinguished names, token
# forms. Bounded: FUZZ_SECONDS per target. `make test` runs a short smoke of each.
FUZZ_SECONDS ?= 300
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-smoke:
	scripts/fuzz.sh 10

# Onboard against the peer (oidc-provider) on this machine; not part of `make test`.
bench:
	scripts/bench.sh

# Criterion micro-benchmarks of the pipeline's CPU-bound steps.
bench-micro:
	RUSTFLAGS="$(LEPTOS_RUSTFLAGS)" cargo bench -p server --bench micro

# The README's TPP quick-start, run as written.
quickstart:
	scripts/quickstart.sh

clean-data:
	rm -rf data
