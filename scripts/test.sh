#!/usr/bin/env bash
# Quick start 2: set up, then run the test suite (what CI runs).
#   core: tests/ (runtime, exporter, delegate SDK, kernels' fast tier, conformance)
#   plugins: each plugin's own tests, after its setup.sh installs its real
#   toolchain (XNNPACK built from pinned sources, cached per machine; Vulkan
#   from Debian; TOSA/Vela from PyPI in a venv
#   of their own because tosa-tools pins numpy and flatbuffers).
#   fuzzing: the libFuzzer harnesses (fuzz/), built with clang under
#   ASan + UBSan, each run for WICK_FUZZ_SECONDS (60) from a seed corpus made
#   from the standard models; any finding fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=${PYTHON:-python3}

"$PY" -m pytest -n 2 -p no:cacheprovider tests "$@"

# Each plugin's suite runs on its own: their conftest and test module names
# may repeat across folders.
for plugin in xnnpack vulkan; do
  if [ -f "plugins/$plugin/setup.sh" ]; then
    echo "setting up plugins/$plugin ..."
    bash "plugins/$plugin/setup.sh"
    "$PY" -m pytest -n 2 -p no:cacheprovider "plugins/$plugin/tests"
  fi
done

# The threading checks again, now that the plugins are installed: 8 threads
# sharing one xnnpack / vulkan program compare every output.
WICK_TEST_BACKENDS=xnnpack,vulkan "$PY" -m pytest -p no:cacheprovider tests/test_threading.py

if [ -f plugins/arm_ethos/setup.sh ]; then
  echo "setting up plugins/arm_ethos (its own venv) ..."
  bash plugins/arm_ethos/setup.sh
  "${ARM_VENV:-/tmp/arm-venv}/bin/python" -m pytest -n 2 -p no:cacheprovider plugins/arm_ethos/tests
fi

echo "building and running the fuzz harnesses ..."
bash fuzz/build.sh
bash fuzz/run.sh "${WICK_FUZZ_SECONDS:-60}"
