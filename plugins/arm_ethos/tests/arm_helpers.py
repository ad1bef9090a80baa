"""Helpers: lower a module to arm_ethos, run it through Wick's runtime (the
TOSA reference model behind the Python bridge), and quantize with the
plugin's Ethos-U quantizer."""

from __future__ import annotations

import torch

import wick
from wick.delegate_sdk import CompileSpec

BACKEND = "arm_ethos"


def lower(model, inputs, specs=None):
    """(Edge program after lowering, program file) for ``model``."""
    ep = torch.export.export(model, tuple(inputs))
    compile_specs = {BACKEND: [CompileSpec.of(k, v) for k, v in (specs or {}).items()]}
    edge = wick.to_edge_and_lower(ep, [BACKEND], compile_specs)
    program = wick.to_program(edge)
    return edge, program


def run(program, inputs):
    return wick.runtime.load(program.buffer).method("forward")(*inputs)


def quantize(model, inputs):
    """PT2E with the plugin's quantizer, calibrated on ``inputs``."""
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    from wick_arm_ethos.quantizer import EthosUQuantizer

    graph = torch.export.export(model.eval(), tuple(inputs)).module()
    prepared = prepare_pt2e(graph, EthosUQuantizer())
    prepared(*inputs)
    return convert_pt2e(prepared)


def output_step(q_model) -> float:
    """The scale of the last quantize node: one int8 step of the output."""
    qd = torch.ops.quantized_decomposed
    steps = [n.args[1] for n in q_model.graph.nodes
             if n.op == "call_function" and n.target is qd.quantize_per_tensor.default]
    return float(steps[-1])

