"""Transformer-shaped models stay inside XNNPACK: attention (view, permute,
batch matmul, softmax over the last dim of 4-D scores, the mask), layer norm
(decomposed), gelu, concatenation, slicing. Layout: spatial 4-D tensors are
NHWC, everything else keeps PyTorch's order, with transposes between."""

import pytest
import torch

import wick
from wick.inspect_program import describe
from wick.models import STANDARD_MODELS


class Block(torch.nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(dim)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.proj = torch.nn.Linear(dim, dim)
        self.norm2 = torch.nn.LayerNorm(dim)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(dim, 2 * dim), torch.nn.GELU(), torch.nn.Linear(2 * dim, dim))

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5
        y = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
        x = x + self.proj(y)
        return x + self.mlp(self.norm2(x))


class TinyViT(torch.nn.Module):
    """Patch embedding (a strided convolution), a class token, position
    embeddings, two pre-norm blocks, the class token's head."""

    def __init__(self, dim=32, heads=4, patch=4, image=16, classes=10):
        super().__init__()
        torch.manual_seed(0)
        self.embed = torch.nn.Conv2d(3, dim, patch, stride=patch)
        self.cls = torch.nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = torch.nn.Parameter(torch.randn(1, (image // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = torch.nn.Sequential(Block(dim, heads), Block(dim, heads))
        self.norm = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Linear(dim, classes)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def delegated(model, inputs):
    program = wick.export(model.eval(), inputs, backends=["xnnpack"])
    out = wick.runtime.load(program.buffer).method("forward")(*inputs)
    got = torch.as_tensor(out[0] if isinstance(out, (list, tuple)) else out)
    with torch.no_grad():
        want = model(*inputs)
    calls = sum(len(m.get("delegates", [])) for m in describe(program.buffer).get("methods", []))
    return got, want, program.partition_report, calls


def test_tiny_llama_is_one_delegate_call_but_the_embedding():
    model, inputs = STANDARD_MODELS["tiny_llama"]()
    got, want, report, calls = delegated(model, inputs)
    assert report.fraction("forward", "xnnpack") >= 0.95, report.to_text()
    assert calls <= 2, report.to_text()
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("batch", [1, 2])
def test_vision_transformer_is_one_delegate_call(batch):
    model = TinyViT()
    x = torch.randn(batch, 3, 16, 16, generator=torch.Generator().manual_seed(batch))
    got, want, report, calls = delegated(model, (x,))
    assert report.fraction("forward", "xnnpack") >= 0.95, report.to_text()
    assert calls == 1, report.to_text()
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dim", [0, 1, 2, 3])
def test_softmax_and_reductions_over_any_dim_of_4d(dim):
    class M(torch.nn.Module):
        def forward(self, x):
            return x.softmax(dim) + x.sum(dim, keepdim=True) - x.amax(dim, keepdim=True) + x.mean(dim, keepdim=True)

    x = torch.randn(2, 3, 4, 5)
    got, want, report, calls = delegated(M(), (x,))
    assert report.fraction("forward", "xnnpack") == 1.0, report.to_text()
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_conv_output_through_permute_and_split():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 6, 3, padding=1)

        def forward(self, x):
            y = self.conv(x).permute(0, 2, 3, 1)  # NHWC inside: a transpose of the layout
            a, b = y.split([2, 4], dim=-1)
            return torch.cat([torch.tanh(a), torch.exp(b * 0.1)], dim=-1).flatten(1, 2)

    x = torch.randn(2, 3, 5, 7)
    got, want, report, calls = delegated(M(), (x,))
    assert report.fraction("forward", "xnnpack") == 1.0, report.to_text()
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_int8_tiny_llama_runs_every_linear_as_int8():
    """A transformer's quantized linears (dequantize -> view -> mm -> view ->
    quantize on 3-D activations) run as int8 XNNPACK nodes, in one call."""
    from wick.quantize import quantize

    model, inputs = STANDARD_MODELS["tiny_llama"]()
    qmodel = quantize(model.eval(), inputs, "xnnpack")
    program = wick.export(qmodel, inputs, backends=["xnnpack"])
    delegates = [d for m in describe(program.buffer)["methods"] for d in m["delegates"]]
    int8_linears = [n for d in delegates for n in d["debug"]["quantized_ops"] if n.startswith("mm")]
    linears = sum(1 for mod in model.modules() if isinstance(mod, torch.nn.Linear))
    assert len(int8_linears) == linears > 0, int8_linears
    assert len(delegates) <= 2
    out = wick.runtime.load(program.buffer).method("forward")(*inputs)
    got = torch.as_tensor(out[0] if isinstance(out, (list, tuple)) else out)
    with torch.no_grad():
        want = qmodel(*inputs)
    reference = wick.runtime.load(wick.export(qmodel, inputs).buffer).method("forward")(*inputs)
    reference = torch.as_tensor(reference[0] if isinstance(reference, (list, tuple)) else reference)
    # no worse than the portable int8 reference by more than a few output steps
    assert (got - want).abs().max() <= (reference - want).abs().max() + 0.05
