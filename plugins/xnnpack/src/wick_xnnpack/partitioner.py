"""Which Edge-dialect nodes the 'xnnpack' backend takes, and why it refuses
the others (the reasons appear in the partition report).

The rules follow what the subgraph API of XNNPACK (2026-08-21, built into
the plugin) can express:

* float32 tensors of rank <= 6 with static shapes (int8: see quantized.py);
* a 4-D activation of a spatial op (convolution, pooling, ...) lives as NHWC
  inside XNNPACK, other tensors in PyTorch's order; preprocess inserts the
  transposes between the two, so layout never refuses an op;
* weights of convolutions must be known ahead of time (packed once at init);
  a linear layer with a runtime weight is a batch matrix multiply;
* no gather (embedding, index_select) or select-by-mask (where) in XNNPACK:
  those stay on the portable kernels.

Work on float constants (a weight's transpose or cast) is not claimed: Wick
folds it before preprocess and hands the delegate its result as a constant.
An int8 weight's dequantize is claimed with the op that consumes it.
"""

from __future__ import annotations

import operator
from typing import Callable

import torch

from wick.delegate_sdk import PartitionResult, Partitioner, group_supported_nodes

from . import quantized
from .common import MAX_RANK, order_preserving, physical_dim, shape_refusal  # noqa: F401 (re-exported)

aten = torch.ops.aten
NAME = "xnnpack"
LIB = "XNNPACK (2026-08-21)"


def _val(node):
    return node.meta.get("val") if isinstance(node, torch.fx.Node) else None


def _shape(node) -> tuple[int, ...]:
    return tuple(int(s) for s in _val(node).shape)


class Context:
    """What the rules need to know about the whole program: which nodes are
    constants (parameters, buffers, or ops computed from them only)."""

    def __init__(self, ep: torch.export.ExportedProgram):
        from torch.export.graph_signature import InputKind

        placeholders = [n for n in ep.graph.nodes if n.op == "placeholder"]
        self.const_placeholders = {
            n for n, spec in zip(placeholders, ep.graph_signature.input_specs)
            if spec.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR)}
        self._const: dict[torch.fx.Node, bool] = {}
        self._quantized_const: dict[torch.fx.Node, bool] = {}
        self._memo: dict[torch.fx.Node, str | None] = {}

    def is_const(self, node) -> bool:
        if not isinstance(node, torch.fx.Node):
            return True
        if node in self._const:
            return self._const[node]
        if node.op == "placeholder":
            result = node in self.const_placeholders
        elif node.op == "call_function":
            deps = node.all_input_nodes
            result = bool(deps) and all(self.is_const(d) for d in deps) and not _is_random(node)
        else:
            result = False
        self._const[node] = result
        return result

    def reads_quantized_constant(self, node) -> bool:
        """A constant computed through a quantize/dequantize (an int8 weight)."""
        if not isinstance(node, torch.fx.Node) or node.op != "call_function":
            return False
        if node not in self._quantized_const:
            self._quantized_const[node] = quantized._is_qd(node) or any(
                self.reads_quantized_constant(a) for a in node.all_input_nodes)
        return self._quantized_const[node]

    def refusal(self, node) -> str | None:
        if node not in self._memo:
            self._memo[node] = None  # cycles cannot occur in a DAG; guards recursion through users
            self._memo[node] = _refusal(node, self)
        return self._memo[node]


def _is_random(node) -> bool:
    return "rand" in str(node.target) or "dropout" in str(node.target)


def _float_tensor(v) -> bool:
    return isinstance(v, torch.Tensor) and v.dtype == torch.float32


def _common(node) -> str | None:
    """float32, static shapes, rank <= 6, for the output and runtime inputs."""
    outs = _val(node)
    if node.target in (aten.max_pool2d_with_indices.default, aten._native_batch_norm_legit_no_training.default,
                       aten.native_layer_norm.default):
        outs = outs[:1]  # pooling indices / saved statistics are never produced (rules below)
    for v in outs if isinstance(outs, (tuple, list)) else [outs]:
        if v is None:
            continue
        if not isinstance(v, torch.Tensor):
            return "produces a non-tensor value"
        if v.dtype != torch.float32:
            return f"produces {v.dtype}; this backend runs float32 (int8 through quantize/dequantize patterns)"
        why = shape_refusal(v)
        if why:
            return why
    for a in node.all_input_nodes:
        v = _val(a)
        if isinstance(v, torch.Tensor) and v.dtype != torch.float32:
            return f"takes a {v.dtype} input"
        if isinstance(v, torch.Tensor) and v.dim() > MAX_RANK:
            return f"takes a {v.dim()}-D input; XNNPACK handles rank <= {MAX_RANK}"
        if isinstance(v, torch.Tensor) and v.numel() == 0:
            return "an empty input (XNNPACK asserts on zero-size operands)"
    return None


# ---- per-op rules ------------------------------------------------------


def _conv(node, ctx):
    x, w, b = node.args[0], node.args[1], node.args[2]
    stride, padding, dilation, transposed, output_padding, groups = node.args[3:9]
    if len(_shape(x)) != 4:
        return "only 2-D convolutions (4-D input); XNNPACK has no 1-D/3-D convolution"
    if not ctx.is_const(w) or (b is not None and not ctx.is_const(b)):
        return "weights and bias must be constants (XNNPACK packs them at init)"
    if transposed and any(p >= s for p, s in zip(output_padding, stride)):
        return "output_padding >= stride"
    return None


def _addmm_mm(node, ctx):
    if node.target == aten.addmm.default:
        bias, a, w = node.args[0], node.args[1], node.args[2]
    else:
        bias, (a, w) = None, node.args[:2]
    if ctx.is_const(a) and ctx.is_const(w):
        return "both operands are constants"
    if not ctx.is_const(w) and (node.kwargs.get("alpha", 1) != 1 or node.kwargs.get("beta", 1) != 1):
        return "alpha/beta other than 1 with a runtime second matrix (a batch matrix multiply)"
    return None


def _binary(node, ctx):
    out = _shape(node)
    if node.target in (aten.add.Tensor, aten.sub.Tensor, aten.add.Scalar, aten.sub.Scalar):
        alpha = node.kwargs.get("alpha", node.args[2] if len(node.args) > 2 else 1)
        if alpha != 1 and not ctx.is_const(node.args[1]):
            return "alpha other than 1 on a runtime operand"
    if node.target == aten.div.Tensor_mode:
        return "division with a rounding mode"
    del out
    return None


def _unary_ok(node, ctx):
    return None


def _pow(node, ctx):
    if node.args[1] not in (2, 2.0, 0.5, 1, 1.0, -1, -1.0, -0.5):
        return f"pow with exponent {node.args[1]} (only 2, 0.5, 1, -1, -0.5 map onto XNNPACK ops)"
    return None


def _clamp(node, ctx):
    lo = node.args[1] if len(node.args) > 1 else None
    hi = node.args[2] if len(node.args) > 2 else None
    if isinstance(lo, torch.fx.Node) or isinstance(hi, torch.fx.Node):
        return "clamp bounds are tensors"
    return None


def _elu(node, ctx):
    scale = node.args[2] if len(node.args) > 2 else 1
    input_scale = node.args[3] if len(node.args) > 3 else 1
    if scale != 1 or input_scale != 1:
        return "elu with scale or input_scale other than 1 (SELU/CELU)"
    return None


def _softmax(node, ctx):
    if node.args[2]:
        return "half_to_float softmax"
    return None


def _reduce(node, ctx):
    if node.kwargs.get("dtype") is not None:
        return f"{_op_name(node.target)} with a dtype"
    return None


def _gelu(node, ctx):
    if node.kwargs.get("approximate", "none") != "none":
        return "gelu with the tanh approximation (XNNPACK's gelu is the exact one)"
    return None


def _slice(node, ctx):
    step = node.args[4] if len(node.args) > 4 else 1
    if step != 1:
        return "a slice with a step other than 1"
    return None


def _layer_norm(node, ctx):
    if any(u.args[1] != 0 for u in node.users if u.target is operator.getitem):
        return "layer norm whose mean or rstd output is used (only the normalized tensor is computed)"
    return None


def _cat(node, ctx):
    for a in node.args[0]:
        v = _val(a)
        if not isinstance(v, torch.Tensor) or v.dtype != torch.float32:
            return "concatenation of non-float32 tensors"
    return None


def _through_qdq(node, up=False):
    """The users of `node`, looking through int8 quantize -> dequantize pairs
    (or, with up=True, the value a dequantize(quantize(x)) chain starts from)."""
    if up:
        while (isinstance(node, torch.fx.Node) and quantized.is_qdq(node) and node.args
               and isinstance(node.args[0], torch.fx.Node)):
            node = node.args[0]
        return node
    out = []
    for u in node.users:
        if quantized.is_qdq(u):
            out.extend(_through_qdq(u))
        else:
            out.append(u)
    return out


def _max_pool(node, ctx):
    x = node.args[0]
    kernel = list(node.args[1])
    stride = list(node.args[2]) if len(node.args) > 2 and node.args[2] else kernel
    padding = list(node.args[3]) if len(node.args) > 3 else [0, 0]
    dilation = list(node.args[4]) if len(node.args) > 4 else [1, 1]
    ceil_mode = node.args[5] if len(node.args) > 5 else False
    if len(_shape(x)) != 4:
        return "only 4-D max pooling"
    if kernel == [1, 1]:
        return "1x1 pooling (XNNPACK rejects it)"
    if any(u.args[1] != 0 for u in node.users if u.target is operator.getitem):
        return "the indices output is used; XNNPACK's max pooling gives values only"
    if ceil_mode and _pool_out(node, ceil=False) != _pool_out(node, ceil=True):
        return "ceil_mode changes the output size; XNNPACK pools with floor"
    del stride, padding, dilation
    return None


def _pool_out(node, ceil):
    h, w = _shape(node.args[0])[2:]
    kernel = list(node.args[1])
    stride = list(node.args[2]) if len(node.args) > 2 and node.args[2] else kernel
    padding = list(node.args[3]) if len(node.args) > 3 else [0, 0]
    dilation = list(node.args[4]) if len(node.args) > 4 else [1, 1]
    out = []
    for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation):
        span = size + 2 * p - d * (k - 1) - 1
        o = (-(-span // s) if ceil else span // s) + 1
        if ceil and (o - 1) * s >= size + p:
            o -= 1
        out.append(o)
    return out


def _avg_pool(node, ctx):
    args = list(node.args) + [None] * 7
    kernel = list(args[1])
    stride = list(args[2]) if args[2] else kernel
    ceil_mode = bool(args[4])
    divisor = args[6]
    if len(_shape(node.args[0])) != 4:
        return "only 4-D average pooling"
    if divisor is not None:
        return "divisor_override"
    if ceil_mode:
        return "ceil_mode"
    if kernel == [1, 1] and stride == [1, 1]:
        return None
    return None


def _adaptive_avg(node, ctx):
    h, w = _shape(node.args[0])[2:]
    oh, ow = node.args[1]
    if (oh, ow) == (1, 1) or (h % oh == 0 and w % ow == 0):
        return None
    return "adaptive pooling with windows of unequal size"


def _pad(node, ctx):
    pads = list(node.args[1])
    if any(p < 0 for p in pads):
        return "negative padding (cropping)"
    return None


def _resize(node, ctx):
    if len(_shape(node.args[0])) != 4:
        return "only 4-D resize"
    return None


def _prelu(node, ctx):
    if len(_shape(node.args[0])) != 4 or not ctx.is_const(node.args[1]):
        return "PReLU on a 4-D input with constant slopes only"
    return None


def _identity(node, ctx):
    if node.target == aten._to_copy.default:
        if node.kwargs.get("dtype", torch.float32) != torch.float32:
            return "a dtype conversion"
    if node.target == aten.expand_copy.default and _shape(node) != _shape(node.args[0]):
        return f"expand (a broadcasting copy) is not in {LIB}"
    return None


RULES: dict[object, Callable] = {
    aten.convolution.default: _conv,
    aten._native_batch_norm_legit_no_training.default: lambda n, c: (
        None if len(_shape(n.args[0])) == 4 and all(c.is_const(a) for a in n.args[1:5] if a is not None)
        else "batch norm on a 4-D input with constant statistics only"),
    aten.addmm.default: _addmm_mm,
    aten.mm.default: _addmm_mm,
    aten.add.Tensor: _binary, aten.sub.Tensor: _binary, aten.mul.Tensor: _binary, aten.div.Tensor: _binary,
    aten.add.Scalar: _binary, aten.sub.Scalar: _binary, aten.mul.Scalar: _binary, aten.div.Scalar: _binary,
    aten.div.Tensor_mode: _binary,
    aten.maximum.default: _binary, aten.minimum.default: _binary,
    aten.relu.default: _unary_ok, aten.hardtanh.default: _clamp, aten.clamp.default: _clamp,
    aten.sigmoid.default: _unary_ok, aten.abs.default: _unary_ok, aten.neg.default: _unary_ok,
    aten.floor.default: _unary_ok, aten.ceil.default: _unary_ok, aten.sqrt.default: _unary_ok,
    aten.rsqrt.default: _unary_ok, aten.round.default: _unary_ok, aten.hardswish.default: _unary_ok,
    aten.leaky_relu.default: _unary_ok, aten.elu.default: _elu, aten.pow.Tensor_Scalar: _pow,
    aten.reciprocal.default: _unary_ok,
    aten._softmax.default: _softmax,
    aten.mean.dim: _reduce, aten.sum.dim_IntList: _reduce, aten.amax.default: _reduce,
    aten.view_copy.default: _unary_ok, aten.squeeze_copy.dims: _unary_ok, aten.unsqueeze_copy.default: _unary_ok,
    aten.tanh.default: _unary_ok, aten.gelu.default: _gelu, aten.exp.default: _unary_ok, aten.log.default: _unary_ok,
    aten.permute_copy.default: _unary_ok, aten.bmm.default: _unary_ok, aten.cat.default: _cat,
    aten.slice_copy.Tensor: _slice, aten.select_copy.int: _unary_ok,
    aten.native_layer_norm.default: _layer_norm,
    aten.split_with_sizes_copy.default: _unary_ok, aten.split_copy.Tensor: _unary_ok,
    aten.max_pool2d_with_indices.default: _max_pool,
    aten.avg_pool2d.default: _avg_pool,
    aten._adaptive_avg_pool2d.default: _adaptive_avg,
    aten.constant_pad_nd.default: _pad,
    aten.upsample_bilinear2d.vec: _resize,
    aten._prelu_kernel.default: _prelu,
    aten.clone.default: _identity, aten.alias_copy.default: _identity, aten._to_copy.default: _identity,
    aten.expand_copy.default: _identity,
}

_MISSING = {"embedding": "gather", "index_select": "gather", "where": "select by mask", "gather": "gather"}


def _refusal(node, ctx: Context) -> str | None:
    if node.op != "call_function":
        return "not an operator call"
    if node.target is operator.getitem:
        return ctx.refusal(node.args[0])
    q = quantized.refusal(node, ctx)
    if q != quantized.NOT_QUANTIZED:
        return q
    if ctx.is_const(node):
        # Computed from constants only. Wick folds a float weight's transpose
        # or cast before preprocess and hands the result over as a constant,
        # so those are left alone. An int8 weight's dequantize (and what
        # follows it) is taken with its consumer: the int8 lowering reads the
        # int8 values and scales through it, which folding would turn to
        # float32.
        if not ctx.reads_quantized_constant(node):
            return "computed from constants only: Wick folds it into the constants of the delegate that uses it"
        users = list(node.users)
        if users and all(u.op == "call_function" and ctx.refusal(u) is None for u in users):
            return None
        return "a computation on constants whose consumers stay outside this backend"
    rule = RULES.get(node.target)
    if rule is None:
        name = getattr(node.target, "__name__", str(node.target)).split(".")[0]
        what = _MISSING.get(name)
        if what:
            return f"{node.target}: {LIB}'s subgraph API has no {what}"
        return f"{node.target} has no XNNPACK counterpart in this backend"
    why = _common(node)
    if why:
        return why
    return rule(node, ctx)


class XnnpackPartitioner(Partitioner):
    backend_name = NAME

    def __init__(self, compile_specs=()):
        self.compile_specs = list(compile_specs)
        for spec in self.compile_specs:
            if spec.key != "threads":
                raise ValueError(f"xnnpack: unknown compile spec '{spec.key}' (this backend takes: threads)")

    def partition(self, exported_program, claimable) -> PartitionResult:
        ctx = Context(exported_program)
        return _drop_data_movement_only(exported_program, group_supported_nodes(exported_program, claimable,
                                                                                 ctx.refusal))


# Ops that only move or relabel data (same-shape copies, reshapes, broadcasts).
DATA_MOVEMENT = {
    aten.view_copy.default, aten._unsafe_view.default, aten.squeeze_copy.dims, aten.unsqueeze_copy.default,
    aten.clone.default, aten.alias_copy.default, aten.expand_copy.default, aten.permute_copy.default,
    aten.t_copy.default, aten._to_copy.default, operator.getitem,
}


def _op_name(target) -> str:
    return str(target).split(".")[-2] if isinstance(target, torch._ops.OpOverload) else target.__name__


def _drop_data_movement_only(ep, result: PartitionResult) -> PartitionResult:
    """Leaves partitions that only move data (tiny_llama's lone expand and
    clone between portable bmm's, say) to the portable kernels: as delegate
    calls they would copy their inputs in and their outputs out and compute
    nothing."""
    nodes = {n.name: n for n in ep.graph.nodes}
    kept = []
    for part in result.partitions:
        targets = [nodes[name].target for name in part.nodes]
        if all(t in DATA_MOVEMENT for t in targets):
            ops = ", ".join(sorted({_op_name(t) for t in targets}))
            for name in part.nodes:
                result.rejected[name] = (f"only data movement in its partition ({ops}): as its own delegate call "
                                         f"it would add two copies and compute nothing")
        else:
            kept.append(part)
    result.partitions = kept
    return result
