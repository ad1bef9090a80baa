"""Does the thread pool scale reliably? The same program timed in N fresh
processes: per process the median latency, then the slowest median over the
fastest (the issue's bar: within 1.3x at 2 threads).

    python plugins/xnnpack/bench/fresh_processes.py [--models mobilenet_v2,mlp] [--threads 2]
                                                     [--processes 5] [--runs 30] [--json out.json]

Each process loads the program exported once by the parent (so export time
and compilation noise stay out), warms up, then times --runs calls.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import statistics, sys, time, torch, wick
data = open(sys.argv[1], "rb").read()
inputs = torch.load(sys.argv[2])
runs, warmup = int(sys.argv[3]), int(sys.argv[4])
method = wick.runtime.load(data).method("forward")
for _ in range(warmup):
    method(*inputs)
times = []
for _ in range(runs):
    t = time.perf_counter()
    method(*inputs)
    times.append((time.perf_counter() - t) * 1e3)
print(statistics.median(times))
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mobilenet_v2,mlp")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--processes", type=int, default=5)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    import torch

    import wick
    from wick.delegate_sdk import CompileSpec
    from wick.models import STANDARD_MODELS

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            model, inputs = STANDARD_MODELS[name]()
            program = wick.export(model.eval(), inputs, backends=["xnnpack"],
                                  compile_specs={"xnnpack": [CompileSpec.of("threads", args.threads)]})
            path, xpath = os.path.join(tmp, f"{name}.wick"), os.path.join(tmp, f"{name}.pt")
            with open(path, "wb") as f:
                f.write(program.buffer)
            torch.save(inputs, xpath)
            medians = []
            for _ in range(args.processes):
                out = subprocess.run([sys.executable, "-c", CHILD, path, xpath, str(args.runs), str(args.warmup)],
                                     capture_output=True, text=True, check=True)
                medians.append(float(out.stdout.strip().splitlines()[-1]))
            ratio = max(medians) / min(medians)
            results[name] = {"medians_ms": medians, "median_ms": statistics.median(medians),
                             "slowest_over_fastest": ratio}
            print(f"{name:14s} threads={args.threads}  per-process medians (ms): "
                  f"{' '.join(f'{m:.3f}' for m in medians)}  median {statistics.median(medians):.3f}  "
                  f"slowest/fastest {ratio:.2f}x", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "runs": args.runs, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
