"""PT2E quantizer following Ethos-U's rules (torchao's PT2E flow).

What Ethos-U runs, and so what this quantizer asks for:
- weights: int8, symmetric (zero point 0, range -127..127), per output
  channel (axis 0) — the NPU's weight decoder has no weight zero point;
- activations: int8, per-tensor affine (-128..127);
- bias: left float; the lowering turns it into int32 at scale
  input_scale * weight_scale[c], as TOSA's CONV2D expects;
- an activation (relu, relu6/hardtanh, clamp) right after conv / linear /
  add is fused: only its output is quantized, so the NPU applies it as the
  output clamp of the same operation and no precision is spent on values the
  activation removes;
- pooling, reshapes, permutes, concatenation and standalone relu share their
  input's quantization parameters: on the NPU they are then pure data
  movement, with no rescale;
- sigmoid / tanh get fixed output parameters (1/256, -128) and (1/128, 0),
  the ranges of their results; they become 256-entry TABLE lookups.
"""

from __future__ import annotations

import torch
from torch.fx import Node

from torchao.quantization.pt2e import HistogramObserver, PerChannelMinMaxObserver
from torchao.quantization.pt2e.quantizer import (FixedQParamsQuantizationSpec, QuantizationAnnotation,
                                                 QuantizationSpec, Quantizer, SharedQuantizationSpec)

aten = torch.ops.aten

_MAIN = {aten.conv2d.default, aten.linear.default, aten.add.Tensor, aten.add_.Tensor, aten.sub.Tensor,
         aten.mul.Tensor, aten.mul_.Tensor, aten.conv2d.padding}
_ACT = {aten.relu.default, aten.relu_.default, aten.hardtanh.default, aten.hardtanh_.default,
        aten.clamp.default, aten.relu6.default}
_SHARED = {aten.max_pool2d.default, aten.adaptive_avg_pool2d.default, aten.avg_pool2d.default, aten.mean.dim,
           aten.flatten.using_ints, aten.view.default, aten.reshape.default, aten.permute.default,
           aten.squeeze.dim, aten.squeeze.dims, aten.unsqueeze.default, aten.relu.default, aten.relu_.default,
           aten.hardtanh.default, aten.hardtanh_.default, aten.clamp.default, aten.relu6.default,
           aten.dropout.default, aten.contiguous.default, aten.clone.default}


def _act_spec() -> QuantizationSpec:
    return QuantizationSpec(dtype=torch.int8, quant_min=-128, quant_max=127, qscheme=torch.per_tensor_affine,
                            observer_or_fake_quant_ctr=HistogramObserver.with_args(eps=2 ** -12))


def _weight_spec() -> QuantizationSpec:
    return QuantizationSpec(dtype=torch.int8, quant_min=-127, quant_max=127, qscheme=torch.per_channel_symmetric,
                            ch_axis=0, observer_or_fake_quant_ctr=PerChannelMinMaxObserver.with_args(eps=2 ** -12))


def _annotated(node: Node) -> bool:
    a = node.meta.get("quantization_annotation")
    return a is not None and a._annotated


def _mark(node: Node, inputs: dict, output) -> None:
    node.meta["quantization_annotation"] = QuantizationAnnotation(input_qspec_map=inputs, output_qspec=output,
                                                                  _annotated=True)


class EthosUQuantizer(Quantizer):
    """int8 PT2E quantization for Ethos-U (see the module docstring)."""

    def annotate(self, model: torch.fx.GraphModule) -> torch.fx.GraphModule:
        act, weight = _act_spec(), _weight_spec()
        for node in model.graph.nodes:
            if node.op != "call_function" or _annotated(node):
                continue
            t = node.target
            if t in _MAIN:
                self._main(node, act, weight)
            elif t in (aten.sigmoid.default, aten.tanh.default):
                x = node.args[0]
                fixed = FixedQParamsQuantizationSpec(
                    dtype=torch.int8, quant_min=-128, quant_max=127, qscheme=torch.per_tensor_affine,
                    scale=1.0 / 256 if t is aten.sigmoid.default else 1.0 / 128,
                    zero_point=-128 if t is aten.sigmoid.default else 0)
                _mark(node, {x: act} if isinstance(x, Node) else {}, fixed)
            elif t is aten.cat.default:
                xs = [x for x in node.args[0] if isinstance(x, Node)]
                if not xs:
                    continue
                first = xs[0]
                inputs = {first: act}
                for x in xs[1:]:
                    inputs[x] = SharedQuantizationSpec((first, node))
                _mark(node, inputs, SharedQuantizationSpec((first, node)))
            elif t in _SHARED:
                x = node.args[0]
                if not isinstance(x, Node) or not _is_float(x):
                    continue
                _mark(node, {x: act}, SharedQuantizationSpec((x, node)))
        return model

    def _main(self, node: Node, act: QuantizationSpec, weight: QuantizationSpec) -> None:
        t = node.target
        inputs: dict = {}
        if t in (aten.conv2d.default, aten.conv2d.padding, aten.linear.default):
            x, w = node.args[0], node.args[1]
            inputs[x] = act
            inputs[w] = weight
        else:
            for a in node.args[:2]:
                if isinstance(a, Node) and _is_float(a):
                    inputs[a] = act
            if not inputs:
                return
        users = list(node.users)
        if len(users) == 1 and users[0].target in _ACT and not _annotated(users[0]):
            _mark(node, inputs, None)
            _mark(users[0], {}, act)  # the fused activation's output carries the quantization
        else:
            _mark(node, inputs, act)

    def validate(self, model: torch.fx.GraphModule) -> None:
        pass


def _is_float(node: Node) -> bool:
    val = node.meta.get("val")
    return isinstance(val, torch.Tensor) and val.dtype == torch.float32
