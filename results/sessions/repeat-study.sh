#!/usr/bin/env bash
# The repeat bonus (--repeat-bonus, on by default under the session protocol): the session's
# own items scored up, the bonus chosen on the validation cases after early stopping.
# 1. Reported: the default run of refit-study2.sh (all of train.txt as a click export with
#    times, /tmp/warm-c.csv; seed 42; --refit on by default), now with the bonus, tested on
#    test.txt. Compare with refit-times-s42.* (the same run before the bonus existed).
# 2. Training data only: the nested run of refit-study2.sh (first 90 % of train.txt trains,
#    every prefix of the last 10 % tests), with the bonus; compare with refit-nested-times.*.
set -euo pipefail
cd "$(dirname "$0")"
A=${AWRSR:-$HOME/.cache/awrsr/target/release/awrsr}
T=../../../shared/data/sessions/diginetica/test.txt
N=/tmp/nested
COLS="--format events --session-column session --item-column item --time-column time --quiet"
if [ "${1:-}" != nested ]; then
/usr/bin/time -v "$A" train --data /tmp/warm-c.csv --test $T $COLS \
  --out repeat-times-s42.awrsr --metrics-json repeat-times-s42.json > repeat-times-s42.log 2> repeat-times-s42.time
fi
/usr/bin/time -v "$A" train --data $N/inner-c.csv --test $N/inner-test.txt $COLS \
  --out $N/inner-c-repeat.awrsr --metrics-json repeat-nested-times.json > repeat-nested-times.log 2> repeat-nested-times.time
