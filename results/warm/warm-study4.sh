#!/usr/bin/env bash
# Fourth round: the warm start at smaller rates still (a quarter and an eighth of the default
# 0.003). Same protocol as warm-study2.sh (the grown log validated on its latest tenth,
# never seen by A).
set -u
cd "$(dirname "$0")"
B=${AWRSR_BIN:-/tmp/awrsr-bench}
T=/work/shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --test $T --quiet --seed 42"
$B train --data /tmp/warm-c.csv $COLS --out /tmp/warm-c-warm-lr0.00075.awrsr --metrics-json c-warm-lr0.00075.json --init /tmp/warm-a.awrsr --lr 0.00075 > c-warm-lr0.00075.log 2>&1
$B train --data /tmp/warm-c.csv $COLS --out /tmp/warm-c-warm-lr0.000375.awrsr --metrics-json c-warm-lr0.000375.json --init /tmp/warm-a.awrsr --lr 0.000375 > c-warm-lr0.000375.log 2>&1
