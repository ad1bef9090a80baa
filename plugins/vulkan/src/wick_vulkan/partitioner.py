"""Which Edge nodes the Vulkan shaders take, and why the others are refused."""

from __future__ import annotations

import operator

import torch

from wick.delegate_sdk import PartitionResult, Partitioner, group_supported_nodes

from .plan import (ACTIVATIONS, BINARY_OPS, ELEMENT_SIZE, FLOAT_DTYPES, MAX_RANK, REDUCTIONS, UNARY_OPS, VIEWS,
                   Unsupported, reduction_view)

aten = torch.ops.aten

NAME = "vulkan"
OTHER = {aten.expand_copy.default, aten.convolution.default, aten.mm.default, aten.bmm.default,
         aten.addmm.default, aten.linear.default, aten.gelu.default, aten.pow.Tensor_Scalar,
         aten._native_batch_norm_legit_no_training.default, aten.max_pool2d_with_indices.default,
         aten.max_pool2d.default, aten.avg_pool2d.default, aten._softmax.default, aten._log_softmax.default,
         aten.embedding.default, aten.permute_copy.default, aten.transpose_copy.int, aten.t_copy.default,
         aten.slice_copy.Tensor, aten.select_copy.int, aten.cat.default, aten.split_with_sizes_copy.default,
         aten.split_copy.Tensor, aten._to_copy.default}
SUPPORTED = set(ACTIVATIONS) | set(UNARY_OPS) | set(BINARY_OPS) | set(VIEWS) | set(REDUCTIONS) | OTHER


def _tensors(v):
    if isinstance(v, torch.Tensor):
        return [v]
    if isinstance(v, (list, tuple)):
        return [t for x in v for t in _tensors(x)]
    return []


def _check_tensor(t: torch.Tensor, what: str, allow_index: bool = False, float16: bool = True) -> str | None:
    if t.dtype not in FLOAT_DTYPES and not (allow_index and t.dtype in (torch.int32, torch.int64)):
        return f"{what} is {t.dtype}; the shaders take float32 or float16"
    if t.dtype == torch.float16 and not float16:
        return f"{what} is float16, switched off by the compile spec float16=off"
    if any(not isinstance(s, int) for s in t.shape):
        return f"{what} has a dynamic shape; the plan is static"
    if t.dim() > MAX_RANK:
        return f"{what} has rank {t.dim()} (at most {MAX_RANK})"
    if t.numel() == 0:
        return f"{what} is empty"
    if t.numel() * ELEMENT_SIZE[t.dtype] >= 1 << 31:
        return f"{what} is 2 GiB or larger"
    return None


def refusal(node: torch.fx.Node, constant_names: set[str], float16: bool = True) -> str | None:
    """None when a Vulkan shader runs `node`; otherwise why not. `float16`
    False refuses float16 tensors (for a target device without float16 storage)."""
    t = node.target
    if t is aten.pow.Tensor_Tensor:
        # float32 exp2(e * log2(x)) loses ~10 ULP once results pass ~2^50, over
        # the conformance bound; a double-float pow is not written yet.
        return f"{t}: the shader's float32 pow is not within 8 ULP for large results; left to the portable kernels"
    if t not in SUPPORTED:
        return f"{t} is not covered by the Vulkan shaders"
    is_embedding = t is aten.embedding.default
    outs = _tensors(node.meta.get("val"))
    if t in (aten._native_batch_norm_legit_no_training.default, aten.max_pool2d_with_indices.default):
        outs = outs[:1]   # statistics / indices: refused below when used
    for i, out in enumerate(outs):
        why = _check_tensor(out, f"output {i}", float16=float16)
        if why:
            return why
    if not _tensors(node.meta.get("val")):
        return "no tensor output"
    floats = {out.dtype for out in outs}
    for i, a in enumerate(node.all_input_nodes):
        for v in _tensors(a.meta.get("val")):
            is_index = is_embedding and a is node.args[1]
            why = _check_tensor(v, f"input {a.name}", allow_index=is_index, float16=float16)
            if why:
                return why
            if not is_index:
                floats.add(v.dtype)
    if len(floats) > 1 and t is not aten._to_copy.default:
        # each dispatch runs the shader variant of one storage type
        return f"mixes {' and '.join(sorted(str(f).replace('torch.', '') for f in floats))} tensors in one op"
    if t is aten.convolution.default:
        if node.args[6]:
            return "transposed convolution"
        if node.args[0].meta["val"].dim() != 4:
            return "only 2-D convolution (4-D input)"
    elif t is aten.max_pool2d_with_indices.default:
        if any(u.target is not operator.getitem or u.args[1] != 0 for u in node.users):
            return "the indices output of max_pool2d_with_indices is used"
        if node.args[0].meta["val"].dim() != 4:
            return "pooling of a 3-D input"
    elif t in (aten.max_pool2d.default, aten.avg_pool2d.default):
        if node.args[0].meta["val"].dim() != 4:
            return "pooling of a 3-D input"
    elif t is aten._native_batch_norm_legit_no_training.default:
        if any(isinstance(a, torch.fx.Node) and a.name not in constant_names for a in node.args[1:5]):
            return "batch norm parameters are not constants"
        if any(u.target is not operator.getitem or (u.args[1] != 0 and u.users) for u in node.users):
            return "batch norm statistics outputs are used"
    elif t in REDUCTIONS:
        dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        if node.kwargs.get("dtype") not in (None, node.args[0].meta["val"].dtype):
            return "reduction to another dtype"
        try:
            reduction_view(node.args[0].meta["val"].shape, [dims] if isinstance(dims, int) else dims)
        except Unsupported as e:
            return str(e)
    elif t in (aten._softmax.default, aten._log_softmax.default):
        if node.args[2]:
            return "half_to_float softmax"
    elif t is aten.div.Tensor:
        if node.kwargs.get("rounding_mode") is not None:
            return "div with a rounding mode"
    elif t in ACTIVATIONS:
        if any(isinstance(a, torch.fx.Node) for a in list(node.args[1:]) + list(node.kwargs.values())):
            return "clamp with tensor bounds"
    elif is_embedding:
        if node.args[0].meta["val"].dim() != 2:
            return "embedding weight is not 2-D"
    elif t in (aten.mm.default, aten.bmm.default, aten.addmm.default):
        pass
    elif t is aten.cat.default:
        if not node.args[0]:
            return "empty cat"
    elif t is aten._to_copy.default:
        if node.kwargs.get("memory_format") not in (None, torch.preserve_format, torch.contiguous_format):
            return f"_to_copy to {node.kwargs['memory_format']}"
        if node.kwargs.get("layout") not in (None, torch.strided):
            return f"_to_copy to layout {node.kwargs['layout']}"
    return None


def constant_placeholders(ep: torch.export.ExportedProgram) -> set[str]:
    sig = ep.graph_signature
    names = set(sig.inputs_to_parameters) | set(sig.inputs_to_buffers)
    names |= set(getattr(sig, "inputs_to_lifted_tensor_constants", {}) or {})
    return names


class VulkanPartitioner(Partitioner):
    backend_name = NAME

    def __init__(self, compile_specs=()):
        self.compile_specs = list(compile_specs)
        # compile spec float16=on|off (default on): whether float16 tensors
        # may go to the device; off for targets without float16 storage,
        # whose runtime would refuse the program at load.
        self.float16 = True
        for spec in self.compile_specs:
            if spec.key == "float16":
                value = spec.value.decode() if isinstance(spec.value, bytes) else str(spec.value)
                if value not in ("on", "off"):
                    raise ValueError(f"vulkan: compile spec float16={value!r}; use 'on' or 'off'")
                self.float16 = value == "on"

    def partition(self, exported_program, claimable) -> PartitionResult:
        constants = constant_placeholders(exported_program)
        return group_supported_nodes(exported_program, claimable, lambda n: refusal(n, constants, self.float16))
