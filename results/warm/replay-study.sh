#!/usr/bin/env bash
# Sixth round, at today's defaults (4,096 negatives, the refit beside the run, the repeat
# bonus): A again (the first 80 % of train.txt's sessions, /tmp/warm-a.csv), now recording
# the newest session it trained on; then the grown log (all of train.txt, /tmp/warm-c.csv;
# its latest tenth validates) warm from A, each epoch on the sessions A never trained on
# (80-90 %) and a share of A's (--replay), against the from-scratch run of the same command
# (../sessions/alongside-s42.*). Seed 42.
#   replay-study.sh a            trains A (a2.*)
#   replay-study.sh warm S...    one warm run per share S, one after the other (c-replay<S>.*;
#                                .clock: each line of the log after the seconds since the start)
#   SEED=1 replay-study.sh warm 0.25   the warm run at another seed (c-replay0.25-s1.*), A
#                                unchanged; from scratch at seed 1: ../sessions/default-s1.*
set -euo pipefail
cd "$(dirname "$0")"
B=${AWRSR_BIN:-$HOME/.cache/awrsr/target/release/awrsr}
T=/work/shared/data/sessions/diginetica/test.txt
SEED=${SEED:-42}
COLS="--format events --session-column session --item-column item --time-column time --test $T --quiet --seed $SEED"
case "${1:-}" in
  a)
    /usr/bin/time -v $B train --data /tmp/warm-a.csv $COLS --out /tmp/warm-a2.awrsr \
      --metrics-json a2.json > a2.log 2> a2.time ;;
  warm)
    shift
    for share in "$@"; do
      N=c-replay$share
      [ "$SEED" = 42 ] || N=$N-s$SEED
      SECONDS=0
      /usr/bin/time -v $B train --data /tmp/warm-c.csv $COLS --init /tmp/warm-a2.awrsr \
        --replay "$share" --out /tmp/warm-$N.awrsr \
        --metrics-json $N.json 2> $N.time | tee $N.log |
        while IFS= read -r line; do echo "$SECONDS $line"; done > $N.clock
    done ;;
  *) echo "usage: $0 a | warm SHARE..." >&2; exit 2 ;;
esac
