#!/usr/bin/env bash
# Installs what Onboard's build and tests need on a fresh Debian machine with only rustup's Rust.
# Idempotent: every step is skipped when its tool is already present at the pinned version.
# The recipes are the tested ones of shared/TOOLCHAIN.md (cargo-leptos and wasm-bindgen-cli need one
# lock entry downgraded to build on Rust 1.95 from the reachable registry).
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
CARGO_FUZZ_VERSION=0.13.2
here=$(cd "$(dirname "$0")/.." && pwd)

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v c++ >/dev/null || missing+=(g++) # libFuzzer, for the fuzz targets
  if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing+=(postgresql)
  fi
  apt_install_missing "${missing[@]}"
}

# Node and npm, for npm_packages.
node_packages() {
  local missing=()
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  apt_install_missing "${missing[@]}"
}

apt_install_missing() {
  local missing=("$@")
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
}

# Installs a crate from its unpacked registry source after pinning one lock entry.
install_with_downgrade() { # crate version lock-crate lock-version [cargo install args...]
  local crate=$1 version=$2 pin=$3 pin_version=$4; shift 4
  cargo info "$crate@$version" >/dev/null
  local src work
  src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" | head -1)
  work=$(mktemp -d)
  cp -r "$src" "$work/$crate"
  rm -f "$work/$crate/rust-toolchain.toml"
  (cd "$work/$crate" && cargo update -p "$pin" --precise "$pin_version")
  cargo install --path "$work/$crate" --locked "$@"
  rm -rf "$work"
}

cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -qx "cargo-leptos $CARGO_LEPTOS_VERSION"; then return; fi
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 14 minutes on 2 cores)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    install_with_downgrade cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1 --features no_downloads
}

wasm_bindgen_cli() {
  # The CLI must equal the wasm-bindgen crate in Cargo.lock exactly, or the module is refused.
  local wb
  wb=$(grep -A1 '^name = "wasm-bindgen"$' "$here/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')
  if wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wb"; then return; fi
  log "installing wasm-bindgen-cli $wb"
  cargo install wasm-bindgen-cli --version "$wb" --locked 2>/dev/null ||
    install_with_downgrade wasm-bindgen-cli "$wb" webpki-roots 1.0.10
}

cargo_fuzz() {
  # On stable Rust: the targets run without a sanitizer (`-s none`), which needs no nightly flag;
  # the code under test forbids `unsafe`, so a sanitizer would find nothing a panic does not.
  if cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then return; fi
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
}

npm_packages() {
  # Playwright (driving Debian's chromium, never a downloaded browser) and npm's binaryen for
  # release builds (Debian's wasm-opt 108 breaks hydration).
  if [ ! -x "$here/end2end/node_modules/.bin/playwright" ] ||
     [ "$here/end2end/package-lock.json" -nt "$here/end2end/node_modules/.package-lock.json" ]; then
    log "npm ci in end2end/"
    (cd "$here/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
}

case "${1:-all}" in
  all) apt_packages; node_packages; wasm_target; cargo_leptos; wasm_bindgen_cli; cargo_fuzz; npm_packages ;;
  rust-tools) wasm_target; cargo_leptos; wasm_bindgen_cli ;;
  # A release build: the Rust tools and npm's wasm-opt, no browser, database or fuzzer.
  release-tools) wasm_target; cargo_leptos; wasm_bindgen_cli; node_packages; npm_packages ;;
  *) "$1" ;;
esac
