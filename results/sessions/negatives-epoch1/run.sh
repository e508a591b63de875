#!/usr/bin/env bash
# One epoch on the timed Diginetica export without --test (its own test split: 151,202 training
# sessions): old = the build of 934010a; new = d98a838 (the host softmax, before its vectorised
# exponential); one after the other, alone.
set -u
cd /tmp/speed
COLS="--format events --session-column session --item-column item --time-column time --quiet --epochs 1 --refit=false --repeat-bonus=false --seed 42"
for run in "old 2048" "new 2048" "new 4096" "new 8192"; do
  set -- $run
  /usr/bin/time -v /tmp/awrsr-$1 train --data /tmp/warm-c.csv $COLS --negatives $2 --out /tmp/speed/$1-$2.awrsr > $1-$2.log 2> $1-$2.time
done
