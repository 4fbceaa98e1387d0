#!/usr/bin/env bash
# Installs what building and testing need, skipping what is present. Idempotent.
# Used by `npm test`, `npm run demo` and `npm run bench` on a fresh clone of a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*"; }
export PATH="$HOME/.cargo/bin:$PATH"

if ! command -v cargo >/dev/null; then
  echo "setup: cargo is missing. Install Rust with rustup (https://rustup.rs), then run again." >&2
  exit 1
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (compiles from source, about 2 minutes)"
  cargo install wasm-pack
fi
# wasm-pack uses a wasm-bindgen on PATH whose version matches Cargo.lock's wasm-bindgen.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version (compiles from source, about 5 minutes)"
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm devDependencies"
  # npm ci rejects this lock file: it lacks the optional per-platform packages of `deno`.
  npm install --no-audit --no-fund
fi
if [ "${SETUP_BROWSER:-1}" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Chromium (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: Chromium is missing: install the Debian package 'chromium' (sudo apt-get install chromium)." >&2
    exit 1
  fi
fi
# Redis tests: Debian's redis-server (tests start their own on free ports; the package's service is not used).
# Installs a Debian package as root, or says what to install and stops.
install_debian() {
  if [ "$(id -u)" = 0 ]; then
    say "installing $1 (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    echo "setup: $2 is missing: install the Debian package '$1' (sudo apt-get install $1)." >&2
    exit 1
  fi
}
if [ "${SETUP_REDIS:-1}" = 1 ] && ! command -v redis-server >/dev/null; then
  install_debian redis-server redis-server
fi
# Interop tests with the autoplay Python SDK: a venv in .venv with the pinned SDK.
AUTOPLAY_SDK='autoplay-sdk[redis]==0.13.0'
if [ "${SETUP_PYTHON:-1}" = 1 ] && [ "$(cat .venv/.tidepool-requirements 2>/dev/null)" != "$AUTOPLAY_SDK" ]; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    install_debian python3-venv "python3 with venv"
  fi
  say "creating .venv with $AUTOPLAY_SDK (pip)"
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "$AUTOPLAY_SDK"
  echo "$AUTOPLAY_SDK" > .venv/.tidepool-requirements
fi
