"""Partitioning and lowering: backends claim parts of the Edge graph, each
claimed partition becomes one delegate call carrying the backend's blob.

    edge = wick.to_edge_and_lower(ep, backends=["xnnpack", my_partitioner])

Backends are tried in the order given; a node claimed by an earlier backend
is not offered to later ones; what no backend claims stays on the portable
kernels. ``edge.partition_report`` says which node went where and why the
others did not.
"""

from __future__ import annotations

import json
import operator
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
from torch.fx.passes.utils.fuser_utils import fuse_by_partitions

from .delegate_sdk import Backend, CompileSpec, DelegateSubgraph, Partitioner
from .edge import EdgeProgram, to_edge
from .errors import ExportError
from .program_builder import lifted_constants


# Compile-spec keys Wick itself stores with a delegate (wick/backend.h); the
# runtime never hands them to a backend's init().
RESERVED_SPEC_PREFIX = "wick."
COMPATIBILITY_SPEC = "wick.compatibility"


class DelegateCallTarget:
    """The fx target standing for a delegate call in a lowered graph."""

    def __init__(self, backend: str, index: int):
        self.backend = backend
        self.index = index
        self.__name__ = f"wick_delegate_{backend}_{index}"

    def __call__(self, *args: Any) -> Any:
        raise RuntimeError(f"{self.__name__} runs only inside the Wick runtime")

    def __repr__(self) -> str:
        return self.__name__


@dataclass
class DelegateRecord:
    """What the program builder needs to emit one delegate call."""

    node: torch.fx.Node
    backend: str
    blob: bytes
    compile_specs: list[tuple[str, bytes]]
    inputs: list[torch.fx.Node]
    output_metas: list[torch.Tensor]
    ops: list[str]
    debug_map: dict[str, Any] = field(default_factory=dict)
    multiple_outputs: bool = True


@dataclass
class PartitionReport:
    """Per method: node -> backend (or "portable"), and why refused nodes were."""

    assignments: dict[str, dict[str, str]] = field(default_factory=dict)   # method -> node -> where
    ops: dict[str, dict[str, str]] = field(default_factory=dict)           # method -> node -> op name
    reasons: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # method -> node -> reasons

    def to_json(self) -> str:
        return json.dumps({"methods": {m: {"nodes": [
            {"node": n, "op": self.ops[m][n], "assigned": where, "refused_because": self.reasons[m].get(n, [])}
            for n, where in nodes.items()]} for m, nodes in self.assignments.items()}}, indent=2)

    def to_text(self) -> str:
        lines = []
        for m, nodes in self.assignments.items():
            counts = Counter(nodes.values())
            total = len(nodes)
            lines.append(f"method '{m}': {total} ops; " + ", ".join(
                f"{where} {c} ({100.0 * c / total:.0f}%)" for where, c in counts.most_common()))
            for n, where in nodes.items():
                why = self.reasons[m].get(n)
                suffix = f"  <- {'; '.join(why)}" if why and where == "portable" else ""
                lines.append(f"  {n:32s} {self.ops[m][n]:40s} {where}{suffix}")
        return "\n".join(lines)

    def fraction(self, method: str, backend: str) -> float:
        nodes = self.assignments[method]
        return sum(1 for v in nodes.values() if v == backend) / max(1, len(nodes))


def _op_name(node: torch.fx.Node) -> str:
    return str(node.target) if not hasattr(node.target, "_schema") else \
        f"{node.target._schema.name}.{node.target._overloadname}"


def _resolve(backends: Sequence[Any], compile_specs: dict[str, Sequence[CompileSpec]]) -> list[tuple]:
    """(partitioner, backend object, name, specs) per requested backend."""
    from . import plugins

    resolved = []
    for b in backends:
        if isinstance(b, str):
            try:
                plugin = plugins.get(b)
            except LookupError as e:
                raise ExportError(str(e)) from None
            specs = list(compile_specs.get(b, ()))
            partitioner = plugin.hook.wick_backend_partitioner(compile_specs=specs)
            backend = plugin.hook.wick_backend_preprocess() or getattr(partitioner, "backend", None)
            name = plugin.name
        elif isinstance(b, Partitioner):
            partitioner, backend, name = b, getattr(b, "backend", None), b.backend_name
            specs = list(compile_specs.get(name, b.compile_specs))
        else:
            raise ExportError(f"backends must be plugin names or Partitioner objects, got {type(b).__name__}")
        if partitioner is None or not isinstance(backend, Backend):
            raise ExportError(f"backend '{name}' provides no partitioner or no Backend with preprocess()")
        resolved.append((partitioner, backend, name, specs))
    return resolved


def _lower_method(name: str, ep: torch.export.ExportedProgram, resolved: list[tuple],
                  report: PartitionReport) -> list[DelegateRecord]:
    gm = ep.graph_module
    work = [n for n in gm.graph.nodes if n.op == "call_function" and n.target is not operator.getitem]
    report.assignments[name] = {n.name: "portable" for n in work}
    report.ops[name] = {n.name: _op_name(n) for n in work}
    report.reasons[name] = {}
    claimable = {n.name for n in gm.graph.nodes if n.op == "call_function"}
    by_name = {n.name: n for n in gm.graph.nodes}
    plans: list[tuple[str, Backend, list[CompileSpec], list[torch.fx.Node]]] = []
    for partitioner, backend, bname, specs in resolved:
        result = partitioner.partition(ep, set(claimable))
        for node, why in result.rejected.items():
            report.reasons[name].setdefault(node, []).append(f"{bname}: {why}")
        for part in result.partitions:
            nodes = [by_name[n] for n in part.nodes if n in claimable]
            if not nodes:
                continue
            for n in nodes:
                claimable.discard(n.name)
                if n.name in report.assignments[name]:
                    report.assignments[name][n.name] = bname
            plans.append((bname, backend, specs, nodes))
    if not plans:
        return []
    fuse_by_partitions(gm, [dict.fromkeys(nodes) for _, _, _, nodes in plans], prefix="wick_delegate_",
                       always_return_tuple=True)
    # After fusing: the placeholders keep their order (and so their input
    # specs), but not necessarily the node objects they had before.
    lifted = lifted_constants(ep)
    folded: dict[torch.fx.Node, torch.Tensor | None] = {}
    absorbed: dict[torch.fx.Node, str] = {}  # folded node -> the backend holding its value
    records = []
    for index, (bname, backend, specs, nodes) in enumerate(plans):
        call = next(n for n in gm.graph.nodes if n.op == "call_module" and n.target == f"wick_delegate_{index}")
        sub: torch.fx.GraphModule = getattr(gm, call.target)
        inputs = list(call.args)
        # A weight reaches preprocess as a constant even when the graph
        # transforms it first (a linear's transposed weight, a cast): what is
        # computed from constants only is folded here, so a backend need not
        # claim the transpose to pre-pack its weights.
        constants = {}
        for i, a in enumerate(inputs):
            value = _constant_value(a, lifted, folded)
            if value is not None:
                constants[i] = value
        out_node = next(n for n in sub.graph.nodes if n.op == "output")
        outs = out_node.args[0]
        subgraph = DelegateSubgraph(
            graph_module=sub, constants=constants, input_metas=[a.meta["val"] for a in inputs],
            output_metas=[o.meta["val"] for o in outs])
        result = backend.preprocess(subgraph, specs)
        target = DelegateCallTarget(bname, index)
        runtime_inputs = [a for i, a in enumerate(inputs) if i not in constants]
        for i in constants:
            if folded.get(inputs[i]) is not None:
                absorbed[inputs[i]] = bname
        with gm.graph.inserting_before(call):
            new = gm.graph.call_function(target, tuple(runtime_inputs))
        new.meta["val"] = tuple(subgraph.output_metas)
        call.replace_all_uses_with(new)
        gm.graph.erase_node(call)
        delattr(gm, f"wick_delegate_{index}")
        stored_specs = [(s.key, s.value) for s in specs]
        if any(k.startswith(RESERVED_SPEC_PREFIX) for k, _ in stored_specs):
            raise ExportError(f"backend '{bname}': compile-spec keys starting with '{RESERVED_SPEC_PREFIX}' are "
                              f"reserved for Wick")
        if result.compatibility:
            stored_specs.append((COMPATIBILITY_SPEC, result.compatibility.encode()))
        records.append(DelegateRecord(
            node=new, backend=bname, blob=bytes(result.blob), compile_specs=stored_specs,
            inputs=runtime_inputs, output_metas=list(subgraph.output_metas),
            ops=[_op_name(n) for n in subgraph.nodes()], debug_map=dict(result.debug_map)))
    _erase_folded(gm, absorbed, report.assignments[name])
    gm.graph.lint()
    gm.recompile()
    return records


# Ops never folded: their result is not a function of their inputs alone.
_NOT_FOLDABLE = ("rand", "normal", "bernoulli", "dropout", "empty", "uniform", "multinomial")
_MAX_FOLDED_ELEMENTS = 1 << 26


def _constant_value(node: Any, lifted: dict, cache: dict) -> torch.Tensor | None:
    """The value of `node` when the graph computes it from constants only
    (parameters, buffers, lifted constants), evaluated now; else None."""
    if not isinstance(node, torch.fx.Node):
        return None
    if node in lifted:
        return lifted[node]
    if node in cache:
        return cache[node]
    cache[node] = None
    schema = getattr(node.target, "_schema", None)
    if node.op != "call_function" or schema is None or schema.is_mutable or \
            any(word in schema.name for word in _NOT_FOLDABLE):
        return None
    inputs = [a for a in node.all_input_nodes]
    if not inputs or any(_constant_value(a, lifted, cache) is None for a in inputs):
        return None
    val = node.meta.get("val")
    if not isinstance(val, torch.Tensor) or val.numel() > _MAX_FOLDED_ELEMENTS:
        return None
    args, kwargs = torch.fx.node.map_arg((node.args, node.kwargs), lambda n: _constant_value(n, lifted, cache))
    with torch.no_grad():
        value = node.target(*args, **kwargs)
    cache[node] = value if isinstance(value, torch.Tensor) else None
    return cache[node]


def _erase_folded(gm: torch.fx.GraphModule, absorbed: dict[torch.fx.Node, str],
                  assignments: dict[str, str]) -> None:
    """Removes folded computations no one uses any more (their users were
    delegates that now hold the result as a constant); the partition report
    credits them to the backend that took them."""
    for node in reversed(list(gm.graph.nodes)):
        if node in absorbed and node.op == "call_function" and not node.users:
            if node.name in assignments:
                assignments[node.name] = absorbed[node]
            for source in node.all_input_nodes:  # a chain (cast, then transpose) goes as a whole
                absorbed.setdefault(source, absorbed[node])
            gm.graph.erase_node(node)


def to_edge_and_lower(programs: Any, backends: Sequence[Any] = (),
                      compile_specs: dict[str, Sequence[CompileSpec]] | None = None) -> EdgeProgram:
    """to_edge, then lowering to ``backends`` (plugin names or Partitioner
    objects) in priority order. The result carries ``partition_report``."""
    edge = programs if isinstance(programs, EdgeProgram) else to_edge(programs)
    resolved = _resolve(backends, compile_specs or {})
    report = PartitionReport()
    for name, ep in edge.methods.items():
        edge.delegates[name] = _lower_method(name, ep, resolved, report)
    edge.partition_report = report
    _warn_idle_backends([r[2] for r in resolved], report)
    return edge


def _warn_idle_backends(names: list[str], report: PartitionReport) -> None:
    """A backend that was asked for and claimed nothing is a warning naming
    its reasons (a dynamic shape, an unsupported dtype...), not silence."""
    for bname in names:
        if any(where == bname for nodes in report.assignments.values() for where in nodes.values()):
            continue
        reasons = Counter(why.split(": ", 1)[1] for per_node in report.reasons.values() for whys in per_node.values()
                          for why in whys if why.startswith(f"{bname}: "))
        summary = "; ".join(f"{why} ({n} node{'s' if n > 1 else ''})" for why, n in reasons.most_common(5))
        warnings.warn(f"backend '{bname}' was requested but claimed no node, so everything runs on the portable "
                      f"kernels; {'its reasons: ' + summary if summary else 'it gave no reason'}", stacklevel=3)
