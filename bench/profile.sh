#!/usr/bin/env bash
# Where Wick's time goes, per kernel function: builds an unstripped Release
# wick-run (only the kernel sources the standard models use, -j1), exports the
# models, runs each under `perf record` and prints the top symbols.
#
#   bash bench/profile.sh [model ...]        # default: mobilenet_v2 resnet18 tiny_llama
#   BUILD=/tmp/wick-prof-build bash bench/profile.sh mobilenet_v2
#
# Needs perf (linux-perf). The build directory is kept for the next call.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
BUILD=${BUILD:-/tmp/wick-prof-build}
WORK=${WORK:-/tmp/wick-prof}
MODELS=("$@")
[ ${#MODELS[@]} -eq 0 ] && MODELS=(mobilenet_v2 resnet18 tiny_llama)
KERNELS="batch_norm;binary_ops;convolution;copy_ops;embedding;matmul;pooling;reduce;softmax;unary_ops;where_clamp"
mkdir -p "$WORK"

if [ ! -x "$BUILD/runtime/wick-run" ]; then
  cmake -S "$REPO" -B "$BUILD" -G Ninja -DWICK_BUILD_PYTHON=OFF -DCMAKE_BUILD_TYPE=Release \
        -DWICK_KERNELS="$KERNELS" >/dev/null
fi
cmake --build "$BUILD" --target wick-run -j1 >/dev/null
RUN="$BUILD/runtime/wick-run"

python - "$WORK" "${MODELS[@]}" <<'EOF' 2>/dev/null
import sys, numpy as np, wick
from wick.models import STANDARD_MODELS
work = sys.argv[1]
for name in sys.argv[2:]:
    model, inputs = STANDARD_MODELS[name]()
    wick.export(model, inputs).save(f"{work}/{name}.wick")
    np.save(f"{work}/{name}.npy", inputs[0].numpy())
EOF

for m in "${MODELS[@]}"; do
  echo "== $m: $("$RUN" "$WORK/$m.wick" --input "$WORK/$m.npy" --iterations 10 --warmup 1 | tail -1)"
  perf record -q -o "$WORK/$m.perf" -F 999 -- "$RUN" "$WORK/$m.wick" --input "$WORK/$m.npy" \
       --iterations 20 --warmup 1 >/dev/null 2>&1
  perf report -i "$WORK/$m.perf" --no-children --sort symbol --stdio 2>/dev/null \
    | grep -E '^ +[0-9]' | sed -E 's/ +$//' | cut -c1-130 | head -10 || true
done
