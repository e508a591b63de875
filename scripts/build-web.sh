#!/usr/bin/env bash
# Builds the browser package into pkg/: the crate for wasm32 (release profile tuned for
# size), wasm-bindgen (ES module + TypeScript types), then binaryen's wasm-opt.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

cargo build --lib --release --target wasm32-unknown-unknown
wasm-bindgen --target web --out-dir pkg --out-name awrsr \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/awrsr.wasm"

# binaryen from npm (a current release: Debian's older wasm-opt emits modules Chromium rejects).
WASM_OPT="$ROOT/node_modules/.bin/wasm-opt"
if [ -x "$WASM_OPT" ]; then
  "$WASM_OPT" -Oz --all-features --strip-debug --strip-producers pkg/awrsr_bg.wasm -o pkg/awrsr_bg.opt.wasm
  mv pkg/awrsr_bg.opt.wasm pkg/awrsr_bg.wasm
fi
printf 'pkg/awrsr_bg.wasm: %s bytes (%s gzip)\n' "$(wc -c < pkg/awrsr_bg.wasm)" "$(gzip -9c pkg/awrsr_bg.wasm | wc -c)"
