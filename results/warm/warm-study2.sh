#!/usr/bin/env bash
# Second protocol: B = all of train.txt in file order; its validation is the latest tenth
# (sessions 90-100%, which A never saw), its training sessions A's 80% plus the next 10%.
set -u
cd /work/main/results/warm
while pgrep -f warm-study.sh > /dev/null; do sleep 5; done
B=/tmp/warm-awrsr
T=/work/shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --test $T --quiet --seed 42"
$B train --data /tmp/warm-c.csv $COLS --out /tmp/warm-c-warm.awrsr --metrics-json c-warm.json --init /tmp/warm-a.awrsr > c-warm.log 2>&1
$B train --data /tmp/warm-c.csv $COLS --out /tmp/warm-c-scratch.awrsr --metrics-json c-scratch.json > c-scratch.log 2>&1
