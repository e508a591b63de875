#!/usr/bin/env bash
# --refit where it should matter: a click export with times, whose validation is the latest
# tenth, so that without a refit the model never trains on the newest sessions.
# The export: Diginetica's train.txt in file order (SR-GNN's time order) as session,item,time
# rows, one second a click (/tmp/warm-c.csv, made by results/warm/warm-study.sh).
# 1. Decided on training data only: its first 90 % of sessions train (validation: their latest
#    tenth) and every prefix of the last 10 % tests (refit-study.sh's inner-test.txt). Rule
#    fixed before the run: --refit becomes the default for logs with times if it raises both
#    inner-test HR@20 and MRR@20.
# 2. Reported: all of the export, tested on test.txt (the warm study's "from scratch" run, with
#    --refit).
set -euo pipefail
cd "$(dirname "$0")"
A=${AWRSR:-$HOME/.cache/awrsr/target/release/awrsr}
T=../../../shared/data/sessions/diginetica/test.txt
N=/tmp/nested
COLS="--format events --session-column session --item-column item --time-column time --quiet --refit"
awk -F, 'NR == 1 || $1 < 168003' /tmp/warm-c.csv > $N/inner-c.csv
/usr/bin/time -v "$A" train --data $N/inner-c.csv --test $N/inner-test.txt $COLS \
  --out $N/inner-c.awrsr --metrics-json refit-nested-times.json > refit-nested-times.log 2> refit-nested-times.time
/usr/bin/time -v "$A" train --data /tmp/warm-c.csv --test $T $COLS \
  --out refit-times-s42.awrsr --metrics-json refit-times-s42.json > refit-times-s42.log 2> refit-times-s42.time
