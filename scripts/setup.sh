#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already there:
# rustup's clippy and rustfmt components (for the lint step), the wasm32 target,
# wasm-bindgen-cli (exact version), npm packages (package.json's devDependencies: playwright-core,
# the bundlers Vite and webpack for tests/browser/bundlers.test.mjs, TypeScript 5.9 and 7 for
# tests/browser/types.test.mjs), and — with `--browser` —
# Debian's Chromium for the headless browser tests (driven by playwright-core; no browser is
# downloaded).
set -euo pipefail
source "$(dirname "$0")/env.sh"

step() { printf '\n== %s\n' "$*"; }

for component in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$component"; then
    step "adding the $component component"
    rustup component add "$component"
  fi
done

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

missing_npm=$(cd "$ROOT" && node -e '
  const { devDependencies } = JSON.parse(require("fs").readFileSync("package.json", "utf8"));
  console.log(Object.keys(devDependencies).filter((name) => !require("fs").existsSync(`node_modules/${name}/package.json`)).join(" "));
')
if [ -n "$missing_npm" ]; then
  step "installing npm packages (missing: $missing_npm)"
  (cd "$ROOT" && npm ci --no-audit --no-fund)
fi

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  step "installing Chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
