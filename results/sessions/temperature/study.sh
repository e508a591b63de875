#!/usr/bin/env bash
# Cosine-scoring temperature, chosen on validation: the default run (../default-run.sh: all of
# train.txt as the click export with times, seed 42, every other setting at its default) for
# 4 epochs without the refit, at each temperature given (default: 0.06 and 0.1, side by
# side), against the default 0.08's first 4 epochs in ../alongside-s42.log (same seed, same
# random streams). Outputs: temperature/t<T>.{log,json,time}. AWRSR names the binary.
set -euo pipefail
cd "$(dirname "$0")"
temperatures=("$@")
[ ${#temperatures[@]} -gt 0 ] || temperatures=(0.06 0.1)
for t in "${temperatures[@]}"; do
  NAME=temperature/t$t ../default-run.sh --temperature "$t" --epochs 4 --refit=false &
done
wait
