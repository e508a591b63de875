#!/usr/bin/env bash
# default-run.sh with --negatives 2048 (the earlier default), timed alone with the same build
# (5381f9b): what a shop that needs the 30 minutes would run.
set -euo pipefail
NAME=default-2048-s42 exec "$(dirname "$0")/default-run.sh" --negatives 2048
