#!/usr/bin/env bash
# --refit (issue 23): is a refit on all training sessions better than the early-stopped model?
# 1. Decided on training data only: the first 90 % of Diginetica's train.txt (file order is
#    SR-GNN's time order) trains with the defaults and --refit; every prefix of the last 10 %
#    tests ("inner test", none of it from test.txt). Rule fixed before the run: --refit becomes
#    the session default if it raises both inner-test HR@20 and MRR@20.
# 2. Reported: the same command on train.txt / test.txt (seed 42, the defaults).
set -euo pipefail
cd "$(dirname "$0")"
A=${AWRSR:-$HOME/.cache/awrsr/target/release/awrsr}
D=../../../shared/data/sessions/diginetica
N=/tmp/nested
python3 - "$D/train.txt" "$N" <<'PY'
import os, sys
lines = [l for l in open(sys.argv[1]).read().split('\n') if l.strip()]
cut = int(len(lines) * 0.9)
os.makedirs(sys.argv[2], exist_ok=True)
open(sys.argv[2] + '/inner.txt', 'w').write('\n'.join(lines[:cut]) + '\n')
out = []
for l in lines[cut:]:
    items = l.split()[1:]
    out += ['t%d %s' % (len(out) + 1, ' '.join(items[:e])) for e in range(len(items), 1, -1)]
open(sys.argv[2] + '/inner-test.txt', 'w').write('\n'.join(out) + '\n')
PY
/usr/bin/time -v "$A" train --data $N/inner.txt --test $N/inner-test.txt --refit --quiet \
  --out $N/inner.awrsr --metrics-json refit-nested.json > refit-nested.log 2> refit-nested.time
/usr/bin/time -v "$A" train --data $D/train.txt --test $D/test.txt --refit --quiet \
  --out refit-s42.awrsr --metrics-json refit-s42.json > refit-s42.log 2> refit-s42.time
