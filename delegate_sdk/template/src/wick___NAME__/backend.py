"""AOT half of the '__NAME__' backend: which nodes it takes, and the blob.

Blob format (little-endian), read by runtime/__NAME___backend.c:
    header   u32 magic 'WKTB', u32 version 1, u32 num_tensors, u32 num_inputs,
             u32 num_outputs, u32 num_ops, u64 data_offset
    tensors  num_tensors x (u32 kind, u32 position, u64 numel, u64 data_offset)
             kind 0 = runtime input (position = argument index), 1 = output
             (position = output index), 2 = intermediate, 3 = constant (bytes at
             data_offset into the data area)
    ops      num_ops x (u32 opcode, u32 a, u32 b, u32 out): 1 add, 2 sub, 3 mul, 4 relu
    data     constant float32 values, 16-byte aligned
"""

from __future__ import annotations

import struct

import torch

from wick.delegate_sdk import Backend, PartitionResult, Partitioner, PreprocessResult, group_supported_nodes

from . import NAME, VERSION

# What this build's blobs need, checked by the runtime half (validate_blob,
# COMPATIBILITY in runtime/__NAME___backend.c) before it reads a blob.
COMPATIBILITY = f"{NAME} {VERSION}; blob WKTB 1; target host-cpu"
OPCODES = {
    torch.ops.aten.add.Tensor: 1,
    torch.ops.aten.sub.Tensor: 2,
    torch.ops.aten.mul.Tensor: 3,
    torch.ops.aten.relu.default: 4,
}


def refusal(node: torch.fx.Node) -> str | None:
    """None when this backend runs `node`; otherwise why not."""
    if node.target not in OPCODES:
        return f"{node.target} is not one of add/sub/mul/relu"
    out = node.meta.get("val")
    if not isinstance(out, torch.Tensor) or out.dtype != torch.float32:
        return "only float32 outputs"
    if any(not isinstance(s, int) for s in out.shape):
        return "only static shapes"
    if node.kwargs.get("alpha", 1) != 1:
        return "alpha other than 1"
    for a in node.args:
        if not isinstance(a, torch.fx.Node):
            return "scalar operands are not supported"
        v = a.meta.get("val")
        if not isinstance(v, torch.Tensor) or v.dtype != torch.float32 or tuple(v.shape) != tuple(out.shape):
            return "operands must be float32 with the output's shape (no broadcasting)"
    return None


class ElementwisePartitioner(Partitioner):
    backend_name = NAME

    def __init__(self, compile_specs=()):
        self.compile_specs = list(compile_specs)

    def partition(self, exported_program, claimable) -> PartitionResult:
        return group_supported_nodes(exported_program, claimable, refusal)


class ElementwiseBackend(Backend):
    name = NAME

    def preprocess(self, subgraph, compile_specs) -> PreprocessResult:
        tensors: list[list[int]] = []   # kind, position, numel, data_offset
        ids: dict[torch.fx.Node, int] = {}
        data = bytearray()
        placeholders = [n for n in subgraph.graph_module.graph.nodes if n.op == "placeholder"]
        runtime_position = 0
        for i, p in enumerate(placeholders):
            numel = subgraph.input_metas[i].numel()
            if i in subgraph.constants:
                while len(data) % 16:
                    data.append(0)
                offset = len(data)
                data += subgraph.constants[i].detach().contiguous().float().numpy().tobytes()
                tensors.append([3, 0, numel, offset])
            else:
                tensors.append([0, runtime_position, numel, 0])
                runtime_position += 1
            ids[p] = len(tensors) - 1
        ops = []
        for node in subgraph.nodes():
            tensors.append([2, 0, node.meta["val"].numel(), 0])
            ids[node] = len(tensors) - 1
            a = ids[node.args[0]]
            b = ids[node.args[1]] if len(node.args) > 1 else 0
            ops.append((OPCODES[node.target], a, b, ids[node]))
        outputs = next(n for n in subgraph.graph_module.graph.nodes if n.op == "output").args[0]
        for position, out in enumerate(outputs):
            if tensors[ids[out]][0] != 2:
                raise ValueError("an output that is not computed inside the delegate is not supported")
            tensors[ids[out]][0:2] = [1, position]
        header_size = 32 + 24 * len(tensors) + 16 * len(ops)
        data_offset = (header_size + 15) // 16 * 16
        blob = bytearray(struct.pack("<4sIIIIIQ", b"WKTB", 1, len(tensors), runtime_position, len(outputs), len(ops),
                                     data_offset))
        for kind, position, numel, offset in tensors:
            blob += struct.pack("<IIQQ", kind, position, numel, offset)
        for op in ops:
            blob += struct.pack("<IIII", *op)
        blob += b"\0" * (data_offset - len(blob))
        blob += data
        return PreprocessResult(bytes(blob), {"ops": [str(n.target) for n in subgraph.nodes()]},
                                compatibility=COMPATIBILITY)
