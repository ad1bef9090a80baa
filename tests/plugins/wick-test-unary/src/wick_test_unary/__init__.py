"""test_unary: a backend plugin used by Wick's own tests. Each relu, hardtanh
or neg node becomes its own delegate call, run by a C++ runtime half."""

import os
import struct

from wick.delegate_sdk import (Backend, Partition, PartitionResult, Partitioner, PluginDescriptor,
                               PreprocessResult, Quantizer, hookimpl)

RUNTIME_LIBRARY = os.path.join(os.path.dirname(__file__), "libwick_test_unary_runtime.so")


def _opcodes():
    import torch

    return {torch.ops.aten.relu.default: 1, torch.ops.aten.hardtanh.default: 2, torch.ops.aten.neg.default: 3}


class UnaryPartitioner(Partitioner):
    backend_name = "test_unary"

    def __init__(self, compile_specs):
        self.compile_specs = list(compile_specs)
        self.backend = UnaryBackend()

    def partition(self, exported_program, claimable):
        import torch

        ops = _opcodes()
        parts, rejected = [], {}
        for node in exported_program.graph.nodes:
            if node.op != "call_function" or node.name not in claimable:
                continue
            if node.target not in ops:
                rejected[node.name] = f"{node.target} is not relu, hardtanh or neg"
            elif node.meta["val"].dtype != torch.float32:
                rejected[node.name] = "float32 only"
            else:
                parts.append(Partition([node.name]))
        return PartitionResult(parts, rejected)


class UnaryBackend(Backend):
    name = "test_unary"

    def preprocess(self, subgraph, compile_specs):
        (node,) = list(subgraph.nodes())
        lo, hi = (float(node.args[1]), float(node.args[2])) if len(node.args) > 2 else (-1.0, 1.0)
        return PreprocessResult(struct.pack("<4sIff", b"UNRY", _opcodes()[node.target], lo, hi),
                                {"op": str(node.target)})


@hookimpl
def wick_backend_descriptor():
    return PluginDescriptor(name="test_unary", version="0.2.0", sdk_api_version="1.0",
                            runtime_library=RUNTIME_LIBRARY, package="wick-test-unary",
                            capabilities={"ops": ["aten.relu.default", "aten.hardtanh.default", "aten.neg.default"],
                                          "runtime_options": {"fail_init": "1: init fails (tests that path)"}})


@hookimpl
def wick_backend_partitioner(compile_specs):
    return UnaryPartitioner(compile_specs)


class ReferenceQuantizer(Quantizer):
    """torchao's reference symmetric quantizer (per-channel int8 weights,
    per-tensor affine int8 activations), to exercise `wick export --quantize`."""

    def quantizer(self):
        from torchao.testing.pt2e._xnnpack_quantizer import XNNPACKQuantizer, get_symmetric_quantization_config

        return XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))


@hookimpl
def wick_backend_quantizer(compile_specs):
    return ReferenceQuantizer()
