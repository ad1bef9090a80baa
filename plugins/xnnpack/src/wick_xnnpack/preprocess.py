"""preprocess: a claimed Edge subgraph -> an XNNPACK graph -> the WXNN blob.

Walks the subgraph once, in order. Each fx value becomes either a constant
(a torch tensor, folded ahead of time) or a runtime tensor `T` (an XNNPACK
value id with its logical shape). 4-D runtime tensors are NHWC inside
XNNPACK; the delegate's 4-D inputs/outputs are converted by the runtime.

On the way:
* BatchNorm following a convolution is folded into its weights and bias;
* relu / relu6 / hardtanh / clamp after an op with an output range (conv,
  linear, pooling, add, ...) become that op's output_min/output_max;
* weights are laid out as XNNPACK wants them (OHWI, [1, kh, kw, C] for
  depthwise, [out, in] for fully connected).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from wick.delegate_sdk import Backend, PreprocessResult

from . import quantized
from .common import (LOGICAL_POS_IN_NHWC, NCHW_TO_NHWC, NHWC_TO_NCHW, LoweringError, T, dims_of, order_preserving,
                     pad_params, phys, physical_dim, to_phys)
from .partitioner import NAME, _through_qdq
from .xgraph import FLAG_ALIGN_CORNERS, FLAG_KEEP_DIMS, FUSABLE, NONE, Op, XBinding, XGraph

aten = torch.ops.aten


# Ops that read 4-D tensors as NHWC.
SPATIAL = {aten.convolution.default, aten._native_batch_norm_legit_no_training.default,
           aten.max_pool2d_with_indices.default, aten.avg_pool2d.default, aten._adaptive_avg_pool2d.default,
           aten.upsample_bilinear2d.vec, aten.constant_pad_nd.default, aten._prelu_kernel.default}


class Converter:
    def __init__(self, subgraph):
        self.sub = subgraph
        self.g = XGraph()
        self.env: dict[torch.fx.Node, Any] = {}
        self.folded_bn: dict[torch.fx.Node, T] = {}
        gm = subgraph.graph_module
        self.out_node = next(n for n in gm.graph.nodes if n.op == "output")
        self.outputs = set(a for a in self.out_node.args[0] if isinstance(a, torch.fx.Node))
        self.debug: list[str] = []
        # int8 (quantized.py): nodes folded into a quantized op, quantize nodes whose
        # value a quantized op already produced, and the ops lowered as quantized
        self.skip: set[torch.fx.Node] = set()
        self.qpending: dict[torch.fx.Node, T] = {}
        self.quantized_ops: list[str] = []
        # value id -> the same tensor in the other 4-D layout (one transpose each way at most)
        self.layout_twin: dict[int, int] = {}

    # ---- helpers ---------------------------------------------------------

    def get(self, a):
        if isinstance(a, torch.fx.Node):
            v = self.env[a]
            if v is quantized.SKIPPED:
                raise LoweringError(f"{a.name} was folded into a quantized op")
            if isinstance(v, quantized.DQ):
                return quantized.materialize(self, v)  # a float op reads a dequantized int8 value
            if isinstance(v, T) and v.q is not None:
                raise LoweringError(f"{a.name} is int8; only quantized ops and dequantize read it")
            return v
        return a

    def any(self, a) -> T:
        """A runtime tensor in whatever layout it has."""
        v = self.get(a)
        if not isinstance(v, T):
            raise LoweringError(f"expected a runtime tensor, got {type(v).__name__}")
        if v.flat_nhwc is not None:
            raise LoweringError("a flatten of an NHWC tensor may only feed linear layers")
        return v

    def t(self, a) -> T:
        """A runtime tensor, 4-D ones as NHWC (what spatial ops take)."""
        return self.to_nhwc(self.any(a))

    def tc(self, a) -> T:
        """A runtime tensor in PyTorch's order (what data movement, batch
        matmul and reductions over logical dims take)."""
        return self.to_contig(self.any(a))

    def to_nhwc(self, x: T) -> T:
        if not (x.rank == 4 and x.contig):
            return x
        if x.id not in self.layout_twin:
            self.layout_twin[x.id] = self.g.node(Op.StaticTranspose, [x.id], phys(x.shape), params=NCHW_TO_NHWC,
                                                 source="layout")
        return T(self.layout_twin[x.id], x.shape, q=x.q)

    def to_contig(self, x: T) -> T:
        if x.rank != 4 or x.contig:
            return x
        if order_preserving(x.shape):  # same element order: a relabelling
            return T(self.reshape(x, x.shape), x.shape, q=x.q, contig=True)
        if x.id not in self.layout_twin:
            self.layout_twin[x.id] = self.g.node(Op.StaticTranspose, [x.id], x.shape, params=NHWC_TO_NCHW,
                                                 source="layout")
        return T(self.layout_twin[x.id], x.shape, q=x.q, contig=True)

    def const(self, a) -> torch.Tensor:
        v = self.get(a)
        if isinstance(v, T):
            raise LoweringError("expected a constant")
        return v.detach() if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=torch.float32)

    def new(self, kind, inputs, shape, node, contig=False, **attrs) -> T:
        shape = tuple(int(s) for s in shape)
        contig = contig and len(shape) == 4
        vid = self.g.node(kind, inputs, dims_of(shape, contig), source=node.name if node is not None else "", **attrs)
        return T(vid, shape, contig=contig)

    def reshape(self, x: T, dims) -> int:
        """A value with the same elements as x under physical `dims`."""
        dims = tuple(int(d) for d in dims) or (1,)
        if self.g.values[x.id].dims == dims:
            return x.id
        return self.g.node(Op.StaticReshape, [x.id], dims, params=list(dims))

    def fusable_producer(self, fx_input: torch.fx.Node):
        v = self.env.get(fx_input)
        if not isinstance(v, T) or v.flat_nhwc is not None:
            return None
        producer = self.g.producer.get(v.id)
        if producer is None or producer.kind not in FUSABLE:
            return None
        if len(fx_input.users) != 1 or fx_input in self.outputs:
            return None
        if self.g.values[v.id].dtype != 0:  # quantized ops carry their range in the output quantization
            return None
        return producer

    def operand(self, a, out_shape, contig=False) -> int:
        """A binary op's operand, broadcastable against `out_shape` in the
        output's layout (NHWC for 4-D unless `contig`)."""
        rank = len(out_shape)
        v = self.get(a)
        if isinstance(v, T):
            if v.flat_nhwc is not None:
                raise LoweringError("a flatten of an NHWC tensor may only feed linear layers")
            if contig:
                v = self.to_contig(v)
                if v.rank < rank:
                    return self.reshape(v, (1,) * (rank - v.rank) + v.shape)
                return v.id
            v = self.to_nhwc(v)
            if rank == 4 and v.rank < 4:
                padded = (1,) * (4 - v.rank) + v.shape
                if not order_preserving(padded):
                    raise LoweringError(f"operand {list(v.shape)} cannot broadcast against an NHWC tensor")
                return self.reshape(v, phys(padded))
            return v.id
        c = self.const(a).to(torch.float32)
        if rank == 4:
            c = c.reshape((1,) * (4 - c.dim()) + tuple(c.shape))
        arr = c.contiguous().numpy() if contig else to_phys(c)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        return self.g.constant(arr)

    def elementwise_contig(self, args, out_shape) -> bool:
        """Whether an elementwise op with these operands runs in PyTorch's
        order: its output is 4-D and no runtime operand is NHWC (attention
        scores plus a mask, say), or a lower-rank runtime operand broadcasts
        along more than the channels of an NHWC one."""
        if len(out_shape) != 4:
            return False
        runtime = [v for v in (self.get(a) for a in args) if isinstance(v, T)]
        if not any(v.nhwc for v in runtime):
            return True
        return any(v.rank < 4 and not order_preserving((1,) * (4 - v.rank) + v.shape) for v in runtime)

    # ---- the walk ---------------------------------------------------------

    def run(self) -> XGraph:
        gm = self.sub.graph_module
        placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
        for i, p in enumerate(placeholders):
            if i in self.sub.constants:
                self.env[p] = self.sub.constants[i]
                continue
            meta = self.sub.input_metas[i]
            q = quantized.input_value(self, p, meta)
            if q is not None:
                continue
            if meta.dtype != torch.float32:
                raise LoweringError(f"input {p.name} is {meta.dtype}")
            shape = tuple(int(s) for s in meta.shape)
            # 4-D inputs of spatial ops arrive as NHWC (the runtime converts them); others keep PyTorch's order
            contig = len(shape) == 4 and not any(u.target in SPATIAL or quantized.is_qdq(u) for u in p.users)
            vid = self.g.value(dims_of(shape, contig))
            self.g.inputs.append(XBinding(vid, shape, nchw=not contig and not order_preserving(shape)))
            self.env[p] = T(vid, shape, contig=contig)
        for node in gm.graph.nodes:
            if node.op != "call_function":
                continue
            try:
                self.lower(node)
            except LoweringError as e:
                raise LoweringError(f"xnnpack: cannot lower {node.name} ({node.target}): {e}") from None
        for o in self.out_node.args[0]:
            v = self.env[o] if isinstance(o, torch.fx.Node) and isinstance(self.env[o], T) else self.get(o)
            if isinstance(v, T):
                if v.flat_nhwc is not None:
                    raise LoweringError("xnnpack: a flatten of an NHWC tensor is a delegate output")
                if quantized.output_binding(self, v):
                    continue
                self.g.outputs.append(XBinding(v.id, v.shape, nchw=v.nhwc and not order_preserving(v.shape)))
            else:
                c = self.const(o).to(torch.float32)
                vid = self.g.constant(to_phys(c).reshape(phys(c.shape)))
                self.g.outputs.append(XBinding(vid, tuple(c.shape), nchw=not order_preserving(tuple(c.shape))))
        return self.g

    def lower(self, node: torch.fx.Node) -> None:
        if node in self.skip:
            self.env[node] = quantized.SKIPPED
            return
        if node.target is operator.getitem:
            src = self.env[node.args[0]]
            self.env[node] = src[node.args[1]] if isinstance(src, (tuple, list)) else None
            return
        args = node.all_input_nodes
        if all(not quantized.is_runtime(self.env.get(a)) for a in args) and quantized.foldable(node):
            # constants only: fold ahead of time with torch itself
            fargs = torch.fx.node.map_arg(node.args, lambda a: self.env[a])
            fkwargs = torch.fx.node.map_arg(node.kwargs, lambda a: self.env[a])
            self.env[node] = node.target(*fargs, **fkwargs)
            return
        if quantized.lower(self, node):
            return
        handler = HANDLERS.get(node.target)
        if handler is None:
            raise LoweringError("no XNNPACK lowering")
        handler(self, node)

    # ---- ops ----------------------------------------------------------------

    def convolution(self, node):
        x = self.t(node.args[0])
        w = self.const(node.args[1]).to(torch.float32)
        b = self.const(node.args[2]).to(torch.float32) if node.args[2] is not None else None
        stride, padding, dilation, transposed, output_padding, groups = node.args[3:9]
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        cin = x.shape[1]
        kh, kw = w.shape[2], w.shape[3]
        bn = self._foldable_bn(node)
        if bn is not None and not transposed:
            gamma, beta, mean, var, eps = bn
            scale = (gamma if gamma is not None else torch.ones_like(var)) / torch.sqrt(var + eps)
            w = w * scale.reshape(-1, 1, 1, 1)
            b = ((b if b is not None else torch.zeros_like(var)) - mean) * scale + (
                beta if beta is not None else torch.zeros_like(var))
        pt, pr, pb, pl = padding[0], padding[1], padding[0], padding[1]  # XNNPACK: top, right, bottom, left
        if transposed:
            gin = cin // groups
            gout = w.shape[1]
            filt = torch.cat([w[g * gin:(g + 1) * gin].permute(1, 2, 3, 0) for g in range(groups)], dim=0)
            params = [pt, pr, pb, pl, output_padding[0], output_padding[1], kh, kw, stride[0], stride[1],
                      dilation[0], dilation[1], groups, gin, gout]
            kind = Op.Deconvolution2d
        elif groups == cin and w.shape[1] == 1 and groups > 1:
            filt = w.permute(1, 2, 3, 0)  # [1, kh, kw, Cout]
            params = [pt, pr, pb, pl, kh, kw, stride[0], stride[1], dilation[0], dilation[1],
                      w.shape[0] // cin, cin]
            kind = Op.DepthwiseConvolution2d
        else:
            filt = w.permute(0, 2, 3, 1)  # OHWI
            params = [pt, pr, pb, pl, kh, kw, stride[0], stride[1], dilation[0], dilation[1], groups,
                      cin // groups, w.shape[0] // groups]
            kind = Op.Convolution2d
        fid = self.g.constant(filt.contiguous().numpy())
        bid = self.g.constant(b.contiguous().numpy()) if b is not None else NONE
        out = self.new(kind, [x.id, fid, bid], out_shape, node, params=[int(p) for p in params])
        self.env[node] = out
        if bn is not None and not transposed:
            self.folded_bn[next(iter(node.users))] = out

    def _foldable_bn(self, conv):
        users = list(conv.users)
        if len(users) != 1 or conv in self.outputs:
            return None
        bn = users[0]
        if bn.target != aten._native_batch_norm_legit_no_training.default or bn.args[0] is not conv:
            return None
        if any(isinstance(self.env.get(a), T) for a in bn.args[1:5] if isinstance(a, torch.fx.Node)):
            return None
        if any(u.target is operator.getitem and u.args[1] != 0 for u in bn.users):
            return None
        weight, bias, mean, var = (self.const(a).to(torch.float32) if a is not None else None for a in bn.args[1:5])
        return weight, bias, mean, var, float(bn.args[6])

    def batch_norm(self, node):
        if node in self.folded_bn:
            self.env[node] = (self.folded_bn[node], None, None)
            return
        x = self.t(node.args[0])
        weight, bias, mean, var = (self.const(a).to(torch.float32) if a is not None else None
                                   for a in node.args[1:5])
        eps = float(node.args[6])
        scale = (weight if weight is not None else torch.ones_like(var)) / torch.sqrt(var + eps)
        shift = (bias if bias is not None else torch.zeros_like(var)) - mean * scale
        sid = self.g.constant(scale.reshape(1, 1, 1, -1).numpy())
        hid = self.g.constant(shift.reshape(1, 1, 1, -1).numpy())
        y = self.new(Op.Multiply, [x.id, sid], x.shape, node)
        self.env[node] = (self.new(Op.Add, [y.id, hid], x.shape, node), None, None)

    def linear(self, node):
        if node.target == aten.addmm.default:
            bias_arg, a_arg, w_arg = node.args[0], node.args[1], node.args[2]
            beta = node.kwargs.get("beta", 1)
            alpha = node.kwargs.get("alpha", 1)
        else:
            bias_arg, (a_arg, w_arg), beta, alpha = None, node.args[:2], 1, 1
        a = self.get(a_arg)
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        if isinstance(self.get(w_arg), T) or not isinstance(a, T):
            self._runtime_matmul(node, a_arg, w_arg, bias_arg, alpha, beta, out_shape)
            return
        w = self.const(w_arg).to(torch.float32).t().contiguous() * alpha  # [out, in]
        if a.flat_nhwc is not None:
            c, h, wd = a.flat_nhwc
            w = w.reshape(w.shape[0], c, h, wd).permute(0, 2, 3, 1).reshape(w.shape[0], -1).contiguous()
        fid = self.g.constant(w.numpy())
        bid = NONE
        runtime_bias = None
        if bias_arg is not None:
            bv = self.get(bias_arg)
            if not isinstance(bv, T) and (self.const(bias_arg).dim() == 1 or self.const(bias_arg).shape[0] == 1):
                bias = (self.const(bias_arg).to(torch.float32) * beta).reshape(-1)
                if bias.numel() == 1:
                    bias = bias.expand(out_shape[-1])
                bid = self.g.constant(bias.contiguous().numpy())
            else:
                runtime_bias = bias_arg
                if beta != 1:
                    raise LoweringError("beta other than 1 on a runtime bias")
        y = self.new(Op.FullyConnected, [a.id, fid, bid], out_shape, node)
        if runtime_bias is not None:
            y = self.new(Op.Add, [y.id, self.operand(runtime_bias, out_shape)], out_shape, node)
        self.env[node] = y

    def _runtime_matmul(self, node, a_arg, w_arg, bias_arg, alpha, beta, out_shape):
        """mm / addmm whose second matrix is computed at run time: a batch
        matmul of one batch (XNNPACK's fully connected packs constant weights)."""
        if alpha != 1 or beta != 1:
            raise LoweringError("alpha/beta other than 1 with a runtime matrix")
        a, w = self.matrix_operand(a_arg), self.matrix_operand(w_arg)
        (m, k), n = self.g.values[a].dims, out_shape[1]
        a3 = self.g.node(Op.StaticReshape, [a], (1, m, k), params=[1, m, k])
        w3 = self.g.node(Op.StaticReshape, [w], (1, k, n), params=[1, k, n])
        y = self.g.node(Op.BatchMatrixMultiply, [a3, w3], (1, m, n), source=node.name)
        y = T(self.reshape(T(y, (1, m, n)), out_shape), out_shape)
        if bias_arg is not None:
            y = self.new(Op.Add, [y.id, self.operand(bias_arg, out_shape)], out_shape, node)
        self.env[node] = y

    def binary(self, node):
        kind = {aten.add.Tensor: Op.Add, aten.add.Scalar: Op.Add, aten.sub.Tensor: Op.Subtract,
                aten.sub.Scalar: Op.Subtract, aten.mul.Tensor: Op.Multiply, aten.mul.Scalar: Op.Multiply,
                aten.div.Tensor: Op.Divide, aten.div.Scalar: Op.Divide, aten.maximum.default: Op.Maximum,
                aten.minimum.default: Op.Minimum}[node.target]
        a, b = node.args[0], node.args[1]
        alpha = node.kwargs.get("alpha", node.args[2] if len(node.args) > 2 else 1)
        if alpha != 1:
            if isinstance(self.get(b), T):
                raise LoweringError("alpha other than 1 on a runtime operand")
            b = self.const(b) * alpha
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        contig = self.elementwise_contig([a, b], out_shape)
        self.env[node] = self.new(kind, [self.operand(a, out_shape, contig), self.operand(b, out_shape, contig)],
                                  out_shape, node, contig=contig)

    def clamp(self, node):
        if node.target == aten.relu.default:
            lo, hi = 0.0, math.inf
        elif node.target == aten.hardtanh.default:
            lo = node.args[1] if len(node.args) > 1 else -1.0
            hi = node.args[2] if len(node.args) > 2 else 1.0
        else:
            lo = node.args[1] if len(node.args) > 1 and node.args[1] is not None else -math.inf
            hi = node.args[2] if len(node.args) > 2 and node.args[2] is not None else math.inf
        lo, hi = float(lo), float(hi)
        producer = self.fusable_producer(node.args[0])
        if producer is not None:
            producer.output_min = max(producer.output_min, lo)
            producer.output_max = min(producer.output_max, hi)
            self.env[node] = self.env[node.args[0]]
            self.debug.append(f"{node.name} fused into {producer.source}")
            return
        x = self.any(node.args[0])
        self.env[node] = self.new(Op.Clamp, [x.id], x.shape, node, contig=x.contig, output_min=lo, output_max=hi)

    def unary(self, node):
        kind = {aten.sigmoid.default: Op.Sigmoid, aten.abs.default: Op.Abs, aten.neg.default: Op.Negate,
                aten.floor.default: Op.Floor, aten.ceil.default: Op.Ceiling, aten.sqrt.default: Op.SquareRoot,
                aten.round.default: Op.BankersRounding, aten.hardswish.default: Op.HardSwish,
                aten.tanh.default: Op.Tanh, aten.gelu.default: Op.Gelu, aten.exp.default: Op.Exp,
                aten.log.default: Op.Log, aten.rsqrt.default: Op.ReciprocalSquareRoot}[node.target]
        x = self.any(node.args[0])
        self.env[node] = self.new(kind, [x.id], x.shape, node, contig=x.contig)

    def reciprocal_of(self, node, x: T) -> T:
        one = self.g.constant(np.ones(1, dtype=np.float32))
        return self.new(Op.Divide, [one, x.id], x.shape, node, contig=x.contig)

    def reciprocal(self, node):
        self.env[node] = self.reciprocal_of(node, self.any(node.args[0]))

    def pow(self, node):
        x = self.any(node.args[0])
        e = float(node.args[1])
        if e == 2:
            y = self.new(Op.Square, [x.id], x.shape, node, contig=x.contig)
        elif e == 0.5:
            y = self.new(Op.SquareRoot, [x.id], x.shape, node, contig=x.contig)
        elif e == 1:
            y = x
        elif e == -1:
            y = self.reciprocal_of(node, x)
        elif e == -0.5:
            y = self.new(Op.ReciprocalSquareRoot, [x.id], x.shape, node, contig=x.contig)
        else:
            raise LoweringError(f"exponent {e}")
        self.env[node] = y

    def leaky_relu(self, node):
        x = self.t(node.args[0])
        slope = float(node.args[1]) if len(node.args) > 1 else 0.01
        self.env[node] = self.new(Op.LeakyRelu, [x.id], x.shape, node, alpha=slope)

    def elu(self, node):
        x = self.t(node.args[0])
        alpha = float(node.args[1]) if len(node.args) > 1 else 1.0
        self.env[node] = self.new(Op.Elu, [x.id], x.shape, node, alpha=alpha)

    def prelu(self, node):
        x = self.t(node.args[0])
        slope = self.const(node.args[1]).to(torch.float32).reshape(-1)
        if slope.numel() == 1:
            slope = slope.expand(x.shape[1])
        sid = self.g.constant(slope.contiguous().numpy())
        self.env[node] = self.new(Op.Prelu, [x.id, sid], x.shape, node)

    def softmax(self, node):
        x = self.any(node.args[0])
        dim = node.args[1] % max(x.rank, 1)
        if x.nhwc and physical_dim(4, dim) == 3:
            self.env[node] = self.new(Op.Softmax, [x.id], x.shape, node)  # the innermost NHWC dim (channels)
            return
        x = self.to_contig(x)
        if dim == x.rank - 1:
            self.env[node] = self.new(Op.Softmax, [x.id], x.shape, node, contig=True)
            return
        # XNNPACK's softmax runs over the innermost dim: move `dim` there and back
        perm = [d for d in range(x.rank) if d != dim] + [dim]
        inverse = [perm.index(d) for d in range(x.rank)]
        moved = tuple(x.shape[d] for d in perm)
        t = self.g.node(Op.StaticTranspose, [x.id], moved, params=perm, source=node.name)
        sm = self.g.node(Op.Softmax, [t], moved, source=node.name)
        self.env[node] = self.new(Op.StaticTranspose, [sm], x.shape, node, contig=True, params=inverse)

    def mean(self, node):
        x = self.any(node.args[0])
        rank = x.rank
        dims = node.args[1] if len(node.args) > 1 and node.args[1] is not None else list(range(rank))
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        if x.nhwc and sorted({physical_dim(rank, d) for d in dims}) == [1, 2]:
            p = phys(x.shape)
            g = self.g.node(Op.GlobalAveragePooling2d, [x.id], (p[0], 1, 1, p[3]), source=node.name)
            y = T(g, (x.shape[0], x.shape[1], 1, 1))
            # the pooled elements are in the order of the output shape
            self.env[node] = T(self.reshape(y, phys(out_shape)), out_shape)
            return
        self.reduce(node)

    def reduce(self, node):
        """mean / sum / amax over logical dims, in PyTorch's order."""
        x = self.tc(node.args[0])
        dims = node.args[1] if len(node.args) > 1 and node.args[1] is not None else list(range(x.rank))
        dims = [dims] if isinstance(dims, int) else list(dims)
        keepdim = bool(node.args[2]) if len(node.args) > 2 else bool(node.kwargs.get("keepdim", False))
        axes = sorted({d % x.rank for d in dims}) if dims else list(range(x.rank))
        kind = {aten.mean.dim: Op.ReduceMean, aten.sum.dim_IntList: Op.ReduceSum,
                aten.amax.default: Op.ReduceMax}[node.target]
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        kept = tuple(1 if d in axes else x.shape[d] for d in range(x.rank))
        y = self.g.node(kind, [x.id], kept, params=axes, flags=FLAG_KEEP_DIMS, source=node.name)
        self.env[node] = T(self.reshape(T(y, kept), out_shape), out_shape, contig=len(out_shape) == 4)

    def layer_norm(self, node):
        """native_layer_norm, decomposed (XNNPACK has no layer norm op):
        (x - mean) * rsqrt(mean((x - mean)^2) + eps) * weight + bias over the
        trailing normalized dims."""
        x = self.tc(node.args[0])
        normalized = list(node.args[1])
        weight, bias, eps = node.args[2], node.args[3], float(node.args[4])
        axes = list(range(x.rank - len(normalized), x.rank))
        kept = tuple(1 if d in axes else x.shape[d] for d in range(x.rank))
        contig = x.rank == 4
        mean = self.g.node(Op.ReduceMean, [x.id], kept, params=axes, flags=FLAG_KEEP_DIMS, source=node.name)
        d = self.new(Op.Subtract, [x.id, mean], x.shape, node, contig=contig)
        sq = self.new(Op.Square, [d.id], x.shape, node, contig=contig)
        var = self.g.node(Op.ReduceMean, [sq.id], kept, params=axes, flags=FLAG_KEEP_DIMS, source=node.name)
        eps_id = self.g.constant(np.full(1, eps, dtype=np.float32))
        var_eps = self.g.node(Op.Add, [var, eps_id], kept, source=node.name)
        rstd = self.g.node(Op.ReciprocalSquareRoot, [var_eps], kept, source=node.name)
        y = self.new(Op.Multiply, [d.id, rstd], x.shape, node, contig=contig)
        if weight is not None:
            y = self.new(Op.Multiply, [y.id, self.operand(weight, x.shape, contig=True)], x.shape, node, contig=contig)
        if bias is not None:
            y = self.new(Op.Add, [y.id, self.operand(bias, x.shape, contig=True)], x.shape, node, contig=contig)
        self.env[node] = (y, None, None)

    def view(self, node):
        x = self.get(node.args[0])
        if not isinstance(x, T):
            raise LoweringError("expected a runtime tensor")
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        if x.flat_nhwc is not None:
            raise LoweringError("reshape of a flattened NHWC tensor")
        if x.shape == out_shape:
            self.env[node] = x
        elif x.nhwc and order_preserving(x.shape) and order_preserving(out_shape):
            self.env[node] = T(self.reshape(x, phys(out_shape)), out_shape)
        elif x.nhwc and out_shape == (x.shape[0], x.shape[1] * x.shape[2] * x.shape[3]) and self._feeds_linear(node):
            n, c, h, w = x.shape
            self.env[node] = T(self.reshape(x, out_shape), out_shape, flat_nhwc=(c, h, w))
        else:
            x = self.to_contig(x)
            self.env[node] = T(self.reshape(x, out_shape), out_shape, contig=len(out_shape) == 4)

    def _feeds_linear(self, node) -> bool:
        """A flatten whose every user is a linear layer reading it as its input
        (those permute their weight columns to NHWC order instead of a transpose)."""
        users = _through_qdq(node)
        return bool(users) and all(
            u.target in (aten.mm.default, aten.addmm.default) and
            _through_qdq(u.args[0 if u.target == aten.mm.default else 1], up=True) is node and
            not isinstance(self.env.get(u.args[1 if u.target == aten.mm.default else 2]), T) for u in users)

    def permute(self, node):
        x = self.any(node.args[0])
        perm = [d % x.rank for d in node.args[1]]
        if x.nhwc:
            perm = [LOGICAL_POS_IN_NHWC[d] for d in perm]
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        if perm == list(range(x.rank)):
            self.env[node] = T(self.reshape(x, out_shape), out_shape, contig=len(out_shape) == 4)
            return
        self.env[node] = self.new(Op.StaticTranspose, [x.id], out_shape, node, contig=True, params=perm)

    def bmm(self, node):
        a, b = self.matrix_operand(node.args[0]), self.matrix_operand(node.args[1])
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        self.env[node] = self.new(Op.BatchMatrixMultiply, [a, b], out_shape, node, contig=True)

    def matrix_operand(self, a) -> int:
        v = self.get(a)
        if isinstance(v, T):
            return self.tc(a).id
        return self.g.constant(self.const(a).to(torch.float32).contiguous().numpy())

    def tensor_list(self, items) -> list[int]:
        """Operands of a concatenation: runtime tensors in PyTorch's order, constants as they are."""
        return [self.matrix_operand(a) for a in items]

    def cat(self, node):
        items = [a for a in node.args[0]]
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        dim = (node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)) % len(out_shape)
        items = [a for a in items if not (isinstance(a, torch.fx.Node) and
                                          0 in tuple(a.meta["val"].shape))]  # torch.cat skips empty tensors
        if len(items) == 1:
            self.env[node] = self.get(items[0])
            return
        self.env[node] = self.new(Op.Concatenate, self.tensor_list(items), out_shape, node, contig=True,
                                  params=[dim])

    def _slice(self, x: T, dim: int, start: int, size: int, source: str) -> T:
        offsets = [0] * x.rank
        sizes = list(x.shape)
        offsets[dim], sizes[dim] = start, size
        shape = tuple(sizes)
        vid = self.g.node(Op.StaticSlice, [x.id], shape, params=offsets + sizes, source=source)
        return T(vid, shape, contig=len(shape) == 4)

    def slice(self, node):
        x = self.tc(node.args[0])
        dim = (node.args[1] if len(node.args) > 1 else 0) % x.rank
        start = node.args[2] if len(node.args) > 2 and node.args[2] is not None else 0
        end = node.args[3] if len(node.args) > 3 and node.args[3] is not None else x.shape[dim]
        size = x.shape[dim]
        start = max(0, min(size, start + size if start < 0 else start))
        end = max(start, min(size, end + size if end < 0 else end))
        if start == 0 and end == size:
            self.env[node] = x
            return
        self.env[node] = self._slice(x, dim, start, end - start, node.name)

    def select(self, node):
        x = self.tc(node.args[0])
        dim = node.args[1] % x.rank
        index = node.args[2] % x.shape[dim]
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        y = self._slice(x, dim, index, 1, node.name)
        self.env[node] = T(self.reshape(y, out_shape), out_shape, contig=len(out_shape) == 4)

    def split(self, node):
        x = self.tc(node.args[0])
        dim = (node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)) % x.rank
        if node.target == aten.split_copy.Tensor:
            step = int(node.args[1])
            sizes = [min(step, x.shape[dim] - s) for s in range(0, x.shape[dim], step)]
        else:
            sizes = [int(s) for s in node.args[1]]
        parts, start = [], 0
        for size in sizes:
            parts.append(x if size == x.shape[dim] else self._slice(x, dim, start, size, node.name))
            start += size
        self.env[node] = tuple(parts)

    def identity(self, node):
        self.env[node] = self.get(node.args[0])

    def max_pool(self, node):
        x = self.t(node.args[0])
        kernel = list(node.args[1])
        stride = list(node.args[2]) if len(node.args) > 2 and node.args[2] else kernel
        padding = list(node.args[3]) if len(node.args) > 3 else [0, 0]
        dilation = list(node.args[4]) if len(node.args) > 4 else [1, 1]
        out_shape = tuple(int(s) for s in node.meta["val"][0].shape)
        y = self.new(Op.MaxPooling2d, [x.id], out_shape, node,
                     params=[padding[0], padding[1], padding[0], padding[1], kernel[0], kernel[1], stride[0],
                             stride[1], dilation[0], dilation[1]])
        self.env[node] = (y, None)

    def avg_pool(self, node):
        args = list(node.args) + [None] * 7
        x = self.t(args[0])
        kernel = list(args[1])
        stride = list(args[2]) if args[2] else kernel
        padding = list(args[3]) if args[3] else [0, 0]
        count_include_pad = True if args[5] is None else bool(args[5])
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        if kernel == [1, 1] and stride == [1, 1] and padding == [0, 0]:
            self.env[node] = x
            return
        src = x
        if any(padding) and count_include_pad:
            # XNNPACK leaves padding out of the average; PyTorch's default counts it: pad with zeros first
            n, c, h, w = x.shape
            padded = (n, c, h + 2 * padding[0], w + 2 * padding[1])
            src = self.new(Op.StaticConstantPad, [x.id], padded, node,
                           params=[0, padding[0], padding[1], 0, 0, padding[0], padding[1], 0], alpha=0.0)
            padding = [0, 0]
        y = self.new(Op.AveragePooling2d, [src.id], out_shape, node,
                     params=[padding[0], padding[1], padding[0], padding[1], kernel[0], kernel[1], stride[0],
                             stride[1]])
        self.env[node] = y

    def adaptive_avg(self, node):
        x = self.t(node.args[0])
        oh, ow = node.args[1]
        n, c, h, w = x.shape
        out_shape = (n, c, oh, ow)
        if (oh, ow) == (1, 1):
            self.env[node] = T(self.g.node(Op.GlobalAveragePooling2d, [x.id], phys(out_shape), source=node.name),
                               out_shape)
        elif (oh, ow) == (h, w):
            self.env[node] = x
        else:
            kh, kw = h // oh, w // ow
            self.env[node] = self.new(Op.AveragePooling2d, [x.id], out_shape, node,
                                      params=[0, 0, 0, 0, kh, kw, kh, kw])

    def pad(self, node):
        x = self.t(node.args[0])
        params, value = pad_params(node, x.rank)
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        self.env[node] = self.new(Op.StaticConstantPad, [x.id], out_shape, node, params=params, alpha=value)

    def resize(self, node):
        x = self.t(node.args[0])
        align = bool(node.args[2])
        out_shape = tuple(int(s) for s in node.meta["val"].shape)
        self.env[node] = self.new(Op.StaticResizeBilinear2d, [x.id], out_shape, node,
                                  params=[out_shape[2], out_shape[3]], flags=FLAG_ALIGN_CORNERS if align else 0)


HANDLERS = {
    aten.convolution.default: Converter.convolution,
    aten._native_batch_norm_legit_no_training.default: Converter.batch_norm,
    aten.addmm.default: Converter.linear,
    aten.mm.default: Converter.linear,
    aten.relu.default: Converter.clamp, aten.hardtanh.default: Converter.clamp, aten.clamp.default: Converter.clamp,
    aten.sigmoid.default: Converter.unary, aten.abs.default: Converter.unary, aten.neg.default: Converter.unary,
    aten.floor.default: Converter.unary, aten.ceil.default: Converter.unary, aten.sqrt.default: Converter.unary,
    aten.round.default: Converter.unary, aten.hardswish.default: Converter.unary,
    aten.rsqrt.default: Converter.unary, aten.reciprocal.default: Converter.reciprocal,
    aten.tanh.default: Converter.unary, aten.gelu.default: Converter.unary, aten.exp.default: Converter.unary,
    aten.log.default: Converter.unary,
    aten.sum.dim_IntList: Converter.reduce, aten.amax.default: Converter.reduce,
    aten.permute_copy.default: Converter.permute, aten.bmm.default: Converter.bmm,
    aten.native_layer_norm.default: Converter.layer_norm,
    aten.cat.default: Converter.cat, aten.slice_copy.Tensor: Converter.slice,
    aten.select_copy.int: Converter.select, aten.split_with_sizes_copy.default: Converter.split,
    aten.split_copy.Tensor: Converter.split,
    aten.pow.Tensor_Scalar: Converter.pow,
    aten.leaky_relu.default: Converter.leaky_relu, aten.elu.default: Converter.elu,
    aten._prelu_kernel.default: Converter.prelu,
    aten._softmax.default: Converter.softmax,
    aten.mean.dim: Converter.mean,
    aten.view_copy.default: Converter.view, aten.squeeze_copy.dims: Converter.view,
    aten.unsqueeze_copy.default: Converter.view,
    aten.clone.default: Converter.identity, aten.alias_copy.default: Converter.identity,
    aten._to_copy.default: Converter.identity, aten.expand_copy.default: Converter.identity,
    aten.max_pool2d_with_indices.default: Converter.max_pool,
    aten.avg_pool2d.default: Converter.avg_pool,
    aten._adaptive_avg_pool2d.default: Converter.adaptive_avg,
    aten.constant_pad_nd.default: Converter.pad,
    aten.upsample_bilinear2d.vec: Converter.resize,
}
for _op in (aten.add.Tensor, aten.add.Scalar, aten.sub.Tensor, aten.sub.Scalar, aten.mul.Tensor, aten.mul.Scalar,
            aten.div.Tensor, aten.div.Scalar, aten.maximum.default, aten.minimum.default):
    HANDLERS[_op] = Converter.binary


class XnnpackBackend(Backend):
    name = NAME

    def preprocess(self, subgraph, compile_specs) -> PreprocessResult:
        conv = Converter(subgraph)
        graph = conv.run()
        debug = graph.summary()
        debug["fused"] = conv.debug
        debug["quantized_ops"] = conv.quantized_ops
        return PreprocessResult(graph.serialize(), debug, compatibility=compatibility())


def compatibility() -> str:
    """What the runtime half checks before reading the blob (validate_blob in
    runtime/xnnpack_backend.cpp, kCompatibility there): this plugin's version,
    the XNNPACK it links and the blob version. No target: XNNPACK picks its
    kernels for the CPU at init, so one blob runs on any CPU it supports."""
    from . import VERSION, XNNPACK_COMMIT
    from .xgraph import BLOB_VERSION

    return f"wick-xnnpack {VERSION}; XNNPACK {XNNPACK_COMMIT}; blob WXNN {BLOB_VERSION}"
