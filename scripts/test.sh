#!/usr/bin/env bash
# Sets up and runs every test: first the lint (rustfmt, and clippy with warnings as errors,
# natively and for wasm32 with the WebGPU build's features), then the native suite
# (cargo test), then the browser build and its tests in headless Chromium (with WebGPU and
# without; both browser builds, pkg/ and the CPU-only pkg-cpu/, and the studio's pkg-studio/). CI runs exactly this.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh" --browser
printf '\n== lint\n'
cargo fmt --check
cargo clippy --all-targets -- -D warnings
# wasm32: the library only (the CLI binary and the integration tests are native-only), as
# pkg/ builds it. pkg-cpu/'s feature set is not linted separately: its first check costs
# about 7 more minutes on a cold cache, for a few cfg(not(feature = "webgpu")) lines.
cargo clippy --target wasm32-unknown-unknown --lib --features webgpu -- -D warnings
# The studio's build (pkg-studio/): the training code compiled for the browser.
cargo clippy --target wasm32-unknown-unknown --lib --features studio,webgpu -- -D warnings
printf '\n== native tests\n'
cargo test
printf '\n== browser build\n'
"$ROOT/scripts/build-web.sh" --cpu
printf '\n== browser tests (headless Chromium)\n'
AWRSR_BIN="$CARGO_TARGET_DIR/debug/awrsr" node --test --test-concurrency=1 tests/browser/
