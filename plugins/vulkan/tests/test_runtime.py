"""The runtime half: device reporting, device choice, and errors that are
messages, not crashes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import wick

from conftest import run_both


class AddRelu(torch.nn.Module):
    def forward(self, x, y):
        return torch.relu(x + y)


def test_wick_backends_names_the_device_and_driver(vulkan):
    out = subprocess.run([sys.executable, "-m", "wick", "backends", "--json"], capture_output=True, text=True)
    if out.returncode != 0:  # `wick` console script instead of `python -m wick`
        out = subprocess.run(["wick", "backends", "--json"], capture_output=True, text=True)
    import json

    rows = {r["name"]: r for r in json.loads(out.stdout)["plugins"]}
    row = rows["vulkan"]
    assert row["available"], row
    assert "driver" in row["device"] and "Vulkan" in row["device"], row["device"]


def _run_in_subprocess(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


EXPORT_AND_RUN = """
import torch, wick
class M(torch.nn.Module):
    def forward(self, x, y):
        return torch.relu(x + y)
x = torch.randn(4, 8)
p = wick.export(M(), (x, x), backends=["vulkan"])
try:
    out = wick.runtime.load(p.buffer).method("forward")(x, x)
    print("RAN", float((torch.as_tensor(out[0] if isinstance(out, (list, tuple)) else out) - torch.relu(2 * x)).abs().max()))
except Exception as e:
    print("ERROR", type(e).__name__, e)
"""


def test_unknown_device_is_a_clear_error(vulkan):
    res = _run_in_subprocess(EXPORT_AND_RUN, {"WICK_VULKAN_DEVICE": "no-such-gpu-name"})
    assert "ERROR" in res.stdout, res.stdout + res.stderr
    assert "no-such-gpu-name" in res.stdout and "WICK_VULKAN_DEVICE" in res.stdout


def test_device_chosen_by_index_runs(vulkan):
    res = _run_in_subprocess(EXPORT_AND_RUN, {"WICK_VULKAN_DEVICE": "0"})
    assert "RAN" in res.stdout, res.stdout + res.stderr


def test_device_as_a_load_time_option(vulkan):
    x = torch.randn(4, 8)
    program = wick.export(AddRelu(), (x, x), backends=["vulkan"])
    method = wick.runtime.load(program.buffer, backend_options={"vulkan": {"device": 0}}).method("forward")
    torch.testing.assert_close(method(x, x)[0], torch.relu(2 * x))
    if not os.environ.get("WICK_VULKAN_DEVICE"):  # the variable overrides specs and options
        with pytest.raises(wick.WickError, match="no-such-gpu-name"):
            wick.runtime.load(program.buffer, backend_options={"vulkan": {"device": "no-such-gpu-name"}}).method()


def test_missing_driver_is_reported_as_unavailable_with_the_packages(vulkan, tmp_path):
    # An ICD list naming a file that does not exist: the loader finds no driver.
    bogus = tmp_path / "none.json"
    code = """
import wick
from wick import plugins, runtime
p = next(p for p in plugins.discover() if p.name == "vulkan")
plugins.register_runtime(p)
b = next(b for b in runtime.registered_backends() if b["name"] == "vulkan")
print("AVAILABLE" if b["available"] else "UNAVAILABLE", b["reason"])
"""
    res = _run_in_subprocess(code, {"VK_DRIVER_FILES": str(bogus), "VK_ICD_FILENAMES": str(bogus)})
    assert "UNAVAILABLE" in res.stdout, res.stdout + res.stderr
    assert "mesa-vulkan-drivers" in res.stdout and "libvulkan1" in res.stdout


def test_corrupt_blob_is_rejected_at_init(vulkan):
    from wick_vulkan import RUNTIME_LIBRARY

    import ctypes

    lib = ctypes.CDLL(RUNTIME_LIBRARY)

    class Backend(ctypes.Structure):
        _fields_ = [("abi_version", ctypes.c_uint32), ("name", ctypes.c_char_p), ("is_available", ctypes.c_void_p),
                    ("init", ctypes.c_void_p), ("execute", ctypes.c_void_p), ("destroy", ctypes.c_void_p),
                    ("info", ctypes.c_void_p)]

    class Allocator(ctypes.Structure):
        _fields_ = [("context", ctypes.c_void_p), ("allocate", ctypes.c_void_p)]

    lib.wick_backend_entry.restype = ctypes.POINTER(Backend)
    table = lib.wick_backend_entry().contents
    init = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                            ctypes.POINTER(Allocator), ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p,
                            ctypes.c_size_t)(table.init)
    handle = ctypes.c_void_p()
    err = ctypes.create_string_buffer(512)
    blob = b"\x10\x00\x00\x00WVKP" + b"\xff" * 40
    status = init(blob, len(blob), None, 0, ctypes.byref(Allocator()), ctypes.byref(handle), err, 512)
    assert status != 0
    assert b"not a valid Vulkan plan" in err.value


def test_fraction_report_names_refused_ops(vulkan):
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.sort(x, -1).values * 2.0

    program = wick.export(M(), (torch.randn(3, 5),), backends=["vulkan"])
    assert "not covered by the Vulkan shaders" in program.partition_report.to_text()
