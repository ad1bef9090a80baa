"""Special values through XNNPACK, against eager PyTorch.

Subnormals: XNNPACK asks pthreadpool to flush them (FTZ/DAZ) around every
operator; the runtime forwards its thread-pool calls without that flag, so
subnormal inputs and results match PyTorch.

NaN: this XNNPACK's float kernels apply their output clamp with max/min
instructions even when the bounds are infinite, so a NaN becomes -inf (or the
clamp bound, or 0 after a relu). That is the library's behavior, kept as a
strict xfail here (and in the conformance results in the README) so that a
change in it is noticed."""

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
    ("floor", torch.floor), ("ceil", torch.ceil), ("sqrt_abs", lambda x: torch.sqrt(torch.abs(x))),
    ("add", lambda x: x + x), ("mul_scalar", lambda x: x * 3.0), ("relu", torch.relu),
])
def test_subnormals_are_kept(name, fn):
    x = torch.tensor(TINY)
    got, expected = lowered(fn, x), fn(x)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=0)
    assert torch.equal(got != 0, expected != 0), (got, expected)


@pytest.mark.xfail(strict=True, reason="XNNPACK 0.0~git20220216 clamps with maxps/minps even for infinite bounds: "
                                       "NaN in -> -inf out")
def test_nan_propagates_through_add():
    x = torch.tensor([float("nan"), 1.0])
    got = lowered(lambda x: x + x, x)
    assert torch.isnan(got[0])
