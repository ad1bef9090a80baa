"""The Edge dialect: core ATen operators, functional, with view ops replaced
by their copying variants, verified.

``to_edge(exported_program)`` decomposes a ``torch.export`` program to the core
ATen operator set (ops tagged ``torch.Tag.core``) and verifies it. A graph that
passes is what every partitioner and the program builder may assume.
"""

from __future__ import annotations

import operator
from typing import Any
from dataclasses import dataclass, field

import torch
from torch.export import ExportedProgram

from .errors import ExportError

# View ops have no out-variant; the Edge dialect uses their copying twins,
# which do (e.g. aten::view_copy.out).
VIEW_TO_COPY = {
    torch.ops.aten.view.default: torch.ops.aten.view_copy.default,
    torch.ops.aten.permute.default: torch.ops.aten.permute_copy.default,
    torch.ops.aten.expand.default: torch.ops.aten.expand_copy.default,
    torch.ops.aten.slice.Tensor: torch.ops.aten.slice_copy.Tensor,
    torch.ops.aten.split_with_sizes.default: torch.ops.aten.split_with_sizes_copy.default,
    torch.ops.aten.alias.default: torch.ops.aten.alias_copy.default,
    torch.ops.aten.unsqueeze.default: torch.ops.aten.unsqueeze_copy.default,
    torch.ops.aten.squeeze.dims: torch.ops.aten.squeeze_copy.dims,
    torch.ops.aten.squeeze.dim: torch.ops.aten.squeeze_copy.dim,
    torch.ops.aten.select.int: torch.ops.aten.select_copy.int,
    torch.ops.aten.diagonal.default: torch.ops.aten.diagonal_copy.default,
    torch.ops.aten.as_strided.default: torch.ops.aten.as_strided_copy.default,
}

# Non-core ops the Edge dialect allows besides core ATen: the view copies above,
# symbolic-shape arithmetic, and PT2E's quantize/dequantize ops.
_SYM_OPS = {torch.ops.aten.sym_size.int, operator.add, operator.sub, operator.mul, operator.floordiv,
            operator.getitem}
# Control flow the program builder lowers to jump instructions.
CONTROL_FLOW_OPS = {torch.ops.higher_order.cond}


def _quantized_ops() -> set:
    try:
        import torch.ao.quantization.fx._decomposed  # noqa: F401 - defines the quantized_decomposed ops

        qd = torch.ops.quantized_decomposed
        return {qd.quantize_per_tensor.default, qd.dequantize_per_tensor.default,
                qd.quantize_per_tensor.tensor, qd.dequantize_per_tensor.tensor,
                qd.quantize_per_channel.default, qd.dequantize_per_channel.default}
    except (AttributeError, ImportError):  # pragma: no cover - a torch without the namespace
        return set()


def core_aten_ops() -> set:
    """The core ATen overloads of this torch: ops tagged torch.Tag.core.

    Enumerated from every registered schema, so the answer does not depend on
    which op packets happen to be loaded: 193 in torch 2.13 (a scan of
    ``dir(torch.ops.aten)`` in a fresh process sees 189, missing
    avg_pool1d, adaptive_avg_pool1d, sym_is_contiguous and one more that load
    lazily)."""
    found = set()
    seen = set()
    for schema in torch._C._jit_get_all_schemas():
        if not schema.name.startswith("aten::"):
            continue
        key = (schema.name[len("aten::"):], schema.overload_name or "default")
        if key in seen:
            continue
        seen.add(key)
        try:
            op = getattr(getattr(torch.ops.aten, key[0]), key[1])
        except (AttributeError, RuntimeError):
            continue
        if torch.Tag.core in op.tags:
            found.add(op)
    return found


_CORE = None


def allowed_ops() -> set:
    global _CORE
    if _CORE is None:
        _CORE = core_aten_ops() | set(VIEW_TO_COPY.values()) | _SYM_OPS | _quantized_ops() | CONTROL_FLOW_OPS
    return _CORE


# complex64/complex128 come out of the FFT ops; only those kernels (and the
# runtime's loader, which refuses complex tensors to every other kernel) know them.
SUPPORTED_DTYPES = {torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.int16,
                    torch.int32, torch.int64, torch.uint8, torch.bool, torch.complex64, torch.complex128}


@dataclass
class EdgeProgram:
    """A verified Edge-dialect program: one ExportedProgram per method."""

    methods: dict[str, ExportedProgram]
    # Delegated subgraphs recorded by lowering, per method (see wick.lowering).
    delegates: dict[str, list] = field(default_factory=dict)
    # Set by lowering: which node went to which backend, and why not others.
    partition_report: Any = None

    @property
    def exported_program(self) -> ExportedProgram:
        return self.methods["forward"] if "forward" in self.methods else next(iter(self.methods.values()))

    def graph_module(self, method: str = "forward") -> torch.fx.GraphModule:
        return self.methods[method].graph_module


def _source_line(node: torch.fx.Node) -> str:
    trace = node.meta.get("stack_trace") or ""
    lines = [ln.strip() for ln in trace.strip().splitlines() if ln.strip()]
    # The last "File ..., line N" pair names the user's code closest to the op.
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("File "):
            code = lines[i + 1] if i + 1 < len(lines) and not lines[i + 1].startswith("File ") else ""
            return f"{lines[i]}{': ' + code if code else ''}"
    return "(no source location recorded)"


def verify_edge(ep: ExportedProgram) -> None:
    """Checks every op is in the Edge dialect and every dtype supported."""
    allowed = allowed_ops()
    for node in _all_nodes(ep):
        if node.op != "call_function":
            continue
        if node.target not in allowed:
            raise ExportError(
                f"operator {node.target} is not in Wick's Edge dialect (core ATen plus view copies and "
                f"quantize/dequantize); it comes from {_source_line(node)}. Rewrite that line with core ATen ops, "
                f"or add a decomposition for it to wick.to_edge(..., decompositions=...)."
            )
        vals = node.meta.get("val")
        for v in vals if isinstance(vals, (list, tuple)) else [vals]:
            if isinstance(v, torch.Tensor) and v.dtype not in SUPPORTED_DTYPES:
                raise ExportError(
                    f"operator {node.target} produces dtype {v.dtype}, which Wick does not support; it comes from "
                    f"{_source_line(node)}. Cast to one of float32, float16, bfloat16, float64, an integer type "
                    f"or (FFT ops) complex64/complex128."
                )


def _all_nodes(ep: ExportedProgram):
    """Nodes of the graph and of every nested graph (torch.cond branches)."""
    for gm in ep.graph_module.modules():
        if isinstance(gm, torch.fx.GraphModule):
            yield from gm.graph.nodes


# Export-time checks with no effect on values; the runtime verifies shapes
# and dtypes itself, so they are dropped rather than lowered.
_ASSERTION_OPS = {
    torch.ops.aten._assert_tensor_metadata.default,
    torch.ops.aten._assert_scalar.default,
    torch.ops.aten.sym_constrain_range_for_size.default,
    torch.ops.aten._assert_async.msg,
}


_SYMBOLIC_VALUES = (torch.SymInt, torch.SymFloat, torch.SymBool, int, float, bool)


def _drop_assertions(ep: ExportedProgram) -> None:
    """Drops the assertions, then the symbolic arithmetic that only fed them
    (the ``u0 >= 0`` and ``u0 <= 8`` of a torch._check on a Tensor.item()
    result, the guards of nonzero's output size): their bounds are already in
    ep.range_constraints, where the program builder reads them."""
    for gm in ep.graph_module.modules():
        if not isinstance(gm, torch.fx.GraphModule):
            continue
        for node in reversed(list(gm.graph.nodes)):  # users before their inputs, so chains go in one pass
            if node.op != "call_function" or node.users:
                continue
            if node.target in _ASSERTION_OPS or isinstance(node.meta.get("val"), _SYMBOLIC_VALUES):
                gm.graph.erase_node(node)


def _scalar_overload(op: torch._ops.OpOverload, positions: set[int]) -> torch._ops.OpOverload | None:
    """The overload of ``op``'s packet that takes a Scalar at ``positions``
    where ``op`` takes a Tensor, and is otherwise the same (mul.Tensor ->
    mul.Scalar), or None."""
    want = [(a.name, "number" if i in positions else str(a.type)) for i, a in enumerate(op._schema.arguments)]
    packet = getattr(torch.ops.aten, op._schema.name.split("::")[1])
    for name in packet.overloads():
        cand = getattr(packet, name)
        if [(a.name, str(a.type)) for a in cand._schema.arguments] == want:
            return cand
    return None


def _resize_in_place(ep: ExportedProgram) -> None:
    """torch.export functionalizes x.resize_(n) into aten.resize (not core).
    Where nothing else reads the tensor being resized (x.new_empty(0).resize_(n),
    chained resizes) the in-place op computes the same thing, and it is core
    ATen: a Wick kernel runs it within the tensor's planned bytes. A resize of
    a method input or of a tensor read elsewhere stays, and the verifier names it."""
    for node in _all_nodes(ep):
        if node.op != "call_function" or node.target is not torch.ops.aten.resize.default:
            continue
        src = node.args[0]
        if isinstance(src, torch.fx.Node) and src.op == "call_function" and len(src.users) == 1:
            node.target = torch.ops.aten.resize_.default


def _use_scalar_overloads(ep: ExportedProgram) -> None:
    """A Tensor.item() result passed where the schema wants a Tensor (x * s
    exports as mul.Tensor(x, s)) is a wrapped Python scalar to PyTorch; the
    Edge dialect calls the Scalar overload instead, so that every Tensor
    argument is a tensor."""
    for node in _all_nodes(ep):
        if node.op != "call_function" or not isinstance(node.target, torch._ops.OpOverload):
            continue
        schema = node.target._schema.arguments
        positions = {i for i, a in enumerate(node.args)
                     if i < len(schema) and str(schema[i].type) == "Tensor" and isinstance(a, torch.fx.Node)
                     and isinstance(a.meta.get("val"), (torch.SymInt, torch.SymFloat, torch.SymBool))}
        if not positions:
            continue
        scalar = _scalar_overload(node.target, positions) if node.target.namespace == "aten" else None
        if scalar is None:
            names = ", ".join(schema[i].name for i in sorted(positions))
            raise ExportError(
                f"operator {node.target} takes a tensor as '{names}' but gets a Python number computed at run time "
                f"(Tensor.item()); it comes from {_source_line(node)}. Keep the value a tensor there (drop .item()).")
        node.target = scalar


def _replace_views(ep: ExportedProgram) -> None:
    for node in _all_nodes(ep):
        if node.op == "call_function" and node.target in VIEW_TO_COPY:
            node.target = VIEW_TO_COPY[node.target]
    for gm in ep.graph_module.modules():
        if isinstance(gm, torch.fx.GraphModule):
            gm.graph.lint()
            gm.recompile()


def _max_all(x: torch.Tensor) -> torch.Tensor:
    return torch.ops.aten.amax.default(x, [])


def _min_all(x: torch.Tensor) -> torch.Tensor:
    return torch.ops.aten.amin.default(x, [])


# Tensor.max() / Tensor.min() without a dim export as aten.max.default /
# aten.min.default, which are not core and which torch's tables leave alone;
# amax / amin over every dim are the same reduction (NaN propagates in both).
_FULL_REDUCTIONS = {torch.ops.aten.max.default: _max_all, torch.ops.aten.min.default: _min_all}


def to_edge(programs: ExportedProgram | dict[str, ExportedProgram], decompositions: dict | None = None) -> EdgeProgram:
    """Decomposes to core ATen and verifies. ``programs`` is one ExportedProgram
    (method "forward") or a dict of method name to ExportedProgram."""
    if isinstance(programs, ExportedProgram):
        programs = {"forward": programs}
    table = torch.export.default_decompositions()
    table.update(_FULL_REDUCTIONS)
    if decompositions:
        table.update(decompositions)
    methods = {}
    for name, ep in programs.items():
        edge = ep.run_decompositions(table)
        _drop_assertions(edge)
        _use_scalar_overloads(edge)
        _resize_in_place(edge)
        _replace_views(edge)
        verify_edge(edge)
        methods[name] = edge
    return EdgeProgram(methods)
