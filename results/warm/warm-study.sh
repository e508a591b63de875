#!/usr/bin/env bash
# Warm retrains on Diginetica in file order (issue 25): A = first 80% from scratch; B = first 90%
# from scratch and warm from A. Validation of B: its latest tenth (sessions 81-90%), unseen by A.
set -u
cd /work/main/results/warm
B=/tmp/warm-awrsr
T=/work/shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --test $T --quiet --seed 42"
$B train --data /tmp/warm-a.csv $COLS --out /tmp/warm-a.awrsr --metrics-json a.json > a.log 2>&1
$B train --data /tmp/warm-b.csv $COLS --out /tmp/warm-b-warm.awrsr --metrics-json b-warm.json --init /tmp/warm-a.awrsr > b-warm.log 2>&1
$B train --data /tmp/warm-b.csv $COLS --out /tmp/warm-b-scratch.awrsr --metrics-json b-scratch.json > b-scratch.log 2>&1
