#!/usr/bin/env bash
# npm run bench: builds pkg/ and runs every benchmark in bench/ (each prints its ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP_BROWSER=0 bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
node scripts/build.mjs
for bench in bench/*.bench.mjs; do
  echo "== $bench"
  node --expose-gc "$bench"
done
