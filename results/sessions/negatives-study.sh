#!/usr/bin/env bash
# 4,096 uniform negatives instead of 2,048, now that the sampled softmax's [targets x
# candidates] pass runs on the host (two threads, one fused pass a row): the default run of
# repeat-study.sh (all of train.txt as a click export with times, /tmp/warm-c.csv; seed 42;
# refit and repeat bonus on by default, the bonus's grid widened) with --negatives 4096.
# Compare validation with repeat-times-s42.* (the same run at 2,048 negatives): the choice
# of the default is made there; the test figures are read after.
set -euo pipefail
cd "$(dirname "$0")"
A=${AWRSR:-$HOME/.cache/awrsr/target/release/awrsr}
T=../../../shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --quiet"
/usr/bin/time -v "$A" train --data /tmp/warm-c.csv --test $T $COLS --negatives 4096 \
  --out /tmp/neg4096-times-s42.awrsr --metrics-json neg4096-times-s42.json > neg4096-times-s42.log 2> neg4096-times-s42.time
