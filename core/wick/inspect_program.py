"""Reading a program file back for `wick inspect`: methods, ops, tensor and
arena sizes, segments, delegates. Uses the generated flatbuffers reader; it
does not verify (the runtime does) but guards every access it makes."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .fb import Program as FbProgram
from .fb.ChecksumKind import ChecksumKind
from .fb.InstructionKind import InstructionKind
from .fb.ValueKind import ValueKind

_DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool",
           "complex64", "complex128"]


def _debug_lines(debug: Any, width: int = 400) -> list[str]:
    """The backend's debug map, one line per top-level key so that a short
    entry (e.g. Vela's estimates) is not hidden behind a long one; each line is
    cut at `width` characters (`--json` has everything)."""
    if not debug:
        return []
    if not isinstance(debug, dict):
        debug = {"debug": debug}
    lines = ["    debug:"]
    for key in sorted(debug):
        text = json.dumps(debug[key], sort_keys=True, default=str)
        lines.append(f"      {key}: {text if len(text) <= width else text[:width] + ' ...'}")
    return lines


def _debug_map(raw: Any) -> Any:
    """The backend's debug map, stored as JSON text (None when absent)."""
    if not raw:
        return None
    try:
        return json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    except ValueError:
        return {"unparsed": str(raw)[:200]}


def describe(buffer: bytes) -> dict[str, Any]:
    if len(buffer) < 8 or not FbProgram.Program.ProgramBufferHasIdentifier(buffer, 0):
        raise ValueError("not a Wick program file (missing the 'WICK' identifier)")
    prog = FbProgram.ProgramT.InitFromPackedBuf(buffer, 0)
    segments = [{"index": i, "offset": prog.segmentBase + s.offset, "size": s.size, "crc32": s.crc32}
                for i, s in enumerate(prog.segments or [])]
    methods = []
    for m in prog.methods or []:
        ops: Counter = Counter()
        delegates: list[dict[str, Any]] = []
        for ins in m.instructions or []:
            if ins.kindType == InstructionKind.KernelCall:
                ops[m.operators[ins.kind.opIndex].name] += 1
            elif ins.kindType == InstructionKind.DelegateCall:
                d = m.delegates[ins.kind.delegateIndex]
                delegates.append({"backend": d.backend.decode() if isinstance(d.backend, bytes) else d.backend,
                                  "segment": d.segment, "blob_bytes": prog.segments[d.segment].size,
                                  "compile_specs": [s.key.decode() if isinstance(s.key, bytes) else s.key
                                                    for s in d.compileSpecs or []],
                                  "ops": dict(Counter(o.decode() if isinstance(o, bytes) else o
                                                      for o in d.debugOps or [])),
                                  "debug": _debug_map(d.debugJson)})
        tensors = [v.kind for v in m.values or [] if v.kindType == ValueKind.Tensor]
        arena_tensors = [t for t in tensors if t.arenaOffset >= 0]
        constant_tensors = [t for t in tensors if t.constantSegment >= 0]

        def spec(vid: int) -> str:
            v = m.values[vid]
            if v.kindType != ValueKind.Tensor:
                return "scalar"
            t = v.kind
            dims = ", ".join(str(s) for s in (t.sizes if t.sizes is not None else []))
            return f"{_DTYPES[t.dtype] if 0 <= t.dtype < len(_DTYPES) else t.dtype}[{dims}]" + \
                (" (dynamic, upper bounds)" if t.dynamic else "")

        name = m.name.decode() if isinstance(m.name, bytes) else m.name
        methods.append({
            "name": name,
            "inputs": [spec(i) for i in (m.inputs if m.inputs is not None else [])],
            "outputs": [spec(i) for i in (m.outputs if m.outputs is not None else [])],
            "instructions": len(m.instructions or []),
            "ops": {(k.decode() if isinstance(k, bytes) else k): v for k, v in sorted(ops.items())},
            "delegates": delegates,
            "values": len(m.values or []),
            "tensors": len(tensors),
            "arena_bytes": m.arenaBytes,
            "intermediate_bytes": sum(t.nbytes for t in arena_tensors),
            "constant_bytes": sum(t.nbytes for t in constant_tensors),
        })
    checksums = "crc32" if prog.checksum == ChecksumKind.Crc32 else "none (written before checksums; loads unverified)"
    return {"schema_version": prog.schemaVersion, "file_bytes": len(buffer), "segment_alignment":
            prog.segmentAlignment, "checksums": checksums, "segments": segments, "methods": methods}


def format_text(info: dict[str, Any]) -> str:
    lines = [f"Wick program, schema version {info['schema_version']}, {info['file_bytes']:,} bytes, "
             f"checksums: {info['checksums']}"]
    for s in info["segments"]:
        lines.append(f"  segment {s['index']}: offset {s['offset']:,}, {s['size']:,} bytes")
    for m in info["methods"]:
        ratio = m["arena_bytes"] / m["intermediate_bytes"] if m["intermediate_bytes"] else 0.0
        lines += [
            f"method '{m['name']}'",
            f"  inputs:  {', '.join(m['inputs']) or '-'}",
            f"  outputs: {', '.join(m['outputs']) or '-'}",
            f"  {m['instructions']} instructions, {m['values']} values, {m['tensors']} tensors",
            f"  arena: {m['arena_bytes']:,} bytes planned; sum of intermediate tensors {m['intermediate_bytes']:,} "
            f"bytes (ratio {ratio:.2f})",
            f"  constants: {m['constant_bytes']:,} bytes",
            "  ops:",
        ]
        lines += [f"    {count:5d}  {op}" for op, count in m["ops"].items()]
        for d in m["delegates"]:
            lines.append(f"  delegate -> {d['backend']}: blob {d['blob_bytes']:,} bytes, specs {d['compile_specs']}")
            lines += [f"    {count:5d}  {op}" for op, count in sorted(d["ops"].items())]
            lines += _debug_lines(d["debug"])
    return "\n".join(lines)
