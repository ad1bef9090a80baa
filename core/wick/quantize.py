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
    from . import plugins

    try:  # torch 2.13 keeps the PT2E flow in torchao
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    except ImportError:
        raise ExportError("quantization needs torchao: pip install --no-deps torchao==0.18.0") from None

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
