"""Identical constants are stored once (by content hash): a model whose
layers share weights is not stored once per use, and its outputs still equal
eager PyTorch."""

from __future__ import annotations

import pytest
import torch

import wick

WIDTH = 256
ONE_LAYER_BYTES = (WIDTH * WIDTH + WIDTH) * 4  # float32 weight and bias


class SharedLayer(torch.nn.Module):
    """One Linear applied three times: export lowers each use's transposed
    weight to its own constant, equal in content."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = torch.nn.Linear(WIDTH, WIDTH)

    def forward(self, x):
        for _ in range(3):
            x = torch.relu(self.fc(x))
        return x


class CopiedLayers(torch.nn.Module):
    """Three Linears loaded with the same weights (distinct parameters)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.layers = torch.nn.ModuleList(torch.nn.Linear(WIDTH, WIDTH) for _ in range(3))
        for layer in self.layers[1:]:
            layer.load_state_dict(self.layers[0].state_dict())
        self.last = torch.nn.Linear(WIDTH, 8)  # different weights: stored on their own

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.last(x)


@pytest.mark.parametrize("model_cls, distinct_bytes", [
    (SharedLayer, ONE_LAYER_BYTES),
    (CopiedLayers, ONE_LAYER_BYTES + (WIDTH * 8 + 8) * 4),
])
def test_shared_weights_are_stored_once(model_cls, distinct_bytes):
    model = model_cls().eval()
    x = torch.randn(2, WIDTH)
    program = wick.export(model, (x,))
    used = program.methods["forward"].constant_bytes  # bytes the constants take if each use had its copy
    assert used >= 3 * WIDTH * WIDTH * 4  # three transposed weights at least
    # Stored once: the distinct constants, plus alignment and metadata (a few KB).
    assert distinct_bytes <= len(program.buffer) < distinct_bytes + 16_384, (len(program.buffer), used)
    (y,) = wick.runtime.load(program.buffer).method("forward")(x)
    torch.testing.assert_close(y, model(x), rtol=1e-5, atol=1e-5)
