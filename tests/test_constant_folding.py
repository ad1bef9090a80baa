"""Constants stay constants: a weight reaches preprocess() as a constant even
when the graph transforms it first (a linear's transposed weight, a cast), so
a backend that claims only addmm can pre-pack its weights; the folded
transpose no longer runs anywhere, and the delegate's only runtime argument is
the activation."""

from __future__ import annotations

import io
import uuid

import numpy as np
import torch

import wick
from wick.delegate_sdk import Backend, Partition, PartitionResult, Partitioner, PreprocessResult


class AddmmOnly(Partitioner):
    """Claims aten.addmm and nothing else (not the weight's permute)."""

    def __init__(self, name: str):
        self.backend_name = name
        self.backend = PackingBackend(name)

    def partition(self, ep, claimable) -> PartitionResult:
        # One delegate per addmm, so each sees its own weight.
        return PartitionResult([Partition([n.name]) for n in ep.graph.nodes if n.name in claimable
                                and n.target == torch.ops.aten.addmm.default])


class PackingBackend(Backend):
    """Pre-packs the constant operands of addmm into its blob."""

    def __init__(self, name: str):
        self.name = name
        self.seen: list[dict] = []

    def preprocess(self, subgraph, compile_specs) -> PreprocessResult:
        self.seen.append({"constants": dict(subgraph.constants), "runtime_inputs": list(subgraph.runtime_inputs)})
        (node,) = list(subgraph.nodes())
        placeholders = [n for n in subgraph.graph_module.graph.nodes if n.op == "placeholder"]
        bias, _, weight = (subgraph.constants.get(placeholders.index(a)) for a in node.args)
        buffer = io.BytesIO()
        np.savez(buffer, bias=bias.detach().numpy(), weight=weight.detach().numpy())
        return PreprocessResult(buffer.getvalue())


def _register(name: str) -> None:
    def init(blob, specs):
        packed = np.load(io.BytesIO(bytes(blob)))
        return packed["bias"], packed["weight"]

    def execute(handle, args):
        bias, weight = handle
        return [args[0] @ weight + bias]

    wick.runtime.register_python_backend(name, init, execute)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(16, 8)
        self.register_buffer("w64", torch.randn(8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(2)))

    def forward(self, x):
        # fc: addmm(bias, x, permute(weight)); then a cast and a transpose of a float64 buffer.
        return torch.addmm(self.fc.bias, self.fc(x), self.w64.float().t())


def test_backend_claiming_only_addmm_receives_transformed_weights_as_constants():
    name = f"addmm_only_{uuid.uuid4().hex[:8]}"
    _register(name)
    model = Net().eval()
    x = torch.randn(4, 16, generator=torch.Generator().manual_seed(0))
    partitioner = AddmmOnly(name)
    edge = wick.to_edge_and_lower(torch.export.export(model, (x,)), [partitioner])
    assert len(partitioner.backend.seen) == 2
    for seen in partitioner.backend.seen:
        # bias and weight are constants; only the activation is a runtime input
        assert sorted(seen["constants"]) == [0, 2] and seen["runtime_inputs"] == [1]
    first, second = partitioner.backend.seen
    torch.testing.assert_close(first["constants"][2], model.fc.weight.detach().t())
    torch.testing.assert_close(second["constants"][2], model.w64.float().t())
    # The permutes and the cast were folded into the delegates: nothing is left on the portable kernels.
    report = edge.partition_report.assignments["forward"]
    assert set(report.values()) == {name}, report
    assert not [n for n in edge.methods["forward"].graph.nodes
                if n.op == "call_function" and ("permute" in str(n.target) or "_to_copy" in str(n.target))]
    program = wick.to_program(edge)
    (y,) = wick.runtime.load(program.buffer)(x)
    with torch.no_grad():
        torch.testing.assert_close(y, model(x))
