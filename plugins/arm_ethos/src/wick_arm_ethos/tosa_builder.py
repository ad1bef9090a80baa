"""A thin layer over ``tosa_serializer`` (tosa-tools): names tensors, records
which TOSA operators were emitted, and computes the RESCALE multiplier/shift
pairs that integer TOSA needs.

Graphs are written for TOSA 1.0 (the version Vela 5.2 reads), not the 1.1
draft the serializer defaults to.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Sequence

import numpy as np

TOSA_VERSION = (1, 0, 0)


def _ts() -> Any:
    import tosa_serializer as ts

    return ts


def multiplier_and_shift(scale: float) -> tuple[int, int]:
    """``scale`` as a 32-bit multiplier and a right shift, as TOSA RESCALE
    wants: scale ~= multiplier * 2**-shift, 2 <= shift <= 62, multiplier
    below 2**31. A zero scale gives (0, 2)."""
    if scale <= 0.0:
        if scale == 0.0:
            return 0, 2
        raise ValueError(f"RESCALE needs a positive scale, got {scale}")
    mantissa, exponent = math.frexp(scale)  # scale = mantissa * 2**exponent, 0.5 <= mantissa < 1
    multiplier = round(mantissa * (1 << 31))
    if multiplier == 1 << 31:
        multiplier //= 2
        exponent += 1
    shift = 31 - exponent
    if shift > 62:  # tiny scale: drop low multiplier bits
        multiplier >>= min(31, shift - 62)
        shift = 62
    if shift < 2:
        raise ValueError(f"scale {scale} is too large for a TOSA RESCALE (needs shift >= 2)")
    return multiplier, shift


class TosaBuilder:
    """Builds one TOSA graph (one region, one basic block)."""

    def __init__(self) -> None:
        ts = _ts()
        self.ts = ts
        major, minor, patch = TOSA_VERSION
        self.graph = ts.TosaSerializer("", targetMajor=major, targetMinor=minor, targetPatch=patch,
                                       targetDraft=False)
        self._count = 0
        self.op_counts: Counter = Counter()
        self.uses_float = False
        self.uses_int = False  # integer tensors computed (constants such as a MUL shift do not count)
        self.inputs: list[str] = []
        self.outputs: list[str] = []

    # -- tensors -------------------------------------------------------
    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def _note_dtype(self, dtype: Any, computed: bool = False) -> None:
        if dtype in (self.ts.DType.FP32, self.ts.DType.FP16, self.ts.DType.BF16):
            self.uses_float = True
        elif computed and dtype in (self.ts.DType.INT8, self.ts.DType.INT16, self.ts.DType.INT32):
            self.uses_int = True

    def input(self, hint: str, shape: Sequence[int], dtype: Any) -> str:
        name = self.fresh(hint)
        self.graph.addInputTensor(self.ts.TosaSerializerTensor(name, list(shape), dtype, data=None))
        self.inputs.append(name)
        self._note_dtype(dtype, computed=True)
        return name

    def const(self, values: Any, dtype: Any, hint: str = "const", shape: Sequence[int] | None = None) -> str:
        name = self.fresh(hint)
        arr = np.asarray(values)
        shp = list(arr.shape) if shape is None else list(shape)
        if dtype == self.ts.DType.SHAPE:
            data = [int(v) for v in arr.reshape(-1)]
        else:
            data = np.ascontiguousarray(arr.reshape(shp) if shp else arr.reshape(()))
        self.graph.addConst(shp, dtype, data, name=name)
        self._note_dtype(dtype)
        return name

    def shape_const(self, values: Sequence[int], hint: str = "shape") -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), self.ts.DType.SHAPE, hint, shape=[len(values)])

    def op(self, op: Any, inputs: Sequence[str], out_shape: Sequence[int], out_dtype: Any, attr: Any = None,
           hint: str = "t") -> str:
        name = self.fresh(hint)
        self.graph.currRegion.currBasicBlock.addTensor(name, list(out_shape), out_dtype)
        if attr is None:
            attr = self.ts.TosaSerializerAttribute()
        self.graph.addOperator(op, list(inputs), [name], attr)
        self.op_counts[str(op).split(".")[-1]] += 1
        self._note_dtype(out_dtype, computed=True)
        return name

    def output(self, name: str) -> None:
        self.graph.addOutputTensor(self.graph.currRegion.currBasicBlock.tensors[name])
        self.outputs.append(name)

    def attr(self, kind: str, *args: Any, **kwargs: Any) -> Any:
        a = self.ts.TosaSerializerAttribute()
        getattr(a, kind)(*args, **kwargs)
        return a

    # -- common operators ---------------------------------------------
    def reshape(self, x: str, new_shape: Sequence[int], dtype: Any) -> str:
        return self.op(self.ts.Op.RESHAPE, [x, self.shape_const(new_shape)], new_shape, dtype,
                       self.attr("ReshapeAttribute"), "reshape")

    def transpose(self, x: str, perms: Sequence[int], out_shape: Sequence[int], dtype: Any) -> str:
        return self.op(self.ts.Op.TRANSPOSE, [x], out_shape, dtype, self.attr("TransposeAttribute", list(perms)),
                       "transpose")

    def rescale(self, x: str, in_dtype: Any, out_dtype: Any, shape: Sequence[int], scales: Sequence[float],
                input_zp: int, output_zp: int) -> str:
        """RESCALE with one scale, or one per channel (the last dimension)."""
        ts = self.ts
        pairs = [multiplier_and_shift(float(s)) for s in scales]
        mult = self.const(np.array([p[0] for p in pairs], dtype=np.int32), ts.DType.INT32, "multiplier")
        shift = self.const(np.array([p[1] for p in pairs], dtype=np.int8), ts.DType.INT8, "shift")
        izp = self.const(np.array([input_zp], dtype=_np_int(in_dtype, ts)), in_dtype, "input_zp")
        ozp = self.const(np.array([output_zp], dtype=_np_int(out_dtype, ts)), out_dtype, "output_zp")
        attr = self.attr("RescaleAttribute", scale32=True, rounding_mode=ts.RoundingMode.SINGLE_ROUND,
                         per_channel=len(scales) > 1, input_unsigned=False, output_unsigned=False)
        return self.op(ts.Op.RESCALE, [x, mult, shift, izp, ozp], shape, out_dtype, attr, "rescale")

    def clamp(self, x: str, lo: float | int, hi: float | int, shape: Sequence[int], dtype: Any) -> str:
        ts = self.ts
        np_dtype = np.float32 if dtype == ts.DType.FP32 else _np_int(dtype, ts)
        as_bytes = lambda v: np.array([v], dtype=np_dtype).view(np.uint8).tolist()  # noqa: E731
        attr = self.attr("ClampAttribute", as_bytes(lo), as_bytes(hi), nan_mode=ts.NanPropagationMode.PROPAGATE)
        return self.op(ts.Op.CLAMP, [x], shape, dtype, attr, "clamp")

    def serialize(self) -> bytes:
        return bytes(self.graph.serialize())


def _np_int(dtype: Any, ts: Any) -> Any:
    return {ts.DType.INT8: np.int8, ts.DType.INT16: np.int16, ts.DType.INT32: np.int32}[dtype]
