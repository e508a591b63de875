#!/usr/bin/env bash
# Checks that `awrsr train --device wgpu` trains on a GPU through burn's wgpu backend:
# builds awrsr with `--features wgpu` (its own target directory), trains a small model on
# wgpu and on the CPU from the same seed, then evaluates the wgpu-trained bundle on the CPU.
# The wgpu run's loss must fall like the CPU run's, and the CPU evaluation of its bundle must
# give the figures the wgpu run printed. Logs go to results/wgpu-check/.
#
#   scripts/check-wgpu.sh [DATA [TRAIN FLAGS...]]
#   AWRSR_GPU_FEATURES=wgpu-fusion scripts/check-wgpu.sh     (the build with burn's fusion)
#
# Without DATA it makes a 120-shopper log (seconds, even on a software GPU). Without a GPU
# Vulkan driver it uses Chromium's SwiftShader (software Vulkan), which checks the code path,
# not the speed. A wgpu build is large: the first one took 37 minutes on
# 2 busy cores.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
OUT="$ROOT/results/wgpu-check"
mkdir -p "$OUT"
GPU_TARGET="${AWRSR_GPU_TARGET_DIR:-$HOME/.cache/awrsr/target-gpu}"
# The dev profile: dependencies at opt-level 3 (Cargo.toml), a fraction of a release build's time.
cargo build --features "${AWRSR_GPU_FEATURES:-wgpu}" --target-dir "$GPU_TARGET"
BIN_GPU="$GPU_TARGET/debug/awrsr"
cargo build --release
BIN_CPU="$CARGO_TARGET_DIR/release/awrsr"

if ! ldconfig -p | grep -q 'libvulkan.so.1' && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
    echo "no Vulkan loader on the system: using Chromium's loader and SwiftShader (software)"
    export LD_LIBRARY_PATH="/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
fi

DATA="${1:-}"
FLAGS=("${@:2}")
READ=()
if [ -z "$DATA" ]; then
    DATA="$OUT/tiny.txt"
    READ=(--format sequences)
    FLAGS=(--epochs 3 --max-len 20)
    python3 - "$DATA" <<'EOF'
import random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:  # user item item ...: runs of items that drift forward
    for user in range(1, 121):
        start, length = random.randint(1, 60), random.randint(8, 20)
        items = [(start + i * random.choice([1, 1, 2]) - 1) % 60 + 1 for i in range(length)]
        f.write(f"{user} {' '.join(map(str, items))}\n")
EOF
fi

"$BIN_GPU" train --data "$DATA" "${READ[@]}" "${FLAGS[@]}" --device wgpu --quiet --out "$OUT/wgpu.awrsr" \
    --metrics-json "$OUT/wgpu.json" 2>&1 | tee "$OUT/wgpu.log"
"$BIN_CPU" train --data "$DATA" "${READ[@]}" "${FLAGS[@]}" --quiet --out "$OUT/cpu.awrsr" \
    --metrics-json "$OUT/cpu.json" 2>&1 | tee "$OUT/cpu.log"
"$BIN_CPU" eval --model "$OUT/wgpu.awrsr" --data "$DATA" "${READ[@]}" \
    --metrics-json "$OUT/wgpu-on-cpu.json" 2>&1 | tee "$OUT/wgpu-on-cpu.log"

python3 - "$OUT" <<'EOF'
import json, sys
out = sys.argv[1]
read = lambda name: json.load(open(f"{out}/{name}.json"))
gpu, cpu, again = read("wgpu"), read("cpu"), read("wgpu-on-cpu")
for split in ("valid", "test"):
    a, b = gpu[split]["NDCG@10"], again[split]["NDCG@10"]
    assert abs(a - b) <= 1e-3, f"{split} NDCG@10: {a} on wgpu, {b} for its bundle on the CPU"
print(f"wgpu: test NDCG@10 {gpu['test']['NDCG@10']:.4f} (the same on the CPU from its bundle: "
      f"{again['test']['NDCG@10']:.4f}); CPU-trained: {cpu['test']['NDCG@10']:.4f}")
EOF
