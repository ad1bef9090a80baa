"""PT2E quantizer for the xnnpack backend: per-channel symmetric int8
weights, per-tensor affine int8 activations (XNNPACK's qc8/qs8 scheme).

Uses torchao's reference XNNPACK quantizer configuration, which expresses
exactly that scheme for torch 2.13's PT2E flow (torch.ao's own copy is
deprecated there)."""

from __future__ import annotations

from wick.delegate_sdk import Quantizer


class XnnpackQuantizer(Quantizer):
    def quantizer(self):
        try:
            from torchao.testing.pt2e._xnnpack_quantizer import XNNPACKQuantizer, get_symmetric_quantization_config
        except ImportError as e:  # pragma: no cover - environment
            raise ImportError("the xnnpack quantizer needs torchao: pip install --no-deps torchao==0.18.0") from e
        return XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))


def quantize_for_xnnpack(model, example_inputs):
    """prepare_pt2e / calibrate on the example inputs / convert_pt2e."""
    import torch
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    prepared = prepare_pt2e(torch.export.export(model, tuple(example_inputs)).module(), XnnpackQuantizer().quantizer())
    prepared(*example_inputs)
    return convert_pt2e(prepared)
