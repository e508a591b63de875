#!/usr/bin/env bash
# Sets up, builds and runs awrsr: prints recommendations for a sample session from the
# shipped model with the native CLI, builds the browser package, and serves the demo
# storefront on localhost (PORT, default 8080).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"
printf '\n== sample session (native CLI): Toy Story, Usual Suspects, Star Wars\n'
cargo run --quiet -- recommend --model www/model.awrsr --session 1,50,260 -k 5 --explain
printf '\n== browser build\n'
"$ROOT/scripts/build-web.sh"
PORT="${PORT:-8080}"
printf '\n== demo: open http://127.0.0.1:%s/www/  (Ctrl-C stops the server)\n' "$PORT"
printf '   studio (train a model on your own export, in the browser): http://127.0.0.1:%s/www/studio/\n' "$PORT"
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$ROOT"
