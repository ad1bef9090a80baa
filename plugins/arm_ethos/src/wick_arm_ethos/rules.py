"""Which Edge-dialect nodes become TOSA, and why the others do not.

Two kinds of region are taken:

* float32 ops (TOSA PRO-FP). The TOSA reference model runs them on the host;
  Ethos-U hardware does not, so Vela is not run on a graph that has them.
* PT2E quantized ops (TOSA PRO-INT, what Ethos-U runs): an op whose float
  inputs are ``dequantize_per_tensor`` outputs and whose result goes, maybe
  through one relu/hardtanh/clamp, straight into ``quantize_per_tensor``. The
  dequantize/quantize pair disappears: the TOSA graph computes on int8
  directly. Weights come in as ``dequantize_per_channel`` of int8 constants.
  A delegate's inputs and outputs are then int8 tensors; the quantize of a
  float graph input and the dequantize of a float graph output stay on the
  portable kernels.

The support decision is a fixpoint over the graph: a dequantize is taken only
if all its users are, a quantize only if its producer is, and so on, so a
partition boundary never cuts a float value that only exists "between" a
dequantize and its quantized op.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Iterable

import torch

aten = torch.ops.aten


def _qd():
    import torch.ao.quantization.fx._decomposed  # noqa: F401 - defines the quantized_decomposed ops

    return torch.ops.quantized_decomposed


def quant_targets() -> tuple[Any, Any, Any]:
    qd = _qd()
    return qd.quantize_per_tensor.default, qd.dequantize_per_tensor.default, qd.dequantize_per_channel.default


ACTIVATIONS = {aten.relu.default, aten.hardtanh.default, aten.clamp.default}
ELEMENTWISE = {aten.add.Tensor, aten.sub.Tensor, aten.mul.Tensor}
RESHAPES = {aten.view_copy.default, aten._unsafe_view.default, aten.squeeze_copy.dims, aten.squeeze_copy.dim,
            aten.unsqueeze_copy.default, aten.clone.default, aten.alias_copy.default}
TABLES = {aten.sigmoid.default, aten.tanh.default}
# No-ops on values: between a dequantize and its quantized op they pass the
# quantized value through unchanged.
TRANSPARENT = {aten.clone.default, aten.alias_copy.default}
POOLS = {aten.max_pool2d_with_indices.default, aten.max_pool2d.default, aten.avg_pool2d.default, aten.mean.dim,
         aten._adaptive_avg_pool2d.default}
MATMULS = {aten.addmm.default, aten.mm.default, aten.linear.default}
COMPUTE = ({aten.convolution.default, aten.permute_copy.default, aten.cat.default} | ACTIVATIONS | ELEMENTWISE
           | RESHAPES | TABLES | POOLS | MATMULS)


def claimed_op_names() -> list[str]:
    """What rules_light.CLAIMED_OPS must list (checked by the tests)."""
    return sorted([f"aten.{t._schema.name.split('::')[1]}.{t._overloadname}" for t in COMPUTE] + [
        "quantized_decomposed.quantize_per_tensor.default", "quantized_decomposed.dequantize_per_tensor.default",
        "quantized_decomposed.dequantize_per_channel.default"])


def _val(node: Any) -> Any:
    return node.meta.get("val") if isinstance(node, torch.fx.Node) else None


def tensor_inputs(node: torch.fx.Node) -> list[torch.fx.Node]:
    out = []
    for a in node.args:
        if isinstance(a, torch.fx.Node):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out += [x for x in a if isinstance(x, torch.fx.Node)]
    return out


def single_user(node: torch.fx.Node) -> torch.fx.Node | None:
    users = list(node.users)
    return users[0] if len(users) == 1 else None


def output_chain(node: torch.fx.Node) -> tuple[torch.fx.Node | None, torch.fx.Node | None, torch.fx.Node | None]:
    """For a quantized op: (the node whose value is the op's result, e.g. the
    getitem 0 of a max_pool2d_with_indices; the fused activation or None; the
    quantize node) or Nones when the result does not go straight to a
    quantize."""
    q_t, _, _ = quant_targets()
    result = node
    if node.target is aten.max_pool2d_with_indices.default:
        users = list(node.users)
        if len(users) != 1 or users[0].target is not operator.getitem or users[0].args[1] != 0:
            return None, None, None
        result = users[0]
    nxt = single_user(result)
    act = None
    if nxt is not None and nxt.target in ACTIVATIONS and node.target not in ACTIVATIONS | RESHAPES | {
            aten.permute_copy.default}:
        act, nxt = nxt, single_user(nxt)
    if nxt is None or nxt.target is not q_t or nxt.args[5] != torch.int8:
        return None, None, None
    return result, act, nxt


def _check_args(node: torch.fx.Node) -> str | None:
    """Argument checks shared by the float and the quantized forms."""
    t = node.target
    a = node.args
    val = _val(node)
    if t is aten.convolution.default:
        w = _val(a[1])
        if w is None or w.dim() != 4:
            return "only 2-D convolution (4-D weight) maps to TOSA CONV2D"
        if a[6]:
            return "transposed convolution is not lowered yet"
        groups = a[8]
        cin = _val(a[0]).shape[1]
        if groups != 1 and not (groups == cin and w.shape[1] == 1):
            return f"grouped convolution (groups={groups}) that is neither plain nor depthwise"
        stride, pad, dil = a[3], a[4], a[5]
        for i, (size, k) in enumerate(zip(_val(a[0]).shape[2:], w.shape[2:])):
            span = size - 1 + 2 * pad[i] - (k - 1) * dil[i]
            if span % stride[i] > pad[i]:
                return "padding cannot be trimmed to TOSA's exact output-size rule"
        return None
    if t in MATMULS:
        if t is aten.linear.default:
            return None
        w = a[2] if t is aten.addmm.default else a[1]
        if _val(a[1] if t is aten.addmm.default else a[0]).dim() != 2:
            return "only 2-D matrix products"
        if t is aten.addmm.default and (node.kwargs.get("beta", 1) != 1 or node.kwargs.get("alpha", 1) != 1):
            return "addmm with beta/alpha other than 1"
        return None if w is not None else "no weight"
    if t in (aten.max_pool2d_with_indices.default, aten.max_pool2d.default):
        if len(a) > 4 and any(d != 1 for d in a[4]):
            return "dilated max pooling"
        if len(a) > 5 and a[5]:
            return "ceil_mode max pooling"
        if t is aten.max_pool2d_with_indices.default and any(
                u.target is not operator.getitem or u.args[1] != 0 for u in node.users):
            return "the pooling indices are used"
        return None
    if t is aten.avg_pool2d.default:
        if len(a) > 3 and any(p != 0 for p in a[3]):
            return "padded average pooling"
        if len(a) > 4 and a[4]:
            return "ceil_mode average pooling"
        if len(a) > 6 and a[6] is not None:
            return "divisor_override"
        return None
    if t is aten.mean.dim:
        x = _val(a[0])
        dims = sorted(d % x.dim() for d in a[1])
        if x.dim() != 4 or dims != [2, 3]:
            return "mean over dimensions other than H and W of a 4-D tensor"
        return None
    if t is aten._adaptive_avg_pool2d.default:
        return None if list(a[1]) == [1, 1] else "adaptive average pooling to a size other than 1x1"
    if t in ELEMENTWISE:
        if node.kwargs.get("alpha", 1) != 1:
            return "alpha other than 1"
        if val is not None and val.dim() > 6:
            return "rank above 6"
        return None
    if t is aten.hardtanh.default or t is aten.clamp.default:
        if t is aten.clamp.default and any(isinstance(x, torch.fx.Node) for x in a[1:]):
            return "clamp with tensor bounds"
        return None
    if t is aten.cat.default:
        return None
    if t in RESHAPES or t in TABLES or t is aten.relu.default or t is aten.permute_copy.default:
        return None
    return f"{t} is not lowered to TOSA by this backend"


def analyze(gm: torch.fx.GraphModule, is_const: Callable[[torch.fx.Node], bool], allow_float: bool = True,
            claimable: Iterable[str] | None = None) -> tuple[set[str], dict[str, str]]:
    """The names of the nodes this backend takes, and a reason for every
    other call_function node."""
    q_t, dq_t, dq_c = quant_targets()
    claim = set(claimable) if claimable is not None else None
    nodes = [n for n in gm.graph.nodes if n.op == "call_function"]
    reasons: dict[str, str] = {}
    ok: set[torch.fx.Node] = set()

    def const_like(n: torch.fx.Node) -> bool:
        if n.op == "placeholder":
            return is_const(n)
        if n.target in (dq_t, dq_c, aten.permute_copy.default):
            return const_like(n.args[0])
        return False

    def qview(n: torch.fx.Node) -> bool:
        """A dequantized run-time value (through no-op copies)."""
        if n.op != "call_function":
            return False
        if n.target is dq_t:
            return not const_like(n)
        return n.target in TRANSPARENT and qview(n.args[0])

    def is_quant_op(n: torch.fx.Node) -> bool:
        return n.target not in TRANSPARENT and any(qview(i) for i in tensor_inputs(n))

    def fused_into(n: torch.fx.Node) -> torch.fx.Node | None:
        """The quantized op whose activation ``n`` is, if it is one."""
        if n.target not in ACTIVATIONS:
            return None
        src = n.args[0]
        if not isinstance(src, torch.fx.Node) or src.op != "call_function" or not is_quant_op(src):
            return None
        _, act, _ = output_chain(src)
        return src if act is n else None

    def producer_of_q(n: torch.fx.Node) -> torch.fx.Node | None:
        src = n.args[0]
        if src.op != "call_function":
            return None
        if src.target in ACTIVATIONS and fused_into(src) is not None:
            return fused_into(src)
        if src.target is operator.getitem:
            src = src.args[0]
        return src if is_quant_op(src) else None

    def shape_problem(n: torch.fx.Node) -> str | None:
        vals = [_val(n)] + [_val(i) for i in tensor_inputs(n)]
        flat = []
        for v in vals:
            flat += list(v) if isinstance(v, (tuple, list)) else [v]
        for v in flat:
            if not isinstance(v, torch.Tensor):
                continue
            if v.dim() == 0:
                return "0-dim tensors are not lowered (TOSA graphs here use ranked, non-scalar tensors)"
            if v.dim() > 6:
                return "rank above 6 (TOSA level 8K)"
            if any(not isinstance(s, int) for s in v.shape):
                return "dynamic shapes are not lowered to TOSA"
            if v.numel() == 0:
                return "empty tensors"
        return None

    def operand_problem(n: torch.fx.Node) -> str | None:
        """Weights must be known ahead of time (TOSA constants / Vela-encoded weights)."""
        t, a = n.target, n.args
        if t is aten.convolution.default:
            if not const_like(a[1]) or (isinstance(a[2], torch.fx.Node) and not const_like(a[2])):
                return "convolution weights or bias computed at run time"
        elif t is aten.addmm.default:
            if not const_like(a[2]) or not (isinstance(a[0], torch.fx.Node) and const_like(a[0])):
                return "addmm whose weight or bias is computed at run time (a run-time matmul is not lowered)"
        elif t is aten.mm.default:
            if not const_like(a[1]):
                return "mm of two run-time tensors is not lowered"
        elif t is aten.linear.default:
            if not const_like(a[1]) or (len(a) > 2 and isinstance(a[2], torch.fx.Node) and not const_like(a[2])):
                return "linear weights computed at run time"
        elif t in ELEMENTWISE and is_quant_op(n):
            if not all(isinstance(x, torch.fx.Node) and qview(x) for x in a[:2]):
                return f"quantized {_name(t)} with a constant or scalar operand is not lowered"
            if len({len(_val(x).shape) for x in a[:2]}) != 1:
                return f"quantized {_name(t)} broadcasting across ranks is not lowered"
        return None

    for n in nodes:
        if claim is not None and n.name not in claim:
            continue
        t = n.target
        why: str | None = None
        if t is dq_t or t is dq_c:
            if n.args[-1] != torch.int8:
                why = f"dequantizes {n.args[-1]}, only int8 is lowered"
        elif t is q_t:
            if n.args[5] != torch.int8:
                why = f"quantizes to {n.args[5]}, only int8 is lowered"
            elif producer_of_q(n) is None:
                why = "quantizes a value not computed in the Ethos-U partition (a float input stays on portable)"
        elif t is operator.getitem or (t in TRANSPARENT and qview(n)):
            pass
        elif t not in COMPUTE:
            why = f"{_name(t)} has no TOSA lowering in this backend"
        elif fused_into(n) is not None:
            pass
        elif is_quant_op(n):
            why = _check_args(n)
            if why is None:
                if any(not qview(i) and not const_like(i) for i in tensor_inputs(n)):
                    why = "mixes quantized and float inputs"
                elif output_chain(n)[2] is None:
                    why = "its result is not requantized to int8 (quantize_per_tensor) right after"
        elif t is aten.permute_copy.default and const_like(n.args[0]):
            pass
        else:
            why = _check_args(n)
            if why is None:
                dtypes = {v.dtype for v in [_val(n)] + [_val(i) for i in tensor_inputs(n)]
                          if isinstance(v, torch.Tensor)}
                if isinstance(_val(n), (tuple, list)):
                    dtypes |= {v.dtype for v in _val(n) if isinstance(v, torch.Tensor)} - {torch.int64}
                if dtypes - {torch.float32}:
                    why = f"float32 only outside PT2E quantized regions (got {sorted(map(str, dtypes))})"
                elif not allow_float:
                    why = "float32 op and compile spec profile=int (Ethos-U runs integer TOSA only)"
        if why is None and t in COMPUTE and not (t is aten.permute_copy.default and const_like(n.args[0])) and not (
                t in TRANSPARENT and qview(n)):
            why = shape_problem(n) or operand_problem(n)
        if why is None:
            ok.add(n)
        else:
            reasons[n.name] = why

    # Fixpoint: drop nodes whose neighbours were dropped.
    changed = True
    while changed:
        changed = False
        for n in list(ok):
            t = n.target
            why = None
            if t is dq_t or t is dq_c or (t is aten.permute_copy.default and const_like(n.args[0])) or (
                    t in TRANSPARENT and qview(n)):
                bad = [u for u in n.users if u not in ok]
                if bad:
                    why = f"its dequantized value is used by {bad[0].name}, which this backend does not take"
                elif t in TRANSPARENT and n.args[0] not in ok:
                    why = "its input is not taken"
            elif t is q_t:
                if producer_of_q(n) not in ok:
                    why = "the op it quantizes is not taken"
            elif t is operator.getitem:
                if n.args[0] not in ok:
                    why = "its source is not taken"
            elif fused_into(n) is not None:
                if fused_into(n) not in ok:
                    why = "the op it is fused into is not taken"
            elif is_quant_op(n):
                _, act, q = output_chain(n)
                missing = [i for i in tensor_inputs(n) if i.op == "call_function" and i not in ok]
                if missing:
                    why = f"its quantized input {missing[0].name} is not taken"
                elif q not in ok or (act is not None and act not in ok):
                    why = "its requantization is not taken"
            if why is not None:
                ok.discard(n)
                reasons[n.name] = why
                changed = True
    return {n.name for n in ok}, reasons


def _name(t: Any) -> str:
    return f"{t._schema.name}.{t._overloadname}" if hasattr(t, "_schema") else str(t)
