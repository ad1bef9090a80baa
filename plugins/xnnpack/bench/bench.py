"""Latency of the standard models: Wick + xnnpack vs ExecuTorch 1.5.1's
XNNPACK delegate vs eager PyTorch, in one process, same thread count,
interleaved (each round in the next of all orders of the engines), medians.

    python plugins/xnnpack/bench/bench.py [--threads 2] [--runs 30] [--warmup 5]
                                          [--models mlp,small_cnn,...] [--int8] [--json out.json]

With --int8 the model is quantized ONCE (PT2E, the plugin's quantizer:
per-channel symmetric int8 weights, per-tensor affine int8 activations,
calibrated on the example input) and that same quantized program is lowered
by both Wick and ExecuTorch; each engine's max |error| is reported against
the eager quantized model (q/dq simulated in float) and the float model.

Needs `pip install executorch==1.5.1 --no-deps` for the peer (skipped with a
note when absent). Not a test: a command whose output goes in the README.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import torch

import wick
from wick.bench_rounds import interleaved_rounds
from wick.delegate_sdk import CompileSpec
from wick.models import STANDARD_MODELS


def wick_engine(model, example, threads: int, int8: bool):
    program = wick.export(model, example, backends=["xnnpack"],
                          compile_specs={"xnnpack": [CompileSpec.of("threads", threads)]})
    method = wick.runtime.load(program.buffer).method("forward")
    fraction = program.partition_report.fraction("forward", "xnnpack")
    return (lambda: method(*example)), fraction, len(program.buffer)


def executorch_engine(model, example, threads: int, int8: bool):
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    from executorch.extension.pybindings import portable_lib

    et = to_edge_transform_and_lower(torch.export.export(model, example),
                                     partitioner=[XnnpackPartitioner()]).to_executorch()
    portable_lib._unsafe_reset_threadpool(threads)
    buffer = et.buffer  # the module borrows it: keep it alive as long as the closure
    module = portable_lib._load_for_executorch_from_buffer(buffer)
    inputs = list(example)
    return (lambda: (buffer, module.forward(inputs))[1]), None, len(buffer)


def _first(out):
    while isinstance(out, (list, tuple)):
        out = out[0]
    return torch.as_tensor(out)


def eager_engine(model, example, threads: int, int8: bool):
    def run():
        with torch.no_grad():
            return model(*example)
    return run, None, None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--models", default=",".join(STANDARD_MODELS))
    ap.add_argument("--int8", action="store_true", help="quantized variants (PT2E) for Wick and ExecuTorch")
    ap.add_argument("--json", default=None)
    ap.add_argument("--order", choices=["permute", "blocks"], default="permute",
                    help="interleave the engines, each round in the next of all their orders (default), "
                         "or run each engine in one block")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    results = {}
    for name in args.models.split(","):
        model, example = STANDARD_MODELS[name]()
        with torch.no_grad():
            ref_float = _first(model(*example))
        refs = {"float": ref_float}
        if args.int8:
            from wick_xnnpack.quantizer import quantize_for_xnnpack

            model = quantize_for_xnnpack(model, example)  # one quantized program for both engines
            with torch.no_grad():
                refs = {"eager_int8": _first(model(*example)), "float": ref_float}
        engines = {}
        notes = {}
        for label, make in (("wick_xnnpack", wick_engine), ("executorch_xnnpack", executorch_engine),
                            ("eager", eager_engine)):
            if args.int8 and label == "eager":
                continue
            try:
                fn, fraction, size = make(model, example, args.threads, args.int8)
                engines[label] = fn
                out = _first(fn()).to(torch.float32)
                notes[label] = {"delegated_fraction": fraction, "program_bytes": size,
                                "max_abs_err": {k: float((out - r).abs().max()) for k, r in refs.items()}}
            except Exception as e:  # noqa: BLE001 - report and go on
                notes[label] = {"error": f"{type(e).__name__}: {e}"[:300]}
        times = {k: [] for k in engines}
        for _ in range(args.warmup):
            for fn in engines.values():
                fn()
        # Interleaved through every order of the engines (wick.bench_rounds says
        # why); --order blocks instead runs each engine's runs back to back (no
        # neighbor's threads in the way; slow drift of the machine then falls
        # on one engine).
        order = list(engines.items())
        rounds = interleaved_rounds(order, args.runs)
        if args.order == "blocks":
            rounds = [[item] * args.runs for item in order]
        for round_ in rounds:
            for k, fn in round_:
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        row = {"median_ms": med, "notes": notes}
        if "executorch_xnnpack" in med and "wick_xnnpack" in med:
            row["wick_over_executorch"] = med["wick_xnnpack"] / med["executorch_xnnpack"]
        if "eager" in med and "wick_xnnpack" in med:
            row["wick_over_eager"] = med["wick_xnnpack"] / med["eager"]
        results[name] = row
        cells = "  ".join(f"{k} {v:8.3f} ms" for k, v in med.items())
        ratio = f"  wick/ET {row['wick_over_executorch']:.2f}x" if "wick_over_executorch" in row else ""
        print(f"{name:13s} {cells}{ratio}", flush=True)
        for k, n in notes.items():
            if "error" in n:
                print(f"    {k}: {n['error']}")
            elif label_errs := "  ".join(f"vs {r} {e:.3g}" for r, e in n["max_abs_err"].items()):
                print(f"    {k:19s} max|err| {label_errs}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "runs": args.runs, "int8": args.int8, "order": args.order,
                       "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
