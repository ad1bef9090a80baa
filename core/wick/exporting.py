"""One call from an nn.Module to a program file."""

from __future__ import annotations

from typing import Any, Sequence

import torch

from .edge import to_edge
from .program_builder import ProgramFile, to_program


def export(model: torch.nn.Module, example_inputs: tuple, dynamic_shapes: Any = None,
           backends: Sequence[Any] = (), compile_specs: dict | None = None) -> ProgramFile:
    """torch.export -> Edge dialect -> (lowering to ``backends``) -> program
    file, for method "forward". The ProgramFile keeps the partition report."""
    ep = torch.export.export(model, tuple(example_inputs), dynamic_shapes=dynamic_shapes)
    if not backends:
        return to_program(to_edge(ep))
    from .lowering import to_edge_and_lower

    edge = to_edge_and_lower(ep, backends, compile_specs)
    program = to_program(edge)
    program.partition_report = edge.partition_report
    return program
