#!/usr/bin/env bash
# Runs the programs export_programs.py wrote through wick-run on whatever
# Vulkan driver the loader finds, and compares each output with eager PyTorch.
#   run_check.sh PROGRAM_DIR WICK_RUN LIBWICK_VULKAN_RUNTIME [ITERATIONS]
# On an NVIDIA machine whose driver manifest is not in the default place:
#   VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
set -uo pipefail
dir=$1 runner=$2 lib=$3 iters=${4:-50}
for program in "$dir"/*_vulkan.wick; do
  stem=${program%_vulkan.wick}
  inputs=(); for f in "$stem"_in*.npy; do inputs+=(--input "$f"); done
  out=$(mktemp -d)
  echo "== $(basename "$stem")"
  "$runner" "$program" "${inputs[@]}" --backend-lib "$lib" --iterations "$iters" --warmup 5 \
    --output-dir "$out" 2>&1 | grep -v '^output'
  echo
  python3 - "$stem" "$out" <<'PY'
import glob, sys
import numpy as np
stem, out = sys.argv[1], sys.argv[2]
for i, ref_file in enumerate(sorted(glob.glob(f"{stem}_ref*.npy"))):
    ref = np.load(ref_file).astype(np.float64)
    got = np.load(f"{out}/output_{i}.npy").astype(np.float64)
    err = np.abs(got - ref).max()
    print(f"   output {i}: max|err| {err:.3e}  max|ref| {np.abs(ref).max():.3e}  "
          f"rel {err / np.abs(ref).max():.3e}  allclose(rtol=1e-4, atol=1e-5): {np.allclose(got, ref, rtol=1e-4, atol=1e-5)}")
PY
  rm -rf "$out"
done
