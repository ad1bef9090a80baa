"""The op table behind the generated op cases: one entry per core ATen overload.

Each entry says how to build a one-op module and its seeded inputs for any
dtype (``variants``: a shape family, the inputs, the call), which dtypes the
portable kernels implement for it (``dtypes``, checked against
``wick.runtime.registered_kernels()`` by tests/test_conformance.py) and which
tolerance class judges it. ``wick.conformance.catalog`` turns the table into
cases:

- every variant runs for float32;
- a variant's ``scope`` says which other dtypes it also runs for: ``all``
  (every dtype of the op; the first variant, usually ``basic``), ``edge``
  (every float dtype and int8: the edge-value family), ``floats``, or ``f32``
  (float32 only: the extra shape families, which exercise the same code paths
  in every dtype).

Ops the catalog cannot judge are in ``EXCLUDED`` (whole overloads) and
``EXCLUDED_CELLS`` (one dtype of an overload), each with its reason; the
reports list them in their coverage section. Nothing here imports torch at
import time: the calls are resolved when a case is built.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

F4 = ("float32", "float64", "float16", "bfloat16")
I5 = ("int8", "int16", "int32", "int64", "uint8")
ALL = F4 + I5 + ("bool",)
NOBOOL = F4 + I5
BITS = I5 + ("bool",)


@dataclass(frozen=True)
class In:
    """One input tensor: shape, value kind (see catalog.make), dtype (None: the
    case's dtype), channels-last memory format."""

    shape: tuple
    kind: str = "normal"
    dtype: str | None = None
    cl: bool = False


def X(*shape, kind="normal", dtype=None, cl=False) -> In:
    return In(tuple(shape), kind, dtype, cl)


@dataclass(frozen=True)
class V:
    """A variant: shape family, inputs (a tuple of In, or a callable
    (ctx, gen) -> tuple of tensors), the call fn(op, ctx, *tensors), scope."""

    family: str
    inputs: Any
    fn: Callable
    scope: str = "f32"


@dataclass(frozen=True)
class Spec:
    op: str                      # the core overload, "aten.sin.default"
    dtypes: tuple
    cls: str                     # tolerance class
    variants: tuple
    scalar: tuple = (2.5, 3, True)   # the Python scalar for float / integer / bool cases
    # dtypes whose eager reference is computed in float64 and rounded to the
    # dtype (PyTorch's reduced-precision kernel rounds intermediates; Wick's
    # computes them in float and is the more accurate of the two).
    ref_f64: tuple = ()


# ---------------------------------------------------------------- templates

def _u(op, c, x):
    return op(x)


def unary(domain="normal", shape=(3, 5, 7), fn=_u, families=("scalar", "empty", "large", "channels_last")):
    vs = [V("basic", (X(*shape, kind=domain),), fn, "all"), V("edge", (X(97, kind="edge"),), fn, "edge")]
    extra = {"scalar": (X(kind=domain),), "empty": (X(0, 4, kind=domain),), "large": (X(1031, 257, kind=domain),),
             "channels_last": (X(2, 6, 5, 7, kind=domain, cl=True),)}
    vs += [V(f, extra[f], fn) for f in families]
    return tuple(vs)


def _b(op, c, x, y):
    return op(x, y)


def binary(da="normal", db="normal", fn=_b, edge_b="edge"):
    return (
        V("basic", (X(3, 5, 7, kind=da), X(3, 5, 7, kind=db)), fn, "all"),
        V("edge", (X(97, kind="edge"), X(97, kind=edge_b)), fn, "edge"),
        V("broadcast", (X(4, 1, 6, kind=da), X(5, 1, kind=db)), fn),
        V("scalar", (X(kind=da), X(kind=db)), fn),
        V("scalar_operand", (X(3, 4, kind=da), X(kind=db)), fn),
        V("empty", (X(0, 5, kind=da), X(0, 5, kind=db)), fn),
        V("large", (X(257, 1031, kind=da), X(257, 1031, kind=db)), fn),
        V("channels_last", (X(2, 6, 5, 7, kind=da, cl=True), X(2, 6, 5, 7, kind=db, cl=True)), fn),
    )


def _xs(op, c, x):
    return op(x, c.s)


def with_scalar(domain="normal", fn=_xs):
    return (V("basic", (X(4, 9, kind=domain),), fn, "all"), V("edge", (X(97, kind="edge"),), fn, "edge"),
            V("scalar", (X(kind=domain),), fn), V("empty", (X(0, 3, kind=domain),), fn))


def without_edge(variants):
    return tuple(v for v in variants if v.family != "edge")


def one(family, inputs, fn, scope="f32"):
    return V(family, inputs, fn, scope)


def _T():
    import torch

    return torch


# ---------------------------------------------------------------- helpers for inputs computed from others

def _ln_bw_inputs(c, gen):
    from .catalog import make

    T = _T()
    x = make((3, 6), c.dtype, gen)
    w, b = make((6,), c.dtype, gen), make((6,), c.dtype, gen)
    _, mean, rstd = T.ops.aten.native_layer_norm.default(x, [6], w, b, 1e-5)
    return (make((3, 6), c.dtype, gen), x, mean, rstd, w, b)


def _gn_bw_inputs(c, gen):
    from .catalog import make

    T = _T()
    x = make((2, 4, 5), c.dtype, gen)
    w = make((4,), c.dtype, gen)
    _, mean, rstd = T.ops.aten.native_group_norm.default(x, w, None, 2, 4, 5, 2, 1e-5)
    return (make((2, 4, 5), c.dtype, gen), x, mean, rstd, w)


def _maxpool_bw_inputs(c, gen):
    from .catalog import make

    T = _T()
    x = make((1, 2, 6, 6), c.dtype, gen, "distinct")
    _, ind = T.ops.aten.max_pool2d_with_indices.default(x, [2, 2], [2, 2])
    return (make((1, 2, 3, 3), c.dtype, gen), x, ind)


def _bn_inputs(c, gen):
    from .catalog import make

    return (make((2, 3, 4, 5), c.dtype, gen), make((3,), c.dtype, gen), make((3,), c.dtype, gen),
            make((3,), c.dtype, gen), make((3,), c.dtype, gen, "positive"))


def _bag_inputs(c, gen):
    from .catalog import make

    T = _T()
    return (make((10, 3), c.dtype, gen), make((8,), "int64", gen, "index:10"), T.tensor([0, 3, 5]))


# ---------------------------------------------------------------- the table

def _specs() -> list[Spec]:
    S: list[Spec] = []

    def add(op, dtypes, cls, variants, **kw):
        S.append(Spec(op, tuple(dtypes), cls, tuple(variants), **kw))

    # -- unary elementwise
    for name, dom, cls, dts in [
            ("abs", "normal", "exact", NOBOOL), ("neg", "normal", "exact", NOBOOL),
            ("relu", "normal", "exact", NOBOOL),
            ("ceil", "normal", "exact", NOBOOL), ("floor", "normal", "exact", NOBOOL),
            ("round", "normal", "exact", NOBOOL), ("trunc", "normal", "exact", NOBOOL),
            ("isinf", "normal", "exact", ALL), ("isnan", "normal", "exact", ALL),
            ("logical_not", "normal", "exact", ALL), ("bitwise_not", "normal", "exact", BITS),
            ("sigmoid", "normal", "transcendental", ALL), ("tanh", "normal", "transcendental", ALL),
            ("exp", "normal", "transcendental", ALL), ("expm1", "normal", "transcendental", ALL),
            ("sqrt", "positive", "transcendental", ALL), ("rsqrt", "positive", "transcendental", ALL),
            ("reciprocal", "nonzero", "transcendental", ALL),
            ("log", "positive", "transcendental", ALL), ("log2", "positive", "transcendental", ALL),
            ("log10", "positive", "transcendental", ALL), ("log1p", "positive", "transcendental", ALL),
            ("sin", "normal", "transcendental", ALL), ("cos", "normal", "transcendental", ALL),
            ("tan", "normal", "transcendental", ALL), ("asin", "unit", "transcendental", ALL),
            ("acos", "unit", "transcendental", ALL), ("atan", "normal", "transcendental", ALL),
            ("asinh", "normal", "transcendental", ALL), ("acosh", "ge1", "transcendental", ALL),
            ("atanh", "unit", "transcendental", ALL), ("erf", "normal", "transcendental", ALL)]:
        add(f"aten.{name}.default", dts, cls, unary(dom))
    # Known differences of the portable kernels from eager PyTorch (EXCLUDED_VARIANTS): these
    # ops get no edge-value family (or only in the dtypes where they agree).
    add("aten.sign.default", ALL, "exact", unary())
    for name in ("sinh", "cosh"):
        add(f"aten.{name}.default", ALL, "transcendental",
            tuple(replace(v, scope="floats") if v.family == "edge" else v for v in unary("small")))
    add("aten.gelu.default", F4, "transcendental",
        without_edge(unary()) + (one("tanh_approx", (X(3, 5, 7),), lambda op, c, x: op(x, approximate="tanh")),))
    add("aten.elu.default", F4, "transcendental", unary(fn=lambda op, c, x: op(x, 1.0)))
    add("aten.leaky_relu.default", F4, "elementwise", unary(fn=lambda op, c, x: op(x, 0.125)))
    add("aten.hardtanh.default", NOBOOL, "exact",
        with_scalar(fn=lambda op, c, x: op(x, -0.5, 0.5) if c.is_float else op(x, 0, 30) if c.dtype == "uint8"
                    else op(x, -20, 30)))
    add("aten.native_dropout.default", F4, "exact",
        [one("eval", (X(4, 5),), lambda op, c, x: op(x, 0.5, False), "all")])

    # -- binary elementwise
    for name, cls, dts, da, db, edge_b in [
            ("add.Tensor", "elementwise", ALL, "normal", "normal", "edge"),
            ("sub.Tensor", "elementwise", NOBOOL, "normal", "normal", "edge"),
            ("mul.Tensor", "elementwise", ALL, "normal", "normal", "edge"),
            ("div.Tensor", "transcendental", ALL, "normal", "nonzero", "edge"),
            ("pow.Tensor_Tensor", "transcendental", NOBOOL, "small", "exponent", "exponent"),
            ("atan2.default", "transcendental", ALL, "normal", "normal", "edge"),
            ("maximum.default", "exact", ALL, "normal", "normal", "edge"),
            ("minimum.default", "exact", ALL, "normal", "normal", "edge"),
            ("eq.Tensor", "exact", ALL, "small", "small", "edge"),
            ("ne.Tensor", "exact", ALL, "small", "small", "edge"),
            ("lt.Tensor", "exact", ALL, "small", "small", "edge"),
            ("le.Tensor", "exact", ALL, "small", "small", "edge"),
            ("gt.Tensor", "exact", ALL, "small", "small", "edge"),
            ("ge.Tensor", "exact", ALL, "small", "small", "edge"),
            ("bitwise_and.Tensor", "exact", BITS, "normal", "normal", "edge"),
            ("bitwise_or.Tensor", "exact", BITS, "normal", "normal", "edge"),
            ("bitwise_xor.Tensor", "exact", BITS, "normal", "normal", "edge"),
            ("logical_and.default", "exact", ALL, "small", "small", "edge"),
            ("logical_or.default", "exact", ALL, "small", "small", "edge"),
            ("logical_xor.default", "exact", ALL, "small", "small", "edge")]:
        add(f"aten.{name}", dts, cls, binary(da, db, edge_b=edge_b))
    for name in ("fmod.Tensor", "remainder.Tensor"):
        add(f"aten.{name}", NOBOOL, "transcendental", without_edge(binary("normal", "nonzero")))
    add("aten.div.Tensor_mode", NOBOOL, "transcendental",
        binary("normal", "nonzero", fn=lambda op, c, x, y: op(x, y, rounding_mode="floor"), edge_b="edge_nonzero")
        + (one("trunc", (X(3, 5, 7), X(3, 5, 7, kind="nonzero")),
               lambda op, c, x, y: op(x, y, rounding_mode="trunc"), "all"),))
    add("aten.clamp.Tensor", ALL, "exact",
        [one("basic", (X(3, 5, 7), X(3, 5, 7, kind="small"), X(5, 7, kind="small")),
             lambda op, c, x, lo, hi: op(x, lo, hi), "all"),
         one("min_only", (X(3, 5, 7), X(1, 7)), lambda op, c, x, lo: op(x, lo)),
         one("edge", (X(97, kind="edge"), X(97), X(97)), lambda op, c, x, lo, hi: op(x, lo, hi), "edge")])
    add("aten.where.self", ALL, "exact",
        [one("basic", (X(3, 5, 7, dtype="bool"), X(3, 5, 7), X(3, 5, 7)), lambda op, c, m, x, y: op(m, x, y), "all"),
         one("broadcast", (X(5, 1, dtype="bool"), X(3, 5, 7), X(7)), lambda op, c, m, x, y: op(m, x, y)),
         one("edge", (X(97, dtype="bool"), X(97, kind="edge"), X(97, kind="edge")),
             lambda op, c, m, x, y: op(m, x, y), "edge")])

    # -- tensor (op) Python scalar
    for name, cls, dts, dom, scalar in [
            ("add.Scalar", "elementwise", ALL, "normal", (2.5, 3, True)),
            ("sub.Scalar", "elementwise", NOBOOL, "normal", (0.75, 7, True)),
            ("mul.Scalar", "elementwise", ALL, "normal", (-1.5, 3, True)),
            ("div.Scalar", "transcendental", ALL, "normal", (3.0, 4, True)),
            ("fmod.Scalar", "transcendental", ALL, "normal", (1.5, -3, True)),
            ("remainder.Scalar", "transcendental", ALL, "normal", (1.5, -3, True)),
            ("pow.Tensor_Scalar", "transcendental", ALL, "normal", (3, 3, True)),
            ("eq.Scalar", "exact", ALL, "small", (1, 1, True)), ("ne.Scalar", "exact", ALL, "small", (1, 1, True)),
            ("lt.Scalar", "exact", ALL, "small", (0.5, 1, True)), ("le.Scalar", "exact", ALL, "small", (1, 1, True)),
            ("gt.Scalar", "exact", ALL, "small", (-0.5, 1, False)), ("ge.Scalar", "exact", ALL, "small", (1, 1, True)),
            ("bitwise_and.Scalar", "exact", BITS, "normal", (6, 6, True)),
            ("bitwise_or.Scalar", "exact", BITS, "normal", (6, 6, False)),
            ("bitwise_xor.Scalar", "exact", BITS, "normal", (6, 6, True))]:
        add(f"aten.{name}", dts, cls, with_scalar(dom), scalar=scalar)
    add("aten.div.Scalar_mode", ALL, "transcendental",
        with_scalar(fn=lambda op, c, x: op(x, c.s, rounding_mode="floor"))
        + (one("trunc", (X(4, 9),), lambda op, c, x: op(x, c.s, rounding_mode="trunc"), "all"),),
        scalar=(-2.5, -2, 2))
    add("aten.pow.Scalar", ALL, "transcendental",
        [one("basic", (X(4, 9, kind="exponent"),), lambda op, c, x: op(c.s, x), "all"),
         one("float_base", (X(4, 9),), lambda op, c, x: op(2.5, x))], scalar=(2.5, 2, 2))
    add("aten.clamp.default", ALL, "exact",
        with_scalar(fn=lambda op, c, x: op(x, -0.5, 1.25) if c.is_float else op(x, -20, 30) if c.dtype != "bool"
                    else op(x, False, True))
        + (one("min_only", (X(4, 9),), lambda op, c, x: op(x, 0.25)),
           one("max_only", (X(4, 9),), lambda op, c, x: op(x, None, 0.25))))

    # -- reductions
    def red(dts, cls, fn_basic, kind="normal", extra=()):
        return (dts, cls, [one("basic", (X(3, 5, 7, kind=kind),), fn_basic, "all"), *extra])

    for op, (dts, cls, vs) in {
        "aten.sum.dim_IntList": red(ALL, "accumulate", lambda op, c, x: op(x, [-1])),
        "aten.mean.dim": red(F4, "accumulate", lambda op, c, x: op(x, [-1], True)),
        "aten.mean.default": red(F4, "accumulate", lambda op, c, x: op(x),
                                 extra=[one("large", (X(64, 4099),), lambda op, c, x: op(x)),
                                        one("edge", (X(5, 33, kind="edge_accumulate"),), lambda op, c, x: op(x))]),
        "aten.amax.default": red(ALL, "exact", lambda op, c, x: op(x, [1]),
                                 extra=[one("multidim", (X(3, 5, 7),), lambda op, c, x: op(x, [0, 2], True)),
                                        one("edge", (X(5, 33, kind="edge"),), lambda op, c, x: op(x, [-1]),
                                            "edge")]),
        "aten.amin.default": red(ALL, "exact", lambda op, c, x: op(x, [1]),
                                 extra=[one("multidim", (X(3, 5, 7),), lambda op, c, x: op(x, [0, 2], True)),
                                        one("edge", (X(5, 33, kind="edge"),), lambda op, c, x: op(x, [-1]),
                                            "edge")]),
        "aten.any.default": red(ALL, "exact", lambda op, c, x: op(x), kind="sparse",
                                extra=[one("empty", (X(0, 4),), lambda op, c, x: op(x))]),
        "aten.any.dim": red(ALL, "exact", lambda op, c, x: op(x, 1), kind="sparse"),
        "aten.any.dims": red(ALL, "exact", lambda op, c, x: op(x, [0, 2], True), kind="sparse"),
        "aten.argmax.default": red(NOBOOL, "exact", lambda op, c, x: op(x, 1), kind="distinct",
                                   extra=[one("flat", (X(5, 7, kind="distinct"),), lambda op, c, x: op(x))]),
        "aten.argmin.default": red(NOBOOL, "exact", lambda op, c, x: op(x, 1, True), kind="distinct",
                                   extra=[one("flat", (X(5, 7, kind="distinct"),), lambda op, c, x: op(x))]),
        "aten.max.dim": red(ALL, "exact", lambda op, c, x: op(x, 1), kind="distinct"),
        "aten.min.dim": red(ALL, "exact", lambda op, c, x: op(x, -1, True), kind="distinct"),
        "aten.prod.default": red(ALL, "accumulate", lambda op, c, x: op(x), kind="near1"),
        "aten.prod.dim_int": red(ALL, "accumulate", lambda op, c, x: op(x, 1), kind="near1"),
        "aten.var.correction": red(F4, "accumulate", lambda op, c, x: op(x, [-1], correction=1),
                                   extra=[one("all_dims", (X(4, 33),), lambda op, c, x: op(x, None, correction=0))]),
        "aten.var.dim": red(F4, "accumulate", lambda op, c, x: op(x, [1], True, True)),
        "aten.cumsum.default": red(ALL, "accumulate", lambda op, c, x: op(x, 1),
                                   extra=[one("large", (X(16, 4099),), lambda op, c, x: op(x, -1))]),
        "aten._softmax.default": red(F4, "accumulate", lambda op, c, x: op(x, -1, False)),
        "aten._log_softmax.default": red(F4, "accumulate", lambda op, c, x: op(x, -1, False)),
        "aten.sort.default": red(ALL, "exact", lambda op, c, x: op(x, -1), kind="distinct",
                                 extra=[one("descending", (X(4, 9, kind="distinct"),),
                                            lambda op, c, x: op(x, 0, True))]),
        "aten.topk.default": red(NOBOOL, "exact", lambda op, c, x: op(x, 3, -1), kind="distinct",
                                 extra=[one("smallest", (X(4, 9, kind="distinct"),),
                                            lambda op, c, x: op(x, 2, 0, False))]),
    }.items():
        add(op, dts, cls, vs)

    # -- matmul, convolution
    add("aten.mm.default", ALL, "accumulate",
        [one("basic", (X(7, 13, kind="small"), X(13, 5, kind="small")), _b, "all")])
    add("aten.bmm.default", NOBOOL, "accumulate",
        [one("basic", (X(2, 7, 13, kind="small"), X(2, 13, 5, kind="small")), _b, "all")])
    add("aten.addmm.default", NOBOOL, "accumulate",
        [one("basic", (X(5,), X(7, 13, kind="small"), X(13, 5, kind="small")),
             lambda op, c, b, x, y: op(b, x, y), "all"),
         one("alpha_beta", (X(7, 5), X(7, 13), X(13, 5)), lambda op, c, b, x, y: op(b, x, y, beta=0.5, alpha=2.0))])
    add("aten.convolution.default", NOBOOL, "accumulate",
        [one("basic", (X(1, 3, 6, 7, kind="small"), X(4, 3, 3, 3, kind="small"), X(4, kind="small")),
             lambda op, c, x, w, b: op(x, w, b, [1, 1], [1, 1], [1, 1], False, [0, 0], 1), "all"),
         one("conv1d", (X(2, 4, 9), X(4, 1, 3)), lambda op, c, x, w: op(x, w, None, [2], [0], [1], False, [0], 4))])
    add("aten.convolution_backward.default", F4, "accumulate",
        [one("basic", (X(1, 3, 3, 3), X(1, 2, 5, 5), X(3, 2, 3, 3)),
             lambda op, c, g, x, w: op(g, x, w, [3], [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [True, True, True]),
             "all")])

    # -- pooling, upsampling, padding
    add("aten.max_pool2d_with_indices.default", NOBOOL, "exact",
        [one("basic", (X(1, 2, 9, 9, kind="distinct"),), lambda op, c, x: op(x, [3, 3], [2, 2], [1, 1]), "all"),
         one("dilated", (X(1, 2, 9, 9, kind="distinct"),), lambda op, c, x: op(x, [2, 2], [1, 1], [0, 0], [2, 2]))])
    add("aten.max_pool3d_with_indices.default", NOBOOL, "exact",
        [one("basic", (X(1, 2, 4, 4, 4, kind="distinct"),), lambda op, c, x: op(x, [2, 2, 2], [2, 2, 2]), "all")])
    add("aten.max_pool2d_with_indices_backward.default", F4, "accumulate",
        [one("basic", _maxpool_bw_inputs,
             lambda op, c, g, x, ind: op(g, x, [2, 2], [2, 2], [0, 0], [1, 1], False, ind), "all")])
    add("aten.avg_pool1d.default", NOBOOL, "accumulate",
        [one("basic", (X(2, 3, 11),), lambda op, c, x: op(x, [3], [2], [1]), "all")])
    add("aten.avg_pool2d.default", NOBOOL, "accumulate",
        [one("basic", (X(1, 3, 7, 8),), lambda op, c, x: op(x, [3, 3], [2, 2], [1, 1]), "all"),
         one("divisor", (X(1, 3, 7, 8),), lambda op, c, x: op(x, [2, 2], [2, 2], [0, 0], True, True, 3))])
    add("aten.avg_pool3d.default", NOBOOL, "accumulate",
        [one("basic", (X(1, 2, 5, 4, 6),), lambda op, c, x: op(x, [2, 2, 2], [2, 1, 2]), "all")])
    add("aten.avg_pool2d_backward.default", F4 + ("int64",), "accumulate",
        [one("basic", (X(1, 2, 2, 2), X(1, 2, 5, 5)),
             lambda op, c, g, x: op(g, x, [2, 2], [2, 2], [0, 0], False, True, None), "all")])
    add("aten.adaptive_avg_pool1d.default", ALL, "accumulate",
        [one("basic", (X(2, 3, 10),), lambda op, c, x: op(x, [4]), "all")])
    add("aten._adaptive_avg_pool2d.default", ALL, "accumulate",
        [one("basic", (X(1, 3, 7, 9),), lambda op, c, x: op(x, [2, 4]), "all")])
    add("aten._adaptive_avg_pool3d.default", ALL, "accumulate",
        [one("basic", (X(1, 2, 4, 5, 3),), lambda op, c, x: op(x, [2, 2, 1]), "all")])
    add("aten._adaptive_avg_pool2d_backward.default", F4, "accumulate",
        [one("basic", (X(1, 2, 2, 3), X(1, 2, 5, 5)), _b, "all")])
    add("aten.upsample_nearest2d.vec", ALL, "exact",
        [one("basic", (X(1, 2, 3, 4),), lambda op, c, x: op(x, [6, 8], None), "all"),
         one("scale", (X(1, 2, 3, 4),), lambda op, c, x: op(x, None, [1.5, 2.0]))])
    add("aten.upsample_bilinear2d.vec", F4, "accumulate",
        [one("basic", (X(1, 2, 3, 4),), lambda op, c, x: op(x, [5, 7], False, None), "all"),
         one("align_corners", (X(1, 2, 3, 4),), lambda op, c, x: op(x, None, True, [2.0, 1.5]))])
    add("aten.grid_sampler_2d.default", F4, "accumulate",
        [one("basic", (X(1, 2, 5, 6), X(1, 4, 3, 2, kind="unit")), lambda op, c, x, g: op(x, g, 0, 0, False), "all"),
         one("nearest_border", (X(1, 2, 5, 6), X(1, 4, 3, 2, kind="normal")),
             lambda op, c, x, g: op(x, g, 1, 1, True))], ref_f64=("float16", "bfloat16"))
    add("aten.constant_pad_nd.default", ALL, "exact",
        [one("basic", (X(2, 3, 4),), lambda op, c, x: op(x, [1, 2, 0, 1], c.s), "all"),
         one("negative", (X(2, 3, 6),), lambda op, c, x: op(x, [-1, 2]))], scalar=(1.5, 7, True))
    for name, shape, pad in [("reflection_pad1d", (2, 5), [2, 1]), ("reflection_pad2d", (1, 4, 5), [1, 2, 2, 1]),
                             ("reflection_pad3d", (1, 3, 4, 5), [1, 1, 2, 1, 0, 2]),
                             ("replication_pad2d", (1, 3, 4), [2, 1, 1, 3]),
                             ("replication_pad3d", (1, 2, 3, 4), [1, 2, 2, 1, 1, 0])]:
        add(f"aten.{name}.default", NOBOOL, "exact",
            [one("basic", (X(*shape),), (lambda p: lambda op, c, x: op(x, p))(pad), "all")])
    add("aten.col2im.default", F4 + ("bool",), "accumulate",
        [one("basic", (X(1, 4, 6),), lambda op, c, x: op(x, [3, 4], [2, 2], [1, 1], [0, 0], [1, 1]), "all")])

    # -- normalization
    add("aten._native_batch_norm_legit_no_training.default", F4, "accumulate",
        [one("basic", _bn_inputs, lambda op, c, x, w, b, m, v: op(x, w, b, m, v, 0.1, 1e-5), "all")])
    add("aten._native_batch_norm_legit.no_stats", F4, "accumulate",
        [one("basic", (X(2, 3, 4), X(3), X(3)), lambda op, c, x, w, b: op(x, w, b, True, 0.1, 1e-5), "all")])
    add("aten.native_layer_norm.default", F4, "accumulate",
        [one("basic", (X(3, 5, 8), X(8), X(8)), lambda op, c, x, w, b: op(x, [8], w, b, 1e-5), "all"),
         one("no_affine", (X(2, 3, 4),), lambda op, c, x: op(x, [3, 4], None, None, 1e-5))])
    add("aten.native_group_norm.default", F4, "accumulate",
        [one("basic", (X(2, 4, 5), X(4), X(4)), lambda op, c, x, w, b: op(x, w, b, 2, 4, 5, 2, 1e-5), "all")])
    add("aten.native_layer_norm_backward.default", F4, "accumulate",
        [one("basic", _ln_bw_inputs,
             lambda op, c, g, x, m, r, w, b: op(g, x, [6], m, r, w, b, [True, True, True]), "all")])
    add("aten.native_group_norm_backward.default", F4, "accumulate",
        [one("basic", _gn_bw_inputs,
             lambda op, c, g, x, m, r, w: op(g, x, m, r, w, 2, 4, 5, 2, [True, True, True]), "all")])

    # -- indexing, gather/scatter, embedding
    add("aten.gather.default", ALL, "exact",
        [one("basic", (X(3, 7), X(3, 5, kind="index:7", dtype="int64")), lambda op, c, x, i: op(x, 1, i), "all")])
    add("aten.index_select.default", ALL, "exact",
        [one("basic", (X(6, 5), X(4, kind="index:6", dtype="int64")), lambda op, c, x, i: op(x, 0, i), "all")])
    add("aten.index.Tensor", ALL, "exact",
        [one("basic", (X(4, 5), X(3, kind="index:4", dtype="int64")), lambda op, c, x, i: op(x, [i]), "all"),
         one("two_indices", (X(4, 5, 2), X(3, kind="index:4", dtype="int64"), X(3, kind="index:5", dtype="int64")),
             lambda op, c, x, i, j: op(x, [i, j]))])
    add("aten.index_put.default", ALL, "exact",
        [one("basic", (X(6, 4), X(3, kind="perm:6", dtype="int64"), X(3, 4)),
             lambda op, c, x, i, v: op(x, [i], v), "all"),
         one("accumulate", (X(6, 4), X(3, kind="perm:6", dtype="int64"), X(3, 4)),
             lambda op, c, x, i, v: op(x, [i], v, True))])
    add("aten.scatter.src", ALL, "exact",
        [one("basic", (X(3, 7), X(3, 4, kind="rowperm:7", dtype="int64"), X(3, 4)),
             lambda op, c, x, i, s: op(x, 1, i, s), "all")])
    add("aten.scatter.value", ALL, "exact",
        [one("basic", (X(3, 7), X(3, 4, kind="rowperm:7", dtype="int64")),
             lambda op, c, x, i: op(x, 1, i, c.s), "all")], scalar=(-1.5, 9, True))
    add("aten.scatter_add.default", ALL, "accumulate",
        [one("basic", (X(3, 7), X(3, 6, kind="index:7", dtype="int64"), X(3, 6)),
             lambda op, c, x, i, s: op(x, 1, i, s), "all")])
    add("aten.scatter_reduce.two", ALL, "accumulate",
        [one("basic", (X(3, 7), X(3, 6, kind="index:7", dtype="int64"), X(3, 6)),
             lambda op, c, x, i, s: op(x, 1, i, s, "sum"), "all")]
        + [one(r, (X(3, 7), X(3, 6, kind="index:7", dtype="int64"), X(3, 6)),
               (lambda r: lambda op, c, x, i, s: op(x, 1, i, s, r, include_self=r != "amin"))(r))
           for r in ("prod", "mean", "amax", "amin")])
    add("aten.select_scatter.default", ALL, "exact",
        [one("basic", (X(4, 5), X(5)), lambda op, c, x, s: op(x, s, 0, 2), "all")])
    add("aten.slice_scatter.default", ALL, "exact",
        [one("basic", (X(4, 9), X(4, 3)), lambda op, c, x, s: op(x, s, 1, 1, 8, 3), "all")])
    add("aten.masked_scatter.default", ALL, "exact",
        [one("basic", (X(3, 5), X(3, 5, dtype="bool"), X(3, 5)), lambda op, c, x, m, s: op(x, m, s), "all")])
    add("aten.embedding.default", ALL, "exact",
        [one("basic", (X(10, 4), X(2, 5, kind="index:10", dtype="int64")), _b, "all")])
    add("aten.embedding_dense_backward.default", ALL, "accumulate",
        [one("basic", (X(4, 3), X(4, kind="index:6", dtype="int64")), lambda op, c, g, i: op(g, i, 6, -1, False),
             "all")])
    add("aten._embedding_bag.default", F4, "accumulate",
        [one("basic", _bag_inputs, lambda op, c, w, i, o: op(w, i, o)[0], "all"),
         one("mean", _bag_inputs, lambda op, c, w, i, o: op(w, i, o, False, 1)[0])])

    # -- data movement (views run as their *_copy twins)
    add("aten.view.default", ALL, "exact", [one("basic", (X(3, 5, 7),), lambda op, c, x: op(x, [15, 7]), "all")])
    add("aten.permute.default", ALL, "exact", [one("basic", (X(3, 5, 7),), lambda op, c, x: op(x, [2, 0, 1]), "all")])
    add("aten.expand.default", ALL, "exact", [one("basic", (X(4, 1),), lambda op, c, x: op(x, [3, 4, 5]), "all")])
    add("aten.slice.Tensor", ALL, "exact", [one("basic", (X(3, 11),), lambda op, c, x: op(x, 1, 1, 10, 3), "all")])
    add("aten.split_with_sizes.default", ALL, "exact",
        [one("basic", (X(4, 9),), lambda op, c, x: op(x, [2, 3, 4], 1), "all")])
    add("aten.alias.default", ALL, "exact", [one("basic", (X(3, 5),), _u, "all")])
    add("aten.unsqueeze.default", ALL, "exact", [one("basic", (X(3, 5),), lambda op, c, x: op(x, 1), "all")])
    add("aten.squeeze.dims", ALL, "exact", [one("basic", (X(3, 1, 5),), lambda op, c, x: op(x, [1]), "all")])
    add("aten.select.int", ALL, "exact", [one("basic", (X(3, 5, 7),), lambda op, c, x: op(x, 1, -2), "all")])
    add("aten.diagonal.default", ALL, "exact",
        [one("basic", (X(4, 6),), lambda op, c, x: op(x, 1), "all"),
         one("dims", (X(3, 4, 5),), lambda op, c, x: op(x, -1, 0, 2))])
    add("aten.as_strided.default", ALL, "exact",
        [one("basic", (X(4, 6),), lambda op, c, x: op(x, [3, 3], [6, 2], 1), "all")])
    add("aten.cat.default", ALL, "exact", [one("basic", (X(3, 2), X(3, 5)), lambda op, c, x, y: op([x, y], 1), "all")])
    add("aten.clone.default", ALL, "exact", [one("basic", (X(3, 5, 7),), _u, "all")])
    add("aten.copy.default", ALL, "exact", [one("basic", (X(3, 4), X(4)), _b, "all")])
    add("aten.flip.default", ALL, "exact", [one("basic", (X(3, 5, 7),), lambda op, c, x: op(x, [0, 2]), "all")])
    add("aten.repeat.default", ALL, "exact", [one("basic", (X(2, 3),), lambda op, c, x: op(x, [2, 1, 3]), "all")])
    add("aten._to_copy.default", ALL, "exact",
        [one("basic", (X(3, 5, kind="small"),), lambda op, c, x: op(x, dtype=c.T.float32), "all"),
         one("to_int32", (X(3, 5),), lambda op, c, x: op(x, dtype=c.T.int32)),
         one("to_float16", (X(3, 5),), lambda op, c, x: op(x, dtype=c.T.float16)),
         one("to_bool", (X(3, 5, kind="sparse"),), lambda op, c, x: op(x, dtype=c.T.bool))])
    add("aten.full_like.default", ALL, "exact", [one("basic", (X(3, 4),), _xs, "all")], scalar=(-1.25, 5, True))
    add("aten._cdist_forward.default", F4, "accumulate",
        [one("basic", (X(2, 3, 4), X(2, 5, 4)), lambda op, c, x, y: op(x, y, 2.0, None), "all"),
         one("p1", (X(3, 4), X(5, 4)), lambda op, c, x, y: op(x, y, 1.0, None))])
    add("aten._pdist_forward.default", F4, "accumulate",
        [one("basic", (X(5, 4),), lambda op, c, x: op(x, 2.0), "all"),
         one("p1", (X(4, 3),), lambda op, c, x: op(x, 1.0))])

    # -- factories (no tensor inputs: the program computes its output from nothing)
    add("aten.arange.start_step", NOBOOL, "exact",
        [one("basic", (), lambda op, c: op(1, 40, 3, dtype=c.dt), "all"),
         one("float_step", (), lambda op, c: op(-2.0, 3.5, 0.25, dtype=c.dt))])
    add("aten.full.default", ALL, "exact", [one("basic", (), lambda op, c: op([2, 3], c.s, dtype=c.dt), "all")],
        scalar=(-1.25, 5, True))
    add("aten.scalar_tensor.default", ALL, "exact", [one("basic", (), lambda op, c: op(c.s, dtype=c.dt), "all")])
    add("aten.empty.memory_format", ALL, "exact",
        [one("basic", (), lambda op, c: c.T.ops.aten.full_like.default(op([2, 3], dtype=c.dt), c.s), "all")])
    add("aten.empty_strided.default", ALL, "exact",
        [one("basic", (), lambda op, c: c.T.ops.aten.full_like.default(op([2, 3], [3, 1], dtype=c.dt), c.s),
             "all")])
    return S


_SPECS: list[Spec] | None = None


def specs() -> list[Spec]:
    """The table, less the overloads in EXCLUDED (kept above so that a change
    in torch.export that makes them reachable is one line to undo)."""
    global _SPECS
    if _SPECS is None:
        _SPECS = [s for s in _specs() if s.op not in EXCLUDED]
    return _SPECS


# Core overloads that torch.export's default decomposition table (the one
# wick.to_edge uses) rewrites into other core ops: no Edge program contains them.
DECOMPOSED = [
    'aten.var.dim', 'aten.avg_pool1d.default', 'aten.adaptive_avg_pool1d.default', 'aten.reflection_pad1d.default',
    'aten.reflection_pad2d.default', 'aten.reflection_pad3d.default', 'aten.replication_pad2d.default',
    'aten.replication_pad3d.default', 'aten.col2im.default', 'aten.native_layer_norm_backward.default',
    'aten.native_group_norm_backward.default', 'aten.select_scatter.default',
    'aten.embedding_dense_backward.default',
]


# Core overloads the catalog has no case for, and why. The reports list them.
EXCLUDED = {
    "aten.rand.default": "random values: the portable kernel's generator is not PyTorch's, so no output can be "
                         "compared (tests/test_op_coverage.py checks shape, dtype and range)",
    "aten.randn.default": "random values: the portable kernel's generator is not PyTorch's, so no output can be "
                          "compared (tests/test_op_coverage.py checks shape, dtype and moments)",
    "aten.randperm.default": "random permutation: the portable kernel's generator is not PyTorch's (tests/"
                             "test_op_coverage.py checks that the output is a permutation)",
    "aten.nonzero.default": "data-dependent output size; Edge programs contain it since wick.to_edge drops the "
                            "size guards (tests/test_op_coverage.py runs it against eager), but the catalog has no "
                            "case for it yet",
    "aten._local_scalar_dense.default": "Tensor.item(): its result is a scalar value, not a tensor, and the delegate "
                                        "ABI passes tensors only, so no backend can take it; the portable kernel is "
                                        "checked against eager by tests/test_op_coverage.py and tests/test_scalar_ops.py",
    "aten.sym_size.int": "a symbolic size: its result is a scalar value, not a tensor, and the delegate ABI passes "
                         "tensors only; the dynamic cases exercise it inside every program with a dynamic dimension",
    "aten.resize_.default": "in place, and Edge programs contain it only where a tensor grows past its storage "
                            "(x.new_empty(0).resize_(n); smaller resizes export as as_strided views), where the new "
                            "elements are unspecified, so there is no output to compare; tests/test_scalar_ops.py "
                            "checks the kernel",
    "aten._native_batch_norm_legit.default": "torch.export functionalizes it to _native_batch_norm_legit_functional, "
                                             "which the Edge dialect rejects (no_stats and no_training have cases)",
    "aten.atan2.out": "an out= overload: torch.export functionalizes it to atan2.default, which has cases",
    "aten.squeeze.dim": "torch.export rewrites squeeze.dim to squeeze.dims (squeeze_copy.dims has cases)",
    "aten.fill.Scalar": "torch.export rewrites fill.Scalar to full_like.default (full_like has cases)",
    **{op: "complex tensors (complex64/complex128): the comparison and tolerance policy here are defined for real "
           "dtypes and no backend may claim complex ops, so there is nothing to certify; the portable kernel is "
           "tested against eager PyTorch by tests/test_fft.py and tests/test_op_coverage.py"
       for op in ("aten._fft_r2c.default", "aten._fft_c2r.default")},
    **{op: "wick.to_edge decomposes it (torch.export's default decomposition table) into other core ops, so no "
           "Edge program contains it; its portable kernel is reached only by hand-built programs"
       for op in DECOMPOSED},
}
# Variants of a covered overload that are left out, and why.
EXCLUDED_VARIANTS = {
    "aten.native_dropout.default": "train=True draws a random mask (the portable generator is not PyTorch's); the "
                                   "cases run train=False, which is deterministic",
    "aten.sort.default": "ties: sort is not stable, so tie order is unspecified; the cases use distinct values",
    "aten.index_put.default": "repeated indices without accumulate: which write wins is unspecified; the cases use "
                              "distinct indices",
    "aten.scatter.src": "repeated indices: which write wins is unspecified; the cases use distinct indices per row",
    "aten.sinh.default": "integer inputs beyond ~89 overflow float32: the portable kernel returns 2.2e38 where eager "
                         "returns inf (a portable-kernel difference, reported): integer cases use small values and "
                         "the edge-value family runs for float dtypes only",
    "aten.cosh.default": "as sinh: integer overflow to inf differs, integer cases use small values",
    "aten.gelu.default": "edge values: gelu(+-inf) is +-inf/0 in the portable kernel and NaN in eager PyTorch "
                         "(a portable-kernel difference, reported): no edge-value family",
    "aten.fmod.Tensor": "edge values: with infinite or NaN operands the portable kernel and eager PyTorch disagree "
                        "on NaN placement (reported): no edge-value family",
    "aten.remainder.Tensor": "edge values: as fmod.Tensor, infinite operands disagree (reported): no edge-value "
                             "family",
    "aten.convolution.default": "transposed convolution: the portable kernel refuses it (NotSupported), so there "
                                "is no reference for it",
}
# (overload, dtype) pairs with a portable kernel that the catalog cannot
# judge: eager PyTorch has no kernel for them, so there is no reference.
def _no_eager(kernel: str) -> str:
    return f"eager PyTorch has no CPU kernel for this dtype ({kernel}): nothing to judge the portable kernel against"


# The overloads whose portable kernels also take complex tensors (data
# movement, constant padding, and abs); _fft_c2r/_fft_r2c are in EXCLUDED.
COMPLEX_KERNELS = (
    "aten.abs.default", "aten.alias.default", "aten.as_strided.default", "aten.clone.default",
    "aten.constant_pad_nd.default", "aten.diagonal.default", "aten.expand.default", "aten.flip.default", "aten.permute.default",
    "aten.repeat.default", "aten.select.int", "aten.slice.Tensor",
    "aten.slice_scatter.default", "aten.split_with_sizes.default", "aten.squeeze.dim", "aten.squeeze.dims",
    "aten.unsqueeze.default", "aten.view.default",
)

EXCLUDED_CELLS: dict[tuple[str, str], str] = {
    **{(op, d): "complex tensors: the comparison and tolerance policy here are defined for real dtypes and no "
                "backend may claim complex ops; tests/test_op_coverage.py checks the portable kernel against eager"
       for op in COMPLEX_KERNELS for d in ("complex64", "complex128")},
    **{(op, "bool"): _no_eager(k) for op, k in [
        ("aten.clamp.Tensor", "clamp_cpu"), ("aten.clamp.default", "clamp_scalar_cpu"),
        ("aten.fmod.Scalar", "fmod_cpu"), ("aten.remainder.Scalar", "remainder_cpu"),
        ("aten.mm.default", "addmm_impl_cpu_"), ("aten.addmm.default", "addmm_impl_cpu_"),
        ("aten.bmm.default", "bmm"), ("aten.div.Tensor_mode", "div_floor_cpu"), ("aten.fmod.Tensor", "fmod_cpu"),
        ("aten.pow.Tensor_Tensor", "pow"), ("aten.remainder.Tensor", "remainder_cpu"),
        ("aten.sub.Tensor", "bool subtraction is refused"), ("aten.sub.Scalar", "bool subtraction is refused")]},
    ("aten.pow.Tensor_Scalar", "bool"): "the portable kernel is registered for bool but refuses bool tensors "
                                        "(InvalidArgument): no reference to judge a backend by",
    **{("aten.avg_pool1d.default", d): _no_eager("avg_pool2d") for d in ("int8", "int16", "int32", "uint8")},
    **{("aten.avg_pool2d.default", d): _no_eager("avg_pool2d") for d in ("int8", "int16", "int32", "uint8")},
    **{("aten.avg_pool3d.default", d): _no_eager("avg_pool3d_out_frame")
       for d in ("float16", "bfloat16", "int8", "int16", "int32", "uint8")},
    **{(op, d): _no_eager(k) for op, k in [("aten.adaptive_avg_pool1d.default", "adaptive_avg_pool2d"),
                                           ("aten._adaptive_avg_pool2d.default", "adaptive_avg_pool2d"),
                                           ("aten._adaptive_avg_pool3d.default", "adaptive_avg_pool3d_cpu")]
       for d in I5 + ("bool",)},
    **{("aten.upsample_nearest2d.vec", d): _no_eager("upsample_nearest2d") for d in
       ("int8", "int16", "int32", "int64", "bool")},
    **{(op, d): _no_eager(op.split(".")[1].strip("_").split("_")[0]) for op in
       ("aten._cdist_forward.default", "aten._pdist_forward.default") for d in ("float16", "bfloat16")},
}
