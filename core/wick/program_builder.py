"""Edge program -> Wick program file.

For each method: fold constant work ahead of time, select each operator's
out-variant, turn every argument into a value of the method's value table,
plan the activation arena, and place constants in aligned segments. The
result is serialized with the flatbuffers code generated from
runtime/schema/program.fbs (module ``wick.fb``) at build time.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import torch

from . import memory_planner
from .edge import EdgeProgram
from .errors import ExportError
from .fb import (Bool, BoolList, ChecksumKind, Double, DoubleList, Instruction, InstructionKind, Int, IntList, JumpFalse,
                 KernelCall, Method, Move, Null, Operator, Program, Segment, String, Tensor, TensorList, Value,
                 ValueKind)
from .fb import Delegate as FbDelegate
from .fb import DelegateCall as FbDelegateCall
from .fb import CompileSpec as FbCompileSpec

SCHEMA_VERSION = 1  # must equal kSchemaVersion in runtime/include/wick/runtime/program.h
FILE_IDENTIFIER = b"WICK"
SEGMENT_ALIGNMENT = 64
FOOTER_MAGIC = b"WKCK"  # the checksum footer's first bytes (runtime/src/integrity.cpp)
CONSTANT_ALIGNMENT = 64

DTYPE_CODES = {
    torch.float32: 0, torch.float64: 1, torch.float16: 2, torch.bfloat16: 3, torch.int8: 4, torch.int16: 5,
    torch.int32: 6, torch.int64: 7, torch.uint8: 8, torch.bool: 9, torch.complex64: 10, torch.complex128: 11,
}
MEMORY_FORMAT_CODES = {torch.contiguous_format: 0, torch.preserve_format: 1, torch.channels_last: 2}

# In-place ops called with their own schema (no out argument): the result is
# the value of `self`, which must be a tensor the method plans itself.
IN_PLACE_OPS = {torch.ops.aten.resize_.default: "aten::resize_"}

# Ops the runtime implements as scalar kernels on symbolic values: their
# arguments, then one scalar value the kernel writes.
SYM_OP_NAMES = {
    torch.ops.aten.sym_size.int: "wick::sym_size.int",
    torch.ops.aten._local_scalar_dense.default: "wick::_local_scalar_dense",
    operator.add: "_operator::add",
    operator.sub: "_operator::sub",
    operator.mul: "_operator::mul",
    operator.floordiv: "_operator::floordiv",
}

# Never evaluated ahead of time even when all inputs are constant.
_NOT_FOLDABLE = {torch.ops.aten.rand.default, torch.ops.aten.randn.default, torch.ops.aten.randperm.default,
                 torch.ops.aten.native_dropout.default, torch.ops.aten.empty.memory_format,
                 torch.ops.aten.empty_strided.default, *IN_PLACE_OPS}
_FOLD_LIMIT_BYTES = 64 << 20
# Dequantizing a constant ahead of time would store quantized weights as
# float32 again; keep the int8 bytes in the file and dequantize at run time.
_KEEP_QUANTIZED = {"quantized_decomposed::dequantize_per_tensor", "quantized_decomposed::dequantize_per_channel"}


def lifted_constants(ep: torch.export.ExportedProgram) -> dict[torch.fx.Node, torch.Tensor]:
    """Placeholder node -> tensor, for parameters, buffers and lifted constants.
    Placeholders follow graph_signature.input_specs in order (names may not)."""
    from torch.export.graph_signature import InputKind

    state = {**ep.state_dict, **ep.constants}
    placeholders = [n for n in ep.graph.nodes if n.op == "placeholder"]
    return {node: state[spec.target] for node, spec in zip(placeholders, ep.graph_signature.input_specs)
            if spec.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR)}


def user_input_nodes(ep: torch.export.ExportedProgram) -> set[torch.fx.Node]:
    from torch.export.graph_signature import InputKind

    placeholders = [n for n in ep.graph.nodes if n.op == "placeholder"]
    return {node for node, spec in zip(placeholders, ep.graph_signature.input_specs)
            if spec.kind == InputKind.USER_INPUT}


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


_OUT_VARIANTS: dict = {}


def out_variant(op: torch._ops.OpOverload) -> tuple[str, list[str], list[str]]:
    """The out-variant of a functional op: its name ("aten::add.out"), the
    names of the functional arguments it keeps, and its out arguments.

    Matched by argument names and types. Factory-style ops lose arguments the
    out tensor already answers (dtype, layout, device: e.g. aten::_to_copy.out
    keeps self, non_blocking, memory_format), so a variant whose arguments are
    an ordered subset is accepted when no exact match exists."""
    if op in _OUT_VARIANTS:
        return _OUT_VARIANTS[op]
    schema = op._schema
    signature = [(a.name, str(a.type)) for a in schema.arguments]
    packet = getattr(getattr(torch.ops, op.namespace), schema.name.split("::")[1])
    exact, subset = None, None
    for overload in packet.overloads():
        cand = getattr(packet, overload)._schema
        is_out = [a.kwarg_only and a.alias_info is not None and a.alias_info.is_write for a in cand.arguments]
        outs = [a.name for a, o in zip(cand.arguments, is_out) if o]
        ins = [(a.name, str(a.type)) for a, o in zip(cand.arguments, is_out) if not o]
        if not outs or len(outs) != len(schema.returns):
            continue
        name = f"{cand.name}.{cand.overload_name}"
        if ins == signature:
            exact = (name, [n for n, _ in ins], outs)
        elif ins and _is_ordered_subset(ins, signature) and subset is None:
            subset = (name, [n for n, _ in ins], outs)
    result = exact or subset
    if result is None and schema.name.startswith("quantized_decomposed::"):
        # PT2E's quantize/dequantize ops have no registered out-variant; the
        # runtime's kernels take the functional arguments plus one `out`.
        overload = schema.overload_name or "default"
        result = (f"{schema.name}.{overload}_out" if overload != "default" else f"{schema.name}.out",
                  [n for n, _ in signature], ["out"])
    if result is None:
        raise ExportError(f"operator {op} has no out-variant, so Wick cannot plan its output memory; "
                          f"decompose it into core ATen ops before export.")
    _OUT_VARIANTS[op] = result
    return result


def _mutated(node: torch.fx.Node) -> bool:
    """Whether an in-place op (resize_) changes the tensor of ``node``."""
    return any(u.target in IN_PLACE_OPS and u.args and u.args[0] is node for u in node.users)


def _is_ordered_subset(part: list, whole: list) -> bool:
    it = iter(whole)
    return all(any(p == w for w in it) for p in part)


@dataclass
class MethodReport:
    """What `wick inspect` and the export summary show for one method."""

    name: str
    arena_bytes: int
    intermediate_bytes: int   # sum of all planned tensors, as if none shared memory
    constant_bytes: int
    num_instructions: int
    ops: Counter = field(default_factory=Counter)
    folded_nodes: int = 0


class ConstantStore:
    """Constant tensor bytes, laid out in one segment with aligned offsets and
    shared between methods. Identical bytes are stored once, found by content
    hash: tied or copied weights, and constants that folding made equal, all
    point at one copy (a tensor value's dtype and sizes live in its Tensor
    table, so sharing bytes between different views is safe)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.deduplicated_bytes = 0  # bytes not stored again thanks to the content hash
        self._by_id: dict[int, int] = {}
        self._by_content: dict[bytes, int] = {}
        self._keep: list[torch.Tensor] = []

    def add(self, t: torch.Tensor) -> int:
        key = id(t)
        if key in self._by_id:
            return self._by_id[key]
        self._keep.append(t)  # an id stays unique only while its tensor lives
        data = t.detach().contiguous().cpu()
        raw = data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b""
        digest = hashlib.sha256(raw).digest()
        if digest in self._by_content:
            self.deduplicated_bytes += len(raw)
            offset = self._by_content[digest]
        else:
            offset = _align(self.size, CONSTANT_ALIGNMENT)
            if offset > self.size:
                self.chunks.append(b"\0" * (offset - self.size))
            self.chunks.append(raw)
            self.size = offset + len(raw)
            self._by_content[digest] = offset
        self._by_id[key] = offset
        return offset

    def data(self) -> bytes:
        return b"".join(self.chunks)


class _MethodBuilder:
    def __init__(self, name: str, ep: torch.export.ExportedProgram, constants: ConstantStore,
                 segments: list[bytes], delegates: list | None):
        self.name = name
        self.ep = ep
        self.constants = constants
        self.segments = segments
        self.delegate_records = delegates or []
        self.values: list[Any] = []
        self.operators: list[str] = []
        self.op_index: dict[str, int] = {}
        self.instructions: list[Any] = []
        self.fb_delegates: list[Any] = []
        self.node_value: dict[torch.fx.Node, Any] = {}   # node -> value id (or list of ids)
        self.const_value: dict[torch.fx.Node, Any] = {}  # node -> torch.Tensor known ahead of time
        self.const_ids: dict[int, int] = {}              # id(tensor) -> value id
        self.arena_tensors: dict[int, tuple[int, int]] = {}  # value id -> (nbytes, def instruction)
        self.last_use: dict[int, int] = {}
        self.report = MethodReport(name, 0, 0, 0, 0)
        self._current_out_dtype: torch.dtype | None = None
        self._scalar_constants: list[torch.Tensor] = []
        self.upper = {sym: int(vr.upper) for sym, vr in ep.range_constraints.items()
                      if vr.upper is not None and str(vr.upper) not in ("oo", "int_oo")}

    # ---- values -------------------------------------------------------------
    def _add_value(self, kind_type: int, kind: Any) -> int:
        v = Value.ValueT()
        v.kindType = kind_type
        v.kind = kind
        self.values.append(v)
        return len(self.values) - 1

    def _int(self, x: int) -> int:
        k = Int.IntT()
        k.value = int(x)
        return self._add_value(ValueKind.ValueKind.Int, k)

    def _double(self, x: float) -> int:
        k = Double.DoubleT()
        k.value = float(x)
        return self._add_value(ValueKind.ValueKind.Double, k)

    def _bool(self, x: bool) -> int:
        k = Bool.BoolT()
        k.value = bool(x)
        return self._add_value(ValueKind.ValueKind.Bool, k)

    def _null(self) -> int:
        return self._add_value(ValueKind.ValueKind.Null, Null.NullT())

    def _size_bound(self, s: Any) -> tuple[int, bool]:
        """(upper bound, is symbolic) of a tensor size."""
        if isinstance(s, int):
            return s, False
        expr = s.node.expr
        if expr.is_number:
            return int(expr), False
        bound = expr.subs(self.upper)
        if not bound.is_number:
            # Sizes like Min(8, u0) (x[:k] with k from Tensor.item()) are
            # bounded even where a symbol is not: ask sympy's value ranges.
            from torch.utils._sympy.value_ranges import bound_sympy

            upper = bound_sympy(expr, dict(self.ep.range_constraints)).upper
            if upper.is_Integer:
                bound = upper
        if not bound.is_number:
            from torch.fx.experimental.symbolic_shapes import free_unbacked_symbols

            if free_unbacked_symbols(expr):
                raise ExportError(f"method '{self.name}': a size {expr} computed from tensor data at run time "
                                  f"(Tensor.item(), nonzero) has no upper bound, so Wick cannot plan memory for it; "
                                  f"bound the value where it is computed, e.g. k = t.item(); torch._check(k <= N).")
            raise ExportError(f"method '{self.name}': a dynamic size {expr} has no upper bound; give every "
                              f"torch.export.Dim a max= so Wick can plan memory for it.")
        return int(bound), True

    def _tensor_value(self, meta: torch.Tensor, constant: torch.Tensor | None = None) -> int:
        if meta.dtype not in DTYPE_CODES:
            raise ExportError(f"method '{self.name}': dtype {meta.dtype} is not supported by Wick")
        t = Tensor.TensorT()
        t.dtype = DTYPE_CODES[meta.dtype]
        bounds = [self._size_bound(s) for s in meta.shape]
        t.sizes = [b for b, _ in bounds]
        t.dynamic = any(sym for _, sym in bounds)
        channels_last = meta.dim() == 4 and not meta.is_contiguous() and \
            meta.is_contiguous(memory_format=torch.channels_last)
        t.dimOrder = [0, 2, 3, 1] if channels_last else list(range(meta.dim()))
        numel = 1
        for b in t.sizes:
            numel *= b
        t.nbytes = numel * meta.element_size()
        if constant is not None:
            t.constantSegment = 0
            t.constantOffset = self.constants.add(constant)
            self.report.constant_bytes += t.nbytes
        vid = self._add_value(ValueKind.ValueKind.Tensor, t)
        return vid

    def _constant(self, tensor: torch.Tensor) -> int:
        key = id(tensor)
        if key not in self.const_ids:
            self.const_ids[key] = self._tensor_value(tensor, constant=tensor)
        return self.const_ids[key]

    def _use(self, vid: int) -> int:
        self.last_use[vid] = len(self.instructions)
        return vid

    def _node_tensor(self, node: torch.fx.Node) -> int:
        if node in self.const_value:
            return self._constant(self.const_value[node])
        if node not in self.node_value:
            raise ExportError(f"method '{self.name}': node {node.name} is used before it is defined")
        vid = self.node_value[node]  # a tensor, or an int for symbolic sizes
        if isinstance(vid, list):
            raise ExportError(f"method '{self.name}': node {node.name} yields several tensors; index it first")
        return self._use(vid)

    def _arg(self, arg: Any, jit_type: Any) -> int:
        """Emits one schema argument as a value; returns its id."""
        type_str = str(jit_type)
        if arg is None:
            return self._null()
        if isinstance(arg, torch.fx.Node):
            return self._node_tensor(arg)
        if isinstance(arg, (list, tuple)):
            if "Tensor" in type_str:
                items = [-1 if a is None else self._node_tensor(a) for a in arg]
                k = TensorList.TensorListT()
                k.items = items
                return self._add_value(ValueKind.ValueKind.TensorList, k)
            if "float" in type_str:
                k = DoubleList.DoubleListT()
                k.items = [float(a) for a in arg]
                return self._add_value(ValueKind.ValueKind.DoubleList, k)
            if "bool" in type_str:
                k = BoolList.BoolListT()
                k.items = [bool(a) for a in arg]
                return self._add_value(ValueKind.ValueKind.BoolList, k)
            k = IntList.IntListT()
            items, refs = [], []
            for a in arg:
                if isinstance(a, torch.fx.Node):
                    items.append(self._size_bound(a.meta["val"])[0])
                    refs.append(self._use(self.node_value[a]))
                elif isinstance(a, torch.SymInt):
                    raise ExportError(f"method '{self.name}': unresolved symbolic size {a} in an argument list")
                else:
                    items.append(int(a))
                    refs.append(-1)
            k.items = items
            k.refs = refs if any(r >= 0 for r in refs) else None
            return self._add_value(ValueKind.ValueKind.IntList, k)
        if isinstance(arg, (bool, int, float)) and type_str in ("Tensor", "Optional[Tensor]"):
            return self._constant(self._scalar_tensor(arg))
        if isinstance(arg, bool):
            return self._bool(arg)
        if isinstance(arg, int):
            return self._int(arg)
        if isinstance(arg, float):
            return self._double(arg)
        if isinstance(arg, torch.dtype):
            return self._int(DTYPE_CODES[arg])
        if isinstance(arg, torch.memory_format):
            return self._int(MEMORY_FORMAT_CODES.get(arg, 0))
        if isinstance(arg, (torch.layout, torch.device)):
            return self._null()
        if isinstance(arg, str):
            k = String.StringT()
            k.value = arg
            return self._add_value(ValueKind.ValueKind.String, k)
        raise ExportError(f"method '{self.name}': cannot encode argument {arg!r} of type {type(arg).__name__}")

    def _scalar_tensor(self, x: bool | int | float) -> torch.Tensor:
        """A Python number passed where the schema wants a Tensor (e.g.
        aten.mul.Tensor(x, 2)) becomes a 0-dim constant. PyTorch treats such
        numbers as wrapped scalars that do not promote the result, so take the
        node's output dtype when the number's kind fits it."""
        out = self._current_out_dtype
        if isinstance(x, bool):
            dtype = torch.bool
        elif isinstance(x, int):
            dtype = out if out is not None and out != torch.bool else torch.int64
        else:
            dtype = out if out is not None and out.is_floating_point else torch.float32
        t = torch.tensor(x, dtype=dtype)
        self._scalar_constants.append(t)  # keeps id(t) unique while building
        return t

    def _operator(self, name: str) -> int:
        if name not in self.op_index:
            self.op_index[name] = len(self.operators)
            self.operators.append(name)
        return self.op_index[name]

    def _kernel_call(self, op_name: str, args: list[int]) -> None:
        call = KernelCall.KernelCallT()
        call.opIndex = self._operator(op_name)
        call.args = args
        ins = Instruction.InstructionT()
        ins.kindType = InstructionKind.InstructionKind.KernelCall
        ins.kind = call
        self.instructions.append(ins)
        self.report.ops[op_name] += 1

    def _output_tensor(self, meta: torch.Tensor) -> int:
        vid = self._tensor_value(meta)
        self.arena_tensors[vid] = (self.values[vid].kind.nbytes, len(self.instructions))
        self.last_use[vid] = len(self.instructions)
        return vid

    # ---- nodes --------------------------------------------------------------
    def _scalar_result(self, node: torch.fx.Node) -> int:
        """The value a scalar kernel writes. Tensor.item() yields an Int, Double
        or Bool as torch.export typed it (from the tensor's dtype); the kernel
        fills it in, so its initial content is never read."""
        val = node.meta["val"]
        if isinstance(val, (torch.SymBool, bool)):
            return self._bool(False)
        if isinstance(val, (torch.SymFloat, float)):
            if node.target is not torch.ops.aten._local_scalar_dense.default:
                raise ExportError(f"method '{self.name}': float arithmetic on a Tensor.item() result ({node.target}, "
                                  f"node {node.name}) is not supported; compute it on the tensor before .item()")
            return self._double(0.0)
        if node.target is torch.ops.aten._local_scalar_dense.default:
            return self._int(0)
        return self._int(self._size_bound(val)[0])

    def _in_place(self, node: torch.fx.Node) -> None:
        """resize_ (the one in-place op; wick.to_edge makes it where nothing
        else reads the tensor): self is marked dynamic and planned for the
        larger of its own and the result's upper bound; the result is self's
        value. A method input is refused: the caller's buffer may hold less
        than the input's bound."""
        src = node.args[0]
        vid = self.node_value.get(src) if isinstance(src, torch.fx.Node) and src not in self.const_value else None
        if vid is None or isinstance(vid, list) or vid not in self.arena_tensors:
            raise ExportError(f"method '{self.name}': {node.target} (node {node.name}) would resize "
                              f"{getattr(src, 'name', src)}, a method input or constant; Wick resizes only tensors "
                              f"it plans itself: resize a clone instead.")
        fmt = node.kwargs.get("memory_format")
        if fmt not in (None, torch.contiguous_format, torch.channels_last):
            raise ExportError(f"method '{self.name}': {node.target} (node {node.name}) with memory_format={fmt} "
                              f"is not supported; use torch.contiguous_format or torch.channels_last")
        planned = self.values[vid].kind
        planned.dynamic = True
        result = node.meta["val"]
        sizes = [self._size_bound(d)[0] for d in result.shape]
        nbytes = result.element_size() * math.prod(sizes)
        if nbytes > planned.nbytes:
            # The producer resizes its output at run time, so it may be planned
            # with the result's (larger) shape.
            planned.sizes, planned.dimOrder, planned.nbytes = sizes, list(range(len(sizes))), nbytes
            self.arena_tensors[vid] = (nbytes, self.arena_tensors[vid][1])
        schema = node.target._schema.arguments
        args = [self._arg(node.args[i] if i < len(node.args) else node.kwargs.get(a.name, a.default_value), a.type)
                for i, a in enumerate(schema)]
        self.node_value[node] = vid
        self._kernel_call(IN_PLACE_OPS[node.target], args)

    def _try_fold(self, node: torch.fx.Node) -> bool:
        """Evaluates a node at export time when all its inputs are constants
        (e.g. a transposed weight), so the runtime never repeats that work."""
        if node.target in _NOT_FOLDABLE or node.target in SYM_OP_NAMES:
            return False
        if getattr(node.target, "_schema", None) is not None and node.target._schema.name in _KEEP_QUANTIZED:
            return False
        nodes = [a for a in node.all_input_nodes]
        if not nodes or any(n not in self.const_value for n in nodes):
            return False
        val = node.meta.get("val")
        vals = val if isinstance(val, (list, tuple)) else [val]
        if not all(isinstance(v, torch.Tensor) for v in vals):
            return False
        if sum(v.numel() * v.element_size() for v in vals) > _FOLD_LIMIT_BYTES:
            return False
        real = torch.fx.node.map_arg((node.args, node.kwargs), lambda n: self.const_value[n])
        with torch.no_grad():
            result = node.target(*real[0], **real[1])
        self.const_value[node] = result
        self.report.folded_nodes += 1
        return True

    def _call(self, node: torch.fx.Node) -> None:
        target = node.target
        if target is operator.getitem:
            src, idx = node.args
            if src in self.const_value:
                self.const_value[node] = self.const_value[src][idx]
            else:
                self.node_value[node] = self.node_value[src][idx]
            return
        delegate = next((d for d in self.delegate_records if d.node is node), None)
        if delegate is not None:
            self._delegate_call(node, delegate)
            return
        if target is torch.ops.higher_order.cond:
            self._cond(node)
            return
        if self._try_fold(node):
            return
        if target in SYM_OP_NAMES:
            args = []
            for a in node.args:
                args.append(self._arg(a, "int"))
            out = self._scalar_result(node)
            self.node_value[node] = out
            self._kernel_call(SYM_OP_NAMES[target], args + [out])
            return
        if target in IN_PLACE_OPS:
            self._in_place(node)
            return
        if target in (torch.ops.aten.alias_copy.default, torch.ops.aten.clone.default) and \
                node.kwargs.get("memory_format") in (None, torch.preserve_format, torch.contiguous_format) and \
                isinstance(node.args[0], torch.fx.Node) and node.args[0] not in self.const_value and \
                node.args[0].op != "placeholder" and not _mutated(node) and not _mutated(node.args[0]):
            # A functional copy of an intermediate needs no instruction: nothing
            # else writes that tensor, so the result may share its value.
            self.node_value[node] = self.node_value[node.args[0]]
            return
        if not isinstance(target, torch._ops.OpOverload):
            raise ExportError(f"method '{self.name}': cannot emit {target} (node {node.name})")
        op_name, kept_args, out_names = out_variant(target)
        schema = target._schema
        val = node.meta["val"]
        first = val[0] if isinstance(val, (list, tuple)) and val else val
        self._current_out_dtype = first.dtype if isinstance(first, torch.Tensor) else None
        args = []
        for i, a in enumerate(schema.arguments):
            if a.name not in kept_args:
                continue  # answered by the out tensor (dtype, layout, device)
            if i < len(node.args) and not a.kwarg_only:
                value = node.args[i]
            elif a.name in node.kwargs:
                value = node.kwargs[a.name]
            elif a.has_default_value():
                value = a.default_value
            else:
                raise ExportError(f"method '{self.name}': node {node.name} lacks argument {a.name} of {target}")
            args.append(self._arg(value, a.type))
        if len(out_names) == 1 and isinstance(val, (list, tuple)):
            # Tensor[] output (split): one list value over fresh tensors.
            outs = [self._output_tensor(v) for v in val]
            k = TensorList.TensorListT()
            k.items = outs
            args.append(self._add_value(ValueKind.ValueKind.TensorList, k))
            self.node_value[node] = outs
        elif len(out_names) == 1:
            out = self._output_tensor(val)
            args.append(out)
            self.node_value[node] = out
        else:
            outs = [self._output_tensor(v) for v in val]
            args.extend(outs)
            self.node_value[node] = outs
        self._kernel_call(op_name, args)

    def _instruction(self, kind: int, table: Any) -> int:
        ins = Instruction.InstructionT()
        ins.kindType = kind
        ins.kind = table
        self.instructions.append(ins)
        return len(self.instructions) - 1

    def _jump_false(self, cond: int) -> Any:
        j = JumpFalse.JumpFalseT()
        j.cond = self._use(cond)
        self._instruction(InstructionKind.InstructionKind.JumpFalse, j)
        return j  # destination is patched once known

    def _move(self, src: int, dst: int) -> None:
        m = Move.MoveT()
        m.from_ = self._use(src)
        m.to = dst
        self._instruction(InstructionKind.InstructionKind.Move, m)
        self.last_use[dst] = len(self.instructions)

    def _inline(self, gm: torch.fx.GraphModule, operands: list, outs: list[int]) -> None:
        """Emits a torch.cond branch in place; its results move into `outs`."""
        placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
        for ph, operand in zip(placeholders, operands):
            if operand in self.const_value:
                self.const_value[ph] = self.const_value[operand]
            else:
                self.node_value[ph] = self.node_value[operand]
        for n in gm.graph.nodes:
            if n.op == "call_function":
                self._call(n)
            elif n.op == "output":
                for result, out in zip(n.args[0], outs):
                    self._move(self._node_tensor(result), out)

    def _cond(self, node: torch.fx.Node) -> None:
        """torch.cond as jumps: JumpFalse(pred) -> else; then-branch; jump to
        end (JumpFalse on a constant false); else-branch; end. Both branches
        move their results into the same output tensors."""
        pred, true_attr, false_attr, operands = node.args
        if not isinstance(pred, torch.fx.Node):
            raise ExportError(f"method '{self.name}': torch.cond with a constant predicate should be folded away")
        outs = [self._output_tensor(v) for v in node.meta["val"]]
        to_else = self._jump_false(self._node_tensor(pred))
        self._inline(getattr(self.ep.graph_module, true_attr.target), list(operands), outs)
        to_end = self._jump_false(self._bool(False))
        to_else.destination = len(self.instructions)
        self._inline(getattr(self.ep.graph_module, false_attr.target), list(operands), outs)
        to_end.destination = len(self.instructions)
        self.node_value[node] = outs
        self.report.ops["control_flow:cond"] += 1

    def _delegate_call(self, node: torch.fx.Node, record: Any) -> None:
        inputs = [self._node_tensor(a) for a in record.inputs]
        outs = [self._output_tensor(v) for v in record.output_metas]
        self.node_value[node] = outs if record.multiple_outputs else outs[0]
        # Identical blobs (the same subgraph lowered twice) share a segment.
        blob = bytes(record.blob)
        seg = next((i for i in range(1, len(self.segments)) if self.segments[i] == blob), len(self.segments))
        if seg == len(self.segments):
            self.segments.append(blob)
        d = FbDelegate.DelegateT()
        d.backend = record.backend
        d.segment = seg
        specs = []
        for key, value in record.compile_specs:
            s = FbCompileSpec.CompileSpecT()
            s.key = key
            s.value = list(value)
            specs.append(s)
        d.compileSpecs = specs
        d.debugOps = list(record.ops)
        if record.debug_map:
            d.debugJson = json.dumps(record.debug_map, sort_keys=True, default=str)
        self.fb_delegates.append(d)
        call = FbDelegateCall.DelegateCallT()
        call.delegateIndex = len(self.fb_delegates) - 1
        call.args = inputs + outs
        ins = Instruction.InstructionT()
        ins.kindType = InstructionKind.InstructionKind.DelegateCall
        ins.kind = call
        self.instructions.append(ins)
        self.report.ops[f"delegate:{record.backend}"] += 1

    # ---- method -------------------------------------------------------------
    def build(self) -> Any:
        ep = self.ep
        constants = lifted_constants(ep)
        user_inputs = user_input_nodes(ep)
        inputs: list[int] = []
        outputs: list[int] = []
        for node in ep.graph.nodes:
            if node.op == "placeholder":
                if node in constants:
                    self.const_value[node] = constants[node]
                elif node in user_inputs:
                    val = node.meta["val"]
                    if isinstance(val, torch.Tensor):
                        vid = self._tensor_value(val)
                    elif isinstance(val, (int, torch.SymInt)):
                        vid = self._int(0)
                    elif isinstance(val, float):
                        vid = self._double(0.0)
                    else:
                        raise ExportError(f"method '{self.name}': input {node.name} of type {type(val).__name__} "
                                          f"is not supported; pass tensors, ints or floats")
                    self.node_value[node] = vid
                    inputs.append(vid)
                else:
                    raise ExportError(f"method '{self.name}': input {node.name} is a mutable buffer or token, "
                                      f"which this Wick version does not support")
            elif node.op == "call_function":
                self._call(node)
            elif node.op == "output":
                for out in node.args[0]:
                    if isinstance(out, torch.fx.Node):
                        outputs.append(self._node_tensor(out))
                    elif out is None:
                        outputs.append(self._null())
                    else:
                        outputs.append(self._arg(out, "Scalar"))
        end = len(self.instructions)
        for vid in outputs:
            self.last_use[vid] = end  # outputs stay alive after the last instruction
        buffers = [memory_planner.Buffer(vid, size, first, max(self.last_use.get(vid, first), first))
                   for vid, (size, first) in self.arena_tensors.items()]
        arena = memory_planner.plan(buffers)
        for b in buffers:
            self.values[b.key].kind.arenaOffset = b.offset
        self.report.arena_bytes = arena
        self.report.intermediate_bytes = sum(b.size for b in buffers)
        self.report.num_instructions = len(self.instructions)

        m = Method.MethodT()
        m.name = self.name
        m.values = self.values
        m.inputs = inputs
        m.outputs = outputs
        ops = []
        for name in self.operators:
            o = Operator.OperatorT()
            o.name = name
            ops.append(o)
        m.operators = ops
        m.delegates = self.fb_delegates
        m.instructions = self.instructions
        m.arenaBytes = arena
        return m


@dataclass
class ProgramFile:
    """A serialized Wick program plus what building it found out."""

    buffer: bytes
    methods: dict[str, MethodReport]
    partition_report: Any = None  # set when lowering ran (wick.lowering.PartitionReport)

    def save(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(self.buffer)

    def summary(self) -> str:
        lines = []
        for r in self.methods.values():
            ratio = r.arena_bytes / r.intermediate_bytes if r.intermediate_bytes else 0.0
            lines.append(f"method {r.name}: {r.num_instructions} instructions, arena {r.arena_bytes:,} bytes "
                         f"(sum of intermediates {r.intermediate_bytes:,}, ratio {ratio:.2f}), constants "
                         f"{r.constant_bytes:,} bytes, {r.folded_nodes} nodes folded ahead of time")
        return "\n".join(lines)


def _serialize(methods: list[Any], segments: list[bytes], checksums: bool = True) -> bytes:
    """The file: metadata, aligned segments, then (with ``checksums``, always
    but in tests of older files) the checksum footer."""
    offsets, cursor = [], 0
    for seg in segments:
        cursor = _align(cursor, SEGMENT_ALIGNMENT)
        offsets.append((cursor, len(seg)))
        cursor += len(seg)

    def pack(base: int) -> bytes:
        p = Program.ProgramT()
        p.schemaVersion = SCHEMA_VERSION
        p.methods = methods
        segs = []
        for (off, size), seg in zip(offsets, segments):
            s = Segment.SegmentT()
            s.offset = off
            s.size = size
            s.crc32 = zlib.crc32(seg) if checksums else 0
            segs.append(s)
        p.segments = segs
        p.segmentBase = base
        p.segmentAlignment = SEGMENT_ALIGNMENT
        p.checksum = ChecksumKind.ChecksumKind.Crc32 if checksums else ChecksumKind.ChecksumKind.Unverified
        builder = flatbuffers.Builder(1 << 16)
        builder.Finish(p.Pack(builder), file_identifier=FILE_IDENTIFIER)
        return bytes(builder.Output())

    # The header must know where segments start, which depends on its own
    # length; a uint64 field's width does not depend on its value, so two
    # passes settle it.
    head = pack(SEGMENT_ALIGNMENT)
    base = _align(len(head), SEGMENT_ALIGNMENT)
    head = pack(base)
    assert _align(len(head), SEGMENT_ALIGNMENT) == base, "program header changed size between passes"
    out = bytearray(head)
    out.extend(b"\0" * (base - len(head)))
    for (off, _), seg in zip(offsets, segments):
        out.extend(b"\0" * (base + off - len(out)))
        out.extend(seg)
    # docs/format.md, "Integrity": the footer's CRC covers the metadata (the
    # segments' CRCs among it), so every byte of the file is checked.
    if checksums:
        out.extend(FOOTER_MAGIC + struct.pack("<IQ", zlib.crc32(out[:base]), base))
    return bytes(out)


def to_program(edge: EdgeProgram) -> ProgramFile:
    """Builds the program file of every method of ``edge``."""
    constants = ConstantStore()
    segments: list[bytes] = [b""]  # segment 0: constants, filled in last
    fb_methods, reports = [], {}
    for name, ep in edge.methods.items():
        builder = _MethodBuilder(name, ep, constants, segments, edge.delegates.get(name))
        fb_methods.append(builder.build())
        reports[name] = builder.report
    segments[0] = constants.data()
    return ProgramFile(_serialize(fb_methods, segments), reports)
