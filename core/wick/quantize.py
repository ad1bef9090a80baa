"""The PT2E quantization flow with a backend plugin's quantizer."""

from __future__ import annotations

from typing import Any, Iterable

import torch

from .errors import ExportError


def quantize(model: torch.nn.Module, example_inputs: tuple, backend: str,
             calibration: Iterable[tuple] | None = None) -> torch.nn.Module:
    """prepare_pt2e with ``backend``'s quantizer, calibrate on ``calibration``
    (default: the example inputs), convert_pt2e. Returns the quantized module
    (a GraphModule with quantize/dequantize ops) ready for export."""
    from torch.ao.quantization.quantize_pt2e import convert_pt2e, prepare_pt2e

    from . import plugins

    try:
        plugin = plugins.get(backend)
    except LookupError as e:
        raise ExportError(str(e)) from None
    q = plugin.hook.wick_backend_quantizer(compile_specs=[])
    if q is None:
        raise ExportError(f"backend '{backend}' offers no quantizer; export without --quantize, or pick a backend "
                          f"that quantizes")
    graph = torch.export.export(model, tuple(example_inputs)).module()
    prepared = prepare_pt2e(graph, q.quantizer())
    for batch in calibration or [example_inputs]:
        prepared(*batch)
    return convert_pt2e(prepared)
