"""Exports standard models for a real-GPU check of wick-vulkan.

Writes, per model and precision, the vulkan-delegated program, its inputs and
eager PyTorch's outputs as .npy, so the check itself needs only `wick-run`,
the plugin library and numpy on the GPU machine (no torch, no Wick Python).

    python plugins/vulkan/bench/gpu_check/export_programs.py OUT_DIR [MODEL...]
"""
import copy
import sys

import numpy as np
import torch

import wick
from wick import models

DEFAULT_MODELS = ["mobilenet_v2", "tiny_llama", "mlp", "small_cnn"]
# float16 copies only where they are large enough to say something.
FLOAT16_MODELS = {"mobilenet_v2", "tiny_llama"}


def _half(model, example):
    return copy.deepcopy(model).half(), tuple(t.half() if t.is_floating_point() else t for t in example)


def export(out_dir: str, names: list[str]) -> None:
    for name in names:
        model, example = getattr(models, name)()
        variants = {"fp32": (model.eval(), example)}
        if name in FLOAT16_MODELS:
            variants["fp16"] = _half(model.eval(), example)
        for precision, (m, inputs) in variants.items():
            with torch.no_grad():
                ref = m(*inputs)
            refs = ref if isinstance(ref, (tuple, list)) else (ref,)
            stem = f"{out_dir}/{name}_{precision}"
            for i, t in enumerate(inputs):
                np.save(f"{stem}_in{i}.npy", t.numpy())
            for i, r in enumerate(refs):
                np.save(f"{stem}_ref{i}.npy", r.float().numpy())
            program = wick.export(m, inputs, backends=["vulkan"])
            program.save(f"{stem}_vulkan.wick")
            print(name, precision, program.partition_report.to_text().splitlines()[0])


if __name__ == "__main__":
    export(sys.argv[1], sys.argv[2:] or DEFAULT_MODELS)
