"""The `wick` command line.

  wick export FILE.py:FACTORY -o model.wick   export a model (FACTORY returns (model, example_inputs))
  wick run model.wick [--input x.npy]...      run it through the Python runtime
  wick inspect model.wick [--json]            methods, ops, sizes, segments, delegates
  wick demo                                   the five standard models, end to end
  wick backends [--json]                      installed backend plugins, and broken ones with the reason
  wick ops [--json]                           core ATen op x dtype coverage of the portable kernels
  wick new-backend NAME [-o DIR]              write a complete backend plugin package
  wick conformance --backend NAME ...         certify a backend (see `wick conformance --help`)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any


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
    calibration = made[3] if len(made) > 3 else [example]
    if isinstance(model, torch.nn.Module):
        model = model.eval()
    backends = args.backend or []
    if args.quantize:
        if not backends:
            return _fail("--quantize needs a --backend whose quantizer to use", 2)
        from .quantize import quantize

        model = quantize(model, example, backends[0], calibration)
    start = time.perf_counter()
    program = export(model, example, dynamic_shapes=dynamic, backends=backends)
    program.save(args.output)
    print(f"wrote {args.output} ({len(program.buffer):,} bytes) in {time.perf_counter() - start:.1f} s")
    print(program.summary())
    if program.partition_report is not None:
        print(program.partition_report.to_text() if args.report else
              "\n".join(program.partition_report.to_text().splitlines()[:1]))
        if args.report_json:
            with open(args.report_json, "w") as f:
                f.write(program.partition_report.to_json())
    return 0


def _load_npy(path: str) -> Any:
    """An input array, or a WickError naming the file and what is wrong."""
    import numpy as np

    from .errors import WickError

    if os.path.isdir(path):
        raise WickError(f"input '{path}' is a directory, not a .npy file", "InvalidArgument")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise WickError(f"cannot read input '{path}': {e}", "InvalidArgument") from None


def cmd_run(args: argparse.Namespace) -> int:
    import numpy as np

    from . import runtime

    program = runtime.load(args.program, verify_checksums=not args.no_verify_checksums)
    method = program.method(args.method)
    if args.input:
        inputs = [_load_npy(p) for p in args.input]
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


def cmd_backends(args: argparse.Namespace) -> int:
    from . import plugins

    rows = []
    for p in plugins.discover():
        row = {"name": p.name, "package": p.distribution, "version": p.distribution_version,
               "entry_point": p.entry_point, "broken": p.broken, "reason": p.error}
        if p.descriptor:
            d = p.descriptor
            row.update(sdk_api=d.sdk_api_version, runtime_library=d.runtime_library,
                       capabilities=d.capabilities, description=d.description)
        if not p.broken:
            why = plugins.register_runtime(p)
            from . import runtime

            native = next((b for b in runtime.registered_backends() if b["name"] == p.name), None)
            row["available"] = bool(native and native["available"])
            row["available_reason"] = why or (native["reason"] if native else "") or ""
            row["device"] = native["info"] if native else ""
            row["backend_abi"] = native["abi"] if native else ""
        rows.append(row)
    if args.json:
        print(json.dumps({"sdk_api": _sdk_api(), "plugins": rows}, indent=2))
        return 0
    from . import runtime as _rt

    print(f"Wick delegate SDK API {_sdk_api()}, backend ABI {_rt.BACKEND_ABI_VERSION} (also loads ABI 1)")
    if not rows:
        print("no backend plugins installed (entry-point group 'wick.backends')")
    for r in rows:
        if r["broken"]:
            print(f"  BROKEN {r['name']} ({r['package']} {r['version']}): {r['reason']}")
            continue
        here = "available here" if r["available"] else f"NOT available here: {r['available_reason']}"
        ops = r.get("capabilities", {}).get("ops")
        print(f"  {r['name']} {r['version']} (package {r['package']}, SDK API {r['sdk_api']}): {here}")
        abi = f" (backend ABI {r['backend_abi']})" if r.get("backend_abi") else ""
        print(f"      runtime library: {r['runtime_library']}{abi}")
        if r.get("device"):
            print(f"      device: {r['device']}")
        if ops:
            print(f"      ops claimed: {', '.join(ops)}")
        options = r.get("capabilities", {}).get("runtime_options")
        if options:
            print(f"      load-time options: {', '.join(options)} (wick.runtime.load backend_options, "
                  f"wick-run --backend-option {r['name']}.KEY=VALUE)")
    return 0


def _sdk_api() -> str:
    from .delegate_sdk import SDK_API_VERSION

    return SDK_API_VERSION


def cmd_new_backend(args: argparse.Namespace) -> int:
    from .new_backend import generate

    out = args.output or f"wick-{args.name.replace('_', '-')}"
    try:
        files = generate(args.name, out)
    except (ValueError, FileExistsError) as e:
        return _fail(str(e), 2)
    print(f"wrote backend plugin '{args.name}' to {out}/ ({len(files)} files)")
    print(f"next: pip install --no-build-isolation {out} && wick backends")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import main as demo_main

    return demo_main(args.out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "conformance":
        # The suite owns its options; see wick.conformance.cli.
        from .conformance.cli import main as conformance_main

        return conformance_main(argv[1:])
    from . import ops_table

    parser = argparse.ArgumentParser(prog="wick", description="Export, inspect and run Wick programs.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="export FILE.py:FACTORY to a program file")
    p.add_argument("model", help="FILE.py:FACTORY; FACTORY() returns (model, example_inputs[, dynamic_shapes])")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--backend", action="append", help="lower to this backend plugin (repeatable, priority order)")
    p.add_argument("--quantize", action="store_true",
                   help="quantize with the first backend's PT2E quantizer, calibrated on the example inputs "
                        "(or the calibration set FACTORY returns as a 4th item)")
    p.add_argument("--report", action="store_true", help="print the full partition report")
    p.add_argument("--report-json", help="write the partition report as JSON to this file")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("run", help="run a program through the Python runtime")
    p.add_argument("program")
    p.add_argument("--method", default="forward")
    p.add_argument("--input", action="append", help=".npy file per input, in order")
    p.add_argument("--iterations", type=int, default=1)
    p.add_argument("--output-dir")
    p.add_argument("--no-verify-checksums", action="store_true", help="skip the CRC-32 pass over the file at load")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("inspect", help="describe a program file")
    p.add_argument("program")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_inspect)
    p = sub.add_parser("backends", help="list installed backend plugins")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_backends)
    p = sub.add_parser("ops", help="core ATen op x dtype coverage of the portable kernels")
    ops_table.add_arguments(p)
    p.set_defaults(func=ops_table.run)
    p = sub.add_parser("new-backend", help="write a new backend plugin package from the template")
    p.add_argument("name")
    p.add_argument("-o", "--output", help="directory to create (default wick-NAME)")
    p.set_defaults(func=cmd_new_backend)
    sub.add_parser("conformance", help="certify a backend plugin against the portable reference", add_help=False)
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
