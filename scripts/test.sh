#!/usr/bin/env bash
# Sets up and runs every test: the native suite (cargo test), then the browser build and
# its tests in headless Chromium (with WebGPU and without; both browser builds, pkg/ and the
# CPU-only pkg-cpu/). CI runs exactly this.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh" --browser
printf '\n== native tests\n'
cargo test
printf '\n== browser build\n'
"$ROOT/scripts/build-web.sh" --cpu
printf '\n== browser tests (headless Chromium)\n'
AWRSR_BIN="$CARGO_TARGET_DIR/debug/awrsr" node --test --test-concurrency=1 tests/browser/
