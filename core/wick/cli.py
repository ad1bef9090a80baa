"""The `wick` command line.

  wick export FILE.py:FACTORY -o model.wick   export a model (FACTORY returns (model, example_inputs))
  wick run model.wick [--input x.npy]...      run it through the Python runtime
  wick inspect model.wick [--json]            methods, ops, sizes, segments, delegates
  wick demo                                   the five standard models, end to end
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _fail(message: str, code: int = 1) -> int:
    print(f"wick: error: {message}", file=sys.stderr)
    return code


def _load_factory(spec: str):
    import importlib.util

    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise ValueError(f"expected FILE.py:FACTORY, got '{spec}'")
    if not os.path.isfile(path):
        raise ValueError(f"no such file: '{path}'")
    module_spec = importlib.util.spec_from_file_location("_wick_user_model", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not hasattr(module, name):
        raise ValueError(f"'{path}' defines no '{name}'")
    return getattr(module, name)


def cmd_export(args: argparse.Namespace) -> int:
    import torch

    from . import export

    if os.path.exists(args.output) and not args.force:
        return _fail(f"'{args.output}' exists; pass --force to overwrite it")
    try:
        factory = _load_factory(args.model)
    except ValueError as e:
        return _fail(str(e), 2)
    made = factory()
    model, example = made[0], tuple(made[1])
    dynamic = made[2] if len(made) > 2 else None
    start = time.perf_counter()
    program = export(model.eval() if isinstance(model, torch.nn.Module) else model, example, dynamic_shapes=dynamic)
    program.save(args.output)
    print(f"wrote {args.output} ({len(program.buffer):,} bytes) in {time.perf_counter() - start:.1f} s")
    print(program.summary())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import numpy as np

    from . import runtime

    program = runtime.load(args.program)
    method = program.method(args.method)
    if args.input:
        inputs = [np.load(p) for p in args.input]
    else:
        rng = np.random.default_rng(0)
        inputs = []
        for dtype, sizes, _ in method.input_specs:
            if dtype.startswith("float"):
                inputs.append(rng.standard_normal(sizes).astype(dtype))
            elif dtype.startswith("int"):
                inputs.append(rng.integers(0, 16, sizes).astype(dtype))
            else:
                inputs.append(np.zeros(sizes, dtype=dtype))
    times = []
    for _ in range(max(1, args.iterations)):
        start = time.perf_counter()
        outputs = method(*inputs)
        times.append((time.perf_counter() - start) * 1e3)
    for i, out in enumerate(outputs):
        arr = np.asarray(out)
        stats = f"min {arr.min():.6g} max {arr.max():.6g} mean {arr.mean():.6g}" if arr.size and \
            arr.dtype.kind == "f" else ""
        print(f"output {i}: {arr.dtype} {list(arr.shape)} {stats}")
        if args.output_dir:
            os.makedirs(args.output_dir, exist_ok=True)
            np.save(os.path.join(args.output_dir, f"output_{i}.npy"), arr)
    times.sort()
    print(f"execute: median {times[len(times) // 2]:.3f} ms over {len(times)} runs")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from .inspect_program import describe, format_text

    with open(args.program, "rb") as f:
        buffer = f.read()
    try:
        info = describe(buffer)
    except Exception as e:  # a corrupt file must not print a traceback
        return _fail(f"cannot read '{args.program}': {e}")
    print(json.dumps(info, indent=2) if args.json else format_text(info))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import main as demo_main

    return demo_main(args.out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wick", description="Export, inspect and run Wick programs.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="export FILE.py:FACTORY to a program file")
    p.add_argument("model", help="FILE.py:FACTORY; FACTORY() returns (model, example_inputs[, dynamic_shapes])")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("run", help="run a program through the Python runtime")
    p.add_argument("program")
    p.add_argument("--method", default="forward")
    p.add_argument("--input", action="append", help=".npy file per input, in order")
    p.add_argument("--iterations", type=int, default=1)
    p.add_argument("--output-dir")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("inspect", help="describe a program file")
    p.add_argument("program")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_inspect)
    p = sub.add_parser("demo", help="export and run the five standard models, compare with eager")
    p.add_argument("--out", default="out/demo", help="where the .wick files go")
    p.set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except FileNotFoundError as e:
        return _fail(str(e))
    except Exception as e:
        from .errors import ExportError, WickError

        if isinstance(e, (WickError, ExportError)):
            return _fail(str(e))
        raise


if __name__ == "__main__":
    sys.exit(main())
