"""The catalog: every case the suite knows, with seeded inputs.

A case is a small nn.Module plus its inputs, built on demand (building the
catalog imports nothing heavy: torch is imported inside the builders). The
inputs come from a generator seeded with a hash of the case id, so a case is
the same tensor bytes in every run, on every machine, in any order.

Kinds and levels (docs/conformance.md):

- ``op`` (level 1): one core ATen op x dtype x shape family.
- ``pattern`` (level 2): conv+bn+relu, linear+activation, attention,
  residual, concat/split, ... in float32.
- ``model`` (level 2): the five standard models (wick.models), float32.
- ``int8`` (level 3): quantized patterns and the int8 standard models.
- ``dynamic`` (level 3): programs exported with dynamic dimensions, run at
  several sizes within their bounds.

Tiers: ``default`` is sized so a level-2 run over a plugin that claims most of
the catalog stays well under 15 minutes on 2 cores; ``full`` (``--full``)
adds float64 and more integer dtypes, more shape families and bigger sizes.

Shape families: ``basic`` (odd sizes), ``broadcast``, ``scalar`` (0-dim),
``scalar_operand`` (a 0-dim tensor against a full one), ``empty`` (a zero
dimension), ``large``, ``edge`` (NaN, +-inf, -0, subnormals and the largest
magnitudes mixed into normal values; integer extremes for integer dtypes),
``channels_last`` (inputs in channels-last memory format; Wick programs are
row-major at their boundary, so the runtime binding reorders them and the
delegate sees NCHW shapes where layout conversion matters) and, in the full
tier, ``channels_last_export`` (exported from channels-last example inputs, so
the program itself carries the non-identity dim order).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable

FLOAT_DTYPES = ("float32", "float64", "float16", "bfloat16")


@dataclass
class Built:
    """A built case: the module, the inputs the program is exported with, and
    for dynamic-shape cases the other input sets to run."""

    module: Any
    inputs: tuple
    dynamic_shapes: Any = None
    more_inputs: list = field(default_factory=list)
    # Computes the eager reference instead of module (e.g. in float64, rounded
    # to the dtype, where PyTorch's reduced-precision kernel is the less
    # accurate one); None: the module itself.
    eager: Any = None


@dataclass(frozen=True)
class Case:
    id: str                # "op/add.Tensor/float32/broadcast"
    kind: str              # op | pattern | model | int8 | dynamic
    level: int             # the certification level that includes it
    op: str                # the op under test ("aten.add.Tensor"), or the pattern/model name
    dtype: str             # input dtype ("float32", "int8", ...) or "int8q" for quantized cases
    family: str            # shape family / variant
    op_class: str          # tolerance class (wick.conformance.tolerances)
    tier: str = "default"  # default | full
    time_factor: float = 1.0  # multiplies the per-case time limit
    build: Callable[[], Built] = field(default=None, compare=False, repr=False)

    def describe(self) -> dict:
        return {"id": self.id, "kind": self.kind, "level": self.level, "op": self.op, "dtype": self.dtype,
                "family": self.family, "op_class": self.op_class, "tier": self.tier}


def seed_of(case_id: str) -> int:
    return zlib.crc32(case_id.encode())


# ---------------------------------------------------------------- inputs

def _torch():
    import torch

    return torch


def _dtype(name: str):
    return getattr(_torch(), name)


EDGE_FLOATS = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1.0, -1.0, 1e-40, -1e-40, 3.0e38, -3.0e38,
               88.5, -88.5, 1e-30, 0.5, -7.25]
EDGE_HALF = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1.0, -1.0, 1e-7, -1e-7, 6.0e4, -6.0e4, 11.0,
             -11.0, 0.5, -7.25]
# For accumulating ops: placement of NaN/inf is order-independent, but huge
# finite values would make overflow depend on summation order.
EDGE_ACCUMULATE = [float("nan"), float("inf"), float("-inf"), -0.0]


def make(shape, dtype: str, gen, kind: str = "normal"):
    """A seeded tensor. kinds: normal, positive, edge, edge_accumulate, index:N,
    and for the generated op cases: unit (|x| < 1), ge1 (x >= 1), nonzero,
    small (integers in [-5, 5]), exponent (small non-negative), near1 (products
    stay finite), sparse (mostly zero: any/bool conversions see both values),
    distinct (no ties: sort, argmax, max pooling), edge_nonzero (edge values
    without integer zeros: divisors), perm:N (distinct indices below N),
    rowperm:N (distinct indices below N in each row)."""
    torch = _torch()
    dt = _dtype(dtype)
    if kind.startswith("index:"):
        return torch.randint(0, int(kind.split(":")[1]), shape, generator=gen, dtype=dt)
    if kind.startswith("perm:"):
        return torch.randperm(int(kind.split(":")[1]), generator=gen)[:shape[0]].to(dt)
    if kind.startswith("rowperm:"):
        n = int(kind.split(":")[1])
        rows = [torch.randperm(n, generator=gen)[:shape[-1]] for _ in range(shape[0])]
        return torch.stack(rows).to(dt)
    numel = 1
    for s in shape:
        numel *= s
    if kind == "distinct":
        if dtype in FLOAT_DTYPES:
            # distinct at every precision: multiples of 1/8 (exact in bfloat16 up to 32)
            return ((torch.randperm(numel, generator=gen).to(torch.float64) - numel / 2) / 8).reshape(shape).to(dt)
        lo = 0 if dtype == "uint8" else -min(numel // 2, 100)
        return (torch.randperm(numel, generator=gen) + lo).reshape(shape).to(dt)
    if dtype == "bool":
        if kind == "sparse":
            return torch.rand(shape, generator=gen) > 0.8
        return torch.rand(shape, generator=gen) > 0.5
    if kind == "sparse":
        x = make(shape, dtype, gen, "small")
        return torch.where(torch.rand(shape, generator=gen) > 0.7, x, torch.zeros((), dtype=dt))
    if dtype in FLOAT_DTYPES:
        x = torch.randn(shape, generator=gen, dtype=torch.float64)
        if kind == "positive":
            x = x.abs() + 0.05
        elif kind == "unit":
            x = torch.rand(shape, generator=gen, dtype=torch.float64) * 1.9 - 0.95
        elif kind == "ge1":
            x = x.abs() * 2 + 1
        elif kind == "nonzero":
            x = torch.where(x.abs() < 0.1, torch.full_like(x, 0.5), x)
        elif kind == "small":
            x = torch.randint(-4, 5, shape, generator=gen).to(torch.float64) / 2
        elif kind == "exponent":
            x = torch.rand(shape, generator=gen, dtype=torch.float64) * 3
        elif kind == "near1":
            x = torch.rand(shape, generator=gen, dtype=torch.float64) + 0.5
        if kind.startswith("edge"):
            x = x * 3
            specials = (EDGE_ACCUMULATE if kind == "edge_accumulate" else
                        EDGE_HALF if dtype in ("float16", "bfloat16") else EDGE_FLOATS)
            flat = x.flatten()
            n = flat.numel()
            perm = torch.randperm(n, generator=gen)
            take = max(1, n // 16) if kind == "edge_accumulate" else max(1, n // 3)
            vals = torch.tensor(specials, dtype=torch.float64)
            for j, i in enumerate(perm[:take].tolist()):
                flat[i] = vals[j % len(vals)]
            x = flat.reshape(shape)
        return x.to(dt)
    info = torch.iinfo(dt)
    lo, hi = max(info.min, -100), min(info.max, 100)
    if kind in ("positive", "ge1"):
        lo = 1
    elif kind == "unit":
        lo, hi = max(info.min, -1), 1
    elif kind in ("small", "near1"):
        lo, hi = max(info.min, -2 if kind == "near1" else -5), 2 if kind == "near1" else 5
    elif kind == "exponent":
        lo, hi = 0, 3
    x = torch.randint(lo, hi + 1, shape, generator=gen, dtype=torch.int64)
    if kind in ("nonzero", "edge_nonzero"):
        x = torch.where(x == 0, torch.ones_like(x), x)
    if kind.startswith("edge"):
        flat = x.flatten()
        specials = [info.min, info.max, 0, -1 if info.min < 0 else 1, 1, info.max - 1]
        if kind == "edge_nonzero":
            specials = [v for v in specials if v != 0]
        perm = torch.randperm(flat.numel(), generator=gen)
        for j, i in enumerate(perm[:max(1, flat.numel() // 3)].tolist()):
            flat[i] = specials[j % len(specials)]
        x = flat.reshape(shape)
    return x.to(dt)


def _gen(case_id: str):
    torch = _torch()
    torch.manual_seed(seed_of(case_id))  # module weights
    return torch.Generator().manual_seed(seed_of(case_id))


class _Fn:
    """nn.Module around a function (built lazily so torch is imported late)."""

    @staticmethod
    def of(fn: Callable, params: dict | None = None):
        torch = _torch()

        class Fn(torch.nn.Module):
            def __init__(self):
                super().__init__()
                for k, v in (params or {}).items():
                    self.register_buffer(k, v)

            def forward(self, *args):
                return fn(self, *args)

        return Fn().eval()


def _channels_last(t):
    torch = _torch()
    return t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t


# ---------------------------------------------------------------- op cases

class _Builder:
    def __init__(self):
        self.cases: list[Case] = []
        self.ids: set[str] = set()

    def add(self, case: Case) -> None:
        assert case.id not in self.ids, case.id
        self.ids.add(case.id)
        self.cases.append(case)

    def add_or_promote(self, case: Case) -> None:
        """Adds a generated case; where a hand-written case has its id, keeps
        that one (moved to the default tier when the generated one is default)."""
        if case.id not in self.ids:
            self.add(case)
            return
        if case.tier == "default":
            for i, c in enumerate(self.cases):
                if c.id == case.id and c.tier != "default":
                    self.cases[i] = replace(c, tier="default")


BINARY_SHAPES = {
    "basic": ((3, 5, 7), (3, 5, 7)),
    "broadcast": ((4, 1, 6), (5, 1)),
    "scalar": ((), ()),
    "scalar_operand": ((3, 4), ()),
    "empty": ((0, 5), (0, 5)),
    "large": ((257, 1031), (257, 1031)),
    "edge": ((97,), (97,)),
    "channels_last": ((2, 6, 5, 7), (2, 6, 5, 7)),
    "channels_last_export": ((2, 6, 5, 7), (2, 6, 5, 7)),
}


def _binary_cases(b: _Builder) -> None:
    ops = [("add", "aten.add.Tensor", "elementwise", lambda m, x, y: x + y),
           ("sub", "aten.sub.Tensor", "elementwise", lambda m, x, y: x - y),
           ("mul", "aten.mul.Tensor", "elementwise", lambda m, x, y: x * y),
           ("div", "aten.div.Tensor", "transcendental", lambda m, x, y: x / y)]
    full_families = {"channels_last_export"}
    for short, op, cls, fn in ops:
        for dtype in ("float32", "float64", "int32", "int64", "int8", "uint8"):
            for family, (sa, sb) in BINARY_SHAPES.items():
                is_float = dtype.startswith("float")
                if not is_float and family in ("channels_last", "channels_last_export", "large", "empty"):
                    continue
                if short == "div" and not is_float and family != "basic":
                    continue
                default = (dtype == "float32" and family not in full_families) or \
                          (dtype == "int32" and family in ("basic", "broadcast", "scalar_operand", "edge")
                           and short != "div") or \
                          (dtype == "int8" and family in ("basic", "edge") and short != "div")
                cid = f"op/{op[5:]}/{dtype}/{family}"
                b.add(Case(cid, "op", 1, op, dtype, family, cls, "default" if default else "full",
                           build=_binary_builder(cid, fn, sa, sb, dtype, family, short == "div")))


def _binary_builder(cid, fn, sa, sb, dtype, family, divisor_positive):
    def build() -> Built:
        gen = _gen(cid)
        kind = "edge" if family == "edge" else "normal"
        x = make(sa, dtype, gen, kind)
        y = make(sb, dtype, gen, "positive" if divisor_positive and not dtype.startswith("float") else kind)
        if family.startswith("channels_last"):
            x, y = _channels_last(x), _channels_last(y)
        return Built(_Fn.of(fn), (x, y))
    return build


def _scalar_op_cases(b: _Builder) -> None:
    torch_ops = [("add.Scalar", "elementwise", 2.5, 3), ("sub.Scalar", "elementwise", 0.75, 7),
                 ("mul.Scalar", "elementwise", -1.5, 3), ("div.Scalar", "transcendental", 3.0, 4)]
    for name, cls, fscalar, iscalar in torch_ops:
        for dtype, family, tier in (("float32", "basic", "default"), ("float32", "edge", "default"),
                                    ("int32", "basic", "default"), ("float64", "basic", "full")):
            cid = f"op/{name}/{dtype}/{family}"
            scalar = fscalar if dtype.startswith("float") else iscalar
            b.add(Case(cid, "op", 1, f"aten.{name}", dtype, family, cls, tier,
                       build=_scalar_builder(cid, name, scalar, dtype, family)))


def _scalar_builder(cid, name, scalar, dtype, family):
    def build() -> Built:
        torch = _torch()
        overload = getattr(getattr(torch.ops.aten, name.split(".")[0]), name.split(".")[1])
        x = make((4, 9), dtype, _gen(cid), "edge" if family == "edge" else "normal")
        return Built(_Fn.of(lambda m, a: overload(a, scalar)), (x,))
    return build


UNARY_SHAPES = {"basic": (3, 5, 7), "scalar": (), "empty": (0, 4), "large": (1031, 257), "edge": (97,),
                "channels_last": (2, 6, 5, 7), "channels_last_export": (2, 6, 5, 7)}


def _unary_cases(b: _Builder) -> None:
    import math as _m

    F = lambda: _torch().nn.functional  # noqa: E731
    T = _torch
    ops = [
        ("relu", "aten.relu.default", "exact", "normal", lambda m, x: T().relu(x)),
        ("neg", "aten.neg.default", "exact", "normal", lambda m, x: -x),
        ("hardtanh", "aten.hardtanh.default", "exact", "normal", lambda m, x: F().hardtanh(x, -0.5, 0.5)),
        ("sigmoid", "aten.sigmoid.default", "transcendental", "normal", lambda m, x: T().sigmoid(x)),
        ("tanh", "aten.tanh.default", "transcendental", "normal", lambda m, x: T().tanh(x)),
        ("exp", "aten.exp.default", "transcendental", "normal", lambda m, x: T().exp(x)),
        ("sqrt", "aten.sqrt.default", "transcendental", "positive", lambda m, x: T().sqrt(x)),
        ("rsqrt", "aten.rsqrt.default", "transcendental", "positive", lambda m, x: T().rsqrt(x)),
        ("pow2", "aten.pow.Tensor_Scalar", "transcendental", "normal", lambda m, x: x ** 2),
        ("pow_half", "aten.pow.Tensor_Scalar", "transcendental", "positive", lambda m, x: x ** 0.5),
    ]
    assert _m  # math kept for readers of the lambdas above
    for short, op, cls, domain, fn in ops:
        for dtype in ("float32", "float64", "int32", "int8"):
            for family, shape in UNARY_SHAPES.items():
                is_float = dtype.startswith("float")
                if not is_float and (short not in ("relu", "neg", "hardtanh") or family not in ("basic", "edge")):
                    continue
                default = dtype == "float32" and family != "channels_last_export" or \
                    (not is_float and short in ("relu", "neg") and dtype == "int32")
                if short in ("pow2", "pow_half") and family in ("scalar", "channels_last"):
                    default = False
                variant = "" if op.endswith(short + ".default") or short == "neg" else f"[{short}]"
                cid = f"op/{op[5:]}{variant}/{dtype}/{family}"
                b.add(Case(cid, "op", 1, op, dtype, family, cls, "default" if default else "full",
                           build=_unary_builder(cid, fn, shape, dtype, family, domain)))


def _unary_builder(cid, fn, shape, dtype, family, domain):
    def build() -> Built:
        kind = domain if domain.startswith("edge") else ("edge" if family == "edge" else domain)
        x = make(shape, dtype, _gen(cid), kind)
        if family.startswith("channels_last"):
            x = _channels_last(x)
        return Built(_Fn.of(fn), (x,))
    return build


def _reduce_cases(b: _Builder) -> None:
    T = _torch
    specs = [
        ("aten.mean.dim", "lastdim", (3, 5, 7), lambda m, x: x.mean(-1, keepdim=True), "normal"),
        ("aten.mean.dim", "multidim", (3, 5, 7), lambda m, x: x.mean((0, 2)), "normal"),
        ("aten.mean.dim", "large", (64, 4099), lambda m, x: x.mean(-1), "normal"),
        ("aten.mean.dim", "edge", (5, 33), lambda m, x: x.mean(-1), "edge_accumulate"),
        ("aten.sum.dim_IntList", "lastdim", (3, 5, 7), lambda m, x: x.sum(-1), "normal"),
        ("aten.sum.dim_IntList", "multidim", (3, 5, 7), lambda m, x: x.sum((0, 2), keepdim=True), "normal"),
        ("aten.sum.dim_IntList", "large", (64, 4099), lambda m, x: x.sum(-1), "normal"),
        ("aten.sum.dim_IntList", "empty", (0, 5), lambda m, x: x.sum(-1), "normal"),
        ("aten.sum.dim_IntList", "edge", (5, 33), lambda m, x: x.sum(0), "edge_accumulate"),
        ("aten._softmax.default", "lastdim", (3, 5, 7), lambda m, x: T().softmax(x, -1), "normal"),
        ("aten._softmax.default", "dim1", (3, 5, 7), lambda m, x: T().softmax(x, 1), "normal"),
        ("aten._softmax.default", "large", (16, 4099), lambda m, x: T().softmax(x, -1), "normal"),
        ("aten._softmax.default", "edge", (5, 33), lambda m, x: T().softmax(x, -1), "edge_accumulate"),
        ("aten._softmax.default", "large_magnitude", (4, 64), lambda m, x: T().softmax(x * 40, -1), "normal"),
        ("aten._log_softmax.default", "lastdim", (3, 5, 7), lambda m, x: T().log_softmax(x, -1), "normal"),
        ("aten._log_softmax.default", "dim0", (3, 5, 7), lambda m, x: T().log_softmax(x, 0), "normal"),
        ("aten._log_softmax.default", "large", (16, 4099), lambda m, x: T().log_softmax(x, -1), "normal"),
        ("aten._log_softmax.default", "edge", (5, 33), lambda m, x: T().log_softmax(x, -1), "edge_accumulate"),
    ]
    for op, family, shape, fn, kind in specs:
        for dtype in ("float32", "float64"):
            cid = f"op/{op[5:]}/{dtype}/{family}"
            b.add(Case(cid, "op", 1, op, dtype, family, "accumulate", "default" if dtype == "float32" else "full",
                       build=_unary_builder(cid, fn, shape, dtype, family, kind)))


def _matmul_cases(b: _Builder) -> None:
    T = _torch
    specs = [
        ("aten.mm.default", "basic", ((7, 13), (13, 5)), "normal"),
        ("aten.mm.default", "vector", ((1, 300), (300, 1)), "normal"),
        ("aten.mm.default", "large", ((128, 257), (257, 96)), "normal"),
        ("aten.mm.default", "edge", ((9, 16), (16, 7)), "edge_accumulate"),
        ("aten.bmm.default", "basic", ((2, 7, 13), (2, 13, 5)), "normal"),
        ("aten.bmm.default", "large", ((8, 64, 65), (8, 65, 64)), "normal"),
        ("aten.bmm.default", "edge", ((2, 9, 16), (2, 16, 7)), "edge_accumulate"),
    ]
    for op, family, (sa, sb), kind in specs:
        cid = f"op/{op[5:]}/float32/{family}"
        b.add(Case(cid, "op", 1, op, "float32", family, "accumulate",
                   build=_matmul_builder(cid, sa, sb, kind, lambda m, x, y: T().matmul(x, y))))
    for family, (n, k, o), kind in (("basic", (7, 13, 5), "normal"), ("large", (64, 512, 256), "normal"),
                                    ("edge", (9, 16, 7), "edge_accumulate")):
        cid = f"op/addmm.default/float32/{family}"
        b.add(Case(cid, "op", 1, "aten.addmm.default", "float32", family, "accumulate",
                   build=_linear_builder(cid, n, k, o, kind)))


def _matmul_builder(cid, sa, sb, kind, fn):
    def build() -> Built:
        gen = _gen(cid)
        return Built(_Fn.of(fn), (make(sa, "float32", gen, kind), make(sb, "float32", gen, kind)))
    return build


def _linear_builder(cid, n, k, o, kind):
    def build() -> Built:
        gen = _gen(cid)
        torch = _torch()
        w, bias = make((o, k), "float32", gen) / k ** 0.5, make((o,), "float32", gen)
        return Built(_Fn.of(lambda m, x: torch.addmm(m.bias, x, m.w.t()), {"w": w, "bias": bias}),
                     (make((n, k), "float32", gen, kind),))
    return build


def _conv_cases(b: _Builder) -> None:
    # (family, cin, cout, k, stride, pad, dilation, groups, bias, input shape, tier)
    specs = [
        ("basic", 3, 8, 3, 1, 1, 1, 1, True, (1, 3, 9, 11), "default"),
        ("stride2", 4, 6, 3, 2, 1, 1, 1, True, (1, 4, 10, 13), "default"),
        ("depthwise", 8, 8, 3, 1, 1, 1, 8, True, (1, 8, 12, 9), "default"),
        ("pointwise", 16, 24, 1, 1, 0, 1, 1, False, (1, 16, 7, 7), "default"),
        ("dilated", 4, 4, 3, 1, 2, 2, 1, True, (1, 4, 11, 11), "default"),
        ("grouped", 8, 12, 3, 1, 1, 1, 4, False, (2, 8, 6, 7), "default"),
        ("large", 16, 32, 3, 1, 1, 1, 1, True, (1, 16, 56, 56), "default"),
        ("kernel5", 3, 4, 5, 1, 2, 1, 1, True, (1, 3, 13, 10), "full"),
        ("edge", 3, 4, 3, 1, 1, 1, 1, True, (1, 3, 8, 8), "default"),
        ("channels_last", 6, 8, 3, 1, 1, 1, 1, True, (1, 6, 9, 7), "default"),
        ("channels_last_export", 6, 8, 3, 1, 1, 1, 1, True, (1, 6, 9, 7), "full"),
    ]
    for family, cin, cout, k, s, p, d, g, bias, shape, tier in specs:
        cid = f"op/convolution.default/float32/{family}"
        b.add(Case(cid, "op", 1, "aten.convolution.default", "float32", family, "accumulate", tier,
                   build=_conv_builder(cid, cin, cout, k, s, p, d, g, bias, shape, family)))


def _conv_builder(cid, cin, cout, k, s, p, d, g, bias, shape, family):
    def build() -> Built:
        torch = _torch()
        gen = _gen(cid)
        conv = torch.nn.Conv2d(cin, cout, k, s, p, d, g, bias=bias).eval()
        x = make(shape, "float32", gen, "edge_accumulate" if family == "edge" else "normal")
        if family.startswith("channels_last"):
            x = _channels_last(x)
        return Built(conv, (x,))
    return build


def _module_op_cases(b: _Builder) -> None:
    """batch norm, pooling, embedding: ops whose natural source is a module."""
    T = _torch
    specs = [
        ("aten._native_batch_norm_legit_no_training.default", "basic", "accumulate", (2, 6, 5, 7), "normal",
         lambda: _bn(6)),
        ("aten._native_batch_norm_legit_no_training.default", "channels_last", "accumulate", (1, 6, 5, 7), "normal",
         lambda: _bn(6)),
        ("aten._native_batch_norm_legit_no_training.default", "edge", "accumulate", (1, 4, 5, 5), "edge_accumulate",
         lambda: _bn(4)),
        ("aten.max_pool2d_with_indices.default", "k3s2p1", "exact", (1, 4, 11, 13), "normal",
         lambda: T().nn.MaxPool2d(3, 2, 1)),
        ("aten.max_pool2d_with_indices.default", "k2s2", "exact", (2, 3, 8, 8), "normal",
         lambda: T().nn.MaxPool2d(2, 2)),
        ("aten.max_pool2d_with_indices.default", "edge", "exact", (1, 2, 9, 9), "edge",
         lambda: T().nn.MaxPool2d(3, 2, 1)),
        ("aten.max_pool2d_with_indices.default", "ceil_mode", "exact", (1, 2, 10, 9), "normal",
         lambda: T().nn.MaxPool2d(3, 2, ceil_mode=True)),
        ("aten.avg_pool2d.default", "k3s2p1", "accumulate", (1, 4, 11, 13), "normal",
         lambda: T().nn.AvgPool2d(3, 2, 1)),
        ("aten.avg_pool2d.default", "k2s2", "accumulate", (2, 3, 8, 8), "normal", lambda: T().nn.AvgPool2d(2, 2)),
        ("aten.avg_pool2d.default", "exclude_pad", "accumulate", (1, 4, 11, 13), "normal",
         lambda: T().nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
        ("aten._adaptive_avg_pool2d.default", "uneven", "accumulate", (1, 8, 7, 9), "normal",
         lambda: T().nn.AdaptiveAvgPool2d((2, 4))),
        ("aten._adaptive_avg_pool2d.default", "to3x3", "accumulate", (1, 4, 10, 11), "normal",
         lambda: T().nn.AdaptiveAvgPool2d(3)),
        ("aten.embedding.default", "basic", "exact", (2, 7), "index:50", lambda: T().nn.Embedding(50, 16)),
        ("aten.embedding.default", "large", "exact", (1, 128), "index:4096", lambda: T().nn.Embedding(4096, 64)),
    ]
    full = {("aten.max_pool2d_with_indices.default", "ceil_mode"), ("aten.avg_pool2d.default", "exclude_pad")}
    for op, family, cls, shape, kind, make_module in specs:
        in_dtype = "int64" if kind.startswith("index") else "float32"
        cid = f"op/{op[5:]}/float32/{family}"
        b.add(Case(cid, "op", 1, op, "float32", family, cls, "full" if (op, family) in full else "default",
                   build=_module_builder(cid, make_module, shape, in_dtype, kind, family)))


def _bn(c: int):
    torch = _torch()
    bn = torch.nn.BatchNorm2d(c)
    gen = torch.Generator().manual_seed(c)
    bn.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
    bn.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
    bn.weight.data.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
    bn.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)
    return bn.eval()


def _module_builder(cid, make_module, shape, in_dtype, kind, family):
    def build() -> Built:
        gen = _gen(cid)
        module = make_module().eval()
        x = make(shape, in_dtype, gen, kind)
        if family.startswith("channels_last"):
            x = _channels_last(x)
        return Built(module, (x,))
    return build


def _copy_cases(b: _Builder) -> None:
    T = _torch
    specs = [
        ("aten.view_copy.default", "basic", [(3, 5, 7)], lambda m, x: x.reshape(15, 7)),
        ("aten.view_copy.default", "empty", [(0, 6)], lambda m, x: x.reshape(0, 3, 2)),
        ("aten.permute_copy.default", "basic", [(3, 5, 7)], lambda m, x: x.permute(2, 0, 1)),
        ("aten.permute_copy.default", "large", [(33, 65, 129)], lambda m, x: x.permute(1, 2, 0)),
        ("aten.expand_copy.default", "basic", [(4, 1)], lambda m, x: x.expand(3, 4, 5)),
        ("aten.slice_copy.Tensor", "strided", [(3, 11)], lambda m, x: x[:, 1:10:3]),
        ("aten.split_with_sizes_copy.default", "basic", [(4, 9)], lambda m, x: T().split(x, [2, 3, 4], 1)),
        ("aten.cat.default", "basic", [(3, 2), (3, 5)], lambda m, x, y: T().cat([x, y], 1)),
        ("aten.cat.default", "empty", [(0, 4), (3, 4)], lambda m, x, y: T().cat([x, y], 0)),
        ("aten.clone.default", "basic", [(3, 5, 7)], lambda m, x: x.clone()),
        ("aten.unsqueeze_copy.default", "basic", [(3, 5)], lambda m, x: x.unsqueeze(1)),
        ("aten.squeeze_copy.dims", "basic", [(3, 1, 5)], lambda m, x: x.squeeze(1)),
    ]
    for op, family, shapes, fn in specs:
        for dtype in ("float32", "float16", "int64", "bool", "bfloat16", "int8", "uint8", "float64"):
            default = dtype in ("float32", "float16", "int64", "bool") and \
                (family not in ("large", "empty") or dtype == "float32")
            cid = f"op/{op[5:]}/{dtype}/{family}"
            b.add(Case(cid, "op", 1, op, dtype, family, "exact", "default" if default else "full",
                       build=_multi_builder(cid, fn, shapes, dtype)))


def _multi_builder(cid, fn, shapes, dtype, kind="normal"):
    def build() -> Built:
        gen = _gen(cid)
        return Built(_Fn.of(fn), tuple(make(s, dtype, gen, kind) for s in shapes))
    return build


# ---------------------------------------------------------------- generated op cases (conformance/op_specs.py)

# Views run as their *_copy twins (wick.edge.VIEW_TO_COPY): the case's op is
# the name in the Edge graph, which is what a partitioner claims.
VIEW_TO_COPY = {
    "aten.view.default": "aten.view_copy.default", "aten.permute.default": "aten.permute_copy.default",
    "aten.expand.default": "aten.expand_copy.default", "aten.slice.Tensor": "aten.slice_copy.Tensor",
    "aten.split_with_sizes.default": "aten.split_with_sizes_copy.default",
    "aten.alias.default": "aten.alias_copy.default", "aten.unsqueeze.default": "aten.unsqueeze_copy.default",
    "aten.squeeze.dims": "aten.squeeze_copy.dims", "aten.squeeze.dim": "aten.squeeze_copy.dim",
    "aten.select.int": "aten.select_copy.int", "aten.diagonal.default": "aten.diagonal_copy.default",
    "aten.as_strided.default": "aten.as_strided_copy.default",
}
COPY_TO_VIEW = {v: k for k, v in VIEW_TO_COPY.items()}
EDGE_DTYPES = ("float32", "float16", "bfloat16", "int8")


class _Ctx:
    """What a generated call sees besides its tensors: the dtype and the
    Python scalar of the case."""

    def __init__(self, dtype: str, scalar: tuple):
        self.T = _torch()
        self.dtype = dtype
        self.dt = _dtype(dtype)
        self.is_float = dtype in FLOAT_DTYPES
        self.s = scalar[0] if self.is_float else scalar[2] if dtype == "bool" else scalar[1]


def _in_scope(scope: str, dtype: str) -> bool:
    return dtype == "float32" or scope == "all" or (scope == "edge" and dtype in EDGE_DTYPES) or \
        (scope == "floats" and dtype in FLOAT_DTYPES)


def _generated_cases(b: _Builder) -> None:
    from . import op_specs

    for spec in op_specs.specs():
        edge_op = VIEW_TO_COPY.get(spec.op, spec.op)
        for dtype in spec.dtypes:
            if (spec.op, dtype) in op_specs.EXCLUDED_CELLS:
                continue
            for v in spec.variants:
                if not _in_scope(v.scope, dtype):
                    continue
                if v.family == "edge" and dtype == "bool":
                    continue
                cid = f"op/{edge_op[5:]}/{dtype}/{v.family}"
                b.add_or_promote(Case(cid, "op", 1, edge_op, dtype, v.family, spec.cls,
                                      build=_spec_builder(cid, spec, v, dtype)))


def _spec_builder(cid, spec, variant, dtype):
    def build() -> Built:
        torch = _torch()
        gen = _gen(cid)
        ctx = _Ctx(dtype, spec.scalar)
        if callable(variant.inputs):
            inputs = tuple(variant.inputs(ctx, gen))
        else:
            inputs = []
            for d in variant.inputs:
                t = make(d.shape, d.dtype or dtype, gen, d.kind)
                inputs.append(_channels_last(t) if d.cl else t)
            inputs = tuple(inputs)
        pkt, overload = spec.op[5:].rsplit(".", 1)
        op = getattr(getattr(torch.ops.aten, pkt), overload)
        fn = variant.fn
        module = _Fn.of(lambda m, *ts: fn(op, ctx, *ts))
        eager = None
        if dtype in spec.ref_f64:
            def eager(*ts):
                wide = tuple(t.double() if t.is_floating_point() else t for t in ts)
                out = fn(op, _Ctx("float64", spec.scalar), *wide)
                return out.to(ctx.dt) if isinstance(out, torch.Tensor) else type(out)(o.to(ctx.dt) for o in out)
        return Built(module, inputs, eager=eager)
    return build


# ---------------------------------------------------------------- patterns, models, int8, dynamic

def _patterns() -> dict[str, Callable[[], tuple]]:
    """name -> () -> (module, inputs): float32 building blocks of real models."""
    torch = _torch()
    nn, F = torch.nn, torch.nn.functional

    class ConvBnRelu(nn.Module):
        def __init__(self, cin=3, cout=16, groups=1, act=nn.ReLU):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 3, padding=1, groups=groups, bias=False)
            self.bn = _bn(cout)
            self.act = act()

        def forward(self, x):
            return self.act(self.bn(self.conv(x)))

    class LinearAct(nn.Module):
        def __init__(self, act):
            super().__init__()
            self.fc1, self.fc2, self.act = nn.Linear(32, 64), nn.Linear(64, 16), act

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    class Attention(nn.Module):
        def __init__(self, dim=32, heads=2, seq=8):
            super().__init__()
            self.heads = heads
            self.qkv, self.out = nn.Linear(dim, 3 * dim, bias=False), nn.Linear(dim, dim)
            self.register_buffer("mask", torch.full((seq, seq), float("-inf")).triu(1))

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(x).split(d, dim=-1)
            q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
            scores = q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5 + self.mask
            return self.out((torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, t, d))

    class Residual(nn.Module):
        def __init__(self, c=8):
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)

        def forward(self, x):
            return F.relu(x + self.c2(F.relu(self.c1(x))))

    class ConcatSplit(nn.Module):
        def forward(self, x):
            a, b, c = torch.split(x, [3, 5, 8], dim=1)
            return torch.cat([torch.relu(a), torch.sigmoid(b) * 2.0, c - 1.0], dim=1)

    class PoolLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(2, 4, 3, padding=1), nn.Linear(4 * 4 * 4, 10)

        def forward(self, x):
            return F.log_softmax(self.fc(F.max_pool2d(F.relu(self.conv(x)), 2).flatten(1)), -1)

    class RMSNorm(nn.Module):
        def __init__(self, d=64):
            super().__init__()
            self.weight = nn.Parameter(torch.rand(d) + 0.5)

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight

    class SwiGLU(nn.Module):
        def __init__(self):
            super().__init__()
            self.w1, self.w3, self.w2 = nn.Linear(32, 48, bias=False), nn.Linear(32, 48, bias=False), \
                nn.Linear(48, 32, bias=False)

        def forward(self, x):
            h = self.w1(x)
            return self.w2(h * torch.sigmoid(h) * self.w3(x))

    class DepthwiseSeparable(nn.Module):
        def __init__(self):
            super().__init__()
            self.dw = ConvBnRelu(8, 8, groups=8, act=nn.ReLU6)
            self.pw = nn.Sequential(nn.Conv2d(8, 16, 1, bias=False), _bn(16))

        def forward(self, x):
            return self.pw(self.dw(x))

    def r(*shape):
        return torch.randn(*shape, generator=torch.Generator().manual_seed(len(shape) * 7 + shape[-1]))

    return {
        "conv_bn_relu": lambda: (ConvBnRelu(), (r(1, 3, 16, 16),)),
        "conv_bn_relu_channels_last": lambda: (ConvBnRelu(), (_channels_last(r(1, 3, 12, 10)),)),
        "depthwise_separable": lambda: (DepthwiseSeparable(), (r(1, 8, 14, 14),)),
        "linear_relu": lambda: (LinearAct(nn.ReLU()), (r(4, 32),)),
        "linear_sigmoid": lambda: (LinearAct(nn.Sigmoid()), (r(4, 32),)),
        "linear_tanh": lambda: (LinearAct(nn.Tanh()), (r(4, 32),)),
        "attention": lambda: (Attention(), (r(1, 8, 32),)),
        "residual_add": lambda: (Residual(), (r(1, 8, 10, 10),)),
        "concat_split": lambda: (ConcatSplit(), (r(2, 16, 5),)),
        "pool_linear_log_softmax": lambda: (PoolLinear(), (r(1, 2, 8, 8),)),
        "rmsnorm": lambda: (RMSNorm(), (r(2, 5, 64),)),
        "swiglu_mlp": lambda: (SwiGLU(), (r(3, 32),)),
    }


PATTERN_NAMES = ["conv_bn_relu", "conv_bn_relu_channels_last", "depthwise_separable", "linear_relu",
                 "linear_sigmoid", "linear_tanh", "attention", "residual_add", "concat_split",
                 "pool_linear_log_softmax", "rmsnorm", "swiglu_mlp"]
MODEL_NAMES = ["mlp", "small_cnn", "tiny_llama", "mobilenet_v2", "resnet18"]
INT8_PATTERNS = ["conv_bn_relu", "linear_relu", "residual_add", "pool_linear_log_softmax"]
# Seconds of a model case relative to an op case's limit (export of mobilenet
# alone takes ~4 s here; quantizing it ~15 s).
MODEL_TIME = {"mlp": 3, "small_cnn": 3, "tiny_llama": 8, "mobilenet_v2": 10, "resnet18": 10}


def _pattern_builder(name, cid):
    def build() -> Built:
        _gen(cid)
        module, inputs = _patterns()[name]()
        return Built(module.eval(), inputs)
    return build


def _model_builder(name):
    def build() -> Built:
        from wick.models import STANDARD_MODELS

        module, inputs = STANDARD_MODELS[name]()
        return Built(module, tuple(inputs))
    return build


def _structured_cases(b: _Builder) -> None:
    for name in PATTERN_NAMES:
        cid = f"pattern/{name}/float32"
        b.add(Case(cid, "pattern", 2, name, "float32", "pattern", "pattern", build=_pattern_builder(name, cid)))
    for name in MODEL_NAMES:
        b.add(Case(f"model/{name}/float32", "model", 2, name, "float32", "model", "model",
                   time_factor=MODEL_TIME[name], build=_model_builder(name)))
    # int8: the builders return the float module; the worker quantizes it with
    # the backend's PT2E quantizer (or the reference one) and marks the output scale.
    for name in INT8_PATTERNS:
        cid = f"int8/{name}/int8q"
        b.add(Case(cid, "int8", 3, name, "int8q", "pattern", "pattern", time_factor=2,
                   build=_pattern_builder(name, cid)))
    for name in MODEL_NAMES:
        b.add(Case(f"int8/model_{name}/int8q", "int8", 3, name, "int8q", "model", "model",
                   time_factor=MODEL_TIME[name] * 2, build=_model_builder(name)))
    _dynamic_cases(b)


def _dynamic_cases(b: _Builder) -> None:
    T = _torch
    # name, op, input shapes, dynamic dim per input, run sizes, fn
    specs = [
        ("add_rows", "aten.add.Tensor", [(4, 8), (4, 8)], 0, [1, 5, 16], lambda m, x, y: x + y),
        ("relu_rows", "aten.relu.default", [(4, 8)], 0, [1, 7, 32], lambda m, x: T().relu(x)),
        ("sigmoid_rows", "aten.sigmoid.default", [(4, 8)], 0, [2, 9, 32], lambda m, x: T().sigmoid(x)),
        ("softmax_seq", "aten._softmax.default", [(2, 8)], 1, [3, 8, 64], lambda m, x: T().softmax(x, -1)),
        ("linear_batch", "aten.addmm.default", [(4, 16)], 0, [1, 3, 8], None),
        ("mm_rows", "aten.mm.default", [(4, 16)], 0, [1, 6, 32], None),
    ]
    for name, op, shapes, dim, sizes, fn in specs:
        cid = f"dynamic/{name}/float32"
        b.add(Case(cid, "dynamic", 3, op, "float32", "dynamic", "accumulate" if fn is None or "softmax" in name
                   else ("transcendental" if "sigmoid" in name else "exact" if "relu" in name else "elementwise"),
                   build=_dynamic_builder(cid, name, shapes, dim, sizes, fn)))


def _dynamic_builder(cid, name, shapes, dim, sizes, fn):
    def build() -> Built:
        torch = _torch()
        gen = _gen(cid)
        if fn is None:
            w = make((8, 16), "float32", gen) / 4
            bias = make((8,), "float32", gen)
            module = _Fn.of((lambda m, x: torch.addmm(m.bias, x, m.w.t())) if name == "linear_batch"
                            else (lambda m, x: x @ m.w.t()), {"w": w, "bias": bias})
        else:
            module = _Fn.of(fn)
        inputs = tuple(make(s, "float32", gen) for s in shapes)
        d = torch.export.Dim(f"d_{name}", min=1, max=max(sizes))
        dyn = (tuple({dim: d} for _ in shapes),)
        more = []
        for n in sizes:
            more.append(tuple(make(tuple(n if i == dim else s for i, s in enumerate(shape)), "float32", gen)
                              for shape in shapes))
        return Built(module, inputs, dyn, more)
    return build


# ---------------------------------------------------------------- the catalog

_CATALOG: list[Case] | None = None


def catalog() -> list[Case]:
    """Every case, both tiers, in a fixed order."""
    global _CATALOG
    if _CATALOG is None:
        b = _Builder()
        _binary_cases(b)
        _scalar_op_cases(b)
        _unary_cases(b)
        _reduce_cases(b)
        _matmul_cases(b)
        _conv_cases(b)
        _module_op_cases(b)
        _copy_cases(b)
        _generated_cases(b)
        _structured_cases(b)
        _CATALOG = b.cases
    return _CATALOG


def by_id() -> dict[str, Case]:
    return {c.id: c for c in catalog()}


def keyword_match(expression: str | None, text: str) -> bool:
    """pytest-style -k: words matched as case-insensitive substrings of the
    case id, combined with and/or/not and parentheses."""
    if not expression:
        return True
    import re

    tokens = re.findall(r"\(|\)|[^\s()]+", expression)
    py = []
    for t in tokens:
        if t in ("(", ")") or t.lower() in ("and", "or", "not"):
            py.append(t.lower())
        else:
            py.append(repr(t.lower() in text.lower()))
    try:
        return bool(eval(" ".join(py), {"__builtins__": {}}, {}))  # only True/False/and/or/not/() remain
    except SyntaxError:
        raise ValueError(f"cannot parse -k expression {expression!r}") from None


def select(level: int = 2, keyword: str | None = None, full: bool = False) -> list[Case]:
    """Cases of ``level`` and below, of the default tier (and the full tier
    with ``full``), matching ``keyword``."""
    return [c for c in catalog() if c.level <= level and (full or c.tier == "default")
            and keyword_match(keyword, c.id)]
