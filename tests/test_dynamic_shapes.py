"""Dynamic shapes with upper bounds: memory is planned for the bound, the
runtime resizes within it, and refuses to go past it."""

from __future__ import annotations

import pytest
import torch
from torch.export import Dim

import wick


class SeqModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.proj = torch.nn.Linear(16, 32)

    def forward(self, x):  # x: [batch, seq, 16]
        b, t, _ = x.shape
        y = torch.relu(self.proj(x))
        return y.view(b, t * 2, 16).softmax(-1)


@pytest.fixture(scope="module")
def program():
    seq = Dim("seq", min=1, max=12)
    example = (torch.randn(2, 8, 16),)
    return wick.export(SeqModel().eval(), example, dynamic_shapes={"x": {1: seq}})


def test_inputs_are_planned_at_their_upper_bound(program):
    method = wick.runtime.load(program.buffer).method("forward")
    dtype, sizes, dynamic = method.input_specs[0]
    assert (dtype, sizes, dynamic) == ("float32", [2, 12, 16], True)


@pytest.mark.parametrize("seq", [1, 5, 8, 12])
def test_outputs_resize_with_the_input(program, seq):
    model = SeqModel().eval()
    x = torch.randn(2, seq, 16, generator=torch.Generator().manual_seed(seq))
    got = wick.runtime.load(program.buffer).method("forward")(x)[0]
    with torch.no_grad():
        expected = model(x)
    assert got.shape == expected.shape == (2, seq * 2, 16)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_input_beyond_the_bound_is_refused(program):
    method = wick.runtime.load(program.buffer).method("forward")
    with pytest.raises(wick.WickError) as info:
        method(torch.randn(2, 13, 16))
    assert info.value.code == "ShapeMismatch"
    assert "[2, 13, 16]" in info.value.message


def test_dimension_without_a_bound_is_an_export_error():
    with pytest.raises(wick.ExportError, match="max="):
        wick.export(SeqModel().eval(), (torch.randn(2, 8, 16),), dynamic_shapes={"x": {1: Dim("seq", min=1)}})
