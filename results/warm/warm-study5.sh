#!/usr/bin/env bash
# Fifth round: is the warm run's 0.7 % shortfall (warm-study4.sh, seed 42) more than a seed's
# noise? The same two runs at seed 1: warm from A at the warm default (a quarter of the rate)
# and from scratch. Same protocol as warm-study2.sh; A (seed 42) stays the previous model.
set -u
cd "$(dirname "$0")"
B=${AWRSR_BIN:-$HOME/.cache/awrsr/target/release/awrsr}
T=/work/shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --test $T --quiet --seed 1"
$B train --data /tmp/warm-c.csv $COLS --out /tmp/warm-c-warm-s1.awrsr --metrics-json c-warm-s1.json --init /tmp/warm-a.awrsr > c-warm-s1.log 2>&1
$B train --data /tmp/warm-c.csv $COLS --out /tmp/warm-c-scratch-s1.awrsr --metrics-json c-scratch-s1.json > c-scratch-s1.log 2>&1
