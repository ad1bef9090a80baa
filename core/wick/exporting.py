"""One call from an nn.Module to a program file."""

from __future__ import annotations

from typing import Any

import torch

from .edge import to_edge
from .program_builder import ProgramFile, to_program


def export(model: torch.nn.Module, example_inputs: tuple, dynamic_shapes: Any = None) -> ProgramFile:
    """torch.export -> Edge dialect -> program file, for method "forward"."""
    ep = torch.export.export(model, tuple(example_inputs), dynamic_shapes=dynamic_shapes)
    return to_program(to_edge(ep))
