#!/usr/bin/env bash
# Builds the browser packages with wasm-bindgen (ES module + TypeScript types):
#   pkg/      WebGPU + CPU backends, the size-tuned `wasm-release` profile (LTO, one codegen
#             unit, opt-level "z", stripped, panic = abort); what the demo and tests load.
#   pkg-cpu/  with `--cpu`: the CPU-only build (no WebGPU backend), profile `wasm-cpu`
#             (opt-level 3): smaller and faster on the CPU; see README "Two builds".
# Both use WebAssembly SIMD (.cargo/config.toml), and get scripts/guard-freed.js appended to
# their awrsr.js (calls on a freed model throw in JavaScript, before reaching the module), and
# their awrsr.d.ts rewritten by scripts/portable-types.mjs (no esnext lib needed).
# Both also ship the hand-written js/ files: client.js (load in a Worker, parallel downloads
# with progress, ordered calls), worker.js and client.d.ts, the widget (awrsr-widget.js, its
# modules in widget/ and its types) and the npm README.
# Each folder packs as an npm package (`npm pack`): pkg/ as `awrsr`, pkg-cpu/ as `awrsr-cpu`.
#
# No wasm-opt: binaryen 132's `wasm-opt -Oz` made this module smaller raw (13.9 → 10.6 MB)
# but larger gzipped (2.57 → 2.75 MB), and took 7.7 minutes here.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

package() { # profile, output folder, cargo flags…
  local profile="$1" out="$2"; shift 2
  cargo build --lib --profile "$profile" --target wasm32-unknown-unknown "$@"
  wasm-bindgen --target web --out-dir "$out" --out-name awrsr \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/awrsr.wasm" 2> >(grep -v 'target_features. custom section' >&2)
  cat "$ROOT/scripts/guard-freed.js" >> "$out/awrsr.js"
  # --- Portable types: awrsr.d.ts compiles without the esnext lib (scripts/portable-types.mjs).
  node "$ROOT/scripts/portable-types.mjs" "$out/awrsr.d.ts"
  # --- end of portable types.
  cp "$ROOT/js/client.js" "$ROOT/js/worker.js" "$ROOT/js/client.d.ts" "$out/"
  cp "$ROOT/js/awrsr-widget.js" "$ROOT/js/awrsr-widget.d.ts" "$out/" # the embeddable widget, beside client.js,
  rm -rf "$out/widget" && mkdir "$out/widget" && cp "$ROOT"/js/widget/*.js "$out/widget/" # and its modules
  cp "$ROOT/js/README.md" "$out/" # the npm package's README
  printf '%s/awrsr_bg.wasm: %s bytes (%s gzip -9)\n' "$out" "$(wc -c < "$out/awrsr_bg.wasm")" "$(gzip -9c "$out/awrsr_bg.wasm" | wc -c)"
}

package wasm-release pkg --features webgpu
if [ "${1:-}" = "--cpu" ]; then
  package wasm-cpu pkg-cpu
  # The same manifest, published as its own package: `npm install awrsr-cpu`, `awrsr-cpu/client`.
  node -e '
    const [from, to] = process.argv.slice(1);
    const manifest = JSON.parse(require("fs").readFileSync(from, "utf8"));
    manifest.name = "awrsr-cpu";
    manifest.description = "In-browser sequential recommender: SASRec with attention weight refinement, CPU-only build (WebAssembly, no WebGPU)";
    require("fs").writeFileSync(to, JSON.stringify(manifest, null, 2) + "\n");
  ' pkg/package.json pkg-cpu/package.json
fi
