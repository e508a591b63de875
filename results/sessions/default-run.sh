#!/usr/bin/env bash
# The default run, timed alone on the machine: all of train.txt as a click export with times
# (/tmp/warm-c.csv: session i at 1,450,000,000 + 600 i s, its clicks 10 s apart), --test
# test.txt, every setting at its default (4,096 negatives, the refit, the repeat bonus chosen
# on validation), seed 42, with the build of 5381f9b (Adam fused on the host, gemm's AVX-512
# kernels). negatives-study.sh ran it with --negatives 4096, then not the default.
# NAME names the outputs (default-s42.*; alongside-s42.* is the run with the refit trained
# beside early stopping, 2026-12-07), SEED the seed (42; default-s1.*, default-s3.*); other
# arguments are passed to train (default-2048-run.sh, negatives-study.sh; the variant table
# at today's defaults: NAME=variants/none-s42 SEED=42 default-run.sh --refinement none).
set -euo pipefail
cd "$(dirname "$0")"
A=${AWRSR:-$HOME/.cache/awrsr/target/release/awrsr}
T=../../../shared/data/sessions/diginetica/test.txt
COLS="--format events --session-column session --item-column item --time-column time --quiet"
S=${SEED:-42}
N=${NAME:-default-s$S}
mkdir -p "$(dirname "/tmp/$N")" "$(dirname "$N")"
/usr/bin/time -v "$A" train --data /tmp/warm-c.csv --test $T $COLS --seed $S "$@" \
  --out /tmp/$N.awrsr --metrics-json $N.json > $N.log 2> $N.time
