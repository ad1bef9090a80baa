"""Latency of the standard models on the Vulkan backend vs Wick's portable
kernels vs Wick + xnnpack, in one process, interleaved, medians.

    python plugins/vulkan/bench/bench.py [--models mobilenet_v2,resnet18,tiny_llama]
                                         [--runs 20] [--warmup 3] [--json out.json] [--no-f16]

Engines (each a program exported once, loaded once, executed through the
Python runtime, wick.runtime Method.__call__):
  vulkan    backends=["vulkan"]: the device WICK_VULKAN_DEVICE or the default
            picks (lavapipe on a machine without a GPU: real Vulkan compute
            shaders compiled by LLVM for the host CPU, with Mesa's own threads)
  vulkan16  the same model in float16 (model.half(), float16 inputs): float16
            tensors in device memory, float32 arithmetic in the shaders; only
            when the device has float16 storage (--no-f16 leaves it out)
  portable  no backends: Wick's portable C++ kernels, single-threaded
  xnnpack   backends=["xnnpack"], only when the wick-xnnpack plugin is
            installed and available here

Rounds go through every order of the engines (wick.bench_rounds) so that drift
in the machine's load and a neighbor's spinning threads hit all of them alike;
each engine has untimed warm-up calls first. Times are WALL time
(time.perf_counter around one call): lavapipe runs its shaders on its own
worker threads, so the calling thread's CPU time would not count the work. Each engine's output is compared with eager PyTorch float32.
Ratios are engine / portable and vulkan / xnnpack (< 1: the first is faster).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
import warnings

import torch

import wick
from wick.bench_rounds import interleaved_rounds
from wick.models import STANDARD_MODELS

warnings.filterwarnings("ignore")


def _available(name: str) -> tuple[bool, str]:
    from wick import plugins, runtime

    for p in plugins.discover():
        if p.name == name and not p.broken:
            why = plugins.register_runtime(p)
            native = next((b for b in runtime.registered_backends() if b["name"] == name), None)
            if why or not native or not native["available"]:
                return False, why or (native["reason"] if native else "not registered")
            return True, native["info"] or ""
    return False, f"plugin '{name}' is not installed"


def _first(out):
    return torch.as_tensor(out[0] if isinstance(out, (list, tuple)) else out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="mobilenet_v2,resnet18,tiny_llama")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--no-f16", action="store_true", help="leave out the float16 vulkan engine")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    vk_ok, vk_info = _available("vulkan")
    if not vk_ok:
        print(f"vulkan backend not available here: {vk_info}", file=sys.stderr)
        return 2
    xnn_ok, xnn_info = _available("xnnpack")
    print(f"vulkan device: {vk_info}")
    print(f"xnnpack: {xnn_info if xnn_ok else 'skipped (' + xnn_info + ')'}")
    print(f"host: {os.cpu_count()} CPUs; times are wall-clock medians of {args.runs} interleaved rounds\n")

    results = {"vulkan_device": vk_info, "xnnpack": xnn_info if xnn_ok else None, "models": {}}
    for name in args.models.split(","):
        model, example = STANDARD_MODELS[name]()
        with torch.no_grad():
            expected = _first(model(*example))
        engines, notes = {}, {}
        f16 = not args.no_f16 and "float16 storage yes" in vk_info
        configs = [("vulkan", ["vulkan"])] + ([("vulkan16", ["vulkan"])] if f16 else []) + [("portable", [])] + \
            ([("xnnpack", ["xnnpack"])] if xnn_ok else [])
        inputs = {}
        for label, backends in configs:
            try:
                m, x = model, example
                if label == "vulkan16":
                    m = copy.deepcopy(model).half()
                    x = tuple(t.half() if t.is_floating_point() else t for t in example)
                inputs[label] = x
                program = wick.export(m, x, backends=backends)
                method = wick.runtime.load(program.buffer).method("forward")
                t0 = time.perf_counter()
                out = method(*x)
                first_ms = (time.perf_counter() - t0) * 1e3
                err = (_first(out).float() - expected).abs().max().item()
                frac = program.partition_report.fraction("forward", backends[0]) if backends else 0.0
                engines[label] = method
                notes[label] = {"max_abs_err": err, "fraction_delegated": frac, "first_call_ms": first_ms}
            except Exception as e:  # noqa: BLE001 - reported, the other engines still run
                notes[label] = {"error": f"{type(e).__name__}: {e}"}
        times = {k: [] for k in engines}
        order = list(engines)
        for k in order:
            for _ in range(args.warmup):
                engines[k](*inputs[k])
        for round_ in interleaved_rounds(order, args.runs):
            for k in round_:
                t0 = time.perf_counter()
                engines[k](*inputs[k])
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        row = {"median_ms": med, "notes": notes}
        if "portable" in med:
            row["over_portable"] = {k: v / med["portable"] for k, v in med.items()}
        if "xnnpack" in med and "vulkan" in med:
            row["vulkan_over_xnnpack"] = med["vulkan"] / med["xnnpack"]
        if "vulkan16" in med and "vulkan" in med:
            row["vulkan16_over_vulkan"] = med["vulkan16"] / med["vulkan"]
        results["models"][name] = row
        print(f"{name}:")
        for k in configs:
            k = k[0]
            n = notes.get(k, {})
            if k in med:
                ratio = f"  x{row['over_portable'][k]:.2f} of portable" if "over_portable" in row else ""
                print(f"  {k:9s} {med[k]:9.2f} ms{ratio}  max|err| {n['max_abs_err']:.2e}  "
                      f"delegated {100 * n['fraction_delegated']:.0f}%  first call {n['first_call_ms']:.0f} ms")
            else:
                print(f"  {k:9s} failed: {n.get('error')}")
        if "vulkan_over_xnnpack" in row:
            print(f"  vulkan / xnnpack = {row['vulkan_over_xnnpack']:.2f}")
        if "vulkan16_over_vulkan" in row:
            print(f"  vulkan float16 / float32 = {row['vulkan16_over_vulkan']:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
