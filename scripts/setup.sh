#!/usr/bin/env bash
# Installs everything a fresh Debian machine with only rustup lacks to build and test modelchain.
# Idempotent: every step checks first and is safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# System packages: protoc and clang/libclang for the node's -sys crates, OpenSSL headers for the
# litep2p network backend, mold as a faster linker, Node.js/npm for the polkadot.js tests, python3-venv
# for the evaluation fixtures.
APT_PACKAGES=(protobuf-compiler clang libclang-dev libssl-dev pkg-config mold curl ca-certificates python3-venv)
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Rust: the wasm runtime is built by substrate-wasm-builder, which needs a wasm target and rust-src.
installed_targets=$(rustup target list --installed)
for t in wasm32v1-none wasm32-unknown-unknown; do
  grep -qx "$t" <<<"$installed_targets" || rustup target add "$t"
done
rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src

# JavaScript: the polkadot.js end-to-end tests and the zombienet CLI, each from its committed lockfile.
# A stamp of the lockfile's hash skips `npm ci` when node_modules already matches it.
for dir in scripts/e2e zombienet; do
  [ -f "$dir/package-lock.json" ] || continue
  lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp="$dir/node_modules/.modelchain-lock-sha256"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" > "$stamp"
  fi
done
# Python (evaluation fixtures and onnxruntime reference scores): a venv in the shared cache, rebuilt only when
# requirements.txt changes; then the fixtures, regenerated only when their generator or requirements change.
cache="${MODELCHAIN_CACHE:-$HOME/.cache/modelchain}"
venv="$cache/venv"
req_sum=$(sha256sum scripts/fixtures/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.modelchain-req-sha256" 2>/dev/null)" != "$req_sum" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/fixtures/requirements.txt
  echo "$req_sum" > "$venv/.modelchain-req-sha256"
fi
fixtures=scripts/fixtures/out
fx_sum=$(cat scripts/fixtures/make_fixtures.py scripts/fixtures/requirements.txt scripts/aggregate.py | sha256sum | cut -d' ' -f1)
if [ "$(cat "$fixtures/.modelchain-sha256" 2>/dev/null)" != "$fx_sum" ]; then
  rm -rf "$fixtures"
  "$venv/bin/python" scripts/fixtures/make_fixtures.py "$fixtures"
  echo "$fx_sum" > "$fixtures/.modelchain-sha256"
fi

echo "setup: done"
