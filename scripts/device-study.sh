#!/usr/bin/env bash
# One run on the lent GPU machine (the `device` tool; docs/results.md, "On a GPU"): first the
# training speed of `--device wgpu` against the CPU build on that machine's 16 cores, one run
# after the other; then study cells on the GPU (ML-1M `none`, and the cells named in
# DEVICE_CELLS) until the time budget is spent. Cells stopped by the budget leave their
# checkpoints, which come back to resume here with `scripts/experiments.py run`.
#
#   scripts/device-study.sh [SECONDS]        (on the device machine, in the repository root)
#
# It expects what the `run` call carries: .device/awrsr-gpu.xz (built here with
# `cargo build --features wgpu`, stripped; optionally .device/awrsr-gpu-fusion.xz, the same
# with `--features wgpu-fusion`, timed beside it), .device/awrsr-cpu.xz (the release CLI),
# .device/data/ (the parts of ../shared/data it reads) and .gl/ (the Vulkan loader, as the
# device README describes). Logs, figures and checkpoints go to $OUT.
set -uo pipefail
BUDGET="${1:-540}"
OUT="${OUT:-/tmp/device-out}"
mkdir -p "$OUT"
touch /tmp/device-study.start
if [ -d /usr/local/nvidia ] && ! ldconfig -p | grep -q libvulkan.so.1; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}"
export AWRSR_SHARED_DATA="$PWD/.device/data"
BIN=/tmp/awrsr-bin
mkdir -p "$BIN"
xz -dc .device/awrsr-gpu.xz > "$BIN/gpu" && xz -dc .device/awrsr-cpu.xz > "$BIN/cpu" || exit 1
# Optional: a build with `--features wgpu-fusion`, timed beside the plain one.
[ -f .device/awrsr-gpu-fusion.xz ] && xz -dc .device/awrsr-gpu-fusion.xz > "$BIN/gpu-fusion"
chmod +x "$BIN"/*
(cat .device/COMMIT; nvidia-smi -L; nproc; uname -m) 2>&1 | tee "$OUT/machine.txt"

# Speed: the same settings on the GPU and on the CPU, one after the other (SPEED=0 skips it).
DATA=.device/data
BEAUTY=(--data "$DATA/amazon/Beauty.txt" --batch-size 128 --batching by-length)
ML1M=(--data "$DATA/ml-1m/ml-1m.txt" --max-len 200 --batch-size 128 --batching by-length)
speed() {  # NAME BINARY ARGS...
    local name="$1" bin="$2"
    shift 2
    echo "== $name: $bin train $*" | tee -a "$OUT/speed.log"
    timeout "${SPEED_TIMEOUT:-90}" "$BIN/$bin" train "$@" --quiet --out "/tmp/$name.awrsr" 2>&1 | tee -a "$OUT/speed.log"
}
if [ "${SPEED:-1}" = 1 ]; then
    speed ml-100k-wgpu gpu --data "$DATA/ml-100k" --epochs 3 --device wgpu
    speed ml-100k-cpu cpu --data "$DATA/ml-100k" --epochs 3
    speed beauty-wgpu gpu "${BEAUTY[@]}" --epochs 2 --device wgpu
    speed beauty-cpu cpu "${BEAUTY[@]}" --epochs 2
    speed ml-1m-wgpu gpu "${ML1M[@]}" --epochs 2 --device wgpu
    if [ -x "$BIN/gpu-fusion" ]; then
        speed ml-100k-wgpu-fusion gpu-fusion --data "$DATA/ml-100k" --epochs 3 --device wgpu
        speed beauty-wgpu-fusion gpu-fusion "${BEAUTY[@]}" --epochs 2 --device wgpu
    fi
fi

# Study cells on the GPU, side by side, until the budget is spent.
LEFT=$((BUDGET - SECONDS - 40))
echo "study: $LEFT s left" | tee -a "$OUT/speed.log"
export AWRSR_BIN="$BIN/gpu" PYTHONUNBUFFERED=1
if [ "$LEFT" -gt 30 ]; then  # (`timeout 0` would mean no limit)
    timeout -k 15 "$LEFT" python3 scripts/experiments.py run --data ml-1m --variant none --seeds 1 --device wgpu \
        > "$OUT/study-ml-1m.out" 2>&1 &
    timeout -k 15 "$LEFT" python3 scripts/experiments.py run --data ${DEVICE_CELLS:-beauty --variant none value simple additive --seeds 3} \
        --jobs 4 --device wgpu > "$OUT/study-more.out" 2>&1 &
    wait
fi

# Back (at most 8 files): the cells' logs and figures and the runners' output in one archive,
# each checkpoint beside it (compressed).
# Only the checkpoints this run wrote; more than 5 (or over 64 MiB) would not all come back.
mv "$OUT"/study-*.out results/study/ 2>/dev/null
cd results/study
tar -cJf "$OUT/study.tar.xz" $(find . -maxdepth 1 -newer /tmp/device-study.start \( -name '*.log' -o -name '*.json' -o -name '*.out' \))
for ckpt in $(find . -maxdepth 1 -name '*.ckpt' -newer /tmp/device-study.start | head -5); do
    xz -T0 -1 -c "$ckpt" > "$OUT/$(basename "$ckpt").xz"
done
ls -la "$OUT"
du -cm "$OUT" | tail -1
