"""torch.cond becomes jump and move instructions; the runtime takes the branch
the predicate picks, on every call."""

from __future__ import annotations

import torch

import wick
from wick.inspect_program import describe


class Branchy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = torch.nn.Linear(6, 6)

    def forward(self, x):
        def positive(x):
            return torch.relu(self.fc(x)) * 2.0

        def negative(x):
            return -x - 1.0

        return torch.cond(x.sum() > 0, positive, negative, (x,))


def test_cond_takes_the_branch_the_predicate_picks():
    model = Branchy().eval()
    x = torch.randn(2, 6)
    program = wick.export(model, (x,))
    assert program.methods["forward"].ops["control_flow:cond"] == 1
    method = wick.runtime.load(program.buffer).method("forward")
    for sign in (1.0, -1.0, 1.0):
        inp = sign * torch.rand(2, 6, generator=torch.Generator().manual_seed(int(sign + 5)))
        with torch.no_grad():
            expected = model(inp)
        torch.testing.assert_close(method(inp)[0], expected, rtol=1e-5, atol=1e-6)


def test_program_records_forward_jumps():
    program = wick.export(Branchy().eval(), (torch.randn(2, 6),))
    info = describe(program.buffer)["methods"][0]
    assert info["instructions"] > 4
