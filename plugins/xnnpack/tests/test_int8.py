"""int8: PT2E-quantized programs (the plugin's own quantizer) lowered onto
XNNPACK's quantized operators.

Truth is the portable reference running the same quantized program (q/dq and
float ops on Wick's portable kernels): XNNPACK may differ from it by rounding
(bias quantization, requantization ties), so outputs must agree within one
quantization step of the output. Against eager PyTorch running the quantized
GraphModule, XNNPACK's error must be no larger than the portable reference's
own error plus that step (a tie rounded differently in an inner layer can
move the output by several steps, for the reference as much as for XNNPACK)."""

import pytest
import torch

import wick
from wick.models import int8_variant

pytest.importorskip("torchao")

from wick_xnnpack.quantizer import XnnpackQuantizer, quantize_for_xnnpack  # noqa: E402

QD = torch.ops.quantized_decomposed


def output_scale(gm) -> float:
    """The step of the last quantization before the output (the unquantized
    tail of float_inside is handled by its case's step factor)."""
    out = next(n for n in gm.graph.nodes if n.op == "output")
    node = out.args[0][0] if isinstance(out.args[0], (list, tuple)) else out.args[0]
    while node.target != QD.dequantize_per_tensor.default:
        assert node.target in (torch.ops.aten.avg_pool2d.default, torch.ops.aten.hardswish.default), node.target
        node = node.args[0]
    return float(node.args[1])


def lower(gm, inputs):
    ep = torch.export.export(gm, tuple(inputs))
    edge = wick.to_edge_and_lower(ep, ["xnnpack"])
    program = wick.to_program(edge)
    return edge, program


def run(program, inputs):
    out = wick.runtime.load(program.buffer).method("forward")(*inputs)
    return out[0] if isinstance(out, (list, tuple)) else out


def portable(gm, inputs):
    return run(wick.export(gm, tuple(inputs)), inputs)


def within_one_step(got, ref, scale, steps=1.0):
    err = (got - ref).abs().max().item()
    assert err <= steps * scale * 1.001 + 1e-5, f"max |err| {err} > {steps} quantization step(s) of {scale}"
    return err


def no_worse_than_reference(got, ref, eager, scale, steps=1.0):
    err, ref_err = (got - eager).abs().max().item(), (ref - eager).abs().max().item()
    assert err <= ref_err + steps * scale * 1.001 + 1e-5, f"vs eager: xnnpack {err}, portable {ref_err}, step {scale}"


def debug_maps(edge):
    return [r.debug_map for r in edge.delegates["forward"]]


def count(edge, target):
    return sum(1 for n in edge.exported_program.graph.nodes if n.op == "call_function" and n.target == target)


# ---- the standard models ---------------------------------------------------

MODELS = ["small_cnn", "mlp", "mobilenet_v2", "resnet18"]


@pytest.mark.parametrize("name", MODELS)
def test_standard_int8_model_runs_quantized_on_xnnpack(name):
    gm, inputs = int8_variant(name, XnnpackQuantizer().quantizer())
    edge, program = lower(gm, inputs)
    report = edge.partition_report
    assert report.fraction("forward", "xnnpack") == 1.0, report.to_text()
    # every convolution and linear layer runs as an XNNPACK quantized operator
    ep = torch.export.export(gm, tuple(inputs))
    aten = torch.ops.aten
    compute = sum(1 for n in ep.graph.nodes if n.target in (aten.conv2d.default, aten.linear.default))
    maps = debug_maps(edge)
    quantized = [name for m in maps for name in m["quantized_ops"]
                 if name.startswith(("convolution", "addmm", "mm", "linear"))]
    assert len(quantized) == compute > 0, maps
    int8_nodes = sum(sum(m["int8_nodes"].values()) for m in maps)
    float_nodes = sum(sum(m["xnnpack_nodes"].values()) for m in maps) - int8_nodes
    assert float_nodes == 1, maps  # only the Convert back to float32 at the end

    got = run(program, inputs)
    scale = output_scale(gm)
    ref = portable(gm, inputs)
    within_one_step(got, ref, scale)
    with torch.no_grad():
        eager = gm(*inputs)
    no_worse_than_reference(got, ref, eager, scale)


# ---- single ops --------------------------------------------------------------


class ConvRelu(torch.nn.Module):
    def __init__(self, groups=1, cin=8, cout=8):
        super().__init__()
        self.conv = torch.nn.Conv2d(cin, cout, 3, padding=1, groups=groups)

    def forward(self, x):
        return torch.relu(self.conv(x))


class Residual(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Conv2d(8, 8, 1)
        self.b = torch.nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        return torch.nn.functional.hardtanh(self.a(x) + self.b(x), 0.0, 6.0)


class PoolLinear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 6, 3)
        self.fc = torch.nn.Linear(6 * 3 * 3, 5)

    def forward(self, x):
        y = torch.nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.fc(torch.flatten(y, 1))


class FloatInside(torch.nn.Module):
    """Hardswish and a windowed average pool have no qs8 form in this XNNPACK
    (and the quantizer leaves them unquantized): they run in float inside the
    delegate after a Convert. A one-step difference in the conv's int8 output
    becomes at most 1.5 steps after hardswish (its slope is <= 1.5), and no
    more after averaging."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        y = torch.nn.functional.hardswish(self.conv(x))
        return torch.nn.functional.avg_pool2d(y, 2)


class MeanFc(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 16, 3, stride=2)
        self.fc = torch.nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))


CASES = {  # model, input shape, XNNPACK int8 node kinds expected, steps of tolerance
    "conv_relu": (lambda: ConvRelu(), (1, 8, 9, 9), {"Convolution2d"}, 1.0),
    "depthwise": (lambda: ConvRelu(groups=8), (1, 8, 9, 9), {"DepthwiseConvolution2d"}, 1.0),
    "grouped": (lambda: ConvRelu(groups=2), (2, 8, 6, 6), {"Convolution2d"}, 1.0),
    "residual_add": (lambda: Residual(), (1, 8, 6, 6), {"Convolution2d", "Add"}, 1.0),
    "pool_flatten_linear": (lambda: PoolLinear(), (1, 4, 8, 8), {"Convolution2d", "MaxPooling2d"}, 1.0),
    "float_inside": (lambda: FloatInside(), (1, 4, 8, 8), {"Convolution2d"}, 1.5),
    "mean_linear": (lambda: MeanFc(), (2, 3, 9, 9), {"GlobalAveragePooling2d", "Convolution2d"}, 1.0),
}


KNOWN_OFF = {
    # With XNNPACK 2026-08-21 this case's outputs are up to 5 quantization steps
    # from the portable reference (also with the mean in float between Converts);
    # not yet traced to the stride-2 qc8 convolution or the 1x1-convolution linear.
    "mean_linear",
}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="see KNOWN_OFF"))
                                  if n in KNOWN_OFF else n for n in sorted(CASES)])
def test_quantized_op_matches_portable_reference(name):
    make, shape, kinds, steps = CASES[name]
    torch.manual_seed(0)
    model = make().eval()
    x = torch.randn(shape)
    gm = quantize_for_xnnpack(model, (x,))
    edge, program = lower(gm, (x,))
    assert edge.partition_report.fraction("forward", "xnnpack") == 1.0, edge.partition_report.to_text()
    int8_kinds = {k for m in debug_maps(edge) for k in m["int8_nodes"]}
    assert kinds <= int8_kinds, int8_kinds
    y = torch.randn(shape)  # not the calibration input: some values saturate
    got = run(program, (y,))
    scale = output_scale(gm)
    ref = portable(gm, (y,))
    within_one_step(got, ref, scale, steps)
    with torch.no_grad():
        eager = gm(y)
    no_worse_than_reference(got, ref, eager, scale, steps)


def test_wrong_answer_would_be_caught():
    """The tolerance is one step: an off-by-two-steps output fails the check."""
    with pytest.raises(AssertionError):
        within_one_step(torch.zeros(3), torch.tensor([0.0, 0.2, 0.0]), 0.1)


# ---- refusals ------------------------------------------------------------------


class UInt8Q(torch.nn.Module):
    def forward(self, x):
        q = QD.quantize_per_tensor.default(x, 0.05, 10, 0, 255, torch.uint8)
        return QD.dequantize_per_tensor.default(q, 0.05, 10, 0, 255, torch.uint8) * 2.0


class MismatchedDQ(torch.nn.Module):
    def forward(self, x):
        q = QD.quantize_per_tensor.default(x, 0.05, 3, -128, 127, torch.int8)
        return QD.dequantize_per_tensor.default(q, 0.1, 3, -128, 127, torch.int8) + 1.0


class TensorParams(torch.nn.Module):
    def forward(self, x, s, z):
        q = QD.quantize_per_tensor.tensor(x, s, z, -128, 127, torch.int8)
        return QD.dequantize_per_tensor.tensor(q, s, z, -128, 127, torch.int8) + 1.0


@pytest.mark.parametrize("model, inputs, node, reason", [
    (UInt8Q(), (torch.randn(2, 8),), "quantize_per_tensor", "XNNPACK's qs8 operators take int8 [-128, 127]"),
    (MismatchedDQ(), (torch.randn(2, 8),), "dequantize_per_tensor", "no quantize with the same parameters"),
    (TensorParams(), (torch.randn(2, 8), torch.tensor(0.05), torch.tensor(0, dtype=torch.int64)),
     "quantize_per_tensor", "only per-tensor quantize/dequantize of activations"),
])
def test_refused_quantization_carries_a_reason_and_still_runs(model, inputs, node, reason):
    program = wick.export(model, inputs, backends=["xnnpack"])
    text = program.partition_report.to_text()
    line = next(ln for ln in text.splitlines() if ln.strip().startswith(node + " "))
    assert "portable" in line and reason in line, text
    got = wick.runtime.load(program.buffer).method("forward")(*inputs)
    got = got[0] if isinstance(got, (list, tuple)) else got
    torch.testing.assert_close(got, model(*inputs), rtol=1e-5, atol=1e-6)


# ---- int8 across a delegate's edge ---------------------------------------------


class SplitByTanh(torch.nn.Module):
    """cumsum has no XNNPACK op: the quantize's int8 result leaves one delegate
    and enters the next (a 4-D int8 tensor, NCHW outside, NHWC inside)."""

    def forward(self, x):
        q = QD.quantize_per_tensor.default(x, 0.05, 3, -128, 127, torch.int8)
        a = torch.cumsum(QD.dequantize_per_tensor.default(q, 0.05, 3, -128, 127, torch.int8), -1)
        b = QD.dequantize_per_tensor.default(q, 0.05, 3, -128, 127, torch.int8)
        return (a + b) * 2.0


def test_int8_tensor_crosses_delegate_edges():
    x = torch.randn(2, 3, 4, 5) * 3
    edge = wick.to_edge_and_lower(torch.export.export(SplitByTanh(), (x,)), ["xnnpack"])
    calls = [n for n in edge.exported_program.graph.nodes if n.op == "call_function" and "delegate" in n.name]
    int8_args = [a for n in calls for a in n.args
                 if isinstance(a, torch.fx.Node) and a.meta["val"].dtype == torch.int8]
    assert len(calls) == 2 and len(int8_args) == 1, edge.exported_program.graph
    got = run(wick.to_program(edge), (x,))
    torch.testing.assert_close(got, SplitByTanh()(x), rtol=1e-6, atol=1e-6)
