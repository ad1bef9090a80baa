"""The XNNPACK graph the AOT half builds, and its flatbuffers serialization
(schema/xnnpack_graph.fbs, file identifier "WXNN").

Written with the flatbuffers Python Builder directly against the schema; the
runtime half reads the same schema through C++ generated at build time.
Every `dims` here is PHYSICAL: a 4-D activation is NHWC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

import flatbuffers
import numpy as np

BLOB_VERSION = 1  # Graph.version; the runtime half reads exactly this one (kBlobVersion)
NONE = 0xFFFFFFFF  # XNN_INVALID_VALUE_ID: an absent optional operand (bias)
XNN_EXTRA_BYTES = 16
FLAG_ALIGN_CORNERS = 0x00000008
FLAG_TRANSPOSE_WEIGHTS = 0x00000001
FLAG_TRANSPOSE_B = 0x00000001
FLAG_KEEP_DIMS = 0x00000040


class DType(IntEnum):
    Float32 = 0
    QInt8 = 1
    QInt32 = 2
    QCInt8 = 3
    QCInt32 = 4


class Op(IntEnum):
    """Order and numbering = enum OpKind of the schema."""
    Convolution2d = 0
    DepthwiseConvolution2d = 1
    Deconvolution2d = 2
    FullyConnected = 3
    MaxPooling2d = 4
    AveragePooling2d = 5
    GlobalAveragePooling2d = 6
    Add = 7
    Subtract = 8
    Multiply = 9
    Divide = 10
    Maximum = 11
    Minimum = 12
    SquaredDifference = 13
    Clamp = 14
    Abs = 15
    Negate = 16
    Floor = 17
    Ceiling = 18
    SquareRoot = 19
    Square = 20
    Sigmoid = 21
    Softmax = 22
    HardSwish = 23
    LeakyRelu = 24
    Elu = 25
    Prelu = 26
    BankersRounding = 27
    StaticReshape = 28
    StaticConstantPad = 29
    StaticResizeBilinear2d = 30
    DepthToSpace = 31
    Convert = 32
    StaticTranspose = 33
    Concatenate = 34
    StaticSlice = 35
    BatchMatrixMultiply = 36
    Tanh = 37
    Gelu = 38
    Exp = 39
    Log = 40
    ReciprocalSquareRoot = 41
    ReduceSum = 42
    ReduceMean = 43
    ReduceMax = 44
    Copy = 45


# Ops whose XNNPACK definition takes an output range, so a following
# clamp/relu/hardtanh can be fused into them.
FUSABLE = {Op.Convolution2d, Op.DepthwiseConvolution2d, Op.Deconvolution2d, Op.FullyConnected, Op.MaxPooling2d,
           Op.AveragePooling2d, Op.GlobalAveragePooling2d, Op.Add, Op.Subtract, Op.Multiply, Op.Divide, Op.Clamp}


@dataclass
class XValue:
    dims: tuple[int, ...]
    dtype: DType = DType.Float32
    constant: int = -1
    scale: float = 1.0
    zero_point: int = 0
    channel_scales: list[float] | None = None
    channel_dim: int = 0


@dataclass
class XNode:
    kind: Op
    inputs: list[int]
    output: int
    params: list[int] = field(default_factory=list)
    output_min: float = -math.inf
    output_max: float = math.inf
    alpha: float = 0.0
    flags: int = 0
    source: str = ""   # the fx node it came from (debug map)


@dataclass
class XBinding:
    value: int
    dims: tuple[int, ...]   # logical (PyTorch) sizes
    nchw: bool = False      # a 4-D NCHW argument whose value is NHWC


class XGraph:
    def __init__(self) -> None:
        self.values: list[XValue] = []
        self.nodes: list[XNode] = []
        self.constants: list[bytes] = []
        self.inputs: list[XBinding] = []
        self.outputs: list[XBinding] = []
        self.producer: dict[int, XNode] = {}

    def value(self, dims, dtype: DType = DType.Float32, **quant) -> int:
        self.values.append(XValue(tuple(int(d) for d in dims) or (1,), dtype, **quant))
        return len(self.values) - 1

    def constant(self, array: np.ndarray, dims=None, dtype: DType = DType.Float32, **quant) -> int:
        """A static value; `array` is already in physical layout."""
        array = np.ascontiguousarray(array)
        self.constants.append(array.tobytes())
        vid = self.value(array.shape if dims is None else dims, dtype, **quant)
        self.values[vid].constant = len(self.constants) - 1
        return vid

    def node(self, kind: Op, inputs, out_dims, source: str = "", out_dtype: DType = DType.Float32, out_quant=None,
             **attrs) -> int:
        out = self.value(out_dims, out_dtype, **(out_quant or {}))
        n = XNode(kind, [int(i) for i in inputs], out, source=source, **attrs)
        self.nodes.append(n)
        self.producer[out] = n
        return out

    # ---- serialization -------------------------------------------------

    def serialize(self) -> bytes:
        b = flatbuffers.Builder(1 << 16)

        def vec_u64(start, xs):
            start(b, len(xs))
            for x in reversed(xs):
                b.PrependUint64(x)
            return b.EndVector()

        def vec_i64(xs):
            b.StartVector(8, len(xs), 8)
            for x in reversed(xs):
                b.PrependInt64(int(x))
            return b.EndVector()

        def vec_u32(xs):
            b.StartVector(4, len(xs), 4)
            for x in reversed(xs):
                b.PrependUint32(int(x))
            return b.EndVector()

        def vec_f32(xs):
            b.StartVector(4, len(xs), 4)
            for x in reversed(xs):
                b.PrependFloat32(float(x))
            return b.EndVector()

        def table_vec(offsets):
            b.StartVector(4, len(offsets), 4)
            for o in reversed(offsets):
                b.PrependUOffsetTRelative(o)
            return b.EndVector()

        # Buffer { data: [ubyte] (force_align: 64) } -- slack after each for XNNPACK's over-reads
        buffers = []
        for data in self.constants:
            padded = data + b"\0" * XNN_EXTRA_BYTES
            b.StartVector(1, len(padded), 64)
            b.head = b.head - len(padded)
            b.Bytes[b.head:b.head + len(padded)] = padded
            vec = b.EndVector()
            b.StartObject(1)
            b.PrependUOffsetTRelativeSlot(0, vec, 0)
            buffers.append(b.EndObject())

        values = []
        for v in self.values:
            dims = vec_u64(lambda bb, n: bb.StartVector(8, n, 8), list(v.dims))
            scales = vec_f32(v.channel_scales) if v.channel_scales is not None else None
            b.StartObject(7)
            b.PrependInt8Slot(0, int(v.dtype), 0)
            b.PrependUOffsetTRelativeSlot(1, dims, 0)
            b.PrependInt32Slot(2, v.constant, -1)
            b.PrependFloat32Slot(3, v.scale, 1.0)
            b.PrependInt32Slot(4, v.zero_point, 0)
            if scales is not None:
                b.PrependUOffsetTRelativeSlot(5, scales, 0)
            b.PrependUint32Slot(6, v.channel_dim, 0)
            values.append(b.EndObject())

        nodes = []
        for n in self.nodes:
            ins = vec_u32(n.inputs)
            outs = vec_u32([n.output])
            params = vec_i64(n.params)
            b.StartObject(8)
            b.PrependUint8Slot(0, int(n.kind), 0)
            b.PrependUOffsetTRelativeSlot(1, ins, 0)
            b.PrependUOffsetTRelativeSlot(2, outs, 0)
            b.PrependUOffsetTRelativeSlot(3, params, 0)
            b.PrependFloat32Slot(4, n.output_min, -math.inf)
            b.PrependFloat32Slot(5, n.output_max, math.inf)
            b.PrependFloat32Slot(6, n.alpha, 0.0)
            b.PrependUint32Slot(7, n.flags, 0)
            nodes.append(b.EndObject())

        def bindings(bs):
            out = []
            for x in bs:
                dims = vec_i64(list(x.dims))
                b.StartObject(3)
                b.PrependUint32Slot(0, x.value, 0)
                b.PrependUOffsetTRelativeSlot(1, dims, 0)
                b.PrependBoolSlot(2, x.nchw, False)
                out.append(b.EndObject())
            return out

        ins = bindings(self.inputs)
        outs = bindings(self.outputs)
        values_vec = table_vec(values)
        nodes_vec = table_vec(nodes)
        ins_vec = table_vec(ins)
        outs_vec = table_vec(outs)
        consts_vec = table_vec(buffers)
        b.StartObject(6)
        b.PrependUint32Slot(0, BLOB_VERSION, 1)
        b.PrependUOffsetTRelativeSlot(1, values_vec, 0)
        b.PrependUOffsetTRelativeSlot(2, nodes_vec, 0)
        b.PrependUOffsetTRelativeSlot(3, ins_vec, 0)
        b.PrependUOffsetTRelativeSlot(4, outs_vec, 0)
        b.PrependUOffsetTRelativeSlot(5, consts_vec, 0)
        root = b.EndObject()
        b.Finish(root, file_identifier=b"WXNN")
        return bytes(b.Output())

    def summary(self) -> dict:
        from collections import Counter
        return {"xnnpack_nodes": dict(Counter(n.kind.name for n in self.nodes)),
                "int8_nodes": dict(Counter(n.kind.name for n in self.nodes
                                           if self.values[n.output].dtype == DType.QInt8)),
                "values": len(self.values), "constant_bytes": sum(len(c) for c in self.constants)}
