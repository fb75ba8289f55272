#!/usr/bin/env bash
# Runs the Playwright tests of end2end/ against a freshly started Onboard (the binary and the
# console assets built by `cargo leptos build`), with its own data directory and ports, and
# stops it afterwards. Playwright drives Debian's chromium; it never downloads a browser.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$here/target}
bin="$target/debug/onboard"
[ -x "$bin" ] || { echo "build first: $bin is missing (cargo leptos build)" >&2; exit 1; }

data=$(mktemp -d)
http_port=${E2E_HTTP_PORT:-3460}
https_port=${E2E_HTTPS_PORT:-8460}
export E2E_ADMIN_EMAIL="e2e-admin@bank.example" E2E_ADMIN_PASSWORD="e2e password $(date +%s)"
# A second administrator, who turns two-step sign-in on and keeps it, so the first signs in
# with the password alone throughout.
export E2E_TWO_STEP_EMAIL="e2e-two-step@bank.example" E2E_TWO_STEP_PASSWORD="e2e two-step $(date +%s)"
ONBOARD_DATA_DIR="$data" "$bin" admin create-user --email "$E2E_TWO_STEP_EMAIL" --password "$E2E_TWO_STEP_PASSWORD" \
  >"$data/create-user.log" 2>&1 || { cat "$data/create-user.log" >&2; exit 1; }
"$bin" serve --data-dir "$data" --http-addr "127.0.0.1:$http_port" --https-addr "127.0.0.1:$https_port" \
  --public-url "https://localhost:$https_port" --site-root "$here/target/site" \
  --admin-email "$E2E_ADMIN_EMAIL" --admin-password "$E2E_ADMIN_PASSWORD" \
  --allow-insecure-jwks-uris >"$data/onboard.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT INT TERM

for _ in $(seq 1 100); do
  if (echo > "/dev/tcp/127.0.0.1/$http_port") 2>/dev/null; then break; fi
  kill -0 "$pid" 2>/dev/null || { cat "$data/onboard.log" >&2; exit 1; }
  sleep 0.1
done

cd "$here/end2end"
export BASE_URL="http://127.0.0.1:$http_port"
export ONBOARD_ADMIN_API_KEY_FILE="$data/admin-api-key"
status=0
npx playwright test "$@" || status=$?
[ $status -eq 0 ] || { echo "--- onboard log ---" >&2; grep -B2 -A8 -E "ERROR|WARN" "$data/onboard.log" | tail -n 80 >&2; }
exit $status
