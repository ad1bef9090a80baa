"""Mutation campaign through the standalone runner: N mutants of a delegated
program, each a fresh `wick-run` process; counts how each one ended.

A mutant may run (it changed weights or unused bytes) or be refused with an
error (exit 1); a signal death, an abort or a hang is a finding. Checksums
are skipped (`--no-verify-checksums`) so mutants reach the loader, the
verifier and the backend's blob validation instead of stopping at a CRC.
Half the mutants touch the delegate blob, half the rest of the file.

    python fuzz/mutate_with_runner.py --backend xnnpack --count 10000 [--model tiny] [--seed 1] [--keep-findings DIR]
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

import wick
from wick import models, plugins
from wick.inspect_program import describe


class Tiny(torch.nn.Module):
    """Mostly structure, few weights: a mutation lands in the graph, not in a weight."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(2, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 4 * 4, 8)

    def forward(self, x):
        y = torch.relu(self.conv(x)).flatten(1)
        h = self.fc(y).reshape(2, 8, 1)
        scores = torch.bmm(h, h.transpose(1, 2)).softmax(-1)
        return torch.bmm(scores, h).flatten()


def build(name: str):
    if name == "tiny":
        return Tiny().eval(), (torch.randn(2, 2, 4, 4, generator=torch.Generator().manual_seed(1)),)
    model, example = getattr(models, name)()
    return model.eval(), example


def mutate(data: bytes, rng: random.Random, start: int, size: int) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(4)
    if kind == 0:  # flipped bits: offsets, dims, parameters, ids
        for _ in range(rng.randint(1, 4)):
            j = start + rng.randrange(size)
            b[j] ^= 1 << rng.randrange(8)
    elif kind == 1:  # an extreme 4- or 8-byte word
        width = rng.choice([4, 8])
        j = start + rng.randrange(max(1, size - width))
        b[j:j + width] = rng.choice([0, 1, 0x7F, 0xFF]).to_bytes(1, "little") * width
    elif kind == 2:  # a small, plausible integer
        j = start + rng.randrange(max(1, size - 4))
        b[j:j + 4] = rng.choice([0, 1, 2, 3, 7, 64, 255, 4096]).to_bytes(4, "little")
    else:  # random bytes
        for _ in range(rng.randint(1, 16)):
            b[start + rng.randrange(size)] = rng.randrange(256)
    return bytes(b)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="xnnpack")
    ap.add_argument("--model", default="tiny", help="'tiny' (mostly structure) or a wick.models name")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds before a mutant counts as a hang")
    ap.add_argument("--keep-findings", help="folder for mutants that crashed or hung")
    args = ap.parse_args()

    model, example = build(args.model)
    program = wick.export(model, example, backends=[args.backend])
    data = program.buffer
    info = describe(data)
    blob_segments = {d["segment"] for m in info["methods"] for d in m["delegates"] if d["backend"] == args.backend}
    if not blob_segments:
        sys.exit(f"{args.model} has no delegate call to {args.backend}: nothing to mutate")
    blob = info["segments"][min(blob_segments)]
    start, size = blob["offset"], blob["size"]
    library = plugins.get(args.backend).descriptor.runtime_library
    work = tempfile.mkdtemp(prefix="wick-mutants-")
    for i, t in enumerate(example):
        np.save(os.path.join(work, f"in{i}.npy"), t.numpy())
    inputs = [a for i in range(len(example)) for a in ("--input", os.path.join(work, f"in{i}.npy"))]
    env = dict(os.environ, WICK_XNNPACK_THREADS="1")
    rng = random.Random(args.seed)
    verdicts: collections.Counter[str] = collections.Counter()
    began = time.time()
    for i in range(args.count):
        in_blob = rng.random() < 0.5
        mutant = mutate(data, rng, start, size) if in_blob else mutate(data, rng, 0, len(data))
        path = os.path.join(work, "mutant.wick")
        with open(path, "wb") as f:
            f.write(mutant)
        try:
            res = subprocess.run(["wick-run", path, *inputs, "--backend-lib", library, "--no-verify-checksums"],
                                 capture_output=True, timeout=args.timeout, env=env)
            verdict = {0: "ran", 1: "error"}.get(res.returncode, f"crash (exit {res.returncode})")
        except subprocess.TimeoutExpired:
            verdict = "hang"
        verdicts[verdict] += 1
        if verdict not in ("ran", "error") and args.keep_findings:
            os.makedirs(args.keep_findings, exist_ok=True)
            with open(os.path.join(args.keep_findings, f"mutant-{args.seed}-{i}.wick"), "wb") as f:
                f.write(mutant)
        if (i + 1) % 1000 == 0:
            print(f"{i + 1} mutants, {time.time() - began:.0f} s: {dict(verdicts)}", flush=True)
    findings = sum(n for v, n in verdicts.items() if v not in ("ran", "error"))
    print(f"{args.count} mutants of {args.model} delegated to {args.backend} through wick-run: {dict(verdicts)}; "
          f"{findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
