#!/usr/bin/env bash
# The table's session models (trained before the repeat bonus existed, on the shared files
# without times: a random tenth validates) with the bonus chosen on their own validation
# cases as `awrsr train` now chooses it (examples/repeat_refit.rs remakes each run's split
# from its seed; its "valid_without" equals the run's "valid"). diginetica-value-s42.awrsr
# was not kept, so that cell is missing.
set -euo pipefail
cd "$(dirname "$0")"
E=${REPEAT_REFIT:-$HOME/.cache/awrsr/target/release/examples/repeat_refit}
D=../../../shared/data/sessions/diginetica
for v in none simple value additive; do
  for s in 1 3 42; do
    m=diginetica-$v-s$s
    [ -f $m.awrsr ] || { echo "$m.awrsr missing: skipped"; continue; }
    "$E" $m.awrsr $D/train.txt $D/test.txt $s $m-repeat.json > $m-repeat.log
  done
done
