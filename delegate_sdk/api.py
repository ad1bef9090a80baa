"""Base classes and records of the backend contract (API version 1).

Data flow during lowering::

    Partitioner.partition(exported_program)  -> PartitionResult
        (partitions of node names + a reason for each refused node)
    for each partition: Wick cuts a DelegateSubgraph and calls
    Backend.preprocess(subgraph, compile_specs) -> PreprocessResult(blob, debug_map)

The blob is stored in an aligned segment of the program file; at run time the
backend's runtime half (C ABI, wick/backend.h) gets it in init().
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

if TYPE_CHECKING:  # torch is imported lazily so discovery stays cheap
    import torch

SDK_API_VERSION = "1.1"


@dataclass(frozen=True)
class CompileSpec:
    """A key and opaque bytes the backend interprets (e.g. ("threads", b"4")).
    Stored with the delegate call in the program file and handed to both
    preprocess() and the runtime half's init()."""

    key: str
    value: bytes = b""

    @staticmethod
    def of(key: str, value: str | int | bytes) -> "CompileSpec":
        return CompileSpec(key, value if isinstance(value, bytes) else str(value).encode())


@dataclass
class PluginDescriptor:
    """What a plugin says about itself (hook ``wick_backend_descriptor``).

    ``name`` is the registry name used in program files and by the runtime
    half (WickBackend.name). ``runtime_library`` is the absolute path of the
    shared library exporting ``wick_backend_entry``, or None for a backend
    without a native runtime half. ``capabilities`` is free-form (dtypes,
    quantization schemes, devices) and shown by ``wick backends``."""

    name: str
    version: str
    sdk_api_version: str
    runtime_library: str | None = None
    package: str = ""
    description: str = ""
    capabilities: dict[str, Any] = field(default_factory=dict)


@dataclass
class Partition:
    """Nodes (by name) that one delegate call will execute, in graph order."""

    nodes: list[str]


@dataclass
class PartitionResult:
    """A partitioner's answer: the partitions it takes and, for every node it
    looked at and refused, why (e.g. "aten::bmm.out: not supported by this
    XNNPACK version")."""

    partitions: list[Partition]
    rejected: dict[str, str] = field(default_factory=dict)


class Partitioner:
    """Decides which nodes of an Edge-dialect graph a backend takes.

    Subclass and implement :meth:`partition`. ``backend_name`` must be the
    plugin's registry name. Wick passes only nodes not already claimed by a
    higher-priority backend (``claimable``)."""

    backend_name: str = ""
    compile_specs: Sequence[CompileSpec] = ()

    def partition(self, exported_program: "torch.export.ExportedProgram",
                  claimable: set[str]) -> PartitionResult:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class DelegateSubgraph:
    """A claimed partition, cut out of the Edge program for preprocess().

    ``graph_module``: an fx.GraphModule whose placeholders are, in order, the
    subgraph's inputs; it returns a tuple of the subgraph's outputs and is
    runnable with torch (a reference for the backend's own tests).
    ``constants`` maps placeholder index -> tensor for the inputs that are
    weights or buffers known ahead of time: they are not runtime inputs, the
    backend embeds what it needs in its blob. The runtime half receives the
    other (``runtime_inputs``) inputs, then the outputs."""

    graph_module: "torch.fx.GraphModule"
    constants: dict[int, "torch.Tensor"]
    input_metas: list["torch.Tensor"]
    output_metas: list["torch.Tensor"]

    @property
    def runtime_inputs(self) -> list[int]:
        return [i for i in range(len(self.input_metas)) if i not in self.constants]

    def nodes(self) -> Iterable["torch.fx.Node"]:
        return (n for n in self.graph_module.graph.nodes if n.op == "call_function")


@dataclass
class PreprocessResult:
    """The blob for the runtime half, plus a debug map (free-form, e.g. which
    node became which backend operator) shown by reports.

    One debug-map key is reserved: ``"estimates"``, a flat dict of numbers or
    strings with the engine's own cost estimates for this blob (cycles,
    memory, predicted latency, and which tool and configuration made them).
    ``wick inspect`` and the conformance reports show it per delegate.

    ``compatibility`` (SDK 1.1): a one-line string naming what the blob needs
    (backend version, vendor library version, target). It is stored with the
    delegate (compile-spec key ``wick.compatibility``, reserved) and handed to
    the runtime half's ``validate_blob`` before ``init``, so a blob made for
    another build or device is refused with a clear error instead of misread.
    "" = none."""

    blob: bytes
    debug_map: dict[str, Any] = field(default_factory=dict)
    compatibility: str = ""


class Backend:
    """The AOT half of a backend: turns a subgraph into a blob."""

    name: str = ""

    def preprocess(self, subgraph: DelegateSubgraph,
                   compile_specs: Sequence[CompileSpec]) -> PreprocessResult:  # pragma: no cover - interface
        raise NotImplementedError


class Quantizer:
    """Optional PT2E quantizer: ``quantizer()`` returns a
    torch.ao.quantization.quantizer.Quantizer for prepare_pt2e/convert_pt2e."""

    def quantizer(self) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


def group_supported_nodes(exported_program: "torch.export.ExportedProgram", claimable: set[str],
                          is_supported: Callable[["torch.fx.Node"], str | None]) -> PartitionResult:
    """Helper for partitioners: groups the claimable nodes that
    ``is_supported`` accepts (returns None) into partitions that can each be
    replaced by one call without creating a cycle; every refused node keeps
    the reason ``is_supported`` returned.

    Uses torch's capability-based partitioner, which keeps partitions convex."""
    from torch.fx.passes.infra.partitioner import CapabilityBasedPartitioner
    from torch.fx.passes.operator_support import OperatorSupportBase

    rejected: dict[str, str] = {}

    class _Support(OperatorSupportBase):
        def is_node_supported(self, submodules, node) -> bool:
            if node.op != "call_function":
                return False
            if node.name not in claimable:
                return False
            if node.target is operator.getitem:  # goes wherever its source goes
                src = node.args[0]
                return src.name in claimable and src.name not in rejected and is_supported(src) is None
            reason = is_supported(node)
            if reason is not None:
                rejected[node.name] = reason
                return False
            return True

    gm = exported_program.graph_module
    partitioner = CapabilityBasedPartitioner(gm, _Support(), allows_single_node_partition=True)
    found = partitioner.propose_partitions()
    order = {n: i for i, n in enumerate(gm.graph.nodes)}
    partitions = []
    for p in found:
        nodes = sorted(p.nodes, key=lambda n: order[n])
        if all(n.target is operator.getitem for n in nodes):
            continue  # carries no work
        partitions.append(Partition([n.name for n in nodes]))
    return PartitionResult(partitions, rejected)
