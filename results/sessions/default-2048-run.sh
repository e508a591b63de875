#!/usr/bin/env bash
# default-run.sh with --negatives 2048 (the earlier default), timed alone with the same build
# (5381f9b): what a shop that needs the 30 minutes would run.
set -euo pipefail
cd "$(dirname "$0")"
A=${AWRSR:-$HOME/.cache/awrsr/target/release/awrsr}
T=../../../shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --quiet"
/usr/bin/time -v "$A" train --data /tmp/warm-c.csv --test $T $COLS --negatives 2048 \
  --out /tmp/default-2048-s42.awrsr --metrics-json default-2048-s42.json > default-2048-s42.log 2> default-2048-s42.time
