"""int8: PT2E quantize/dequantize patterns lowered onto XNNPACK's quantized
operators (the subgraph API of XNNPACK 2026-08-21, built into the plugin).

The quantizer (quantizer.py) leaves, around every float op, the pattern

    dequantize_per_tensor(q_in) ─┐
    dequantize_per_channel(W) ───┼─ op ─[relu/hardtanh/clamp]─ quantize_per_tensor ─▶ q_out
    float bias ──────────────────┘

with int8 weights as constants. Inside a delegate:

* ``quantize_per_tensor`` of a float value becomes a Convert fp32 -> qint8;
  ``dequantize_per_tensor`` stays a lazy view of its qint8 value (a Convert
  qint8 -> fp32 is emitted only when a float op reads it);
* an op whose runtime inputs are all such views and whose result goes only
  (through an optional clamp, fused as its output range) into one
  ``quantize_per_tensor`` runs as XNNPACK's quantized operator, with the
  output quantization of that quantize node:

  - convolution (incl. depthwise and grouped) -> qc8 convolution: qcint8
    filter with the per-channel scales, qcint32 bias (scale s_in * s_w[c]);
  - linear (addmm/mm) -> a 1x1 qc8 convolution between two reshapes (this
    XNNPACK's fully connected has no per-channel qc8 variant);
  - add / sub / mul of two int8 tensors of one shape -> qs8 add2/subtract/multiply2;
  - max pooling, reshape/flatten, constant pad, clamp with equal input and
    output quantization -> their qs8 (s8/x8) forms; a clamp right after a
    quantized producer is fused into that producer's output range;
  - mean over H,W / adaptive average pooling to 1x1 -> qs8 global average pooling;

* every other op between the q/dq pairs runs in float inside the delegate
  (Converts at its edges), so a quantized program never leaves the delegate
  just for a q/dq.

What this XNNPACK has no qs8 form of (average pooling with a window,
hardswish, softmax, leaky relu, maximum/minimum, abs, negate, a sigmoid whose
output quantization is not 1/256, -128) runs that float way.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np
import torch

from .common import LoweringError, T, order_preserving, pad_params, phys, physical_dim, shape_refusal
from .xgraph import FUSABLE, DType, Op, XBinding

aten = torch.ops.aten
NOT_QUANTIZED = object()
SKIPPED = object()  # an fx node folded into a quantized op (its activation, its getitem)


def _qd(name):
    try:
        return getattr(torch.ops.quantized_decomposed, name).default
    except (AttributeError, RuntimeError):  # pragma: no cover - the namespace registers with torchao/torch.ao
        return None


def _ops():
    return _qd("quantize_per_tensor"), _qd("dequantize_per_tensor"), _qd("dequantize_per_channel")


def _is_qd(node) -> bool:
    return "quantized_decomposed" in str(node.target)


def is_qdq(node) -> bool:
    """A per-tensor quantize or dequantize of activations."""
    q, dq, _ = _ops()
    return node.op == "call_function" and node.target in (q, dq)


def _int8_range(qmin, qmax, dtype) -> bool:
    return dtype == torch.int8 and qmin == -128 and qmax == 127


def qparams(node) -> tuple[float, int]:
    """(scale, zero_point) of a quantize/dequantize_per_tensor node."""
    return float(node.args[1]), int(node.args[2])


# ---- partitioner ---------------------------------------------------------


def refusal(node, ctx):
    """None (claimed), a reason, or NOT_QUANTIZED (not a quantization op: the
    other rules decide)."""

    if node.op != "call_function" or not _is_qd(node):
        return NOT_QUANTIZED
    if ctx.is_const(node):
        return NOT_QUANTIZED  # weights: folded, or read as int8 by the op that consumes them
    q, dq, dqc = _ops()
    if node.target not in (q, dq):
        return f"{node.target} on a runtime tensor: only per-tensor quantize/dequantize of activations are lowered"
    scale, zp = node.args[1], node.args[2]
    if not isinstance(scale, float) or not isinstance(zp, int):
        return "quantization parameters computed at run time"
    if not _int8_range(*node.args[3:6]):
        return (f"quantization to {node.args[5]} [{node.args[3]}, {node.args[4]}]: XNNPACK's qs8 operators take "
                f"int8 [-128, 127]")
    if not (scale > 0 and math.isfinite(scale)):
        return f"quantization scale {scale}"
    val = node.meta.get("val")
    src = node.args[0]
    sval = src.meta.get("val") if isinstance(src, torch.fx.Node) else None
    for v in (val, sval):
        if not isinstance(v, torch.Tensor):
            return "not a tensor"
        why = shape_refusal(v)
        if why:
            return why
    if node.target == q and sval.dtype != torch.float32:
        return f"quantizes a {sval.dtype} tensor"
    if node.target == dq:
        if not (isinstance(src, torch.fx.Node) and src.target == q and qparams(src) == qparams(node)):
            return "dequantizes an int8 tensor that no quantize with the same parameters produced"
    return None


# ---- preprocess ----------------------------------------------------------


@dataclass
class DQ:
    """dequantize_per_tensor of a qint8 runtime tensor: read as int8 by
    quantized ops; a Convert to float is emitted the first time a float op
    reads it."""

    q: object            # preprocess.T with q set
    node: torch.fx.Node  # the dequantize node
    as_float: object = None


def materialize(conv, d: DQ):

    if d.as_float is None:
        vid = conv.g.node(Op.Convert, [d.q.id], phys(d.q.shape), source=d.node.name)
        d.as_float = T(vid, d.q.shape, flat_nhwc=d.q.flat_nhwc)
    return d.as_float


def is_runtime(v) -> bool:

    return v is SKIPPED or isinstance(v, (T, DQ))


def input_value(conv, placeholder, meta):
    """An int8 delegate argument (a quantize outside this delegate feeding
    dequantizes inside): a qint8 value with its dequantizes' parameters."""

    if meta.dtype != torch.int8:
        return None
    _, dq, _ = _ops()
    params = {qparams(u) for u in placeholder.users if u.target == dq}
    if len(params) != 1 or any(u.target != dq for u in placeholder.users):

        raise LoweringError(f"int8 input {placeholder.name} is not read by dequantizes of one quantization")
    (scale, zp), = params
    shape = tuple(int(s) for s in meta.shape)
    vid = conv.g.value(phys(shape), DType.QInt8, scale=scale, zero_point=zp)
    conv.g.inputs.append(XBinding(vid, shape, nchw=not order_preserving(shape)))
    conv.env[placeholder] = T(vid, shape, q=(scale, zp))
    return conv.env[placeholder]


def output_binding(conv, value):
    return False  # qint8 outputs are bound like float ones (the runtime passes int8 through)


def foldable(node):
    return True


def _qt(conv, shape, scale, zp):

    return dict(out_dtype=DType.QInt8, out_quant=dict(scale=float(scale), zero_point=int(zp)))


def _chain_to_quantize(conv, node):
    """The quantize node `node`'s result ends in, through an optional clamp
    (returned as (lo, hi)) -- or None when the result is used otherwise."""
    q, _, _ = _ops()
    lo, hi = -math.inf, math.inf
    skipped = []
    cur = node
    for _ in range(2):
        users = list(cur.users)
        if len(users) != 1 or cur in conv.outputs:
            return None
        u = users[0]
        if u.target == q:
            return u, (lo, hi), skipped
        bounds = _clamp_bounds(u)
        if bounds is None or skipped:
            return None
        lo, hi = bounds
        skipped.append(u)
        cur = u
    return None


def _clamp_bounds(node):
    if node.target == aten.relu.default:
        return 0.0, math.inf
    if node.target == aten.hardtanh.default:
        return (float(node.args[1]) if len(node.args) > 1 else -1.0,
                float(node.args[2]) if len(node.args) > 2 else 1.0)
    if node.target == aten.clamp.default:
        lo = node.args[1] if len(node.args) > 1 else None
        hi = node.args[2] if len(node.args) > 2 else None
        if isinstance(lo, torch.fx.Node) or isinstance(hi, torch.fx.Node):
            return None
        return (-math.inf if lo is None else float(lo)), (math.inf if hi is None else float(hi))
    return None


def _dq_input(conv, a):
    v = conv.env.get(a) if isinstance(a, torch.fx.Node) else None
    return v if isinstance(v, DQ) else None


def _qweight(conv, w_node, transposed_2d=False):
    """int8 weights of a per-channel (or per-tensor) symmetric dequantize of
    constants: (int8 tensor, per-output-channel scales) -- or None."""
    _, dq, dqc = _ops()
    if transposed_2d:
        if not (isinstance(w_node, torch.fx.Node) and w_node.target == aten.permute_copy.default
                and list(w_node.args[1]) == [1, 0]):
            return None
        w_node = w_node.args[0]
    if not isinstance(w_node, torch.fx.Node):
        return None
    if w_node.target == dqc:
        wq, scales, zps, axis = (conv.env.get(a, a) if isinstance(a, torch.fx.Node) else a for a in w_node.args[:4])
        if not all(isinstance(t, torch.Tensor) for t in (wq, scales, zps)) or wq.dtype != torch.int8:
            return None
        if axis != 0 or torch.any(zps != 0) or w_node.args[4] < -128 or w_node.args[5] > 127:
            return None
        return wq, scales.to(torch.float32).reshape(-1)
    if w_node.target == dq:
        wq = conv.env.get(w_node.args[0])
        scale, zp = qparams(w_node)
        if not isinstance(wq, torch.Tensor) or wq.dtype != torch.int8 or zp != 0:
            return None
        return wq, torch.full((wq.shape[0],), scale, dtype=torch.float32)
    return None


def _qbias(b, in_scale, w_scales):
    """A float bias as qcint32 with scales s_in * s_w[c]."""
    scales = (in_scale * w_scales.to(torch.float64)).to(torch.float32)
    if b is None:
        data = np.zeros(scales.numel(), dtype=np.int32)
    else:
        data = torch.round(b.to(torch.float64).reshape(-1) / scales.to(torch.float64)).clamp(-2**31, 2**31 - 1)
        data = data.to(torch.int32).numpy()
    return data, [float(s) for s in scales]


def lower(conv, node):
    """Lowers `node` when it is part of a quantized pattern; False otherwise."""
    if node in conv.skip:
        conv.env[node] = SKIPPED
        return True
    q, dq, _ = _ops()
    if node.target == q and node in conv.qpending:
        conv.env[node] = conv.qpending.pop(node)
        return True
    if node.target == q:
        return _quantize(conv, node)
    if node.target == dq:
        src = conv.env[node.args[0]]
        if getattr(src, "q", None) is None:

            raise LoweringError("dequantize of a tensor that is not int8 in this delegate")
        conv.env[node] = DQ(src, node)
        return True
    handler = _QUANTIZED.get(node.target)
    if handler is None or not handler(conv, node):
        return False
    conv.env.setdefault(node, SKIPPED)
    return True


def _quantize(conv, node):

    scale, zp = qparams(node)
    src = conv.env[node.args[0]]
    if isinstance(src, DQ) and src.q.q == (scale, zp):
        conv.env[node] = src.q  # requantizing with the same parameters changes nothing
        return True
    x = src.as_float if isinstance(src, DQ) and src.as_float is not None else None
    if x is None:
        x = materialize(conv, src) if isinstance(src, DQ) else conv.env[node.args[0]]
    if not isinstance(x, T) or x.q is not None:

        raise LoweringError("quantize of a value that is not a float runtime tensor")
    x = conv.to_nhwc(x)  # int8 values are laid out like the 2022 flow: 4-D as NHWC
    vid = conv.g.node(Op.Convert, [x.id], phys(x.shape), source=node.name, **_qt(conv, x.shape, scale, zp))
    conv.env[node] = T(vid, x.shape, flat_nhwc=x.flat_nhwc, q=(scale, zp))
    return True


def _emit(conv, node, kind, inputs, out_shape, qnode, rng, skipped, params=(), **attrs):

    scale, zp = qparams(qnode)
    lo, hi = rng
    vid = conv.g.node(kind, inputs, phys(out_shape), source=node.name, params=[int(p) for p in params],
                      output_min=lo, output_max=hi, **_qt(conv, out_shape, scale, zp), **attrs)
    out = T(vid, tuple(out_shape), q=(scale, zp))
    conv.qpending[qnode] = out
    conv.skip.update(skipped)
    conv.quantized_ops.append(node.name)
    return out


def _conv(conv, node):

    x = _dq_input(conv, node.args[0])
    stride, padding, dilation, transposed, output_padding, groups = node.args[3:9]
    chain = _chain_to_quantize(conv, node)
    wb = _qweight(conv, node.args[1])
    if x is None or chain is None or wb is None or transposed or x.q.flat_nhwc is not None:
        return False
    b = node.args[2]
    if isinstance(b, torch.fx.Node) and is_runtime(conv.env.get(b)):
        return False
    bias = conv.const(b).to(torch.float32) if b is not None else None
    qnode, rng, skipped = chain
    wq, wscales = wb
    in_scale, _ = x.q.q
    cin = x.q.shape[1]
    kh, kw = wq.shape[2], wq.shape[3]
    out_shape = tuple(int(s) for s in node.meta["val"].shape)
    pads = [padding[0], padding[1], padding[0], padding[1]]
    if groups == cin and wq.shape[1] == 1 and groups > 1:
        filt = wq.permute(1, 2, 3, 0).contiguous()  # [1, kh, kw, Cout]: channel dim 3
        fid = conv.g.constant(filt.numpy(), dtype=DType.QCInt8, channel_scales=[float(s) for s in wscales],
                              channel_dim=3)
        kind = Op.DepthwiseConvolution2d
        params = pads + [kh, kw, stride[0], stride[1], dilation[0], dilation[1], wq.shape[0] // cin, cin]
    else:
        filt = wq.permute(0, 2, 3, 1).contiguous()  # OHWI
        fid = conv.g.constant(filt.numpy(), dtype=DType.QCInt8, channel_scales=[float(s) for s in wscales],
                              channel_dim=0)
        kind = Op.Convolution2d
        params = pads + [kh, kw, stride[0], stride[1], dilation[0], dilation[1], groups, cin // groups,
                         wq.shape[0] // groups]
    bdata, bscales = _qbias(bias, in_scale, wscales)
    bid = conv.g.constant(bdata, dtype=DType.QCInt32, channel_scales=bscales, channel_dim=0)
    _emit(conv, node, kind, [x.q.id, fid, bid], out_shape, qnode, rng, skipped, params=params)
    return True


def _linear(conv, node):

    if node.target == aten.addmm.default:
        b, a, w = node.args[0], node.args[1], node.args[2]
        if node.kwargs.get("beta", 1) != 1 or node.kwargs.get("alpha", 1) != 1:
            return False
    else:
        b, (a, w) = None, node.args[:2]
    x = _dq_input(conv, a)
    chain = _chain_to_quantize(conv, node)
    out_shape = tuple(int(s) for s in node.meta["val"].shape)
    if chain is None:
        # mm -> view (back to the activation's rank) -> quantize
        users = list(node.users)
        if (len(users) == 1 and node not in conv.outputs and users[0].target in (aten.view_copy.default,
                                                                                 aten._unsafe_view.default)):
            view_shape = tuple(int(s) for s in users[0].meta["val"].shape)
            chain = _chain_to_quantize(conv, users[0]) if len(view_shape) != 4 else None
            if chain is not None:
                chain = (chain[0], chain[1], [users[0], *chain[2]])
                out_shape = view_shape
    wb = _qweight(conv, w, transposed_2d=True)
    if x is None or chain is None or wb is None:
        return False
    if isinstance(b, torch.fx.Node) and is_runtime(conv.env.get(b)):
        return False
    bias = conv.const(b).to(torch.float32).reshape(-1) if b is not None else None
    wq, wscales = wb  # [out, in], scales per out
    out_f, in_f = wq.shape
    if bias is not None and bias.numel() != out_f:
        return False
    if x.q.flat_nhwc is not None:
        c, h, wd = x.q.flat_nhwc
        wq = wq.reshape(out_f, c, h, wd).permute(0, 2, 3, 1).reshape(out_f, in_f)
    qnode, rng, skipped = chain
    in_scale, _ = x.q.q
    rows = int(np.prod(out_shape[:-1])) if len(out_shape) > 1 else 1
    # a 1x1 qc8 convolution over [rows, 1, 1, in]
    xin = conv.g.node(Op.StaticReshape, [x.q.id], (rows, 1, 1, in_f), source=node.name, params=[rows, 1, 1, in_f],
                      **_qt(conv, None, *x.q.q))
    fid = conv.g.constant(wq.reshape(out_f, 1, 1, in_f).contiguous().numpy(), dtype=DType.QCInt8,
                          channel_scales=[float(s) for s in wscales], channel_dim=0)
    bdata, bscales = _qbias(bias, in_scale, wscales)
    bid = conv.g.constant(bdata, dtype=DType.QCInt32, channel_scales=bscales, channel_dim=0)
    y = _emit(conv, node, Op.Convolution2d, [xin, fid, bid], (rows, out_f, 1, 1), qnode, rng, skipped,
              params=[0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, in_f, out_f])
    conv.quantized_ops[-1] = f"{node.name} (1x1 convolution)"
    scale, zp = y.q
    flat = conv.g.node(Op.StaticReshape, [y.id], out_shape, source=node.name, params=list(out_shape) or [1],
                       **_qt(conv, out_shape, scale, zp))
    conv.qpending[qnode] = T(flat, out_shape, q=(scale, zp))
    return True


def _binary(conv, node):

    kind = {aten.add.Tensor: Op.Add, aten.sub.Tensor: Op.Subtract, aten.mul.Tensor: Op.Multiply}[node.target]
    alpha = node.kwargs.get("alpha", node.args[2] if len(node.args) > 2 else 1)
    a, b = _dq_input(conv, node.args[0]), _dq_input(conv, node.args[1])
    chain = _chain_to_quantize(conv, node)
    if a is None or b is None or chain is None or alpha != 1 or a.q.shape != b.q.shape:
        return False
    if a.q.flat_nhwc is not None or b.q.flat_nhwc is not None:
        return False
    qnode, rng, skipped = chain
    _emit(conv, node, kind, [a.q.id, b.q.id], tuple(int(s) for s in node.meta["val"].shape), qnode, rng, skipped)
    return True


def _same_quant_chain(conv, node, x, through_getitem=False):
    """For ops whose qs8 form needs equal input and output quantization."""
    start = node
    if through_getitem:
        users = list(node.users)
        if len(users) != 1 or users[0].target is not operator.getitem or users[0].args[1] != 0:
            return None
        start = users[0]
    chain = _chain_to_quantize(conv, start)
    if chain is None or qparams(chain[0]) != x.q.q:
        return None
    qnode, rng, skipped = chain
    return qnode, rng, skipped + ([start] if through_getitem else [])


def _max_pool(conv, node):

    x = _dq_input(conv, node.args[0])
    if x is None or x.q.flat_nhwc is not None:
        return False
    chain = _same_quant_chain(conv, node, x, through_getitem=True)
    if chain is None:
        return False
    kernel = list(node.args[1])
    stride = list(node.args[2]) if len(node.args) > 2 and node.args[2] else kernel
    padding = list(node.args[3]) if len(node.args) > 3 else [0, 0]
    dilation = list(node.args[4]) if len(node.args) > 4 else [1, 1]
    out_shape = tuple(int(s) for s in node.meta["val"][0].shape)
    qnode, rng, skipped = chain
    _emit(conv, node, Op.MaxPooling2d, [x.q.id], out_shape, qnode, rng, skipped,
          params=[padding[0], padding[1], padding[0], padding[1], kernel[0], kernel[1], stride[0], stride[1],
                  dilation[0], dilation[1]])
    conv.env[node] = SKIPPED
    return True


def _global_pool(conv, node):

    x = _dq_input(conv, node.args[0])
    if x is None or x.q.rank != 4 or x.q.flat_nhwc is not None:
        return False
    if node.target == aten.mean.dim:
        dims = node.args[1] if len(node.args) > 1 and node.args[1] is not None else []
        if node.kwargs.get("dtype") is not None or sorted({physical_dim(4, d) for d in dims}) != [1, 2]:
            return False
    elif tuple(node.args[1]) != (1, 1):
        return False
    chain = _chain_to_quantize(conv, node)
    if chain is None:
        return False
    qnode, rng, skipped = chain
    n, c = x.q.shape[:2]
    y = _emit(conv, node, Op.GlobalAveragePooling2d, [x.q.id], (n, c, 1, 1), qnode, rng, skipped)
    out_shape = tuple(int(s) for s in node.meta["val"].shape)
    if out_shape != (n, c, 1, 1):
        vid = conv.g.node(Op.StaticReshape, [y.id], out_shape, source=node.name, params=list(out_shape),
                          **_qt(conv, out_shape, *y.q))
        conv.qpending[qnode] = T(vid, out_shape, q=y.q)
    return True


def _view(conv, node):

    x = _dq_input(conv, node.args[0])
    if x is None or x.q.flat_nhwc is not None:
        return False
    src, out_shape = x.q.shape, tuple(int(s) for s in node.meta["val"].shape)
    chain = _same_quant_chain(conv, node, x)
    if chain is None and order_preserving(src) and order_preserving(out_shape):
        # A view of a dequantized tensor read by other ops (a transformer's
        # dequantize -> view -> mm): the dequantize of the viewed int8 tensor,
        # so that a quantized linear layer still reads int8.
        vid = conv.g.node(Op.StaticReshape, [x.q.id], phys(out_shape), source=node.name,
                          params=list(phys(out_shape)), **_qt(conv, out_shape, *x.q.q))
        conv.env[node] = DQ(T(vid, out_shape, q=x.q.q), node)
        return True
    if chain is None or chain[1] != (-math.inf, math.inf):
        return False
    flat = None
    if order_preserving(src) and order_preserving(out_shape):
        dims = phys(out_shape)
    elif len(src) == 4 and out_shape == (src[0], src[1] * src[2] * src[3]):
        dims, flat = out_shape, (src[1], src[2], src[3])
    else:
        return False
    qnode, _, skipped = chain
    vid = conv.g.node(Op.StaticReshape, [x.q.id], dims, source=node.name, params=list(dims),
                      **_qt(conv, out_shape, *x.q.q))
    conv.qpending[qnode] = T(vid, out_shape, flat_nhwc=flat, q=x.q.q)
    conv.skip.update(skipped)
    conv.quantized_ops.append(node.name)
    return True


def _pad(conv, node):

    x = _dq_input(conv, node.args[0])
    if x is None or x.q.flat_nhwc is not None:
        return False
    chain = _same_quant_chain(conv, node, x)
    pads = list(node.args[1])
    if chain is None or any(p < 0 for p in pads):
        return False
    params, value = pad_params(node, x.q.rank)
    qnode, rng, skipped = chain
    _emit(conv, node, Op.StaticConstantPad, [x.q.id], tuple(int(s) for s in node.meta["val"].shape), qnode, rng,
          skipped, params=params, alpha=value)
    return True


def _clamp(conv, node):

    x = _dq_input(conv, node.args[0])
    bounds = _clamp_bounds(node)
    if x is None or bounds is None or x.q.flat_nhwc is not None:
        return False
    chain = _same_quant_chain(conv, node, x)
    if chain is None:
        return False
    qnode, rng, skipped = chain
    lo, hi = max(bounds[0], rng[0]), min(bounds[1], rng[1])
    # fused into the quantized op producing x when x is read by this clamp only
    producer = conv.g.producer.get(x.q.id)
    q_of_x = x.node.args[0]
    if (producer is not None and producer.kind in FUSABLE and producer.kind != Op.Convert
            and len(q_of_x.users) == 1 and len(x.node.users) == 1
            and q_of_x not in conv.outputs and x.node not in conv.outputs):
        producer.output_min = max(producer.output_min, lo)
        producer.output_max = min(producer.output_max, hi)
        conv.qpending[qnode] = x.q
        conv.skip.update(skipped)
        conv.debug.append(f"{node.name} fused into {producer.source} (int8)")
        return True
    _emit(conv, node, Op.Clamp, [x.q.id], x.q.shape, qnode, (lo, hi), skipped)
    return True


_QUANTIZED = {
    aten.convolution.default: _conv,
    aten.addmm.default: _linear,
    aten.mm.default: _linear,
    aten.add.Tensor: _binary, aten.sub.Tensor: _binary, aten.mul.Tensor: _binary,
    aten.max_pool2d_with_indices.default: _max_pool,
    aten.mean.dim: _global_pool,
    aten._adaptive_avg_pool2d.default: _global_pool,
    aten.view_copy.default: _view, aten.squeeze_copy.dims: _view, aten.unsqueeze_copy.default: _view,
    aten.constant_pad_nd.default: _pad,
    aten.relu.default: _clamp, aten.hardtanh.default: _clamp, aten.clamp.default: _clamp,
}
