"""The operator table: core ATen overload x dtype -> implemented / tested.

"implemented" means this runtime registers a portable kernel for the
overload's out-variant (the name the program builder emits, e.g.
``aten::gt.Scalar_out``; view ops count through their ``*_copy`` twins) at that
dtype. "tested" comes from a results file written by the op coverage suite
(``WICK_OP_COVERAGE_RESULTS=path pytest tests/test_op_coverage.py``), one JSON
line per (op, dtype) with status passed / failed / no-sample.

    python -m wick.ops_table                      # text table
    python -m wick.ops_table --json               # machine-readable
    python -m wick.ops_table --results r.jsonl --write docs/ops.md
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

# A cell is keyed by the dtype a kernel is dispatched on (its first tensor):
# real dtypes for nearly every op; complex only for those that take complex
# input (aten::_fft_c2r.out). Elsewhere the complex columns stay blank.
DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool",
          "complex64", "complex128"]
_SHORT = {"float32": "f32", "float64": "f64", "float16": "f16", "bfloat16": "bf16", "int8": "i8", "int16": "i16",
          "int32": "i32", "int64": "i64", "uint8": "u8", "bool": "b", "complex64": "c64", "complex128": "c128"}

# Overloads with no kernel by design (see tests/test_op_coverage.py NOT_KERNELS).
EXCEPTIONS = {
    "aten.sym_numel.default": "symbolic-shape arithmetic, resolved by the program builder",
    "aten.sym_stride.int": "Wick tensors are dense in their dim order; resolved ahead of time",
    "aten.sym_storage_offset.default": "storage offsets are always 0 in Wick",
    "aten.sym_is_contiguous.default": "contiguity is fixed by the dim order ahead of time",
}

# Views run as their *_copy twins (wick.edge.VIEW_TO_COPY), plus squeeze.dim.
_VIEW_KERNELS = {
    "aten.view.default": "aten::view_copy.out",
    "aten.permute.default": "aten::permute_copy.out",
    "aten.expand.default": "aten::expand_copy.out",
    "aten.slice.Tensor": "aten::slice_copy.Tensor_out",
    "aten.split_with_sizes.default": "aten::split_with_sizes_copy.out",
    "aten.alias.default": "aten::alias_copy.out",
    "aten.unsqueeze.default": "aten::unsqueeze_copy.out",
    "aten.squeeze.dims": "aten::squeeze_copy.dims_out",
    "aten.squeeze.dim": "aten::squeeze_copy.dim_out",
    "aten.select.int": "aten::select_copy.int_out",
    "aten.diagonal.default": "aten::diagonal_copy.out",
    "aten.as_strided.default": "aten::as_strided_copy.out",
}


def kernel_name(op: Any) -> str | None:
    """The runtime kernel name a core overload runs as, or None."""
    key = str(op)
    if key in _VIEW_KERNELS:
        return _VIEW_KERNELS[key]
    from .program_builder import IN_PLACE_OPS, SYM_OP_NAMES, out_variant

    if op in IN_PLACE_OPS:
        return IN_PLACE_OPS[op]
    if op in SYM_OP_NAMES:  # scalar kernels: wick::sym_size.int, wick::_local_scalar_dense
        return SYM_OP_NAMES[op]

    try:
        return out_variant(op)[0]
    except Exception:
        return None


def load_results(path: str | None) -> dict[tuple[str, str], str]:
    """(op, dtype) -> status from a coverage results file (later lines win,
    except that a failure is never overwritten by a pass)."""
    results: dict[tuple[str, str], str] = {}
    if not path or not os.path.exists(path):
        return results
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            key = (r["op"], r["dtype"])
            if results.get(key) == "failed" and r["status"] == "passed":
                continue
            results[key] = r["status"]
    return results


def default_results() -> str | None:
    """The coverage results committed beside the kernels (runtime/kernels/), when
    running from a source tree or its root directory."""
    from .selective import default_kernels_dir

    kernels = default_kernels_dir()
    path = os.path.join(os.path.dirname(kernels), "op_coverage_results.jsonl") if kernels else None
    return path if path and os.path.exists(path) else None


def build_table(results_path: str | None = None) -> dict[str, Any]:
    """{"ops": [{op, kernel, dtypes: {dtype: {implemented, tested}}, exception}], "summary": {...}}."""
    from .edge import core_aten_ops
    from .runtime import registered_kernels

    results_path = results_path or default_results()
    registered: dict[str, set[str]] = {}
    for name, dtypes in registered_kernels():  # an op may have several kernels (e.g. real and complex abs)
        registered.setdefault(name, set()).update(dtypes)
    results = load_results(results_path)
    rows = []
    for op in sorted(core_aten_ops(), key=str):
        name = kernel_name(op)
        have = registered.get(name, set()) if name else set()
        cells = {}
        for d in DTYPES:
            cells[d] = {"implemented": d in have, "tested": results.get((str(op), d))}
        rows.append({"op": str(op), "kernel": name, "dtypes": cells, "exception": EXCEPTIONS.get(str(op))})
    with_kernel = sum(1 for r in rows if any(c["implemented"] for c in r["dtypes"].values()))
    summary = {
        "core_overloads": len(rows),
        "with_kernel": with_kernel,
        "exceptions": sum(1 for r in rows if r["exception"]),
        "cells_implemented": sum(c["implemented"] for r in rows for c in r["dtypes"].values()),
        "cells_tested_passed": sum(c["tested"] == "passed" for r in rows for c in r["dtypes"].values()),
        "cells_tested_failed": sum(c["tested"] == "failed" for r in rows for c in r["dtypes"].values()),
    }
    return {"ops": rows, "summary": summary}


def _cell(c: dict) -> str:
    if c["tested"] == "passed":
        return "✓"  # implemented and tested against eager
    if c["tested"] == "failed":
        return "✗"
    return "k" if c["implemented"] else ""


def render_text(table: dict[str, Any]) -> str:
    head = f"{'op':52s} " + " ".join(f"{_SHORT[d]:>4s}" for d in DTYPES)
    lines = [head, "-" * len(head)]
    for r in table["ops"]:
        cells = " ".join(f"{_cell(r['dtypes'][d]):>4s}" for d in DTYPES)
        note = f"  ({r['exception']})" if r["exception"] else ""
        lines.append(f"{r['op']:52s} {cells}{note}")
    s = table["summary"]
    lines.append("")
    lines.append(f"{s['with_kernel']}/{s['core_overloads']} core overloads have kernels "
                 f"({s['exceptions']} by-design exceptions); {s['cells_implemented']} op x dtype cells implemented, "
                 f"{s['cells_tested_passed']} tested passing, {s['cells_tested_failed']} failing.")
    lines.append("✓ tested against eager PyTorch, k kernel registered (not tested here), ✗ test failed, "
                 "blank: no kernel for that dtype")
    return "\n".join(lines)


def render_markdown(table: dict[str, Any]) -> str:
    s = table["summary"]
    out = ["# Portable kernels: core ATen operator coverage", "",
           "Generated by `python -m wick.ops_table --results RESULTS --write docs/ops.md` (also `wick ops`). ",
           "Results come from `tests/test_op_coverage.py` (OpInfo samples plus hand-written generators, each run as a "
           "one-op program and compared with eager PyTorch).", "",
           f"**{s['with_kernel']}/{s['core_overloads']}** core overloads have kernels "
           f"({s['exceptions']} by-design exceptions listed below); "
           f"**{s['cells_implemented']}** op x dtype cells implemented, **{s['cells_tested_passed']}** tested passing, "
           f"{s['cells_tested_failed']} failing.", "",
           "Legend: ✓ implemented and tested against eager; k implemented, not tested (no eager sample at that "
           "dtype, or not run); ✗ implemented, test failing; blank: no kernel (PyTorch may not support it either).",
           "", "| op | kernel | " + " | ".join(_SHORT[d] for d in DTYPES) + " |",
           "|---|---|" + "---|" * len(DTYPES)]
    for r in table["ops"]:
        cells = " | ".join(_cell(r["dtypes"][d]) for d in DTYPES)
        out.append(f"| `{r['op']}` | `{r['kernel'] or '-'}` | {cells} |")
    out += ["", "## Exceptions", ""]
    for r in table["ops"]:
        if r["exception"]:
            out.append(f"- `{r['op']}`: {r['exception']}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point for `wick ops` and `python -m wick.ops_table`."""
    p = argparse.ArgumentParser(prog="wick ops", description="Core ATen operator x dtype coverage of the portable kernels.")
    add_arguments(p)
    return run(p.parse_args(argv))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.add_argument("--results", help="coverage results file (JSON lines from tests/test_op_coverage.py; "
                                     "default: runtime/kernels/op_coverage_results.jsonl of the source tree)")
    p.add_argument("--write", metavar="PATH", help="write the Markdown table (docs/ops.md) to PATH")


def run(args: argparse.Namespace) -> int:
    table = build_table(getattr(args, "results", None))
    if getattr(args, "write", None):
        with open(args.write, "w") as f:
            f.write(render_markdown(table))
    if getattr(args, "json", False):
        print(json.dumps(table, indent=1))
    elif not getattr(args, "write", None):
        print(render_text(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
