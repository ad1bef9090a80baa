"""The standard models lower (>= 90% of their ops) to Vulkan and match eager
PyTorch within the float32 tolerance of conftest (rtol 1e-3, atol 1e-4)."""

from __future__ import annotations

import pytest
import torch

from wick.models import STANDARD_MODELS

from conftest import ATOL, RTOL, run_both


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet18", "tiny_llama", "mlp", "small_cnn"])
def test_standard_model_is_delegated_and_matches_eager(vulkan, name):
    model, inputs = STANDARD_MODELS[name]()
    program, got, expected = run_both(model, inputs)
    fraction = program.partition_report.fraction("forward", "vulkan")
    assert fraction >= 0.9, program.partition_report.to_text()
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=RTOL, atol=ATOL)
