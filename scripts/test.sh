#!/usr/bin/env bash
# npm test: installs what is missing, builds pkg/, then runs the Rust core tests and the JS
# suites (Node, Deno, workerd, Chromium, Vite, TypeScript) against the built package.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
node scripts/build.mjs
cargo test --quiet
node --test --test-concurrency=1 tests/js/
