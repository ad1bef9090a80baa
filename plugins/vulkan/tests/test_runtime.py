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

    class Header(ctypes.Structure):
        _fields_ = [("size", ctypes.c_uint32), ("abi_major", ctypes.c_uint16), ("abi_minor", ctypes.c_uint16)]

    class Backend(ctypes.Structure):  # WickBackend2 (backend ABI 2.0)
        _fields_ = [("header", Header), ("min_host_minor", ctypes.c_uint16), ("reserved0", ctypes.c_uint16),
                    ("name", ctypes.c_char_p), ("self", ctypes.c_void_p), ("attach", ctypes.c_void_p),
                    ("is_available", ctypes.c_void_p), ("validate_blob", ctypes.c_void_p), ("init", ctypes.c_void_p),
                    ("execute", ctypes.c_void_p), ("destroy", ctypes.c_void_p), ("device_info", ctypes.c_void_p)]

    class Allocator(ctypes.Structure):
        _fields_ = [("context", ctypes.c_void_p), ("allocate", ctypes.c_void_p)]

    class InitArgs(ctypes.Structure):
        _fields_ = [("header", Header), ("blob", ctypes.c_char_p), ("blob_size", ctypes.c_size_t),
                    ("specs", ctypes.c_void_p), ("num_specs", ctypes.c_size_t),
                    ("allocator", ctypes.POINTER(Allocator)), ("named_data", ctypes.c_void_p),
                    ("method_name", ctypes.c_char_p), ("delegate_index", ctypes.c_uint32)]

    lib.wick_backend_entry2.restype = ctypes.POINTER(Backend)
    table = lib.wick_backend_entry2().contents
    assert (table.header.abi_major, table.name) == (2, b"vulkan")
    init = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(InitArgs), ctypes.POINTER(ctypes.c_void_p),
                            ctypes.c_char_p, ctypes.c_size_t)(table.init)
    handle = ctypes.c_void_p()
    err = ctypes.create_string_buffer(512)
    blob = b"\x10\x00\x00\x00WVKP" + b"\xff" * 40
    args = InitArgs(Header(ctypes.sizeof(InitArgs), 2, 0), blob, len(blob), None, 0, ctypes.pointer(Allocator()),
                    None, b"forward", 0)
    status = init(None, ctypes.byref(args), ctypes.byref(handle), err, 512)
    assert status != 0
    assert b"not a valid Vulkan plan" in err.value


def test_fraction_report_names_refused_ops(vulkan):
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.sort(x, -1).values * 2.0

    program = wick.export(M(), (torch.randn(3, 5),), backends=["vulkan"])
    assert "not covered by the Vulkan shaders" in program.partition_report.to_text()


def test_profiled_run_shows_the_vulkan_phases_inside_the_delegate_call(vulkan):
    x, y = torch.randn(4, 8), torch.randn(4, 8)
    method = wick.runtime.load(wick.export(AddRelu(), (x, y), backends=["vulkan"]).buffer).method()
    method(x, y)
    with wick.runtime.trace() as t:
        (out,) = method(x, y)
    torch.testing.assert_close(out, torch.relu(x + y))
    (call,) = [e for e in t.events if e.category == "delegate"]
    phases = [e for e in t.events if e.category == "vulkan"]
    assert [e.name for e in phases] == ["upload", "gpu", "download"]
    for e in phases:
        assert e.depth == call.depth + 1 and call.begin_ns <= e.begin_ns <= e.end_ns <= call.end_ns
    assert phases[0].counters == {"bytes": 2 * 4 * 8 * 4} and phases[2].counters == {"bytes": 4 * 8 * 4}
