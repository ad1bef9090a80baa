"""The installed plugin carries its XNNPACK: no system XNNPACK, pthreadpool
or cpuinfo library is needed, and none of their symbols are exported."""

import shutil
import subprocess

import pytest

import wick_xnnpack


def _readelf(*args):
    if shutil.which("readelf") is None:
        pytest.skip("readelf (binutils) is not installed")
    return subprocess.run(["readelf", *args, wick_xnnpack.RUNTIME_LIBRARY], capture_output=True, text=True,
                          check=True).stdout


def test_runtime_library_needs_no_system_xnnpack():
    needed = [line for line in _readelf("-d").splitlines() if "(NEEDED)" in line]
    assert needed, "readelf found no NEEDED entries at all"
    for lib in ("XNNPACK", "pthreadpool", "cpuinfo"):
        assert not [line for line in needed if lib.lower() in line.lower()], needed


def test_runtime_library_exports_only_the_entry_point():
    exported = []
    for line in _readelf("--dyn-syms", "-W").splitlines():
        parts = line.split()
        # Num: Value Size Type Bind Vis Ndx Name: defined (Ndx not UND), global symbols.
        if len(parts) >= 8 and parts[4] in ("GLOBAL", "WEAK") and parts[6] != "UND":
            exported.append(parts[7])
    assert "wick_backend_entry2" in exported and "wick_backend_entry" not in exported  # backend ABI 2 only
    assert not [s for s in exported if s.startswith(("xnn_", "pthreadpool_", "cpuinfo_"))], exported
