"""The README's main job: export the five standard models, run each through
the Python runtime and through wick-run, compare with eager PyTorch, and print
a table."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch

from . import export, runtime
from .models import STANDARD_MODELS


def main(out_dir: str = "out/demo") -> int:
    os.makedirs(out_dir, exist_ok=True)
    runner = shutil.which("wick-run")
    rows = []
    ok = True
    for name, factory in STANDARD_MODELS.items():
        model, inputs = factory()
        start = time.perf_counter()
        program = export(model, inputs)
        export_s = time.perf_counter() - start
        path = os.path.join(out_dir, f"{name}.wick")
        program.save(path)
        with torch.no_grad():
            expected = model(*inputs)
        method = runtime.load(path).method("forward")
        method(*inputs)  # warm-up
        start = time.perf_counter()
        got = method(*inputs)[0]
        run_ms = (time.perf_counter() - start) * 1e3
        err = (got - expected).abs().max().item()
        match = torch.allclose(got, expected, rtol=1e-4, atol=1e-5)
        runner_ok = "-"
        if runner:
            in_paths = []
            for i, x in enumerate(inputs):
                p = os.path.join(out_dir, f"{name}_input{i}.npy")
                np.save(p, x.numpy())
                in_paths += ["--input", p]
            res = subprocess.run([runner, path, *in_paths, "--output-dir", out_dir], capture_output=True, text=True)
            if res.returncode == 0:
                ran = np.load(os.path.join(out_dir, "output_0.npy"))
                runner_ok = "yes" if np.allclose(ran, expected.numpy(), rtol=1e-4, atol=1e-5) else "MISMATCH"
            else:
                runner_ok = "FAILED"
        ok &= match and runner_ok in ("yes", "-")
        r = program.methods["forward"]
        rows.append((name, f"{export_s:.1f}", f"{len(program.buffer) / 1e6:.1f}", f"{r.arena_bytes / 1e6:.2f}",
                     f"{r.intermediate_bytes / 1e6:.2f}", f"{run_ms:.2f}", f"{err:.2e}",
                     "yes" if match else "NO", runner_ok))
    head = ("model", "export s", "file MB", "arena MB", "sum tensors MB", "run ms", "max |err|", "match eager",
            "wick-run match")
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    for row in [head, *rows]:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths)))
    print("all outputs match eager PyTorch (rtol 1e-4, atol 1e-5)" if ok else "SOME OUTPUTS DO NOT MATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
