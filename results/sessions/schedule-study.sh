#!/usr/bin/env bash
# A learning rate that decays after every epoch (--lr-epoch-decay), on top of the halving
# after an epoch without a better validation NDCG@10: does the model converge in fewer epochs
# (so the default run, early stopping and then the refit, fits in the issue's 30 minutes)
# without losing validation accuracy? The default run of negatives-study.sh (all of
# train.txt as a click export with times, /tmp/warm-c.csv, the same 168,003 / 69,526 split,
# seed 42, 4,096 negatives) without the refit, at two per-epoch factors, the two runs side by
# side (so their epoch times are not the alone figures). Compared on validation with
# neg4096-times-s42.log (factor 1); the choice is made there.
set -euo pipefail
cd "$(dirname "$0")"
A=${AWRSR:-$HOME/.cache/awrsr/target/release/awrsr}
T=../../../shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --quiet"
for f in ${FACTORS:-0.8 0.7}; do
  /usr/bin/time -v "$A" train --data /tmp/warm-c.csv --test $T $COLS --refit=false --epochs 16 \
    --lr-epoch-decay $f --out /tmp/sched-$f.awrsr --metrics-json sched-$f.json > sched-$f.log 2> sched-$f.time &
done
wait
