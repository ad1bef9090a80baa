"""Special values through XNNPACK, against eager PyTorch.

Subnormals: XNNPACK asks pthreadpool to flush them (FTZ/DAZ) around every
operator; the plugin builds XNNPACK with that request removed
(cmake/XnnpackFromSource.cmake), so subnormal inputs and results match
PyTorch, except through square root, whose kernel (an rsqrt estimate) turns a
subnormal into NaN without flush-to-zero: a strict xfail, so a fix is noticed.

NaN: the 2026 XNNPACK leaves unclamped ops unclamped and orders its clamps so
that NaN passes, as PyTorch does."""

import pytest
import torch

import wick

TINY = [-1e-40, 1e-40, -3e-39, 2.5e-39, -1.0, 0.75, 2.0]


class Op(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def lowered(fn, x):
    program = wick.export(Op(fn), (x,), backends=["xnnpack"])
    assert program.partition_report.fraction("forward", "xnnpack") == 1.0, program.partition_report.to_text()
    out = wick.runtime.load(program.buffer).method("forward")(x)
    return out[0] if isinstance(out, (list, tuple)) else out


@pytest.mark.parametrize("name, fn", [
    ("floor", torch.floor), ("ceil", torch.ceil),
    pytest.param("sqrt_abs", lambda x: torch.sqrt(torch.abs(x)), marks=pytest.mark.xfail(
        strict=True, reason="XNNPACK's f32 sqrt kernel assumes denormals-are-zero: a subnormal gives NaN")),
    ("add", lambda x: x + x), ("mul_scalar", lambda x: x * 3.0), ("relu", torch.relu),
])
def test_subnormals_are_kept(name, fn):
    x = torch.tensor(TINY)
    got, expected = lowered(fn, x), fn(x)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=0)
    assert torch.equal(got != 0, expected != 0), (got, expected)


@pytest.mark.parametrize("name, fn", [
    ("add", lambda x: x + x), ("mul", lambda x: x * 2.0), ("relu", torch.relu),
    ("hardtanh", torch.nn.functional.hardtanh), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh),
])
def test_nan_propagates_like_pytorch(name, fn):
    x = torch.tensor([float("nan"), 1.0, float("inf"), -float("inf"), -0.5])
    got, expected = lowered(fn, x), fn(x)
    assert torch.equal(torch.isnan(got), torch.isnan(expected)), (got, expected)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6, equal_nan=True)
