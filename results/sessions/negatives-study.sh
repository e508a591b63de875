#!/usr/bin/env bash
# 4,096 uniform negatives instead of 2,048, now that the sampled softmax's [targets x
# candidates] pass runs on the host (two threads, one fused pass a row): the default run of
# repeat-study.sh (all of train.txt as a click export with times, /tmp/warm-c.csv; seed 42;
# refit and repeat bonus on by default, the bonus's grid widened) with --negatives 4096.
# Compare validation with repeat-times-s42.* (the same run at 2,048 negatives): the choice
# of the default is made there; the test figures are read after.
set -euo pipefail
NAME=neg4096-times-s42 exec "$(dirname "$0")/default-run.sh" --negatives 4096
