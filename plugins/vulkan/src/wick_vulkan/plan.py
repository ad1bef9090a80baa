"""preprocess(): an Edge subgraph becomes a Vulkan dispatch plan (the blob).

Every tensor is contiguous in a region of one of two device buffers: the
weights (constants, uploaded once) or the arena (inputs, intermediates,
outputs; offsets planned here by liveness so regions reuse memory). Each
fx node becomes zero or more dispatches of an embedded shader
(shaders/*.comp) with its push constants and workgroup counts computed here,
so the runtime half only replays the list. Views (view_copy, clone, ...)
cost nothing: they share their input's region.

Rewrites done here, on the subgraph alone:
  * constant folding: a node whose tensor inputs are all constants (a
    permuted weight, an aliased mask buffer) is evaluated with torch and
    stored as a weight;
  * batch norm after a convolution in the same partition is folded into the
    convolution's weight and bias;
  * relu / hardtanh / clamp right after a convolution, matmul or binary op is
    fused into that dispatch's output clamp.

The blob is flatbuffers (schema/vulkan_plan.fbs), written with the Builder.
"""

from __future__ import annotations

import math
import operator
import struct
from dataclasses import dataclass, field
from typing import Any, Sequence

import flatbuffers
import numpy as np
import torch

from wick.delegate_sdk import Backend, DelegateSubgraph, PreprocessResult

aten = torch.ops.aten

ALIGN = 256          # region alignment: the largest minStorageBufferOffsetAlignment Vulkan allows
MAX_RANK = 6         # the copy and binary shaders index up to 6-D
MAX_GROUPS = 65535   # the minimum maxComputeWorkGroupCount Vulkan guarantees per axis
# Plan version written: 1 when every tensor is float32 (or int indices), so
# runtimes older than float16 support still run the plan; 2 when it stores
# float16 tensors, which an older runtime must refuse rather than misread.
PLAN_VERSION_F32, PLAN_VERSION_F16 = 1, 2
INF = float("inf")
MEM_WEIGHTS, MEM_ARENA = 0, 1

ELEMENT_SIZE = {torch.float32: 4, torch.float16: 2, torch.int32: 4, torch.int64: 8}
# The floating-point types a dispatch may store its tensors in (each shader is
# compiled once per type; arithmetic is float32 in both) and the plan's DType enum.
FLOAT_DTYPES = (torch.float32, torch.float16)
PLAN_DTYPE = {torch.float32: 0, torch.float16: 1, torch.int32: 2, torch.int64: 3}


class Unsupported(Exception):
    """A node this plan cannot express (the partitioner should have refused it)."""


@dataclass(eq=False)
class Storage:
    nbytes: int
    kind: str                   # "input", "arena" or "weight"
    data: bytes | None = None   # weights only
    first: int = 1 << 30        # first dispatch touching it (-1: a runtime input)
    last: int = -1              # last dispatch touching it
    offset: int = -1


@dataclass(eq=False)
class TVal:
    """A contiguous tensor living in a Storage (views share the storage)."""

    storage: Storage
    shape: tuple[int, ...]
    dtype: torch.dtype

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass
class Dispatch:
    shader: str
    bindings: list[TVal]
    push: list[int]
    groups: tuple[int, int, int]
    label: str
    storage: torch.dtype = torch.float32   # the float type of its tensors: picks the shader variant


@dataclass(frozen=True)
class F:
    """A float push constant (stored as its bits)."""

    value: float


def contiguous_strides(shape: Sequence[int]) -> list[int]:
    strides, s = [], 1
    for d in reversed(shape):
        strides.append(s)
        s *= d
    return strides[::-1]


def pad6(values: Sequence[int], fill: int) -> list[int]:
    values = list(values)
    if len(values) > MAX_RANK:
        raise Unsupported(f"rank {len(values)} above {MAX_RANK}")
    return [fill] * (MAX_RANK - len(values)) + values


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def groups_1d(total: int, local: int = 256) -> tuple[int, int, int]:
    g = max(1, -(-total // local))
    if g <= MAX_GROUPS:
        return (g, 1, 1)
    return (MAX_GROUPS, -(-g // MAX_GROUPS), 1)


def _pair(v: Any, default: int | None = None) -> tuple[int, int]:
    if v is None or (isinstance(v, (list, tuple)) and len(v) == 0):
        if default is None:
            raise Unsupported("missing pair argument")
        return (default, default)
    if isinstance(v, int):
        return (v, v)
    v = list(v)
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


ACTIVATIONS = {aten.relu.default, aten.hardtanh.default, aten.clamp.default}
UNARY_OPS = {
    aten.sigmoid.default: 1, aten.tanh.default: 2, aten.silu.default: 5, aten.rsqrt.default: 6,
    aten.sqrt.default: 7, aten.exp.default: 8, aten.neg.default: 9, aten.abs.default: 14, aten.log.default: 15,
    aten.hardswish.default: 16, aten.hardsigmoid.default: 17, aten.reciprocal.default: 18,
}
BINARY_OPS = {
    aten.add.Tensor: 0, aten.sub.Tensor: 1, aten.mul.Tensor: 2, aten.div.Tensor: 3, aten.pow.Tensor_Tensor: 4,
    aten.maximum.default: 5, aten.minimum.default: 6,
    aten.add.Scalar: 0, aten.sub.Scalar: 1, aten.mul.Scalar: 2, aten.div.Scalar: 3,
}
VIEWS = {aten.view_copy.default, aten._unsafe_view.default, aten.alias_copy.default, aten.clone.default,
         aten.squeeze_copy.default, aten.squeeze_copy.dim, aten.squeeze_copy.dims, aten.unsqueeze_copy.default,
         aten.view.default, aten.reshape.default, aten.alias.default, aten.detach_copy.default,
         aten.lift_fresh_copy.default}
REDUCTIONS = {aten.sum.dim_IntList: 0, aten.mean.dim: 1, aten.amax.default: 2, aten.amin.default: 3}


def activation_bounds(node: torch.fx.Node) -> tuple[float, float]:
    if node.target is aten.relu.default:
        return 0.0, INF
    if node.target is aten.hardtanh.default:
        lo = node.args[1] if len(node.args) > 1 else node.kwargs.get("min_val", -1.0)
        hi = node.args[2] if len(node.args) > 2 else node.kwargs.get("max_val", 1.0)
        return float(lo), float(hi)
    lo = node.args[1] if len(node.args) > 1 else node.kwargs.get("min")
    hi = node.args[2] if len(node.args) > 2 else node.kwargs.get("max")
    return (-INF if lo is None else float(lo)), (INF if hi is None else float(hi))


def reduction_view(shape: Sequence[int], dims: Sequence[int] | None) -> tuple[int, int, int]:
    """(outer, R, inner) for reducing `dims`, which must be contiguous axes."""
    rank = len(shape)
    if not dims:
        dims = list(range(rank))
    dims = sorted(d % rank if rank else 0 for d in dims)
    if dims != list(range(dims[0], dims[-1] + 1)):
        raise Unsupported(f"reduction over non-adjacent dims {dims}")
    return (math.prod(shape[:dims[0]]), math.prod(shape[dims[0]:dims[-1] + 1]), math.prod(shape[dims[-1] + 1:]))


class Lowering:
    """Walks one subgraph in order, producing dispatches over storages."""

    def __init__(self, subgraph: DelegateSubgraph):
        self.sg = subgraph
        self.gm = subgraph.graph_module
        self.values: dict[torch.fx.Node, Any] = {}   # node -> TVal | torch.Tensor | list
        self.dispatches: list[Dispatch] = []
        self.inputs: list[Storage | None] = []   # None: an argument the plan ignores (a weight it embeds)
        self.input_dtypes: list[torch.dtype] = []  # of every runtime argument
        self.storages: list[Storage] = []
        self.weight_cache: dict[int, TVal] = {}
        self.fused: set[torch.fx.Node] = set()
        self.ops: dict[str, list[str]] = {}            # node name -> shaders it became
        self.dtype = torch.float32                     # float type of the node being lowered

    # ---- values
    def new_tval(self, shape: Sequence[int], dtype: torch.dtype | None = None, kind: str = "arena") -> TVal:
        """A new tensor; by default of the float type of the node being lowered."""
        dtype = dtype or self.dtype
        shape = tuple(int(s) for s in shape)
        st = Storage(max(1, math.prod(shape)) * ELEMENT_SIZE[dtype], kind)
        self.storages.append(st)
        return TVal(st, shape, dtype)

    def weight(self, t: torch.Tensor) -> TVal:
        key = id(t)
        if key not in self.weight_cache:
            if t.dtype not in ELEMENT_SIZE:
                t = t.float()
            data = t.detach().contiguous().numpy().tobytes()
            tv = self.new_tval(t.shape, t.dtype, "weight")
            tv.storage.data = data
            self.weight_cache[key] = tv
            self._keep = getattr(self, "_keep", []) + [t]   # id() stays unique while alive
        return self.weight_cache[key]

    def val(self, a: Any) -> TVal:
        v = self.values[a] if isinstance(a, torch.fx.Node) else a
        if isinstance(v, torch.Tensor):
            return self.weight(v)
        if not isinstance(v, TVal):
            raise Unsupported(f"expected a tensor, got {type(v).__name__}")
        return v

    def shape_of(self, a: Any) -> tuple[int, ...]:
        v = self.values[a] if isinstance(a, torch.fx.Node) else a
        return tuple(v.shape)

    def dispatch(self, node: torch.fx.Node, shader: str, out: TVal, ins: list[TVal], push: list[Any],
                 groups: tuple[int, int, int], storage: torch.dtype | None = None) -> None:
        """`storage` overrides the variant for shaders that mix float types (convert)."""
        words = []
        for p in push:
            if isinstance(p, F):
                words.append(struct.unpack("<I", struct.pack("<f", p.value))[0])
            else:
                words.append(int(p) & 0xFFFFFFFF)
        if len(words) > 32:
            raise AssertionError(f"{shader}: {len(words)} push words")
        floats = {tv.dtype for tv in [out, *ins] if tv.dtype.is_floating_point}
        if storage is None:
            if len(floats) > 1:
                # one shader variant per dispatch reads and writes one float type
                raise Unsupported(f"{node.name}: {shader} would mix {sorted(map(str, floats))} tensors")
            storage = floats.pop() if floats else torch.float32
        self.dispatches.append(Dispatch(shader, [out, *ins], words, groups, node.name, storage))
        self.ops.setdefault(node.name, []).append(shader)

    # ---- fusion helpers
    def sole_user(self, node: torch.fx.Node) -> torch.fx.Node | None:
        users = list(node.users)
        return users[0] if len(users) == 1 and users[0].op == "call_function" else None

    def take_activation(self, node: torch.fx.Node) -> tuple[float, float, torch.fx.Node]:
        """If `node`'s only user is relu/hardtanh/clamp with scalar bounds, fuse it."""
        u = self.sole_user(node)
        if u is not None and u.target in ACTIVATIONS and u.args[0] is node and \
                all(not isinstance(a, torch.fx.Node) for a in list(u.args[1:]) + list(u.kwargs.values())):
            lo, hi = activation_bounds(u)
            self.fused.add(u)
            return lo, hi, u
        return -INF, INF, node

    # ---- the walk
    def run(self) -> None:
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        for i, p in enumerate(placeholders):
            if i in self.sg.constants:
                # Weights (also transposed or cast ones: Wick folds those) are
                # uploaded once, never runtime arguments.
                self.values[p] = self.sg.constants[i]
            else:
                meta = self.sg.input_metas[i]
                if meta.dtype not in ELEMENT_SIZE:
                    raise Unsupported(f"input {p.name} has dtype {meta.dtype}")
                tv = self.new_tval(meta.shape, meta.dtype, "input")
                self.inputs.append(tv.storage)
                self.input_dtypes.append(meta.dtype)
                self.values[p] = tv
        for node in self.gm.graph.nodes:
            if node.op != "call_function" or node in self.fused:
                continue
            if node.target is operator.getitem:
                self.values[node] = self.values[node.args[0]][node.args[1]]
                continue
            if self.try_fold(node):
                continue
            self.lower(node)
        out_node = next(n for n in self.gm.graph.nodes if n.op == "output")
        self.outputs = [self.val(o) for o in out_node.args[0]]

    def try_fold(self, node: torch.fx.Node) -> bool:
        leaves = []
        torch.fx.node.map_arg((node.args, node.kwargs), lambda n: leaves.append(self.values[n]))
        if not leaves or not all(isinstance(v, torch.Tensor) for v in leaves):
            return False
        args, kwargs = torch.fx.node.map_arg((node.args, node.kwargs), lambda n: self.values[n])
        result = node.target(*args, **kwargs)
        self.values[node] = list(result) if isinstance(result, (tuple, list)) else result
        self.ops[node.name] = ["folded"]
        return True

    def lower(self, node: torch.fx.Node) -> None:
        t = node.target
        outs = node.meta.get("val")
        first = outs[0] if isinstance(outs, (list, tuple)) and outs else outs
        self.dtype = first.dtype if isinstance(first, torch.Tensor) and first.dtype in FLOAT_DTYPES else torch.float32
        if t in VIEWS:
            v = self.val(node.args[0])
            self.values[node] = TVal(v.storage, tuple(node.meta["val"].shape), v.dtype)
            self.ops[node.name] = ["view"]
        elif t is aten.expand_copy.default:
            self.expand(node)
        elif t is aten.convolution.default:
            self.convolution(node)
        elif t in (aten.mm.default, aten.bmm.default, aten.addmm.default, aten.linear.default):
            self.matmul(node)
        elif t in BINARY_OPS:
            self.binary(node)
        elif t in ACTIVATIONS:
            lo, hi = activation_bounds(node)
            self.unary(node, 0, lo, hi)
        elif t in UNARY_OPS:
            self.unary(node, UNARY_OPS[t])
        elif t is aten.gelu.default:
            approx = node.kwargs.get("approximate", node.args[1] if len(node.args) > 1 else "none")
            self.unary(node, 4 if approx == "tanh" else 3)
        elif t is aten.pow.Tensor_Scalar:
            self.unary(node, 10, float(node.args[1]))
        elif t is aten._native_batch_norm_legit_no_training.default:
            self.batch_norm(node)
        elif t in (aten.max_pool2d_with_indices.default, aten.max_pool2d.default, aten.avg_pool2d.default):
            self.pool(node)
        elif t in REDUCTIONS:
            self.reduce(node)
        elif t in (aten._softmax.default, aten._log_softmax.default):
            self.softmax(node)
        elif t is aten.embedding.default:
            self.embedding(node)
        elif t in (aten.permute_copy.default, aten.transpose_copy.int, aten.t_copy.default):
            self.permute(node)
        elif t is aten.slice_copy.Tensor:
            self.slice(node)
        elif t is aten.select_copy.int:
            self.select(node)
        elif t is aten.cat.default:
            self.cat(node)
        elif t in (aten.split_with_sizes_copy.default, aten.split_copy.Tensor):
            self.split(node)
        elif t is aten._to_copy.default:
            self.to_copy(node)
        else:
            raise Unsupported(f"{t} has no Vulkan lowering")

    # ---- copies
    def copy(self, node: torch.fx.Node, out: TVal, src: TVal, sizes: Sequence[int], in_strides: Sequence[int],
             in_off: int = 0, out_strides: Sequence[int] | None = None, out_off: int = 0) -> None:
        if out_strides is None:
            out_strides = contiguous_strides(sizes)
        total = math.prod(sizes)
        if total == 0:
            return
        self.dispatch(node, "copy", out, [src], pad6(sizes, 1) + pad6(in_strides, 0) + pad6(out_strides, 0) +
                      [in_off, out_off, total], groups_1d(total))

    def expand(self, node: torch.fx.Node) -> None:
        src = self.val(node.args[0])
        out_shape = tuple(node.meta["val"].shape)
        if math.prod(out_shape) == src.numel:
            self.values[node] = TVal(src.storage, out_shape, src.dtype)
            self.ops[node.name] = ["view"]
            return
        in_shape = [1] * (len(out_shape) - len(src.shape)) + list(src.shape)
        st = [0] * (len(out_shape) - len(src.shape)) + contiguous_strides(src.shape)
        st = [0 if (i == 1 and o != 1) else s for i, o, s in zip(in_shape, out_shape, st)]
        out = self.new_tval(out_shape, src.dtype)
        self.copy(node, out, src, out_shape, st)
        self.values[node] = out

    def permute(self, node: torch.fx.Node) -> None:
        src = self.val(node.args[0])
        rank = len(src.shape)
        if node.target is aten.permute_copy.default:
            perm = [d % rank for d in node.args[1]]
        elif node.target is aten.t_copy.default:
            perm = [1, 0] if rank == 2 else list(range(rank))
        else:
            perm = list(range(rank))
            a, b = node.args[1] % rank, node.args[2] % rank
            perm[a], perm[b] = perm[b], perm[a]
        st = contiguous_strides(src.shape)
        out_shape = [src.shape[p] for p in perm]
        out = self.new_tval(out_shape, src.dtype)
        self.copy(node, out, src, out_shape, [st[p] for p in perm])
        self.values[node] = out

    def slice(self, node: torch.fx.Node) -> None:
        src = self.val(node.args[0])
        rank = len(src.shape)
        dim = (node.args[1] if len(node.args) > 1 else 0) % rank
        start = node.args[2] if len(node.args) > 2 else None
        step = node.args[4] if len(node.args) > 4 else 1
        start = 0 if start is None else start
        if start < 0:
            start += src.shape[dim]
        start = min(max(start, 0), src.shape[dim])
        out_shape = tuple(node.meta["val"].shape)
        st = contiguous_strides(src.shape)
        in_st = list(st)
        in_st[dim] = st[dim] * step
        out = self.new_tval(out_shape, src.dtype)
        self.copy(node, out, src, out_shape, in_st, in_off=start * st[dim])
        self.values[node] = out

    def select(self, node: torch.fx.Node) -> None:
        src = self.val(node.args[0])
        rank = len(src.shape)
        dim, index = node.args[1] % rank, node.args[2]
        if index < 0:
            index += src.shape[dim]
        st = contiguous_strides(src.shape)
        out_shape = [s for i, s in enumerate(src.shape) if i != dim]
        out = self.new_tval(out_shape, src.dtype)
        self.copy(node, out, src, out_shape, [s for i, s in enumerate(st) if i != dim], in_off=index * st[dim])
        self.values[node] = out

    def cat(self, node: torch.fx.Node) -> None:
        out_shape = tuple(node.meta["val"].shape)
        rank = len(out_shape)
        dim = (node.args[1] if len(node.args) > 1 else 0) % rank
        out = self.new_tval(out_shape)
        ost = contiguous_strides(out_shape)
        at = 0
        for a in node.args[0]:
            src = self.val(a)
            if src.numel == 0:
                continue
            self.copy(node, out, src, src.shape, contiguous_strides(src.shape), out_strides=ost,
                      out_off=at * ost[dim])
            at += src.shape[dim]
        self.values[node] = out

    def split(self, node: torch.fx.Node) -> None:
        src = self.val(node.args[0])
        rank = len(src.shape)
        dim = (node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)) % rank
        st = contiguous_strides(src.shape)
        pieces, at = [], 0
        for meta in node.meta["val"]:
            out = self.new_tval(meta.shape, src.dtype)
            self.copy(node, out, src, meta.shape, st, in_off=at * st[dim])
            at += meta.shape[dim]
            pieces.append(out)
        self.values[node] = pieces

    def to_copy(self, node: torch.fx.Node) -> None:
        """float32 <-> float16 (the casts a float16 model's decompositions put
        around silu, or a model's own .float()/.half()); same type: a view."""
        src = self.val(node.args[0])
        dtype = node.meta["val"].dtype
        if dtype == src.dtype:
            self.values[node] = TVal(src.storage, src.shape, dtype)
            self.ops[node.name] = ["view"]
            return
        if {src.dtype, dtype} != {torch.float16, torch.float32}:
            raise Unsupported(f"conversion from {src.dtype} to {dtype}")
        out = self.new_tval(src.shape, dtype)
        self.dispatch(node, "convert", out, [src], [int(dtype == torch.float16), src.numel], groups_1d(src.numel),
                      storage=torch.float16)
        self.values[node] = out

    # ---- elementwise
    def unary(self, node: torch.fx.Node, op: int, p2: float = 0.0, p3: float = 0.0) -> None:
        src = self.val(node.args[0])
        out = self.new_tval(src.shape)
        self.dispatch(node, "unary", out, [src], [op, src.numel, F(p2), F(p3)], groups_1d(src.numel))
        self.values[node] = out

    def binary(self, node: torch.fx.Node) -> None:
        op = BINARY_OPS[node.target]
        a, b = node.args[0], node.args[1]
        alpha = float(node.kwargs.get("alpha", 1))
        if node.target is aten.div.Tensor and node.kwargs.get("rounding_mode") is not None:
            raise Unsupported("div with a rounding mode")
        if not isinstance(b, torch.fx.Node) and op <= 3:
            # tensor (op) scalar: one read per element
            b = float(b)
            src = self.val(a)
            out = self.new_tval(node.meta["val"].shape)
            code, p = {0: (11, alpha * b), 1: (11, -alpha * b), 2: (12, b), 3: (13, b)}[op]
            self.dispatch(node, "unary", out, [src], [code, src.numel, F(p), F(0.0)], groups_1d(src.numel))
            self.values[node] = out
            return
        ta = self.val(a) if isinstance(a, torch.fx.Node) else self.weight(torch.tensor(float(a), dtype=self.dtype))
        tb = self.val(b) if isinstance(b, torch.fx.Node) else self.weight(torch.tensor(float(b), dtype=self.dtype))
        out_shape = tuple(node.meta["val"].shape)
        lo, hi, result = self.take_activation(node)

        def bstrides(shape):
            shape = [1] * (len(out_shape) - len(shape)) + list(shape)
            st = contiguous_strides(shape)
            return [0 if (s == 1 and o != 1) else x for s, o, x in zip(shape, out_shape, st)]

        out = self.new_tval(out_shape)
        total = out.numel
        same = int(tuple(ta.shape) == out_shape and tuple(tb.shape) == out_shape)
        self.dispatch(node, "binary", out, [ta, tb],
                      [op, total] + pad6(out_shape, 1) + pad6(bstrides(ta.shape), 0) + pad6(bstrides(tb.shape), 0) +
                      [F(lo), F(hi), F(alpha), same], groups_1d(total))
        self.values[node] = out
        self.values[result] = out

    # ---- compute
    def convolution(self, node: torch.fx.Node) -> None:
        x_arg, w_arg, b_arg, stride, padding, dilation, transposed, _, groups = node.args[:9]
        if transposed:
            raise Unsupported("transposed convolution")
        x = self.val(x_arg)
        w = self.values[w_arg]
        b = self.values[b_arg] if isinstance(b_arg, torch.fx.Node) else None
        if len(x.shape) != 4:
            raise Unsupported("only 2-D convolution")
        result = node
        bn = self.sole_user(node)
        if bn is not None and bn.target is aten._native_batch_norm_legit_no_training.default and \
                bn.args[0] is node and isinstance(w, torch.Tensor) and (b is None or isinstance(b, torch.Tensor)):
            params = [self.values.get(a) if isinstance(a, torch.fx.Node) else None for a in bn.args[1:5]]
            getters = list(bn.users)
            if all(isinstance(p, torch.Tensor) for p in params[2:]) and \
                    all(isinstance(p, torch.Tensor) or p is None for p in params[:2]) and \
                    all(g.target is operator.getitem and (g.args[1] == 0 or not g.users) for g in getters):
                gamma, beta, mean, var = params
                eps = float(bn.args[6])
                scale = (gamma.double() if gamma is not None else 1.0) / torch.sqrt(var.double() + eps)
                shift = (beta.double() if beta is not None else 0.0) - mean.double() * scale
                # rounded once, to the convolution's own weight type
                w = (w.double() * scale.reshape(-1, 1, 1, 1)).to(w.dtype)
                b = ((b.double() if b is not None else 0.0) * scale + shift).to(w.dtype)
                self.fused.add(bn)
                self.fused.update(getters)
                self.ops[bn.name] = ["folded into " + node.name]
                zero = [g for g in getters if g.args[1] == 0]
                result = zero[0] if zero else bn
        lo, hi, act_node = self.take_activation(result)
        wv = self.val(w)
        bv = None if b is None else self.val(b)
        n, c, h, wd = x.shape
        oc, cg, kh, kw = wv.shape
        sh, sw = _pair(stride)
        ph, pw = _pair(padding)
        dh, dw = _pair(dilation)
        oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        out = self.new_tval((n, oc, oh, ow))
        if kh == kw == 1 and (sh, sw, ph, pw, dh, dw) == (1, 1, 0, 0, 1, 1) and groups == 1:
            # pointwise: out[n] = W[oc, c] @ X[n][c, h*w]
            p = h * wd
            self.dispatch(node, "matmul", out, [wv, x] + ([bv] if bv else []),
                          [n, oc, p, c, 0, c, 1, c * p, p, 1, 1, 0, int(bv is not None), F(1.0), F(1.0), F(lo), F(hi),
                           oc * p], (cdiv(p, 32), cdiv(oc, 32), n))
        else:
            push = [n, c, h, wd, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups, int(bv is not None), F(lo), F(hi),
                    out.numel]
            ins = [x, wv] + ([bv] if bv else [])
            if (oc // groups) % 4 == 0:
                # 32x2 invocations per group, each 4 pixels x 4 channels
                self.dispatch(node, "conv2d_tiled", out, ins, push, (cdiv(cdiv(oh * ow, 4), 32), cdiv(oc // 4, 2), n))
            else:
                self.dispatch(node, "conv2d", out, ins, push, groups_1d(out.numel))
        for r in {result, act_node, node}:
            self.values[r] = out
        if result is not node and result.target is operator.getitem:
            self.values[result.args[0]] = [out, None, None]

    def matmul(self, node: torch.fx.Node) -> None:
        t = node.target
        bias = None
        alpha, beta = 1.0, 1.0
        if t is aten.addmm.default:
            bias_arg, a_arg, b_arg = node.args[:3]
            beta = float(node.kwargs.get("beta", 1.0))
            alpha = float(node.kwargs.get("alpha", 1.0))
        elif t is aten.linear.default:
            a_arg, w_arg = node.args[:2]
            bias_arg = node.args[2] if len(node.args) > 2 else None
        else:
            a_arg, b_arg = node.args[:2]
            bias_arg = None
        a = self.val(a_arg)
        lo, hi, act_node = self.take_activation(node)
        out_shape = tuple(node.meta["val"].shape)
        if t is aten.linear.default:
            wv = self.val(w_arg)
            n_, k = wv.shape
            m = a.numel // k
            batch, a_strides, b_strides = 1, (0, k, 1), (0, 1, k)
            bmat = wv
        elif t is aten.bmm.default:
            bmat = self.val(b_arg)
            batch, m, k = a.shape
            n_ = bmat.shape[2]
            a_strides, b_strides = (m * k, k, 1), (k * n_, n_, 1)
        else:
            bmat = self.val(b_arg)
            m, k = a.shape
            n_ = bmat.shape[1]
            batch, a_strides, b_strides = 1, (0, k, 1), (0, n_, 1)
        if bias_arg is not None and beta != 0.0:
            bias = self.val(bias_arg)
            bshape = [1] * (2 - len(bias.shape)) + list(bias.shape)
            bias_strides = (0 if bshape[0] == 1 else bshape[1], 0 if bshape[1] == 1 else 1)
        else:
            bias, bias_strides = None, (0, 0)
        out = self.new_tval(out_shape)
        self.dispatch(node, "matmul", out, [a, bmat] + ([bias] if bias else []),
                      [batch, m, n_, k, *a_strides, *b_strides, *bias_strides, int(bias is not None), F(alpha),
                       F(beta), F(lo), F(hi), m * n_], (cdiv(n_, 32), cdiv(m, 32), batch))
        self.values[node] = out
        self.values[act_node] = out

    def batch_norm(self, node: torch.fx.Node) -> None:
        """Batch norm not after a convolution: y = x * scale[c] + shift[c] (two binary dispatches)."""
        x = self.val(node.args[0])
        gamma, beta, mean, var = [self.values.get(a) if isinstance(a, torch.fx.Node) else None
                                  for a in node.args[1:5]]
        if not all(isinstance(p, torch.Tensor) for p in (mean, var)):
            raise Unsupported("batch norm with runtime statistics")
        eps = float(node.args[6])
        scale = (gamma.double() if gamma is not None else 1.0) / torch.sqrt(var.double() + eps)
        shift = (beta.double() if beta is not None else 0.0) - mean.double() * scale
        cshape = [x.shape[1]] + [1] * (len(x.shape) - 2)
        s, t = self.weight(scale.to(x.dtype).reshape(cshape)), self.weight(shift.to(x.dtype).reshape(cshape))
        strides = lambda shape: pad6([0 if (d == 1 and o != 1) else st for d, o, st in zip(
            [1] + list(shape), x.shape, contiguous_strides([1] + list(shape)))], 0)
        mid = self.new_tval(x.shape)
        out = self.new_tval(x.shape)
        for op, dst, src, p in ((2, mid, x, s), (0, out, mid, t)):
            self.dispatch(node, "binary", dst, [src, p], [op, x.numel] + pad6(x.shape, 1) +
                          pad6(contiguous_strides(x.shape), 0) + strides(cshape) + [F(-INF), F(INF), F(1.0), 0],
                          groups_1d(x.numel))
        self.values[node] = [out, None, None]

    def pool(self, node: torch.fx.Node) -> None:
        x = self.val(node.args[0])
        n, c, h, w = x.shape
        kh, kw = _pair(node.args[1])
        sh, sw = _pair(node.args[2]) if len(node.args) > 2 and node.args[2] else (kh, kw)
        ph, pw = _pair(node.args[3] if len(node.args) > 3 else 0)
        if node.target is aten.avg_pool2d.default:
            dh, dw, mode = 1, 1, 1
            include_pad = node.args[5] if len(node.args) > 5 else True
            divisor = node.args[6] if len(node.args) > 6 else None
            meta = node.meta["val"]
        else:
            dh, dw = _pair(node.args[4] if len(node.args) > 4 else 1)
            mode, include_pad, divisor = 0, True, None
            meta = node.meta["val"][0] if isinstance(node.meta["val"], (tuple, list)) else node.meta["val"]
        oh, ow = meta.shape[2], meta.shape[3]
        out = self.new_tval(meta.shape)
        self.dispatch(node, "pool2d", out, [x], [n * c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, mode,
                                                 int(bool(include_pad)), int(divisor or 0), out.numel],
                      groups_1d(out.numel))
        self.values[node] = [out, None] if node.target is aten.max_pool2d_with_indices.default else out

    def reduce(self, node: torch.fx.Node) -> None:
        x = self.val(node.args[0])
        dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        if isinstance(dims, int):
            dims = [dims]
        outer, r, inner = reduction_view(x.shape, dims)
        out = self.new_tval(node.meta["val"].shape)
        self.dispatch(node, "reduce", out, [x], [outer, r, inner, REDUCTIONS[node.target], outer * inner],
                      groups_1d(outer * inner, 64))
        self.values[node] = out

    def softmax(self, node: torch.fx.Node) -> None:
        x = self.val(node.args[0])
        dim = node.args[1] % len(x.shape)
        outer, r, inner = reduction_view(x.shape, [dim])
        out = self.new_tval(x.shape)
        self.dispatch(node, "softmax", out, [x], [outer, r, inner, int(node.target is aten._log_softmax.default),
                                                  outer * inner], groups_1d(outer * inner, 64))
        self.values[node] = out

    def embedding(self, node: torch.fx.Node) -> None:
        w = self.val(node.args[0])
        idx = self.val(node.args[1])
        rows, d = w.shape
        out = self.new_tval(node.meta["val"].shape)
        self.dispatch(node, "embedding", out, [w, idx], [idx.numel, d, rows, int(idx.dtype == torch.int64),
                                                         out.numel], groups_1d(out.numel))
        self.values[node] = out

    # ---- memory plan
    def plan_memory(self) -> tuple[int, bytes]:
        n = len(self.dispatches)
        for st in filter(None, self.inputs):
            st.first = -1
            st.last = max(st.last, -1)
        for i, d in enumerate(self.dispatches):
            for tv in d.bindings:
                tv.storage.first = min(tv.storage.first, i)
                tv.storage.last = max(tv.storage.last, i)
        for tv in self.outputs:
            tv.storage.last = n
            tv.storage.first = min(tv.storage.first, n)
        weights = bytearray()
        used = {id(tv.storage) for d in self.dispatches for tv in d.bindings} | {id(tv.storage) for tv in self.outputs}
        for st in self.storages:
            if st.kind == "weight" and id(st) in used:
                st.offset = len(weights)
                weights += st.data
                weights += b"\0" * (-len(weights) % ALIGN)
        arena = [st for st in self.storages if st.kind != "weight" and (id(st) in used or st in self.inputs)]
        placed: list[Storage] = []
        end = 0
        for st in sorted(arena, key=lambda s: -s.nbytes):
            size = -(-st.nbytes // ALIGN) * ALIGN
            busy = sorted((p.offset, p.offset + -(-p.nbytes // ALIGN) * ALIGN) for p in placed
                          if not (p.last < st.first or st.last < p.first))
            offset = 0
            for a, b in busy:
                if offset + size <= a:
                    break
                offset = max(offset, b)
            st.offset = offset
            placed.append(st)
            end = max(end, offset + size)
        return max(end, ALIGN), bytes(weights)


def _regions(builder: flatbuffers.Builder, regions: list[tuple[int, int, int]]) -> int:
    builder.StartVector(24, len(regions), 8)
    for mem, off, size in reversed(regions):
        builder.Prep(8, 24)
        builder.PrependUint64(size)
        builder.PrependUint64(off)
        builder.Pad(7)
        builder.PrependUint8(mem)
    return builder.EndVector()


def _region(tv: TVal) -> tuple[int, int, int]:
    return (MEM_WEIGHTS if tv.storage.kind == "weight" else MEM_ARENA, tv.storage.offset, tv.storage.nbytes)


def plan_version(lowering: Lowering) -> int:
    """2 when anything is float16 (dispatch storage or an argument), else 1."""
    f16 = any(d.storage == torch.float16 for d in lowering.dispatches) or \
        any(t == torch.float16 for t in [*lowering.input_dtypes, *(tv.dtype for tv in lowering.outputs)])
    return PLAN_VERSION_F16 if f16 else PLAN_VERSION_F32


def serialize(lowering: Lowering) -> bytes:
    arena_bytes, weights = lowering.plan_memory()
    b = flatbuffers.Builder(1024 + len(weights))
    b.ForceDefaults(True)
    dispatch_offsets = []
    for d in lowering.dispatches:
        shader = b.CreateString(d.shader)
        label = b.CreateString(d.label)
        bindings = _regions(b, [_region(tv) for tv in d.bindings])
        push = b.CreateNumpyVector(np.asarray(d.push, dtype=np.uint32))
        groups = b.CreateNumpyVector(np.asarray(d.groups, dtype=np.uint32))
        b.StartObject(6)
        b.PrependUOffsetTRelativeSlot(0, shader, 0)
        b.PrependUOffsetTRelativeSlot(1, bindings, 0)
        b.PrependUOffsetTRelativeSlot(2, push, 0)
        b.PrependUOffsetTRelativeSlot(3, groups, 0)
        b.PrependUOffsetTRelativeSlot(4, label, 0)
        b.PrependUint8Slot(5, PLAN_DTYPE[d.storage], 0)
        dispatch_offsets.append(b.EndObject())
    b.StartVector(4, len(dispatch_offsets), 4)
    for off in reversed(dispatch_offsets):
        b.PrependUOffsetTRelative(off)
    dispatches = b.EndVector()
    inputs = _regions(b, [(MEM_ARENA, st.offset, st.nbytes) if st else (MEM_ARENA, 0, 0) for st in lowering.inputs])
    outputs = _regions(b, [_region(tv) for tv in lowering.outputs])
    weights_vec = b.CreateByteVector(weights)
    arg_dtypes = [lowering.input_dtypes, [tv.dtype for tv in lowering.outputs]]
    input_dtypes, output_dtypes = (b.CreateNumpyVector(np.asarray([PLAN_DTYPE[t] for t in ts], dtype=np.uint8))
                                   for ts in arg_dtypes)
    b.StartObject(8)
    b.PrependUint32Slot(0, plan_version(lowering), 1)
    b.PrependUOffsetTRelativeSlot(1, weights_vec, 0)
    b.PrependUint64Slot(2, arena_bytes, 0)
    b.PrependUOffsetTRelativeSlot(3, inputs, 0)
    b.PrependUOffsetTRelativeSlot(4, outputs, 0)
    b.PrependUOffsetTRelativeSlot(5, dispatches, 0)
    b.PrependUOffsetTRelativeSlot(6, input_dtypes, 0)
    b.PrependUOffsetTRelativeSlot(7, output_dtypes, 0)
    root = b.EndObject()
    b.Finish(root, file_identifier=b"WVKP")
    return bytes(b.Output())


class VulkanBackend(Backend):
    name = "vulkan"

    def preprocess(self, subgraph: DelegateSubgraph, compile_specs) -> PreprocessResult:
        lowering = Lowering(subgraph)
        lowering.run()
        blob = serialize(lowering)
        arena = max((st.offset + st.nbytes for st in lowering.storages
                     if st.kind != "weight" and st.offset >= 0), default=0)
        return PreprocessResult(blob, {
            "dispatches": len(lowering.dispatches),
            "float16_dispatches": sum(d.storage == torch.float16 for d in lowering.dispatches),
            "shaders": {n: s for n, s in lowering.ops.items()},
            "arena_bytes": arena,
            "weight_bytes": sum(st.nbytes for st in lowering.storages if st.kind == "weight" and st.offset >= 0),
        }, compatibility=compatibility(lowering))


def compatibility(lowering: Lowering) -> str:
    """What the runtime half checks before reading the blob (validate_blob in
    runtime/vulkan_backend.cpp): this plugin's version and the plan version."""
    from . import VERSION

    return f"wick-vulkan {VERSION}; plan WVKP {plan_version(lowering)}"
