"""Selective build: which portable kernel source files a set of programs needs.

The runtime's CMake option WICK_KERNELS takes a ;-separated list of kernel
file stems from runtime/kernels/portable/ (util and gemm are always built).
This module maps each operator a program calls to the file that registers its
kernel, by reading the WICK_REGISTER_KERNELS tables in those sources:

    python -m wick.selective mobilenet_v2.wick [more.wick ...]
    python -m wick.selective --cmake model.wick      # prints -DWICK_KERNELS=...
    pip install . -Ccmake.define.WICK_KERNELS="$(python -m wick.selective --list model.wick)"

Operators delegated to a backend need no portable kernel and are not listed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Iterable

# A kernel table entry: {"aten::add.out", dtypes, &fn, scratch}
_ENTRY = re.compile(r'\{\s*"([A-Za-z_][\w:.]*)"\s*,')
_ALWAYS = ("util", "gemm")


def default_kernels_dir() -> str | None:
    """runtime/kernels/portable of the source tree this module lives in, if present."""
    here = os.path.dirname(os.path.abspath(__file__))
    for root in (os.path.join(here, "..", ".."), os.getcwd()):
        d = os.path.normpath(os.path.join(root, "runtime", "kernels", "portable"))
        if os.path.isdir(d):
            return d
    return None


def op_to_file(kernels_dir: str | None = None) -> dict[str, list[str]]:
    """Operator name ("aten::add.out") -> kernel file stems registering it
    (["binary_ops"]; an op whose dtypes are split over files lists each)."""
    kernels_dir = kernels_dir or default_kernels_dir()
    if kernels_dir is None:
        raise FileNotFoundError("runtime/kernels/portable not found: pass kernels_dir (the Wick source tree)")
    mapping: dict[str, list[str]] = {}
    for name in sorted(os.listdir(kernels_dir)):
        if not name.endswith(".cpp"):
            continue
        with open(os.path.join(kernels_dir, name)) as f:
            text = f.read()
        start = text.find("WICK_REGISTER_KERNELS(")
        if start < 0:
            continue
        for op in _ENTRY.findall(text[start:]):
            files = mapping.setdefault(op, [])
            if name[:-4] not in files:
                files.append(name[:-4])
    return mapping


def program_ops(paths: Iterable[str]) -> set[str]:
    """Every operator a kernel-call instruction names, over all methods of the programs."""
    from .inspect_program import describe

    ops: set[str] = set()
    for path in paths:
        with open(path, "rb") as f:
            info = describe(f.read())
        for m in info["methods"]:
            ops.update(m["ops"])
    return ops


def needed_files(paths: Iterable[str], kernels_dir: str | None = None) -> tuple[list[str], list[str]]:
    """(kernel file stems to build, operators no kernel file provides)."""
    mapping = op_to_file(kernels_dir)
    files, missing = set(), []
    for op in sorted(program_ops(paths)):
        if op in mapping:
            files.update(mapping[op])
        else:
            missing.append(op)
    return sorted(files), missing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m wick.selective", description=__doc__.split("\n\n")[0])
    p.add_argument("programs", nargs="+", help=".wick program files")
    p.add_argument("--kernels-dir", help="runtime/kernels/portable of the Wick sources (default: found next to this package)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--cmake", action="store_true", help="print -DWICK_KERNELS=... for a CMake configure line")
    g.add_argument("--list", action="store_true", help="print only the ;-separated file list")
    args = p.parse_args(argv)
    files, missing = needed_files(args.programs, args.kernels_dir)
    value = ";".join(files)
    if args.cmake:
        print(f'-DWICK_KERNELS="{value}"')
    elif args.list:
        print(value)
    else:
        mapping = op_to_file(args.kernels_dir)
        for op in sorted(program_ops(args.programs)):
            print(f"{op:50s} {', '.join(mapping.get(op, ['(no portable kernel)']))}")
        print(f"\nkernel files ({len(files)} + {', '.join(_ALWAYS)}): {value}")
    if missing:
        print(f"warning: no portable kernel file registers: {', '.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
