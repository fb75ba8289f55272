#!/usr/bin/env bash
# Keeps the shared build cache ($CARGO_TARGET_DIR) from filling the disk. Every CI run builds
# from a fresh clone, and each clone path leaves its own incremental state and test binaries
# behind. Past a size limit those are removed; dependency builds (.rlib/.rmeta) stay, so the
# next build only recompiles the workspace crates and relinks.
set -euo pipefail
target=${CARGO_TARGET_DIR:?CARGO_TARGET_DIR must be set}
limit_gb=${ONBOARD_TARGET_LIMIT_GB:-30}
[ -d "$target" ] || exit 0
size_gb=$(( $(du -sk "$target" | cut -f1) / 1024 / 1024 ))
if [ "$size_gb" -lt "$limit_gb" ]; then
  exit 0
fi
echo "prune-target: $target holds ${size_gb} GB (limit ${limit_gb} GB); removing incremental state and test binaries"
for profile in "$target"/debug "$target"/front/debug "$target"/front/wasm32-unknown-unknown/debug; do
  [ -d "$profile" ] || continue
  rm -rf "$profile/incremental"
  find "$profile/deps" -maxdepth 1 -type f -perm -u+x ! -name '*.so' ! -name '*.rlib' ! -name '*.rmeta' -delete 2>/dev/null || true
done
echo "prune-target: now $(du -sh "$target" | cut -f1)"
