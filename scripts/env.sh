# Shared settings for the scripts (sourced, not run).
# The cargo target directory lives outside the checkout so that repeat runs and fresh
# clones reuse one build cache.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/awrsr/target}"
# The wasm-bindgen CLI must match the wasm-bindgen crate version exactly.
WASM_BINDGEN_VERSION="0.2.130"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
