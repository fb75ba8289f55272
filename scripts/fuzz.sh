#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time: `scripts/fuzz.sh [seconds per target]
# [target...]`. `make fuzz` runs each for 5 minutes; `make test` runs a smoke of 10 seconds each.
#
# Each target starts from its committed seeds (fuzz/seeds/<target>) and the corpus earlier runs
# grew, kept outside the clone (~/.cache/onboard/fuzz) so every run goes further than the last.
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the run; replay it with
# `cargo fuzz run -s none <target> <file>`.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(jws jwks registration distinguished_name token_form)
corpora=${FUZZ_CORPUS_DIR:-$HOME/.cache/onboard/fuzz}

# Stable Rust: no sanitizer (see scripts/setup-toolchain.sh); the console's view types need the
# same cfg as every other build of the app crate.
export RUSTFLAGS="--cfg erase_components"
# cargo fuzz builds in the release profile; its link-time optimisation (Cargo.toml) would add
# minutes to each target's link and nothing to a fuzz run.
export CARGO_PROFILE_RELEASE_LTO=false
fuzz() { cargo fuzz "$1" -s none --fuzz-dir fuzz "${@:2}"; }

fuzz build
for target in "${targets[@]}"; do
  mkdir -p "$corpora/$target" "fuzz/artifacts/$target"
  printf '\033[1;34m[fuzz]\033[0m %s for %ss\n' "$target" "$seconds"
  log=$(mktemp)
  status=0
  fuzz run "$target" "$corpora/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="fuzz/artifacts/$target/" >"$log" 2>&1 || status=$?
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$log" >&2
    echo "fuzz target $target failed (exit $status): its input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  rm -f "$log"
done
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a failure"
