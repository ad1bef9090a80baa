"""Seed corpora for the fuzz harnesses, made at build time from the standard
models (wick.models), never committed.

Program seeds are the standard models' own building blocks at fuzzing size:
libFuzzer's throughput falls with the input's size, and in a multi-MB file
almost every mutation lands in weights, whose bytes no code path depends on.
So: small_cnn whole (1.7 MB, the smallest standard model), tiny_llama's
decoder at a small width, mobilenet_v2's inverted residual block, resnet18's
basic block, the mlp's layers at a small width, plus a two-method program.
The .npy seeds are the standard models' example inputs and one array of each
dtype wick-run reads.

    python fuzz/make_corpus.py OUT_DIR     # writes OUT_DIR/program_loader, OUT_DIR/npy_reader
"""

from __future__ import annotations

import io
import os
import sys

import numpy as np
import torch

import wick
from wick import models


def program_seeds() -> dict[str, bytes]:
    def build(module: torch.nn.Module, *inputs: torch.Tensor) -> bytes:
        torch.manual_seed(0)
        models._randomize_batchnorm_stats(module)
        return wick.export(module.eval(), inputs).buffer

    torch.manual_seed(0)
    seeds = {}
    model, inputs = models.small_cnn()
    seeds["small_cnn"] = wick.export(model, inputs).buffer
    seeds["tiny_llama_small"] = build(models.TinyLlama(vocab=32, dim=16, layers=1, heads=2, hidden=24, max_seq=8),
                                      torch.randint(0, 32, (1, 8)))
    seeds["mobilenet_v2_block"] = build(models.InvertedResidual(8, 8, 1, 2), torch.randn(1, 8, 6, 6))
    seeds["mobilenet_v2_block_stride2"] = build(models.InvertedResidual(4, 8, 2, 3), torch.randn(1, 4, 6, 6))
    seeds["resnet18_block"] = build(models.BasicBlock(4, 8, 2), torch.randn(1, 4, 6, 6))
    seeds["mlp_small"] = build(torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)),
                               torch.randn(1, 8))
    enc = torch.export.export(torch.nn.Linear(4, 4).eval(), (torch.randn(1, 4),))
    dec = torch.export.export(torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Softmax(-1)).eval(),
                              (torch.randn(1, 4),))
    seeds["two_methods"] = wick.to_program(wick.to_edge({"encode": enc, "decode": dec})).buffer
    return seeds


def npy_seeds() -> dict[str, bytes]:
    arrays = {}
    for name, make in models.STANDARD_MODELS.items():
        _, inputs = make()
        arrays[f"{name}_input"] = inputs[0].numpy()
    for dtype in ("float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "bool",
                  "complex64", "complex128"):
        arrays[dtype] = np.arange(6).reshape(2, 3).astype(dtype)
    arrays["scalar"] = np.float32(1.5)
    seeds = {}
    for name, array in arrays.items():
        buf = io.BytesIO()
        np.save(buf, array)
        seeds[name] = buf.getvalue()
    return seeds


def main(out: str) -> None:
    for harness, seeds in (("program_loader", program_seeds()), ("npy_reader", npy_seeds())):
        folder = os.path.join(out, harness)
        os.makedirs(folder, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
        print(f"{folder}: {len(seeds)} seeds, {sum(map(len, seeds.values())):,} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/fuzz/corpus")
