"""The '__NAME__' backend lowers what it claims and matches eager PyTorch."""

import torch

import wick


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("scale", torch.full((4, 8), 0.5))

    def forward(self, x, y):
        z = torch.relu(x + y) * self.scale   # runs on __NAME__
        return z.sum(-1), z - x              # sum stays on the portable kernels


def test_lowered_model_matches_eager():
    inputs = (torch.randn(4, 8), torch.randn(4, 8))
    program = wick.export(Model().eval(), inputs, backends=["__NAME__"])
    report = program.partition_report
    assert report.fraction("forward", "__NAME__") > 0.5
    got = wick.runtime.load(program.buffer).method("forward")(*inputs)
    expected = Model().eval()(*inputs)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)


def test_an_option_this_backend_does_not_read_is_refused_by_name():
    import pytest
    from wick.delegate_sdk import CompileSpec

    inputs = (torch.randn(4, 8), torch.randn(4, 8))
    program = wick.export(Model().eval(), inputs, backends=["__NAME__"])
    with pytest.raises(ValueError, match="no load-time option 'speed'"):
        wick.runtime.load(program.buffer, backend_options={"__NAME__": {"speed": "max"}})
    # A spec given at export reaches init(), which names it (wick-run has no descriptor to ask).
    program = wick.export(Model().eval(), inputs, backends=["__NAME__"],
                          compile_specs={"__NAME__": [CompileSpec.of("speed", "max")]})
    with pytest.raises(wick.WickError, match="unknown compile spec or option 'speed'"):
        wick.runtime.load(program.buffer).method("forward")
