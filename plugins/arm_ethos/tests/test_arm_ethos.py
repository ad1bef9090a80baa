"""wick-arm-ethos end to end: discovery, each claimed op in float32 and int8
against eager PyTorch, small_cnn and mobilenet_v2 int8 (>= 90% delegated,
Vela estimates for ethos-u55-128 and ethos-u85-256, within one output
quantization step), the blob format and the TOSA validator.

Reference for int8: eager execution of the converted PT2E module (the same
quantize/dequantize arithmetic in float). Where the portable kernels run the
same quantized program undelegated, it is compared too.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import wick
from wick import plugins
from wick.models import STANDARD_MODELS, int8_variant

from arm_helpers import BACKEND, lower, output_step, quantize, run

# -- discovery -----------------------------------------------------------------


def test_plugin_is_discovered_and_names_host_engine_and_absent_npu():
    plugin = plugins.get(BACKEND)
    d = plugin.descriptor
    assert d.package == "wick-arm-ethos" and d.runtime_library is None
    assert "TOSA reference model (host)" in d.description and "Ethos-U NPU (not present)" in d.description
    assert "not present" in d.capabilities["targets"]["npu"]
    assert plugins.register_runtime(plugin) is None
    entry = next(b for b in wick.runtime.registered_backends() if b["name"] == BACKEND)
    assert entry["available"], entry["reason"]
    assert "TOSA reference model (host)" in entry["info"] and "Ethos-U NPU (not present)" in entry["info"]


def test_claimed_op_list_matches_the_rules():
    from wick_arm_ethos import rules, rules_light

    assert sorted(rules_light.CLAIMED_OPS) == rules.claimed_op_names()


# -- one module per claimed op ---------------------------------------------------

class Conv(nn.Module):
    def __init__(self, groups=1, stride=1, pad=1, cin=4, cout=8):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=pad, groups=groups)

    def forward(self, x):
        return self.conv(x)


class Fn(nn.Module):
    def __init__(self, fn, *params):
        super().__init__()
        self.fn = fn
        self.params = nn.ParameterList([nn.Parameter(p, requires_grad=False) for p in params])

    def forward(self, *xs):
        return self.fn(*xs, *self.params)


def _x(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(len(shape) * 7 + shape[-1]))


OP_CASES = {
    "conv2d": (lambda: Conv(), (_x(1, 4, 9, 9),)),
    "conv2d_stride2": (lambda: Conv(stride=2), (_x(1, 4, 10, 10),)),
    "depthwise_conv2d": (lambda: Conv(groups=4, cin=4, cout=8), (_x(1, 4, 8, 8),)),
    "linear": (lambda: nn.Linear(16, 8), (_x(2, 16),)),
    "relu": (lambda: Fn(lambda x: torch.relu(x)), (_x(1, 3, 4, 4),)),
    "hardtanh": (lambda: Fn(lambda x: nn.functional.hardtanh(x, -0.5, 0.5)), (_x(1, 3, 4, 4),)),
    "clamp": (lambda: Fn(lambda x: torch.clamp(x, -1.0, 0.3)), (_x(2, 6),)),
    "max_pool2d": (lambda: Fn(lambda x: nn.functional.max_pool2d(x, 2)), (_x(1, 3, 8, 8),)),
    "avg_pool2d": (lambda: Fn(lambda x: nn.functional.avg_pool2d(x, 2)), (_x(1, 3, 8, 8),)),
    "mean_hw": (lambda: Fn(lambda x: x.mean((2, 3), keepdim=True)), (_x(1, 5, 6, 6),)),
    "adaptive_avg_pool2d": (lambda: Fn(lambda x: nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)),
                            (_x(1, 5, 6, 6),)),
    "add": (lambda: Fn(lambda a, b: a + b), (_x(1, 3, 4, 4), _x(1, 3, 4, 5)[..., :4].contiguous())),
    "sub": (lambda: Fn(lambda a, b: a - b), (_x(2, 8), _x(3, 8)[:2].contiguous())),
    "mul": (lambda: Fn(lambda a, b: a * b), (_x(1, 3, 4, 4), _x(1, 3, 4, 5)[..., :4].contiguous())),
    "view": (lambda: Fn(lambda x: x.view(2, 24)), (_x(1, 3, 4, 4),)),
    "permute": (lambda: Fn(lambda x: x.permute(0, 2, 3, 1).reshape(1, 48)), (_x(1, 3, 4, 4),)),
    "cat": (lambda: Fn(lambda a, b: torch.cat([a, b], 1)), (_x(1, 3, 4, 4), _x(1, 2, 4, 4))),
    "sigmoid": (lambda: Fn(lambda x: torch.sigmoid(x)), (_x(2, 10),)),
    "tanh": (lambda: Fn(lambda x: torch.tanh(x)), (_x(2, 10),)),
}


@pytest.mark.parametrize("case", sorted(OP_CASES))
def test_float32_op_runs_on_the_reference_model_like_eager(case):
    make, inputs = OP_CASES[case]
    torch.manual_seed(0)
    model = make().eval()
    edge, program = lower(model, inputs)
    assert edge.partition_report.fraction("forward", BACKEND) == 1.0, edge.partition_report.to_text()
    got = run(program, inputs)[0]
    torch.testing.assert_close(got, model(*inputs), atol=1e-5, rtol=1e-5)
    (record,) = edge.delegates["forward"]
    assert record.debug_map["tosa"]["profile"] == "pro_fp" and "skipped" in record.debug_map["vela"]


# Ops whose int8 form goes through Vela (each compiled for ethos-u55-128).
INT8_CASES = sorted(set(OP_CASES) - {"clamp"})


@pytest.mark.parametrize("case", INT8_CASES)
def test_int8_op_is_delegated_compiled_by_vela_and_within_one_step(case):
    make, inputs = OP_CASES[case]
    torch.manual_seed(0)
    q = quantize(make(), inputs)
    edge, program = lower(q, inputs, {"profile": "int"})
    report = edge.partition_report
    delegated = [n for n, where in report.assignments["forward"].items() if where == BACKEND]
    assert delegated, report.to_text()
    ops = {report.ops["forward"][n] for n in delegated}
    assert ops - {"quantized_decomposed::dequantize_per_tensor.default",
                  "quantized_decomposed::quantize_per_tensor.default",
                  "quantized_decomposed::dequantize_per_channel.default", "aten::permute_copy.default"}, ops
    got = run(program, inputs)[0]
    expected = q(*inputs)
    step = output_step(q)
    assert (got - expected).abs().max().item() <= step * 1.001 + 1e-7
    for record in edge.delegates["forward"]:
        assert record.debug_map["tosa"]["profile"] == "pro_int"
        assert record.debug_map["vela"]["npu_cycles"] > 0


# -- standard models -------------------------------------------------------------

def test_small_cnn_float32_is_fully_delegated_and_matches_eager():
    model, inputs = STANDARD_MODELS["small_cnn"]()
    edge, program = lower(model, inputs)
    assert edge.partition_report.fraction("forward", BACKEND) == 1.0
    torch.testing.assert_close(run(program, inputs)[0], model(*inputs), atol=1e-5, rtol=1e-4)


def _int8_model_check(name, quantizer_name):
    from wick_arm_ethos.quantizer import EthosUQuantizer

    quantizer = EthosUQuantizer() if quantizer_name == "ethos_u" else None
    q, inputs = int8_variant(name, quantizer)
    results = {}
    for accel in ("ethos-u55-128", "ethos-u85-256"):
        edge, program = lower(q, inputs, {"accelerator": accel, "profile": "int"})
        frac = edge.partition_report.fraction("forward", BACKEND)
        assert frac >= 0.9, edge.partition_report.to_text()
        (record,) = edge.delegates["forward"]
        vela = record.debug_map["vela"]
        assert vela["accelerator"] == accel and vela["npu_cycles"] > 0 and vela["sram_used_kib"] > 0
        from wick_arm_ethos import blob

        assert blob.describe(record.blob)["vela"]["npu_cycles"] == vela["npu_cycles"]
        got = run(program, inputs)[0]
        results[accel] = (frac, vela, got)
    expected = q(*inputs)
    step = output_step(q)
    for accel, (frac, vela, got) in results.items():
        err = (got - expected).abs()
        print(f"{name} int8 ({quantizer_name} quantizer) {accel}: {frac:.1%} of ops delegated; max error "
              f"{err.max().item() / step:.2f} steps, mean {err.mean().item() / step:.3f}; Vela "
              f"{json.dumps({k: vela[k] for k in ('npu_cycles', 'total_cycles', 'inference_time_s', 'sram_used_kib', 'off_chip_flash_used_kib') if k in vela})}")
        assert err.max().item() <= step * 1.001 + 1e-7
    return q, inputs, results


@pytest.mark.parametrize("quantizer_name", ["ethos_u", "xnnpack_reference"])
def test_small_cnn_int8(quantizer_name):
    q, inputs, results = _int8_model_check("small_cnn", quantizer_name)
    # The same quantized program on the portable kernels, when they run it.
    try:
        portable = wick.runtime.load(wick.export(q, inputs).buffer).method("forward")(*inputs)[0]
    except wick.WickError as e:  # quantize/dequantize kernels not there yet
        pytest.skip(f"portable reference unavailable: {e}")
    step = output_step(q)
    for _, _, got in results.values():
        assert (got - portable).abs().max().item() <= step * 1.001 + 1e-7


@pytest.mark.parametrize("quantizer_name", ["ethos_u", "xnnpack_reference"])
def test_mobilenet_v2_int8(quantizer_name):
    _int8_model_check("mobilenet_v2", quantizer_name)


# -- blob and validator ------------------------------------------------------------

def test_blob_round_trips_and_rejects_garbage():
    from wick_arm_ethos import blob

    data = blob.pack({"format": 1, "vela": {"npu_cycles": 5}}, b"T" * 17, b"V" * 3)
    meta, tosa, vela = blob.unpack(data)
    assert meta["vela"]["npu_cycles"] == 5 and bytes(tosa) == b"T" * 17 and bytes(vela) == b"VVV"
    with pytest.raises(ValueError, match="not a wick-arm-ethos blob"):
        blob.unpack(b"x" * 40)
    with pytest.raises(ValueError, match="truncated"):
        blob.unpack(data[:-2])


def test_tosa_validator_rejects_a_float_graph_under_the_integer_profile():
    from wick_arm_ethos import lower as lowering, toolchain

    model = nn.Linear(4, 2).eval()
    ep = torch.export.export(model, (_x(1, 4),))
    edge = wick.to_edge(ep)
    ep = edge.methods["forward"]
    consts = {}
    state = {**ep.state_dict, **ep.constants}
    sig = ep.graph_signature
    for i, n in enumerate(n for n in ep.graph.nodes if n.op == "placeholder"):
        target = sig.inputs_to_parameters.get(n.name)
        if target is not None:
            consts[i] = state[target]
    tosa, info = lowering.lower(ep.graph_module, consts)
    toolchain.validate(tosa, "pro_fp")
    with pytest.raises(toolchain.ToolchainError, match="pro_int"):
        toolchain.validate(tosa, "pro_int")


def test_corrupt_blob_fails_at_init_with_a_message():
    from wick_arm_ethos import runtime

    with pytest.raises(ValueError, match="wick-arm-ethos blob"):
        runtime.init(memoryview(b"garbage-garbage-garbage-garbage"), {})


def test_wick_run_with_the_stub_library_says_why_it_cannot_run(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    import wick_arm_ethos

    runner = os.path.join(os.path.dirname(sys.executable), "wick-run")
    runner = runner if os.path.exists(runner) else shutil.which("wick-run")
    _, program = lower(nn.ReLU(), (_x(2, 3),))
    path = tmp_path / "m.wick"
    program.save(str(path))
    res = subprocess.run([runner, "--backend-lib", wick_arm_ethos.STUB_LIBRARY, str(path)], capture_output=True,
                         text=True, errors="replace")
    assert res.returncode == 1
    assert "TOSA reference model needs Python" in res.stderr and "Ethos-U NPU not present" in res.stderr
