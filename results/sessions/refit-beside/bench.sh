#!/usr/bin/env bash
# The refit beside early stopping against the refit after it, paired on one machine: the
# first half of the timed export (/tmp/warm-c.csv, see ../default-run.sh), 3 epochs, --refit,
# every other setting at its default, seed 42; the two modes alternate, twice each, alone on
# the machine. Writes <mode>-<i>.{log,json,time} and times.csv (mode, run, wall seconds).
set -euo pipefail
cd "$(dirname "$0")"
A=${AWRSR:-$HOME/.cache/awrsr/target/release/awrsr}
rows=$(( $(wc -l < /tmp/warm-c.csv) / 2 ))
head -n "$rows" /tmp/warm-c.csv > /tmp/half-c.csv
T=../../../../shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --quiet"
echo "mode,run,seconds" > times.csv
for i in 1 2; do
  for mode in after beside; do
    flag=$([ $mode = after ] && echo "--refit-beside=false" || echo "--refit-beside")
    start=$(date +%s.%N)
    /usr/bin/time -v "$A" train --data /tmp/half-c.csv --test $T $COLS --epochs 3 --refit $flag \
      --out /tmp/bench-$mode.awrsr --metrics-json $mode-$i.json > $mode-$i.log 2> $mode-$i.time
    echo "$mode,$i,$(echo "$(date +%s.%N) - $start" | bc)" >> times.csv
  done
done
