"""The runtime half on backend ABI 2: validate_blob refuses a blob made for
another build (naming both), the delegate's traced events nest inside the
runtime's (Python tracing and wick-run --profile), logging goes through the
host, and device_info describes XNNPACK and the CPU."""

from __future__ import annotations

import logging
import os
import subprocess

import pytest
import torch

import wick
from wick.delegate_sdk import CompileSpec


class ConvRelu(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return torch.relu(self.conv(x))


X = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(1))
ONE_THREAD = {"xnnpack": [CompileSpec.of("threads", 1)]}


def _runtime_library():
    from wick import plugins

    return plugins.get("xnnpack").descriptor.runtime_library


def test_blob_for_another_build_is_refused_naming_both(monkeypatch, tmp_path, wick_run):
    import wick_xnnpack.preprocess as preprocess

    installed = preprocess.compatibility()
    assert installed.startswith("wick-xnnpack ") and "XNNPACK 75db3c093b6d" in installed
    other = installed.replace("XNNPACK 75db3c093b6d", "XNNPACK 0123456789ab")
    monkeypatch.setattr(preprocess, "compatibility", lambda: other)  # as if exported with another XNNPACK
    program = wick.export(ConvRelu().eval(), (X,), backends=["xnnpack"])
    with pytest.raises(wick.WickError) as e:
        wick.runtime.load(program.buffer).method("forward")
    assert e.value.code == "BackendFailed"
    assert f'the blob was made for "{other}", but this runtime is "{installed}"' in e.value.message
    path = tmp_path / "other.wick"
    program.save(str(path))
    res = subprocess.run([wick_run, str(path), "--backend-lib", _runtime_library()], capture_output=True, text=True)
    assert res.returncode == 1 and other in res.stderr and installed in res.stderr, res.stderr


def test_blob_without_a_compatibility_string_goes_on_to_inits_checks(monkeypatch):
    import wick_xnnpack.preprocess as preprocess

    monkeypatch.setattr(preprocess, "compatibility", lambda: "")  # as wick-xnnpack 0.1 exported
    program = wick.export(ConvRelu().eval(), (X,), backends=["xnnpack"])
    (out,) = wick.runtime.load(program.buffer).method("forward")(X)
    torch.testing.assert_close(out, ConvRelu().eval()(X), rtol=1e-4, atol=1e-5)


def test_traced_events_nest_inside_the_delegate_call():
    program = wick.export(ConvRelu().eval(), (X,), backends=["xnnpack"], compile_specs=ONE_THREAD)
    method = wick.runtime.load(program.buffer).method("forward")
    method(X)  # warm
    with wick.runtime.trace() as t:
        (out,) = method(X)
    torch.testing.assert_close(out, ConvRelu().eval()(X), rtol=1e-4, atol=1e-5)
    (call,) = [e for e in t.events if e.category == "delegate"]
    phases = [e for e in t.events if e.category == "xnnpack"]
    assert [e.name for e in phases] == ["copy_in", "invoke", "copy_out"]
    for e in phases:
        assert e.depth == call.depth + 1 and call.begin_ns <= e.begin_ns <= e.end_ns <= call.end_ns
    # The 4-D input and output cross the boundary as NCHW and live as NHWC inside XNNPACK.
    assert phases[0].counters == {"bytes": X.numel() * 4, "nchw_to_nhwc": 1}
    assert phases[1].counters == {"threads": 1}
    assert phases[2].counters == {"bytes": out.numel() * 4, "nhwc_to_nchw": 1}
    # Not tracing: no events, and the method still runs.
    torch.testing.assert_close(method(X)[0], out)


def test_wick_run_profile_shows_the_xnnpack_phases(tmp_path, wick_run):
    path = tmp_path / "conv.wick"
    wick.export(ConvRelu().eval(), (X,), backends=["xnnpack"], compile_specs=ONE_THREAD).save(str(path))
    res = subprocess.run([wick_run, str(path), "--backend-lib", _runtime_library(), "--profile"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    profile = res.stdout.split("profile (one run")[1].splitlines()[1:]
    rows = [line.split() for line in profile if line.split() and line.split()[0] == "xnnpack"]
    assert [r[1] for r in rows] == ["copy_in", "invoke", "copy_out"], res.stdout
    assert f"bytes={X.numel() * 4}" in " ".join(rows[0]) and "threads=1" in " ".join(rows[1])


def test_bad_thread_variable_is_a_warning_through_the_host_log(monkeypatch, caplog, tmp_path, wick_run):
    monkeypatch.setenv("WICK_XNNPACK_THREADS", "lots")
    program = wick.export(ConvRelu().eval(), (X,), backends=["xnnpack"])
    with caplog.at_level(logging.WARNING, logger="wick.backend.xnnpack"):
        (out,) = wick.runtime.load(program.buffer).method("forward")(X)
    torch.testing.assert_close(out, ConvRelu().eval()(X), rtol=1e-4, atol=1e-5)
    warnings = [r for r in caplog.records if r.name == "wick.backend.xnnpack" and r.levelno == logging.WARNING]
    assert warnings and "WICK_XNNPACK_THREADS='lots' is not a thread count" in warnings[0].getMessage()
    path = tmp_path / "conv.wick"
    program.save(str(path))
    res = subprocess.run([wick_run, str(path), "--backend-lib", _runtime_library()], capture_output=True, text=True)
    assert res.returncode == 0 and "WICK_XNNPACK_THREADS='lots'" in res.stderr, res.stderr
    # wick-run prints warnings and errors; the per-init debug line only when asked.
    assert "DEBUG" not in res.stderr, res.stderr
    debug = subprocess.run([wick_run, str(path), "--backend-lib", _runtime_library()], capture_output=True, text=True,
                           env={**os.environ, "WICK_LOG_LEVEL": "debug"})
    assert debug.returncode == 0 and "wick[xnnpack] DEBUG:" in debug.stderr, debug.stderr


def test_device_info_names_xnnpack_threads_and_cpu_features():
    import platform

    from wick import plugins

    plugins.register_runtime(plugins.get("xnnpack"))
    info = next(b for b in wick.runtime.registered_backends() if b["name"] == "xnnpack")["info"]
    import wick_xnnpack
    from wick_xnnpack.preprocess import compatibility

    assert "driver XNNPACK 2026-08-21 (75db3c093b6d" in info and f"backend {compatibility()}" in info, info
    assert "threads by default" in info and wick_xnnpack.VERSION in info, info
    if platform.machine() == "x86_64":
        with open("/proc/cpuinfo") as f:
            flags = next(line for line in f if line.startswith("flags")).split()
        for feature in ("avx2", "fma", "avx512f"):
            assert (feature in info.split()) == (feature in flags), (feature, info)
