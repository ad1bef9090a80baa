"""Several methods per program; the runtime without torch; input checking."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import wick


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x):
        return torch.relu(self.fc(x))


class Decoder(torch.nn.Module):
    def forward(self, x, y):
        return x * y + 1.0


def test_program_with_two_methods_runs_each():
    enc, dec = Encoder().eval(), Decoder().eval()
    x, y = torch.randn(2, 8), torch.randn(2, 4)
    eps = {
        "encode": torch.export.export(enc, (x,)),
        # two distinct tensors: export would merge one object passed twice
        "decode": torch.export.export(dec, (y, y.clone())),
    }
    program = wick.to_program(wick.to_edge(eps))
    loaded = wick.runtime.load(program.buffer)
    assert sorted(loaded.method_names) == ["decode", "encode"]
    with torch.no_grad():
        torch.testing.assert_close(loaded.method("encode")(x)[0], enc(x))
        torch.testing.assert_close(loaded.method("decode")(y, y * 2)[0], dec(y, y * 2))
    with pytest.raises(wick.WickError, match="no method named 'forward'"):
        loaded.method("forward")


def test_runtime_runs_without_torch(exported, tmp_path):
    _, inputs, _, path = exported("mlp")
    np.save(tmp_path / "x.npy", inputs[0].numpy())
    script = textwrap.dedent(f"""
        import sys
        sys.modules['torch'] = None  # any import of torch now fails
        import numpy as np
        import wick.runtime
        out = wick.runtime.load({str(path)!r}).method('forward')(np.load({str(tmp_path / 'x.npy')!r}))[0]
        assert isinstance(out, np.ndarray) and out.shape == (1, 10), out
        np.save({str(tmp_path / 'y.npy')!r}, out)
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    model, inputs, _, _ = exported("mlp")
    with torch.no_grad():
        expected = model(*inputs).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-4, atol=1e-5)


def test_numpy_and_torch_inputs_give_the_same_output(exported):
    _, inputs, _, path = exported("small_cnn")
    method = wick.runtime.load(path).method("forward")
    a = method(inputs[0])[0]
    b = method(inputs[0].numpy())[0]
    assert torch.equal(a, b)


def test_non_contiguous_input_is_accepted(exported):
    model, inputs, _, path = exported("mlp")
    x = torch.randn(1, 1024)[:, ::2]  # a strided view
    assert not x.is_contiguous()
    with torch.no_grad():
        torch.testing.assert_close(wick.runtime.load(path).method("forward")(x)[0], model(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("bad, code, text", [
    (lambda: [torch.randn(1, 512, dtype=torch.float64)], "InvalidArgument", "must be float32, got float64"),
    (lambda: [torch.randn(512)], "InvalidArgument", "rank 2"),
    (lambda: [torch.randn(1, 511)], "ShapeMismatch", "static tensor"),
    (lambda: [], "InvalidArgument", "takes 1 inputs, got 0"),
])
def test_bad_inputs_are_named(exported, bad, code, text):
    _, _, _, path = exported("mlp")
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load(path).method("forward")(*bad())
    assert info.value.code == code
    assert text in info.value.message


def test_missing_file_is_an_io_error(tmp_path):
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load(tmp_path / "nope.wick")
    assert info.value.code == "IoError" and "nope.wick" in info.value.message
