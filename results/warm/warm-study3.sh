#!/usr/bin/env bash
# Third round (this session): shrink-and-perturb warm starts (`--init-keep`), same protocol as
# warm-study2.sh (the grown log validated on its latest tenth, never seen by A). `--init-keep`
# existed only in commit dfbdfca (reverted after this run: it did not help).
set -u
cd /work/main/results/warm
B=/tmp/warm-awrsr2
T=/work/shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --test $T --quiet --seed 42"
LR=${LR:-0.003}
for keep in "$@"; do
  nice -n 19 $B train --data /tmp/warm-c.csv $COLS --out /tmp/warm-c-warm-keep$keep.awrsr --metrics-json c-warm-keep$keep-lr$LR.json --init /tmp/warm-a.awrsr --init-keep $keep --lr $LR > c-warm-keep$keep-lr$LR.log 2>&1
done
