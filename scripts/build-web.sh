#!/usr/bin/env bash
# Builds the browser packages with wasm-bindgen (ES modules + TypeScript types):
#   pkg/          the npm package `awrsr`: at its root the CPU-only build (awrsr.js,
#                 awrsr_bg.wasm; profile `wasm-cpu`, opt-level 3), what client.js and the
#                 widget load by default;
#   pkg/webgpu/   in it, the WebGPU + CPU build (profile `wasm-release`: LTO, one codegen
#                 unit, opt-level "z", stripped, panic = abort), which client.js loads only
#                 when it is asked for or will be faster (js/builds.js);
#   pkg-cpu/      with `--cpu`: the npm package `awrsr-cpu`, pkg/ without webgpu/ (its
#                 webgpu.js says there is no WebGPU build); see README "Two builds";
#   pkg-studio/   the studio's build (www/studio/): training on WebGPU or the CPU (features
#                 `studio` and `webgpu`, profile `wasm-cpu` for the CPU path's speed), kept
#                 apart so that pkg/ stays lean.
# Both wasm builds use WebAssembly SIMD (.cargo/config.toml) and get scripts/guard-freed.js
# appended to their awrsr.js (calls on a freed model throw in JavaScript, before reaching the
# module) and their awrsr.d.ts rewritten by scripts/portable-types.mjs (no esnext lib
# needed). Both packages also ship the hand-written js/ files: client.js (load in a Worker,
# one engine per model URL, parallel downloads with progress, ordered calls), worker.js,
# builds.js (which wasm build), progress.js, the widget (awrsr-widget.js and its modules in
# widget/), their types and the npm README.
# `--js` only copies the hand-written files again (after editing js/), into pkg/ and, when it
# exists, pkg-cpu/.
#
# No wasm-opt: binaryen 132's `wasm-opt -Oz` made the WebGPU module smaller raw (13.9 → 10.6
# MB) but larger gzipped (2.57 → 2.75 MB), and took 7.7 minutes here.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

engine() { # profile, output folder, cargo flags…: one wasm build, its glue and types
  local profile="$1" out="$2"; shift 2
  cargo build --lib --profile "$profile" --target wasm32-unknown-unknown "$@"
  wasm-bindgen --target web --out-dir "$out" --out-name awrsr \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/awrsr.wasm" 2> >(grep -v 'target_features. custom section' >&2)
  cat "$ROOT/scripts/guard-freed.js" >> "$out/awrsr.js"
  node "$ROOT/scripts/portable-types.mjs" "$out/awrsr.d.ts"
  printf '%s/awrsr_bg.wasm: %s bytes (%s gzip -9)\n' "$out" "$(wc -c < "$out/awrsr_bg.wasm")" "$(gzip -9c "$out/awrsr_bg.wasm" | wc -c)"
}

scripts() { # output folder: the hand-written files (webgpu-none.js is pkg-cpu's webgpu.js)
  local out="$1" file
  for file in "$ROOT"/js/*.js; do
    [ "$(basename "$file")" = webgpu-none.js ] || cp "$file" "$out/"
  done
  cp "$ROOT"/js/*.d.ts "$ROOT/js/README.md" "$out/"
  rm -rf "$out/widget" && mkdir "$out/widget" && cp "$ROOT"/js/widget/*.js "$out/widget/"
}

cpu_package() { # pkg-cpu/ from pkg/: the same files but webgpu/, published as `awrsr-cpu`
  rm -rf pkg-cpu && mkdir pkg-cpu
  cp -R pkg/. pkg-cpu/ && rm -rf pkg-cpu/webgpu pkg-cpu/*.tgz
  cp "$ROOT/js/webgpu-none.js" pkg-cpu/webgpu.js
  node -e '
    const [from, to] = process.argv.slice(1);
    const manifest = JSON.parse(require("fs").readFileSync(from, "utf8"));
    manifest.name = "awrsr-cpu";
    manifest.description = "In-browser sequential recommender: SASRec with attention weight refinement, CPU-only build (WebAssembly, no WebGPU)";
    manifest.files = manifest.files.filter((file) => !file.startsWith("webgpu/"));
    manifest.exports = Object.fromEntries(Object.entries(manifest.exports).filter(([path]) => !path.startsWith("./webgpu")));
    require("fs").writeFileSync(to, JSON.stringify(manifest, null, 2) + "\n");
  ' pkg/package.json pkg-cpu/package.json
}

if [ "${1:-}" != "--js" ]; then
  engine wasm-cpu pkg
  engine wasm-release pkg/webgpu --features webgpu
  # Same profile as pkg/ with another feature set: cargo keeps both builds' artifacts, and
  # each engine call binds the awrsr.wasm its own build has just put in place.
  engine wasm-cpu pkg-studio --features studio,webgpu
fi
scripts pkg
if [ "${1:-}" = "--cpu" ] || { [ "${1:-}" = "--js" ] && [ -d pkg-cpu ]; }; then
  cpu_package
fi
