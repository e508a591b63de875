#!/usr/bin/env bash
# One epoch on the timed Diginetica export without --test (its own split: 151,202 training
# sessions), at the default 4,096 negatives, alone on the machine, the two builds alternating:
# before = 0348a8b (the host softmax with its vectorised exponential; burn's Adam; gemm's AVX2
# kernels), after = 5381f9b (Adam fused on the host, gemm's AVX-512 kernels).
set -u
cd /tmp/speed2
COLS="--format events --session-column session --item-column item --time-column time --quiet --epochs 1 --refit=false --repeat-bonus=false --seed 42"
for build in ${BUILDS:-before after before after}; do
  n=$((${n:-${FIRST:-0}} + 1))
  /usr/bin/time -v /tmp/awrsr-$build train --data /tmp/warm-c.csv $COLS --out /tmp/speed2/$build.awrsr > $build-$n.log 2> $build-$n.time
done
