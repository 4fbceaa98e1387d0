#!/usr/bin/env bash
# npm run demo: installs what is missing, builds pkg/, serves www/ on localhost (PORT, default 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP_BROWSER=0 bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
node scripts/build.mjs
exec node scripts/demo.mjs
