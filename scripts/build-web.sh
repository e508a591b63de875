#!/usr/bin/env bash
# Builds the browser package into pkg/: the crate for wasm32 with the size-tuned
# `wasm-release` profile (LTO, one codegen unit, opt-level "z", stripped, panic = abort),
# then wasm-bindgen (ES module + TypeScript types).
#
# No wasm-opt: binaryen 132's `wasm-opt -Oz` made this module smaller raw (13.9 → 10.6 MB)
# but larger gzipped (2.57 → 2.75 MB), and took 7.7 minutes here.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

cargo build --lib --profile wasm-release --target wasm32-unknown-unknown
wasm-bindgen --target web --out-dir pkg --out-name awrsr \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/awrsr.wasm"
printf 'pkg/awrsr_bg.wasm: %s bytes (%s gzip -9)\n' "$(wc -c < pkg/awrsr_bg.wasm)" "$(gzip -9c pkg/awrsr_bg.wasm | wc -c)"
