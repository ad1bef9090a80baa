"""The Edge dialect: decomposition to core ATen, and the verifier's errors."""

from __future__ import annotations

import pytest
import torch

import wick
from wick.edge import core_aten_ops


@torch.library.custom_op("wicktest::mystery", mutates_args=())
def mystery(x: torch.Tensor) -> torch.Tensor:
    return x * 2


@mystery.register_fake
def _(x):
    return torch.empty_like(x)


class UsesCustomOp(torch.nn.Module):
    def forward(self, x):
        y = x + 1
        return mystery(y)  # the line the error must point at


class UsesComplexHalf(torch.nn.Module):
    # complex64/complex128 are Edge dtypes (the FFT ops); complex32 is not.
    def forward(self, x):
        return x.to(torch.complex32)


def test_core_aten_set_is_complete_and_stable():
    # 189 overloads are visible to a scan of dir(torch.ops.aten) in a fresh
    # process; four more load lazily. Enumerating all schemas sees all 193,
    # whatever was imported before.
    ops = {str(op) for op in core_aten_ops()}
    assert len(ops) == 193
    assert {"aten.avg_pool1d.default", "aten.adaptive_avg_pool1d.default", "aten.convolution.default"} <= ops


def test_edge_graph_contains_only_core_ops_and_view_copies():
    from wick.edge import allowed_ops
    from wick.models import tiny_llama

    model, inputs = tiny_llama()
    edge = wick.to_edge(torch.export.export(model, inputs))
    targets = {n.target for n in edge.exported_program.graph.nodes if n.op == "call_function"}
    assert targets <= allowed_ops()
    assert torch.ops.aten.view.default not in targets
    assert torch.ops.aten.view_copy.default in targets


def test_op_outside_the_dialect_is_named_with_its_source_line():
    ep = torch.export.export(UsesCustomOp(), (torch.randn(3),))
    with pytest.raises(wick.ExportError) as info:
        wick.to_edge(ep)
    message = str(info.value)
    assert "wicktest.mystery" in message
    assert "test_edge_dialect.py" in message and "mystery(y)" in message
    assert "core ATen" in message


def test_unsupported_dtype_is_refused_with_the_dtype_named():
    ep = torch.export.export(UsesComplexHalf(), (torch.randn(3),))
    with pytest.raises(wick.ExportError, match="complex32"):
        wick.to_edge(ep)


def test_missing_kernel_fails_at_load_naming_operator_and_dtype():
    # uint8 bilinear upsampling is valid Edge dialect, but the portable kernels
    # do not replicate PyTorch's separate fixed-point uint8 path (a known gap).
    class Upsample(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.interpolate(x, scale_factor=2.0, mode="bilinear")

    image = torch.randint(0, 255, (1, 1, 4, 4), dtype=torch.uint8)
    program = wick.export(Upsample().eval(), (image,))
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load(program.buffer).method("forward")
    assert info.value.code == "KernelNotFound"
    assert "aten::upsample_bilinear2d" in info.value.message and "uint8" in info.value.message
