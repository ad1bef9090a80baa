"""float16 storage: float16 graphs run with float16 tensors in the device
buffers (the shaders' -DSTORAGE_F16 variants: load half, compute float32,
store half), judged against eager PyTorch float16 on the CPU and against a
float64 evaluation of the same module.

Tolerance (F16_RTOL, F16_ATOL_OF_MAX): the conformance suite's float16
`accumulate` bound, |vulkan - eager| <= 1e-3 * max|eager| + 1e-2 * |eager|
(conformance/tolerances.py: half precision keeps ~3 decimal digits). Measured
on lavapipe the worst op case uses 0.13 of it (rms_norm) and most use 0.
Beyond closeness to eager, each case must be about as accurate as eager
float16 itself: its largest error against float64 may exceed eager's by at
most one float16 rounding (2^-11) of the output's largest magnitude.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import wick
from wick.inspect_program import describe
from wick.models import STANDARD_MODELS

from conftest import run_both
from test_ops import CASES, _case

F16_RTOL, F16_ATOL_OF_MAX = 1e-2, 1e-3
HALF_ROUNDING = 2.0 ** -11   # float16 unit roundoff


@pytest.fixture(scope="session")
def float16_device(vulkan):
    if "float16 storage yes" not in vulkan:
        pytest.skip(f"this Vulkan device has no float16 storage: {vulkan}")
    return vulkan


def _half(inputs):
    return tuple(x.half() if x.is_floating_point() else x for x in inputs)


def _f64(module, inputs):
    """The module evaluated in float64 on the float16 inputs (the truth both are judged by)."""
    with torch.no_grad():
        out = module.double()(*(x.double() if x.is_floating_point() else x for x in inputs))
    module.half()
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _assert_float16_close(got, eager, truth):
    assert got.dtype == torch.float16 and tuple(got.shape) == tuple(eager.shape)
    g, e, t = got.double(), eager.double(), truth.double()
    scale = e.abs().max()
    bound = F16_ATOL_OF_MAX * scale + F16_RTOL * e.abs()
    assert ((g - e).abs() <= bound).all(), f"max |vulkan - eager| {(g - e).abs().max():.3g} over the float16 bound"
    err, eager_err = (g - t).abs().max(), (e - t).abs().max()
    assert err <= eager_err + HALF_ROUNDING * t.abs().max(), \
        f"vulkan float16 is off float64 by {err:.3g}, eager float16 by {eager_err:.3g}"


def _delegates(program):
    return [d for m in describe(program.buffer)["methods"] for d in m["delegates"]]


@pytest.mark.parametrize("name", sorted(CASES))
def test_float16_shader_matches_eager_float16(float16_device, name):
    module, inputs = _case(name)
    module = module.eval().half()
    inputs = _half(inputs)
    program, got, expected = run_both(module, inputs)
    assert program.partition_report.fraction("forward", "vulkan") == 1.0, program.partition_report.to_text()
    truth = _f64(module, inputs)
    assert len(got) == len(expected) == len(truth)
    for g, e, t in zip(got, expected, truth):
        _assert_float16_close(g, e, t)
    if any(x.dtype == torch.float16 for x in inputs):
        # float16 variants ran (decompositions may put float32 steps between
        # casts, e.g. hardswish and silu, which then run on the device too)
        debug = [d["debug"] for d in _delegates(program)]
        assert all(d["float16_dispatches"] > 0 for d in debug), debug


@pytest.mark.parametrize("name", ["mobilenet_v2", "tiny_llama"])
def test_float16_model_is_delegated_and_matches_eager_float16(float16_device, name):
    """Model tolerance: the per-element float16 bound above, and an SNR
    against the float32 model no worse than eager float16's minus 3 dB
    (measured: mobilenet_v2 65.3 dB vs eager 66.2, tiny_llama 62.3 vs 62.3)."""
    model, inputs = STANDARD_MODELS[name]()
    model = model.eval()
    with torch.no_grad():
        ref32 = model(*inputs).double()
    model = model.half()
    inputs = _half(inputs)
    program, got, expected = run_both(model, inputs)
    assert program.partition_report.fraction("forward", "vulkan") == 1.0, program.partition_report.to_text()
    g, e = got[0], expected[0]
    scale = e.double().abs().max()
    assert g.dtype == torch.float16
    assert ((g.double() - e.double()).abs() <= F16_ATOL_OF_MAX * scale + F16_RTOL * e.double().abs()).all()

    def snr(x):
        return float(10 * torch.log10(ref32.pow(2).sum() / (x.double() - ref32).pow(2).sum()))

    assert snr(g) >= snr(e) - 3.0, (snr(g), snr(e))


def test_float16_plan_stores_half_the_bytes(float16_device):
    model, inputs = STANDARD_MODELS["small_cnn"]()
    f32 = _delegates(wick.export(model.eval(), inputs, backends=["vulkan"]))[0]["debug"]
    f16 = _delegates(wick.export(model.half(), _half(inputs), backends=["vulkan"]))[0]["debug"]
    assert f32["float16_dispatches"] == 0 and f16["float16_dispatches"] == f16["dispatches"] > 0
    assert f16["weight_bytes"] * 2 == f32["weight_bytes"]
    assert f16["arena_bytes"] <= f32["arena_bytes"] // 2 + 256 * 8   # regions are 256-byte aligned


class Mixed(torch.nn.Module):
    """float16 in and out, float32 softmax in the middle (casts on the device)."""

    def forward(self, x):
        y = torch.softmax(x.float() * 2.0, -1)
        return y.half() + x, y


def test_mixed_float16_float32_graph_converts_on_the_device(float16_device):
    x = (torch.randn(4, 33) * 100).half()
    x[0, :3] = torch.tensor([65504.0, -65504.0, float("inf")])
    program, got, expected = run_both(Mixed(), (x,))
    assert program.partition_report.fraction("forward", "vulkan") == 1.0, program.partition_report.to_text()
    assert got[0].dtype == torch.float16 and got[1].dtype == torch.float32
    torch.testing.assert_close(got[0], expected[0], rtol=F16_RTOL, atol=0.0, equal_nan=True)
    torch.testing.assert_close(got[1], expected[1], rtol=1e-3, atol=1e-6, equal_nan=True)


def test_float32_to_float16_rounds_like_pytorch(float16_device):
    # ties to even, overflow to inf past 65519.99, half subnormals, NaN
    edges = torch.tensor([65504.0, 65519.0, 65520.0, 1e5, -1e5, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, -3e-8, 0.0,
                          -0.0, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, float("inf"), float("nan")])
    x = torch.cat([torch.randn(5000) * 1000, torch.randn(2000) * 1e-5, edges])

    class ToHalf(torch.nn.Module):
        def forward(self, v):
            return (v * 1.0).half()

    program, got, expected = run_both(ToHalf(), (x,))
    assert program.partition_report.fraction("forward", "vulkan") == 1.0
    g, e = got[0], expected[0]
    assert torch.equal(g.isnan(), e.isnan())
    keep = ~e.isnan()
    assert torch.equal(g[keep].view(torch.int16), e[keep].view(torch.int16)), "not bit-exact"


def test_bfloat16_and_mixed_ops_are_refused_with_reasons(vulkan):
    class Add(torch.nn.Module):
        def forward(self, a, b):
            return a + b

    bf = wick.export(Add(), (torch.randn(3, 4).bfloat16(),) * 2, backends=["vulkan"])
    assert bf.partition_report.fraction("forward", "vulkan") == 0.0
    assert "bfloat16; the shaders take float32 or float16" in bf.partition_report.to_text()
    x, y = torch.randn(3, 4).half(), torch.randn(3, 4)
    mixed = wick.export(Add(), (x, y), backends=["vulkan"])
    assert mixed.partition_report.fraction("forward", "vulkan") == 0.0
    assert "mixes float16 and float32 tensors in one op" in mixed.partition_report.to_text()
    got = wick.runtime.load(mixed.buffer).method("forward")(x, y)   # the portable kernels run it
    torch.testing.assert_close(torch.as_tensor(got[0] if isinstance(got, (list, tuple)) else got), x + y)


def test_compile_spec_float16_off_leaves_float16_to_other_backends(vulkan):
    from wick.delegate_sdk import CompileSpec

    module, inputs = _case("conv3x3")
    module, inputs = module.eval().half(), _half(inputs)
    program = wick.export(module, inputs, backends=["vulkan"],
                          compile_specs={"vulkan": [CompileSpec.of("float16", "off")]})
    assert program.partition_report.fraction("forward", "vulkan") == 0.0
    assert "switched off by the compile spec float16=off" in program.partition_report.to_text()


def _run_in_subprocess(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


REFUSAL = """
import torch, wick
class M(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x * 2.0)
for dtype in (torch.float16, torch.float32):
    x = torch.randn(4, 8, dtype=dtype)
    p = wick.export(M(), (x,), backends=["vulkan"])
    try:
        out = wick.runtime.load(p.buffer).method("forward")(x)
        ok = torch.equal(torch.as_tensor(out[0] if isinstance(out, (list, tuple)) else out), torch.relu(x * 2.0))
        print(dtype, "RAN", ok)
    except Exception as e:
        print(dtype, "ERROR", type(e).__name__, e)
"""


def test_device_without_float16_storage_refuses_float16_plans_with_a_clear_error(float16_device):
    res = _run_in_subprocess(REFUSAL, {"WICK_VULKAN_NO_FLOAT16": "1"})
    lines = {line.split(" ", 1)[0]: line for line in res.stdout.splitlines() if line.startswith("torch.")}
    assert "torch.float16" in lines and "torch.float32" in lines, res.stdout + res.stderr
    err = lines["torch.float16"]
    assert "ERROR" in err
    assert "float16" in err and "storageBuffer16BitAccess" in err and "WICK_VULKAN_NO_FLOAT16" in err
    assert float16_device.split(" (")[0] in err          # names the device
    assert lines["torch.float32"].endswith("RAN True")  # float32 plans do not need the feature
    res = _run_in_subprocess(REFUSAL, {})
    assert "torch.float16 RAN True" in res.stdout, res.stdout + res.stderr


def test_wick_backends_reports_float16_storage(vulkan):
    code = ("from wick import plugins, runtime\n"
            "p = next(p for p in plugins.discover() if p.name == 'vulkan')\n"
            "plugins.register_runtime(p)\n"
            "print(next(b for b in runtime.registered_backends() if b['name'] == 'vulkan')['info'])\n")
    assert "float16 storage yes" in vulkan or "float16 storage no" in vulkan, vulkan
    res = _run_in_subprocess(code, {"WICK_VULKAN_NO_FLOAT16": "1"})
    assert "float16 storage no" in res.stdout, res.stdout + res.stderr


def test_plan_from_a_newer_plugin_is_refused(float16_device, monkeypatch):
    import wick_vulkan.plan as plan

    monkeypatch.setattr(plan, "PLAN_VERSION_F16", 3)
    x = torch.randn(4, 8).half()
    program = wick.export(_case("relu")[0], (x,), backends=["vulkan"])
    # validate_blob refuses it from the compatibility string, before init reads the plan.
    with pytest.raises(Exception, match="made by \"wick-vulkan 0.2.0; plan WVKP 3\".*reads plan versions 1 to 2"):
        wick.runtime.load(program.buffer).method("forward")
