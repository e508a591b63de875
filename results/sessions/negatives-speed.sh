#!/usr/bin/env bash
# Epoch time of the sampled softmax before and after it moved to the host, at 2,048 and
# 4,096 negatives: one epoch each of the timed Diginetica export (the default run's split,
# seed 42), the builds one after the other, alone, twice round. OLD: the build before
# (934010a); NEW: after (the host softmax with its vectorised exponential).
set -u
cd "$(dirname "$0")"
T=../../../shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --test $T --quiet --epochs 1 --refit=false --repeat-bonus=false --seed 42"
for round in 1 2; do
  for run in "old 2048" "new 2048" "new 4096"; do
    set -- $run
    B=$OLD; [ $1 = new ] && B=$NEW
    /usr/bin/time -v $B train --data /tmp/warm-c.csv $COLS --negatives $2 --out /tmp/speed-$1-$2.awrsr \
      > speed-$1-$2-r$round.log 2> speed-$1-$2-r$round.time
  done
done
