"""test_faulty: a deliberately wrong backend for the conformance suite's
self-test (tests/test_conformance.py). It claims float32 add, mul, relu,
sigmoid and neg (same-shape operands, static shapes), one delegate call per
node, run by a C runtime half with two planted faults: sigmoid is a crude
approximation (wrong beyond any tolerance) and relu turns NaN into 0. add,
mul and neg are right. Compile specs ``crash_on``/``abort_on``/``hang_on`` =
op name make the runtime half crash (SIGSEGV), abort (SIGABRT) or spin forever
when executing that op."""

import os
import struct

from wick.delegate_sdk import (Backend, Partition, PartitionResult, Partitioner, PluginDescriptor,
                               PreprocessResult, hookimpl)

NAME = "test_faulty"
RUNTIME_LIBRARY = os.path.join(os.path.dirname(__file__), "libwick_test_faulty_runtime.so")
OPS = ("aten.add.Tensor", "aten.mul.Tensor", "aten.relu.default", "aten.sigmoid.default", "aten.neg.default")


def _opcodes():
    import torch

    aten = torch.ops.aten
    return {aten.add.Tensor: 1, aten.mul.Tensor: 2, aten.relu.default: 3, aten.sigmoid.default: 4,
            aten.neg.default: 5}


def refusal(node):
    import torch

    if node.target not in _opcodes():
        return f"{node.target} is not add, mul, relu, sigmoid or neg"
    out = node.meta.get("val")
    if not isinstance(out, torch.Tensor) or out.dtype != torch.float32:
        return "float32 only"
    if any(not isinstance(s, int) for s in out.shape):
        return "static shapes only"
    if node.kwargs.get("alpha", 1) != 1:
        return "alpha other than 1"
    for a in node.args:
        v = a.meta.get("val") if isinstance(a, torch.fx.Node) else None
        if not isinstance(v, torch.Tensor) or v.dtype != torch.float32 or tuple(v.shape) != tuple(out.shape):
            return "operands must be float32 tensors of the output's shape"
    return None


class FaultyPartitioner(Partitioner):
    backend_name = NAME

    def __init__(self, compile_specs):
        self.compile_specs = list(compile_specs)
        self.backend = FaultyBackend()

    def partition(self, exported_program, claimable):
        parts, rejected = [], {}
        for node in exported_program.graph.nodes:
            if node.op != "call_function" or node.name not in claimable:
                continue
            why = refusal(node)
            if why is None:
                parts.append(Partition([node.name]))
            else:
                rejected[node.name] = why
        return PartitionResult(parts, rejected)


class FaultyBackend(Backend):
    name = NAME

    def preprocess(self, subgraph, compile_specs):
        (node,) = list(subgraph.nodes())
        return PreprocessResult(struct.pack("<4sI", b"FLTY", _opcodes()[node.target]), {"op": str(node.target)})


@hookimpl
def wick_backend_descriptor():
    return PluginDescriptor(name=NAME, version="0.1.0", sdk_api_version="1.0", runtime_library=RUNTIME_LIBRARY,
                            package="wick-test-faulty",
                            description="deliberately faulty backend (conformance self-test)",
                            capabilities={"dtypes": ["float32"], "ops": list(OPS)})


@hookimpl
def wick_backend_partitioner(compile_specs):
    return FaultyPartitioner(compile_specs)
