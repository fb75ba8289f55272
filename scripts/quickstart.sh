#!/usr/bin/env bash
# Runs the README's TPP quick-start as written. The block's first command must be `make run`:
# it runs as `make -C <repo> run` with only the data directory moved into a fresh working
# directory; every other line of the block then runs there, verbatim, in one shell. Passes when
# the last command prints an access token. The quick-start's ports (3000, 8443) must be free.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
block=$(awk '/<!-- quickstart/ {armed=1; next}
             armed && /^```sh$/ {inside=1; next}
             inside && /^```$/ {exit}
             inside {print}' "$repo/README.md")
[ -n "$block" ] || { echo "quickstart: no quick-start block in README.md" >&2; exit 1; }
[ "$(head -n1 <<<"$block")" = "make run" ] || { echo "quickstart: the block must start with 'make run'" >&2; exit 1; }
commands=$(tail -n +2 <<<"$block")
echo "quickstart: $(grep -c '^[a-z]' <<<"$block") commands"

for port in 3000 8443; do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "quickstart: port $port is in use; stop what listens there (a running 'make run'?)" >&2
    exit 1
  fi
done

work=$(mktemp -d)
setsid make -C "$repo" --no-print-directory run RUN_ARGS="--data-dir $work/data" >"$work/server.log" 2>&1 &
server=$!
cleanup() { kill -- -"$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

# `make run` builds first when something changed: allow for it.
for _ in $(seq 1 1800); do
  (echo >/dev/tcp/127.0.0.1/3000) 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done

cd "$work"
if ! bash -euo pipefail -c "$commands" >"$work/out.log" 2>&1; then
  cat "$work/out.log" >&2
  echo "--- server log ---" >&2
  tail -n 40 "$work/server.log" >&2
  exit 1
fi
cat "$work/out.log"
grep -q '"access_token"' "$work/out.log" || { echo "quickstart: no access token at the end" >&2; exit 1; }
echo "quickstart: passed"
