"""Every op the partitioner claims, lowered alone (or in the pattern it is
claimed in), runs entirely on XNNPACK and matches eager PyTorch (float32,
rtol 1e-4)."""

import pytest
import torch
from torch import nn
import torch.nn.functional as F

from conftest import lower_and_run


class Fn(nn.Module):
    def __init__(self, fn, *modules):
        super().__init__()
        self.mods = nn.ModuleList(modules)
        self.fn = fn

    def forward(self, *xs):
        return self.fn(self.mods, *xs)


def bn(c):
    m = nn.BatchNorm2d(c)
    m.running_mean.uniform_(-0.5, 0.5)
    m.running_var.uniform_(0.5, 1.5)
    m.weight.data.uniform_(0.5, 1.5)
    m.bias.data.uniform_(-0.2, 0.2)
    return m


IMG = (torch.randn(1, 8, 13, 11),)
IMG2 = (torch.randn(2, 8, 12, 12), torch.randn(2, 8, 12, 12))
VEC = (torch.randn(3, 40),)

CASES = {
    "conv2d": (Fn(lambda m, x: m[0](x), nn.Conv2d(8, 16, 3)), IMG),
    "conv2d_stride_pad_dilation_bias": (Fn(lambda m, x: m[0](x), nn.Conv2d(8, 6, 3, 2, 2, dilation=2)), IMG),
    "conv2d_grouped": (Fn(lambda m, x: m[0](x), nn.Conv2d(8, 12, 3, padding=1, groups=4)), IMG),
    "conv2d_depthwise": (Fn(lambda m, x: m[0](x), nn.Conv2d(8, 8, 3, padding=1, groups=8)), IMG),
    "conv2d_depthwise_multiplier": (Fn(lambda m, x: m[0](x), nn.Conv2d(8, 16, 5, 2, 2, groups=8)), IMG),
    "conv_transpose2d": (Fn(lambda m, x: m[0](x), nn.ConvTranspose2d(8, 4, 3, 2, 1, output_padding=1)), IMG),
    "conv_bn_folded": (Fn(lambda m, x: m[1](m[0](x)), nn.Conv2d(8, 16, 3, bias=False), bn(16)), IMG),
    "conv_bn_relu6_fused": (Fn(lambda m, x: F.relu6(m[1](m[0](x))), nn.Conv2d(8, 16, 1), bn(16)), IMG),
    "batch_norm_alone": (Fn(lambda m, x: m[0](x), bn(8)), IMG),
    "linear": (Fn(lambda m, x: m[0](x), nn.Linear(40, 24)), VEC),
    "linear_no_bias_relu": (Fn(lambda m, x: F.relu(m[0](x)), nn.Linear(40, 24, bias=False)), VEC),
    "linear_3d": (Fn(lambda m, x: m[0](x), nn.Linear(40, 24)), (torch.randn(2, 5, 40),)),
    "flatten_linear": (Fn(lambda m, x: m[1](m[0](x).flatten(1)), nn.Conv2d(8, 4, 3), nn.Linear(4 * 11 * 9, 10)),
                       IMG),
    "max_pool2d": (Fn(lambda m, x: F.max_pool2d(x, 3, 2, 1)), IMG),
    "max_pool2d_dilation": (Fn(lambda m, x: F.max_pool2d(x, 2, 1, 0, dilation=2)), IMG),
    "avg_pool2d": (Fn(lambda m, x: F.avg_pool2d(x, 2)), IMG),
    "avg_pool2d_pad_count_include": (Fn(lambda m, x: F.avg_pool2d(x, 3, 2, 1)), IMG),
    "avg_pool2d_pad_exclude": (Fn(lambda m, x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)), IMG),
    "global_avg_pool": (Fn(lambda m, x: F.adaptive_avg_pool2d(x, 1).flatten(1)), IMG),
    "adaptive_avg_pool_2x2": (Fn(lambda m, x: F.adaptive_avg_pool2d(x, 2)), (torch.randn(1, 8, 12, 12),)),
    "mean_hw_keepdim": (Fn(lambda m, x: x.mean((2, 3), keepdim=True)), IMG),
    "mean_last_dim": (Fn(lambda m, x: x.mean(-1, keepdim=True)), (torch.randn(2, 7, 33),)),
    "add": (Fn(lambda m, x, y: x + y), IMG2),
    "sub": (Fn(lambda m, x, y: x - y), IMG2),
    "mul": (Fn(lambda m, x, y: x * y), IMG2),
    "div": (Fn(lambda m, x, y: x / (y.abs() + 0.5)), IMG2),
    "maximum_minimum": (Fn(lambda m, x, y: torch.maximum(x, y) - torch.minimum(x, y)), IMG2),
    "scalar_ops": (Fn(lambda m, x: (x * 0.5 + 1.0 - 0.25) / 3.0), VEC),
    "broadcast_channel_constant": (Fn(lambda m, x: x * m[0].weight.reshape(8, 1, 1) + 1, nn.Linear(1, 8)), IMG),
    "broadcast_rank2": (Fn(lambda m, x, y: x + y), (torch.randn(4, 6), torch.randn(4, 1))),
    "broadcast_low_rank_into_4d": (Fn(lambda m, x, y: m[0](x) * y, nn.Conv2d(8, 8, 1)), (torch.randn(1, 8, 5, 5), torch.randn(1, 1, 5))),
    "relu": (Fn(lambda m, x: F.relu(x)), IMG),
    "relu6": (Fn(lambda m, x: F.relu6(x * 4)), IMG),
    "hardtanh": (Fn(lambda m, x: F.hardtanh(x, -0.5, 0.7)), VEC),
    "clamp": (Fn(lambda m, x: torch.clamp(x, min=-0.3)), VEC),
    "hardswish": (Fn(lambda m, x: F.hardswish(x * 3)), IMG),
    "sigmoid": (Fn(lambda m, x: torch.sigmoid(x)), VEC),
    "silu": (Fn(lambda m, x: F.silu(x)), VEC),
    "softmax_last": (Fn(lambda m, x: torch.softmax(x, -1)), VEC),
    "softmax_channels_4d": (Fn(lambda m, x: torch.softmax(m[0](x), 1), nn.Conv2d(8, 5, 1)), IMG),
    "leaky_relu": (Fn(lambda m, x: F.leaky_relu(x, 0.1)), VEC),
    "elu": (Fn(lambda m, x: F.elu(x, 0.7)), VEC),
    "abs_neg": (Fn(lambda m, x: -torch.abs(x)), VEC),
    "floor_ceil": (Fn(lambda m, x: torch.floor(x * 3) + torch.ceil(x * 2)), VEC),
    "sqrt_rsqrt": (Fn(lambda m, x: torch.sqrt(x.abs() + 0.1) + torch.rsqrt(x.abs() + 0.1)), VEC),
    "square": (Fn(lambda m, x: x.pow(2)), VEC),
    "rmsnorm": (Fn(lambda m, x: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)), (torch.randn(1, 9, 32),)),
    "reshape": (Fn(lambda m, x: (x.reshape(3, 8, 5) * 2).reshape(6, 20)), VEC),
    "constant_pad": (Fn(lambda m, x: F.pad(x, (1, 2, 0, 3), value=0.5)), IMG),
    "resize_bilinear": (Fn(lambda m, x: F.interpolate(x, size=(20, 17), mode="bilinear")), IMG),
    "resize_bilinear_align_corners": (
        Fn(lambda m, x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)), IMG),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_runs_on_xnnpack_and_matches_eager(name):
    model, inputs = CASES[name]
    model.eval()
    got, report = lower_and_run(model, inputs)
    assert report.fraction("forward", "xnnpack") == 1.0, report.to_text()
    with torch.no_grad():
        expected = model(*inputs)
    expected = list(expected) if isinstance(expected, (list, tuple)) else [expected]
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5)


def test_refused_ops_carry_a_reason():
    emb = torch.nn.Embedding(10, 4)
    model = Fn(lambda m, x, i: torch.tanh(emb(i) + x))
    _, report = lower_and_run(model, (torch.randn(3, 4), torch.tensor([1, 2, 3])))
    reasons = report.reasons["forward"]
    assert any("gather" in r for rs in reasons.values() for r in rs), reasons


def test_a_partition_that_only_moves_data_stays_portable():
    # The clone sits between two selects by mask (portable): alone it would be
    # a delegate call of two copies and no compute.
    model = Fn(lambda m, mask, a, b: torch.where(mask, torch.where(mask, a, b).clone(), b))
    inputs = (torch.rand(2, 4, 4) > 0.5, torch.randn(2, 4, 4), torch.randn(2, 4, 4))
    got, report = lower_and_run(model, inputs)
    torch.testing.assert_close(got[0], model(*inputs), rtol=1e-5, atol=1e-5)
    assert report.fraction("forward", "xnnpack") == 0.0, report.to_text()
    assert "only data movement in its partition (clone)" in report.to_text()
    # Data movement next to compute is still delegated with it.
    model = Fn(lambda m, mask, a, b: torch.where(mask, torch.relu(torch.where(mask, a, b)).clone(), b))
    _, report = lower_and_run(model, inputs)
    assert report.fraction("forward", "xnnpack") > 0.0, report.to_text()
