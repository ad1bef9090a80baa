"""Wick: export a PyTorch model, lower it to backends, run it with a small C++ runtime.

    import torch, wick
    ep = torch.export.export(model, example_inputs)
    program = wick.to_program(wick.to_edge(ep))   # a ProgramFile
    program.save("model.wick")
    outputs = wick.runtime.load("model.wick").method("forward")(*example_inputs)

The runtime (``wick.runtime``) imports without torch; the exporter needs it.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import ExportError, WickError

__version__ = "0.1.0"

# Exporter names resolve lazily, so `import wick.runtime` works without torch.
_LAZY = {
    "to_edge": ("edge", "to_edge"),
    "EdgeProgram": ("edge", "EdgeProgram"),
    "to_program": ("program_builder", "to_program"),
    "ProgramFile": ("program_builder", "ProgramFile"),
    "export": ("exporting", "export"),
    "to_edge_and_lower": ("lowering", "to_edge_and_lower"),
    "models": ("models", None),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        module = importlib.import_module(f".{module_name}", __name__)
        return module if attr is None else getattr(module, attr)
    if name == "runtime":
        import importlib

        return importlib.import_module(".runtime", __name__)
    raise AttributeError(f"module 'wick' has no attribute {name!r}")


def sdk_dir() -> str:
    """Root of the installed C++ SDK (headers, static runtime, CMake config)."""
    return os.path.join(os.path.dirname(__file__), "sdk")


def cmake_dir() -> str:
    """Directory for CMake's find_package(wick): pass as -Dwick_DIR=..."""
    return os.path.join(sdk_dir(), "cmake", "wick")


__all__ = ["ExportError", "WickError", "cmake_dir", "sdk_dir", "__version__", *_LAZY, "runtime"]
