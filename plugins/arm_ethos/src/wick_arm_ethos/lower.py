"""Edge subgraph (fx) -> TOSA 1.0 flatbuffer.

Layout: PyTorch is NCHW, TOSA's convolutions and pools are NHWC. Each value
carries the permutation between its logical (PyTorch) dimensions and the
dimensions of its TOSA tensor, and a TRANSPOSE is emitted only where an op
needs another order (or a RESHAPE, when only size-1 dimensions move). A
``permute_copy`` therefore costs nothing: it only changes that permutation.
Graph inputs and outputs are in PyTorch's layout, so the runtime passes
Wick's buffers through unchanged.

Quantized regions (see rules.py) are lowered to integer TOSA: int8 tensors,
int32 accumulators and bias, RESCALE with per-channel multipliers, CLAMP for
fused activations, TABLE for sigmoid/tanh, ADD/SUB/MUL on int32 after a
RESCALE of both operands.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from . import rules
from .tosa_builder import TosaBuilder

aten = torch.ops.aten
NHWC = (0, 2, 3, 1)
FLOAT_MAX = float(np.finfo(np.float32).max)


class LoweringError(Exception):
    pass


@dataclass
class Val:
    """A TOSA tensor standing for one PyTorch value."""

    name: str
    shape: tuple[int, ...]          # logical (PyTorch) sizes
    dtype: Any                      # ts.DType of the TOSA tensor
    perm: tuple[int, ...]           # TOSA dims = [shape[p] for p in perm]
    q: tuple[float, int] | None = None  # (scale, zero point) of quantized int8 data

    @property
    def tosa_shape(self) -> list[int]:
        return [self.shape[p] for p in self.perm]


@dataclass
class Const:
    """A value known ahead of time (weights, bias, quantization parameters),
    in logical layout. With ``scales`` it holds int8 values of a quantized
    weight: real = (value - zps) * scales along ``axis`` (None: per tensor)."""

    value: np.ndarray
    scales: np.ndarray | None = None
    zps: np.ndarray | None = None
    axis: int | None = None


def _identity(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


def _shape(node: torch.fx.Node) -> tuple[int, ...]:
    val = node.meta.get("val")
    if isinstance(val, (tuple, list)):
        val = val[0]
    try:
        return tuple(int(s) for s in val.shape)
    except TypeError as e:
        raise LoweringError(f"{node.name}: dynamic shapes are not lowered to TOSA") from e


class Lowerer:
    def __init__(self, gm: torch.fx.GraphModule, constants: dict[int, torch.Tensor]):
        self.gm = gm
        self.constants = constants
        self.b = TosaBuilder()
        self.ts = self.b.ts
        self.env: dict[torch.fx.Node, Any] = {}
        self.node_ops: dict[str, list[str]] = {}
        self.q_t, self.dq_t, self.dq_c = rules.quant_targets()

    # -- driver ----------------------------------------------------------
    def run(self) -> TosaBuilder:
        index = 0
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                if index in self.constants:
                    self.env[node] = Const(self.constants[index].detach().contiguous().numpy())
                else:
                    val = node.meta["val"]
                    dtype = self._dtype(val.dtype, node)
                    name = self.b.input(node.name, list(val.shape), dtype)
                    self.env[node] = Val(name, tuple(val.shape), dtype, _identity(val.dim()))
                index += 1
            elif node.op == "call_function":
                if node in self.env:
                    continue  # produced by the op it was fused into
                before = Counter(self.b.op_counts)
                self._lower(node)
                emitted = Counter(self.b.op_counts) - before
                self.node_ops[node.name] = sorted(emitted.elements())
            elif node.op == "output":
                for out in node.args[0]:
                    self._emit_output(out)
        return self.b

    def _dtype(self, dtype: torch.dtype, node: Any = None) -> Any:
        table = {torch.float32: self.ts.DType.FP32, torch.int8: self.ts.DType.INT8,
                 torch.int32: self.ts.DType.INT32, torch.bool: self.ts.DType.BOOL}
        if dtype not in table:
            raise LoweringError(f"{getattr(node, 'name', '?')}: dtype {dtype} has no TOSA lowering here")
        return table[dtype]

    def _emit_output(self, out: torch.fx.Node) -> None:
        v = self.env.get(out)
        if not isinstance(v, Val):
            raise LoweringError(f"output {out.name} is not a tensor computed by the TOSA graph")
        v = self.to_perm(v, _identity(len(v.shape)))
        name = v.name
        if name in self.b.inputs or name in self.b.outputs:
            name = self.b.op(self.ts.Op.IDENTITY, [name], v.tosa_shape, v.dtype, self.b.attr("IdentityAttribute"),
                             "out")
        self.b.output(name)

    # -- layout ------------------------------------------------------------
    def to_perm(self, v: Val, perm: Sequence[int]) -> Val:
        perm = tuple(perm)
        if v.perm == perm:
            return v
        new_shape = [v.shape[p] for p in perm]
        moving = [p for p in v.perm if v.shape[p] != 1]
        if moving == [p for p in perm if v.shape[p] != 1]:  # only size-1 dims move: a reshape
            name = self.b.reshape(v.name, new_shape, v.dtype)
        else:
            tperm = [v.perm.index(p) for p in perm]
            name = self.b.transpose(v.name, tperm, new_shape, v.dtype)
        return Val(name, v.shape, v.dtype, perm, v.q)

    def logical(self, v: Val) -> Val:
        return self.to_perm(v, _identity(len(v.shape)))

    # -- helpers -----------------------------------------------------------
    def arg(self, a: Any) -> Any:
        return self.env[a] if isinstance(a, torch.fx.Node) else a

    def out_chain(self, node: torch.fx.Node):
        result, act, q = rules.output_chain(node)
        if q is None:
            raise LoweringError(f"{node.name}: quantized op without a following int8 quantize_per_tensor")
        return result, act, q, (float(q.args[1]), int(q.args[2]))

    def finish_quant(self, node: torch.fx.Node, name: str, shape: tuple[int, ...], perm: tuple[int, ...],
                     qout: tuple[float, int], act: torch.fx.Node | None, result: torch.fx.Node,
                     q: torch.fx.Node) -> None:
        """Applies a fused activation in the int8 domain and routes the
        result to the quantize node (and the nodes in between)."""
        if act is not None:
            lo, hi = self._act_bounds(act)
            name = self.b.clamp(name, self._qclip(lo, qout, -128), self._qclip(hi, qout, 127),
                                [shape[p] for p in perm], self.ts.DType.INT8)
        v = Val(name, shape, self.ts.DType.INT8, perm, qout)
        for n in (node, result, act, q):
            if n is not None:
                self.env[n] = v

    @staticmethod
    def _qclip(x: float, q: tuple[float, int], default: int) -> int:
        if math.isinf(x) or abs(x) >= FLOAT_MAX:
            return default
        return int(min(127, max(-128, round(x / q[0]) + q[1])))

    @staticmethod
    def _act_bounds(act: torch.fx.Node) -> tuple[float, float]:
        if act.target is aten.relu.default:
            return 0.0, math.inf
        if act.target is aten.hardtanh.default:
            a = act.args
            return (float(a[1]) if len(a) > 1 else -1.0), (float(a[2]) if len(a) > 2 else 1.0)
        lo = act.args[1] if len(act.args) > 1 else act.kwargs.get("min")
        hi = act.args[2] if len(act.args) > 2 else act.kwargs.get("max")
        return (-math.inf if lo is None else float(lo)), (math.inf if hi is None else float(hi))

    def requant(self, v: Val, qout: tuple[float, int]) -> Val:
        """int8 -> int8 RESCALE when the quantization parameters differ."""
        if v.q == qout:
            return v
        name = self.b.rescale(v.name, self.ts.DType.INT8, self.ts.DType.INT8, v.tosa_shape, [v.q[0] / qout[0]],
                              v.q[1], qout[1])
        return Val(name, v.shape, v.dtype, v.perm, qout)

    def is_quant(self, node: torch.fx.Node) -> bool:
        return any(isinstance(self.env.get(i), Val) and self.env[i].q is not None
                   for i in rules.tensor_inputs(node))

    def float_const(self, c: Const) -> np.ndarray:
        if c.scales is None:
            return c.value.astype(np.float32)
        shape = [1] * c.value.ndim
        if c.axis is not None:
            shape[c.axis] = -1
        return ((c.value.astype(np.float32) - c.zps.reshape(shape)) * c.scales.reshape(shape)).astype(np.float32)

    # -- dispatch ------------------------------------------------------------
    def _lower(self, node: torch.fx.Node) -> None:
        t = node.target
        if t is self.dq_c:
            x, s, z = (self.arg(a) for a in node.args[:3])
            self.env[node] = Const(x.value, s.value.astype(np.float64).reshape(-1),
                                   z.value.astype(np.int64).reshape(-1), int(node.args[3]))
            return
        if t is self.dq_t:
            x = self.arg(node.args[0])
            s, z = float(node.args[1]), int(node.args[2])
            if isinstance(x, Const):
                self.env[node] = Const(x.value, np.array([s]), np.array([z]), None)
            else:
                self.env[node] = Val(x.name, x.shape, x.dtype, x.perm, (s, z))
            return
        if t is self.q_t:
            raise LoweringError(f"{node.name}: quantize of a value the TOSA graph did not compute")
        if t is operator.getitem:
            src = self.arg(node.args[0])
            if node.args[1] != 0 or not isinstance(src, Val):
                raise LoweringError(f"{node.name}: only the first result of max_pool2d_with_indices is lowered")
            self.env[node] = src
            return
        if t is aten.permute_copy.default and isinstance(self.arg(node.args[0]), Const):
            c = self.arg(node.args[0])
            dims = [d % c.value.ndim for d in node.args[1]]
            axis = None if c.axis is None else dims.index(c.axis)
            self.env[node] = Const(np.transpose(c.value, dims), c.scales, c.zps, axis)
            return
        quant = self.is_quant(node)
        if t in rules.TRANSPARENT and quant:
            self.env[node] = self.arg(node.args[0])  # a no-op copy of a quantized value
            return
        if t is aten.convolution.default:
            return self.conv(node, quant)
        if t in rules.MATMULS:
            return self.matmul(node, quant)
        if t in rules.ACTIVATIONS:
            return self.activation(node, quant)
        if t in (aten.max_pool2d_with_indices.default, aten.max_pool2d.default, aten.avg_pool2d.default,
                 aten.mean.dim, aten._adaptive_avg_pool2d.default):
            return self.pool(node, quant)
        if t in rules.ELEMENTWISE:
            return self.elementwise(node, quant)
        if t in rules.RESHAPES:
            return self.reshape(node, quant)
        if t is aten.permute_copy.default:
            return self.permute(node, quant)
        if t is aten.cat.default:
            return self.cat(node, quant)
        if t in rules.TABLES:
            return self.table(node, quant)
        raise LoweringError(f"{node.name}: {t} has no TOSA lowering")

    # -- convolution and matrix products ------------------------------------
    def _conv_core(self, x: Val, weight: Const, bias: Any, stride: Sequence[int], pad4: Sequence[int],
                   dilation: Sequence[int], depthwise: bool, out_shape: tuple[int, ...],
                   quant: bool) -> tuple[str, list[float] | None]:
        """CONV2D / DEPTHWISE_CONV2D on an NHWC ``x``; ``weight`` in PyTorch
        layout [OC, IC/groups, KH, KW]. Returns the accumulator tensor and,
        when quantized, the per-channel accumulator scales."""
        ts = self.ts
        oc = weight.value.shape[0]
        # A float op may take a quantized constant weight (its dequantize is
        # folded here); the integer form takes the int8 values themselves.
        w = weight.value if quant else self.float_const(weight)
        if depthwise:
            cin = x.shape[1]
            w = w.reshape(cin, oc // cin, w.shape[2], w.shape[3]).transpose(2, 3, 0, 1)  # [KH, KW, C, M]
        else:
            w = w.transpose(0, 2, 3, 1)  # [OC, KH, KW, IC]
        n, _, oh, ow = out_shape
        tosa_out = [n, oh, ow, oc]
        op = ts.Op.DEPTHWISE_CONV2D if depthwise else ts.Op.CONV2D
        kind = "DepthwiseConv2dAttribute" if depthwise else "Conv2dAttribute"
        bias_f = None if bias is None else self.float_const(bias) if isinstance(bias, Const) else None
        if isinstance(bias, Val):
            raise LoweringError("a convolution bias computed at run time is not lowered")
        if not quant:
            wname = self.b.const(np.ascontiguousarray(w, dtype=np.float32), ts.DType.FP32, "weight")
            bname = self.b.const(bias_f if bias_f is not None else np.zeros(oc, np.float32), ts.DType.FP32, "bias")
            zp = [self.b.const(np.zeros(1, np.float32), ts.DType.FP32, "zp") for _ in range(2)]
            attr = self.b.attr(kind, pad=list(pad4), stride=list(stride), dilation=list(dilation), local_bound=False,
                               acc_type=ts.DType.FP32)
            return self.b.op(op, [x.name, wname, bname, *zp], tosa_out, ts.DType.FP32, attr, "conv"), None
        if weight.scales is None:
            raise LoweringError("a float weight in a quantized convolution")
        if np.any(weight.zps != 0):
            raise LoweringError("asymmetric (nonzero zero point) weights; Ethos-U wants symmetric int8 weights")
        sw = weight.scales if weight.scales.size == oc else np.full(oc, float(weight.scales[0]))
        acc_scales = (x.q[0] * sw).astype(np.float64)
        bias_q = np.zeros(oc, np.int64) if bias_f is None else np.round(bias_f.astype(np.float64) / acc_scales)
        bias_q = np.clip(bias_q, -(2 ** 31), 2 ** 31 - 1).astype(np.int32)
        wname = self.b.const(np.ascontiguousarray(w.astype(np.int8)), ts.DType.INT8, "weight")
        bname = self.b.const(bias_q, ts.DType.INT32, "bias")
        izp = self.b.const(np.array([x.q[1]], np.int8), ts.DType.INT8, "input_zp")
        wzp = self.b.const(np.array([0], np.int8), ts.DType.INT8, "weight_zp")
        attr = self.b.attr(kind, pad=list(pad4), stride=list(stride), dilation=list(dilation), local_bound=False,
                           acc_type=ts.DType.INT32)
        return self.b.op(op, [x.name, wname, bname, izp, wzp], tosa_out, ts.DType.INT32, attr, "conv"), \
            list(acc_scales)

    def conv(self, node: torch.fx.Node, quant: bool) -> None:
        a = node.args
        x = self.to_perm(self.arg(a[0]), NHWC)
        weight, bias = self.arg(a[1]), self.arg(a[2])
        if not isinstance(weight, Const):
            raise LoweringError(f"{node.name}: convolution weights computed at run time are not lowered")
        stride, pad, dil, groups = list(a[3]), list(a[4]), list(a[5]), a[8]
        k = weight.value.shape[2:]
        pads = []
        for i in range(2):
            span = x.shape[2 + i] - 1 + 2 * pad[i] - (k[i] - 1) * dil[i]
            pads += [pad[i], pad[i] - span % stride[i]]  # TOSA wants exact division: trim the far side
        pad4 = [pads[0], pads[1], pads[2], pads[3]]
        out_shape = _shape(node)
        depthwise = groups != 1
        if not quant:
            name, _ = self._conv_core(x, weight, bias, stride, pad4, dil, depthwise, out_shape, False)
            self.env[node] = Val(name, out_shape, self.ts.DType.FP32, NHWC)
            return
        result, act, q, qout = self.out_chain(node)
        acc, acc_scales = self._conv_core(x, weight, bias, stride, pad4, dil, depthwise, out_shape, True)
        tosa_out = [out_shape[p] for p in NHWC]
        name = self.b.rescale(acc, self.ts.DType.INT32, self.ts.DType.INT8, tosa_out,
                              [s / qout[0] for s in acc_scales], 0, qout[1])
        self.finish_quant(node, name, out_shape, NHWC, qout, act, result, q)

    def matmul(self, node: torch.fx.Node, quant: bool) -> None:
        """x[M,K] @ W[K,N] (+ bias) as a 1x1 CONV2D over an [M,1,1,K] tensor,
        the form Vela maps to its fully-connected path."""
        t = node.target
        if t is aten.addmm.default:
            bias, x, wt = (self.arg(v) for v in node.args[:3])
        elif t is aten.mm.default:
            bias, (x, wt) = None, (self.arg(v) for v in node.args[:2])
        else:  # linear(x, w[N,K], bias)
            x, w = self.arg(node.args[0]), self.arg(node.args[1])
            bias = self.arg(node.args[2]) if len(node.args) > 2 else None
            if not isinstance(w, Const):
                raise LoweringError(f"{node.name}: linear weights computed at run time are not lowered")
            wt = Const(w.value.T, w.scales, w.zps, None if w.axis is None else 1 - w.axis)
        if not isinstance(wt, Const):
            raise LoweringError(f"{node.name}: a matrix product with a run-time right operand is not lowered")
        if len(x.shape) != 2:
            raise LoweringError(f"{node.name}: only 2-D matrix products")
        m, kdim = x.shape
        ncols = wt.value.shape[1]
        weight = Const(wt.value.T.reshape(ncols, kdim, 1, 1), wt.scales, wt.zps,
                       None if wt.axis is None else 1 - wt.axis)
        x4 = self.logical(x)
        x4 = Val(self.b.reshape(x4.name, [m, 1, 1, kdim], x4.dtype), (m, kdim, 1, 1), x4.dtype, NHWC, x4.q)
        out4 = (m, ncols, 1, 1)
        if not quant:
            name, _ = self._conv_core(x4, weight, bias, [1, 1], [0, 0, 0, 0], [1, 1], False, out4, False)
            out = self.b.reshape(name, [m, ncols], self.ts.DType.FP32)
            self.env[node] = Val(out, (m, ncols), self.ts.DType.FP32, (0, 1))
            return
        result, act, q, qout = self.out_chain(node)
        acc, acc_scales = self._conv_core(x4, weight, bias, [1, 1], [0, 0, 0, 0], [1, 1], False, out4, True)
        name = self.b.rescale(acc, self.ts.DType.INT32, self.ts.DType.INT8, [m, 1, 1, ncols],
                              [s / qout[0] for s in acc_scales], 0, qout[1])
        if act is not None:
            lo, hi = self._act_bounds(act)
            name = self.b.clamp(name, self._qclip(lo, qout, -128), self._qclip(hi, qout, 127), [m, 1, 1, ncols],
                                self.ts.DType.INT8)
        name = self.b.reshape(name, [m, ncols], self.ts.DType.INT8)
        self.finish_quant(node, name, (m, ncols), (0, 1), qout, None, result, q)
        if act is not None:
            self.env[act] = self.env[node]

    # -- activations, pools, elementwise -------------------------------------
    def activation(self, node: torch.fx.Node, quant: bool) -> None:
        x = self.arg(node.args[0])
        lo, hi = self._act_bounds(node)
        if not quant:  # infinite bounds stay infinite: relu(inf) is inf
            name = self.b.clamp(x.name, lo, hi, x.tosa_shape, x.dtype)
            self.env[node] = Val(name, x.shape, x.dtype, x.perm)
            return
        result, _, q, qout = self.out_chain(node)
        x = self.requant(x, qout)
        name = self.b.clamp(x.name, self._qclip(lo, qout, -128), self._qclip(hi, qout, 127), x.tosa_shape,
                            self.ts.DType.INT8)
        self.finish_quant(node, name, x.shape, x.perm, qout, None, result, q)

    def pool(self, node: torch.fx.Node, quant: bool) -> None:
        ts = self.ts
        t = node.target
        x = self.to_perm(self.arg(node.args[0]), NHWC)
        a = node.args
        out_shape = _shape(node)
        n, c, h, w = x.shape
        if t in (aten.mean.dim, aten._adaptive_avg_pool2d.default):
            kernel, stride, pad = [h, w], [1, 1], [0, 0]
        else:
            kernel = list(a[1])
            stride = list(a[2]) if len(a) > 2 and a[2] else kernel
            pad = list(a[3]) if len(a) > 3 else [0, 0]
        pads = []
        for i, size in enumerate((h, w)):
            span = size - 1 + 2 * pad[i] - (kernel[i] - 1)
            pads += [pad[i], pad[i] - span % stride[i]]
        oh = (h + pads[0] + pads[1] - kernel[0]) // stride[0] + 1
        ow = (w + pads[2] + pads[3] - kernel[1]) // stride[1] + 1
        pooled_shape = (n, c, oh, ow)
        tosa_out = [n, oh, ow, c]
        is_max = t in (aten.max_pool2d_with_indices.default, aten.max_pool2d.default)
        if quant:
            result, act, q, qout = self.out_chain(node)
        if is_max:
            attr = self.b.attr("MaxPool2dAttribute", kernel, stride, pads, nan_mode=ts.NanPropagationMode.PROPAGATE)
            name = self.b.op(ts.Op.MAX_POOL2D, [x.name], tosa_out, x.dtype, attr, "maxpool")
            v = Val(name, pooled_shape, x.dtype, NHWC, x.q)
        elif not quant:
            zps = [self.b.const(np.zeros(1, np.float32), ts.DType.FP32, "zp") for _ in range(2)]
            attr = self.b.attr("AvgPool2dAttribute", kernel, stride, pads, acc_type=ts.DType.FP32)
            name = self.b.op(ts.Op.AVG_POOL2D, [x.name, *zps], tosa_out, x.dtype, attr, "avgpool")
            v = Val(name, pooled_shape, x.dtype, NHWC)
        else:
            # Same scale in and out (zero points may differ); RESCALE after if not.
            out_zp = qout[1] if abs(qout[0] - x.q[0]) <= 1e-9 * x.q[0] else x.q[1]
            zps = [self.b.const(np.array([zp], np.int8), ts.DType.INT8, "zp") for zp in (x.q[1], out_zp)]
            attr = self.b.attr("AvgPool2dAttribute", kernel, stride, pads, acc_type=ts.DType.INT32)
            name = self.b.op(ts.Op.AVG_POOL2D, [x.name, *zps], tosa_out, x.dtype, attr, "avgpool")
            v = Val(name, pooled_shape, x.dtype, NHWC, (x.q[0], out_zp) if out_zp != qout[1] else qout)
        if tuple(out_shape) != pooled_shape:  # mean without keepdim
            v = self.logical(v)
            v = Val(self.b.reshape(v.name, list(out_shape), v.dtype), tuple(out_shape), v.dtype,
                    _identity(len(out_shape)), v.q)
        if not quant:
            self.env[node] = v
            return
        v = self.requant(v, qout)
        self.finish_quant(node, v.name, v.shape, v.perm, qout, act, result, q)

    def _operand(self, a: Any, out_shape: tuple[int, ...], perm: tuple[int, ...]) -> str:
        """A float elementwise operand as a TOSA tensor of rank len(out_shape)
        in layout ``perm`` (constants are laid out ahead of time)."""
        rank = len(out_shape)
        if isinstance(a, Val):
            v = a
            if len(v.shape) < rank:
                v = self.logical(v)
                new = (1,) * (rank - len(v.shape)) + v.shape
                v = Val(self.b.reshape(v.name, list(new), v.dtype), new, v.dtype, _identity(rank), v.q)
            return self.to_perm(v, perm).name
        arr = self.float_const(a) if isinstance(a, Const) else np.array(a, dtype=np.float32)
        arr = arr.reshape((1,) * (rank - arr.ndim) + arr.shape).transpose(perm)
        return self.b.const(np.ascontiguousarray(arr, dtype=np.float32), self.ts.DType.FP32, "operand")

    def elementwise(self, node: torch.fx.Node, quant: bool) -> None:
        ts = self.ts
        t = node.target
        out_shape = _shape(node)
        rank = len(out_shape)
        ops = [self.arg(v) for v in node.args[:2]]
        vals = [v for v in ops if isinstance(v, Val) and len(v.shape) == rank]
        perm = vals[0].perm if vals else _identity(rank)
        tosa_out = [out_shape[p] for p in perm]
        op = {aten.add.Tensor: ts.Op.ADD, aten.sub.Tensor: ts.Op.SUB, aten.mul.Tensor: ts.Op.MUL}[t]
        attr = self.b.attr({ts.Op.ADD: "AddAttribute", ts.Op.SUB: "SubAttribute", ts.Op.MUL: "MulAttribute"}[op])
        if not quant:
            names = [self._operand(v, out_shape, perm) for v in ops]
            if op == ts.Op.MUL:
                names.append(self.b.const(np.zeros(1, np.int8), ts.DType.INT8, "shift"))
            name = self.b.op(op, names, tosa_out, ts.DType.FP32, attr, "eltwise")
            self.env[node] = Val(name, out_shape, ts.DType.FP32, perm)
            return
        result, act, q, qout = self.out_chain(node)
        if not all(isinstance(v, Val) and v.q is not None for v in ops):
            raise LoweringError(f"{node.name}: quantized {t} needs two quantized tensor operands")
        wide = []
        if op == ts.Op.MUL:
            scales = [1.0, 1.0]
            out_scale = ops[0].q[0] * ops[1].q[0]
        else:
            # Both operands onto one int32 scale with 20 bits of headroom (as TFLite does).
            common = 2.0 * max(ops[0].q[0], ops[1].q[0]) / (1 << 20)
            scales = [ops[0].q[0] / common, ops[1].q[0] / common]
            out_scale = common
        for v, s in zip(ops, scales):
            if len(v.shape) < rank:
                raise LoweringError(f"{node.name}: quantized broadcasting over rank is not lowered")
            v = self.to_perm(v, perm)
            wide.append(self.b.rescale(v.name, ts.DType.INT8, ts.DType.INT32, v.tosa_shape, [s], v.q[1], 0))
        if any(self.arg(v).shape != out_shape for v in node.args[:2]):
            pass  # TOSA broadcasts size-1 dimensions of equal-rank operands
        if op == ts.Op.MUL:
            wide.append(self.b.const(np.zeros(1, np.int8), ts.DType.INT8, "shift"))
        acc = self.b.op(op, wide, tosa_out, ts.DType.INT32, attr, "eltwise")
        name = self.b.rescale(acc, ts.DType.INT32, ts.DType.INT8, tosa_out, [out_scale / qout[0]], 0, qout[1])
        self.finish_quant(node, name, out_shape, perm, qout, act, result, q)

    # -- data movement ---------------------------------------------------------
    def reshape(self, node: torch.fx.Node, quant: bool) -> None:
        x = self.arg(node.args[0])
        out_shape = _shape(node)
        if tuple(out_shape) == tuple(x.shape):
            v = x
        else:
            x = self.logical(x)
            v = Val(self.b.reshape(x.name, list(out_shape), x.dtype), out_shape, x.dtype,
                    _identity(len(out_shape)), x.q)
        if not quant:
            self.env[node] = Val(v.name, v.shape, v.dtype, v.perm)
            return
        result, _, q, qout = self.out_chain(node)
        v = self.requant(v, qout)
        self.finish_quant(node, v.name, v.shape, v.perm, qout, None, result, q)

    def permute(self, node: torch.fx.Node, quant: bool) -> None:
        x = self.arg(node.args[0])
        dims = [d % len(x.shape) for d in node.args[1]]
        out_shape = tuple(x.shape[d] for d in dims)
        perm = tuple(dims.index(p) for p in x.perm)  # no data moves: only the bookkeeping changes
        v = Val(x.name, out_shape, x.dtype, perm, x.q)
        if not quant:
            self.env[node] = Val(v.name, v.shape, v.dtype, v.perm)
            return
        result, _, q, qout = self.out_chain(node)
        v = self.requant(v, qout)
        self.finish_quant(node, v.name, v.shape, v.perm, qout, None, result, q)

    def cat(self, node: torch.fx.Node, quant: bool) -> None:
        ts = self.ts
        xs = [self.arg(v) for v in node.args[0]]
        dim = node.args[1] if len(node.args) > 1 else 0
        out_shape = _shape(node)
        dim %= len(out_shape)
        perm = xs[0].perm
        if quant:
            result, act, q, qout = self.out_chain(node)
            xs = [self.requant(v, qout) for v in xs]
        names = [self.to_perm(v, perm).name for v in xs]
        name = self.b.op(ts.Op.CONCAT, names, [out_shape[p] for p in perm], xs[0].dtype,
                         self.b.attr("ConcatAttribute", perm.index(dim)), "concat")
        if not quant:
            self.env[node] = Val(name, out_shape, xs[0].dtype, perm)
            return
        self.finish_quant(node, name, out_shape, perm, qout, act, result, q)

    def table(self, node: torch.fx.Node, quant: bool) -> None:
        ts = self.ts
        x = self.arg(node.args[0])
        fn = {aten.sigmoid.default: lambda v: 1.0 / (1.0 + np.exp(-v)), aten.tanh.default: np.tanh}[node.target]
        if not quant:
            op = ts.Op.SIGMOID if node.target is aten.sigmoid.default else ts.Op.TANH
            kind = "SigmoidAttribute" if op == ts.Op.SIGMOID else "TanhAttribute"
            name = self.b.op(op, [x.name], x.tosa_shape, x.dtype, self.b.attr(kind), "act")
            self.env[node] = Val(name, x.shape, x.dtype, x.perm)
            return
        result, act, q, qout = self.out_chain(node)
        # int8 TABLE: entry i + 128 is the quantized function of int8 value i.
        codes = np.arange(-128, 128, dtype=np.float64)
        real = fn((codes - x.q[1]) * x.q[0])
        table = np.clip(np.round(real / qout[0]) + qout[1], -128, 127).astype(np.int8)
        tname = self.b.const(table, ts.DType.INT8, "table")
        name = self.b.op(ts.Op.TABLE, [x.name, tname], x.tosa_shape, ts.DType.INT8, self.b.attr("TableAttribute"),
                         "table")
        self.finish_quant(node, name, x.shape, x.perm, qout, act, result, q)


def lower(gm: torch.fx.GraphModule, constants: dict[int, torch.Tensor]) -> tuple[bytes, dict[str, Any]]:
    """Returns the TOSA flatbuffer and facts about it for the debug map."""
    lowerer = Lowerer(gm, constants)
    b = lowerer.run()
    info = {
        "tosa_version": "1.0",
        # TOSA profiles the graph needs: PRO-INT (what Ethos-U runs), PRO-FP, or both.
        "profile": ("pro_int,pro_fp" if b.uses_int else "pro_fp") if b.uses_float else "pro_int",
        "tosa_ops": dict(sorted(b.op_counts.items())),
        "node_to_tosa": lowerer.node_ops,
    }
    return b.serialize(), info
