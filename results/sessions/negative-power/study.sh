#!/usr/bin/env bash
# How the sampled softmax draws its negatives (--negative-power), chosen on validation: the
# default run (../default-run.sh: all of train.txt as the click export with times, seed 42,
# every other setting at its default) for 4 epochs without the refit, at each power given
# (default: 0.5 and 1, side by side), against the default's uniform draw (power 0): the
# first 4 epochs of ../alongside-s42.log (same seed). Outputs: negative-power/p<P>.{log,json,time}.
# AWRSR names the binary.
set -euo pipefail
cd "$(dirname "$0")"
powers=("$@")
[ ${#powers[@]} -gt 0 ] || powers=(0.5 1)
for p in "${powers[@]}"; do
  NAME=negative-power/p$p ../default-run.sh --negative-power "$p" --epochs 4 --refit=false &
done
wait
