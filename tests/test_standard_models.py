"""All five standard models: export -> program file -> run through Python and
through wick-run -> same numbers as eager PyTorch."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
import torch

import wick
from wick.models import STANDARD_MODELS

from conftest import eager

RTOL, ATOL = 1e-4, 1e-5


@pytest.mark.parametrize("name", list(STANDARD_MODELS))
def test_model_matches_eager_through_python(exported, name):
    model, inputs, _, path = exported(name)
    got = wick.runtime.load(path).method("forward")(*inputs)
    assert len(got) == 1
    torch.testing.assert_close(got[0], eager(model, inputs), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", list(STANDARD_MODELS))
def test_model_matches_eager_through_wick_run(exported, wick_run, tmp_path, name):
    model, inputs, _, path = exported(name)
    args = []
    for i, x in enumerate(inputs):
        np.save(tmp_path / f"in{i}.npy", x.numpy())
        args += ["--input", str(tmp_path / f"in{i}.npy")]
    res = subprocess.run([wick_run, path, *args, "--output-dir", str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    got = torch.from_numpy(np.load(tmp_path / "output_0.npy"))
    torch.testing.assert_close(got, eager(model, inputs), rtol=RTOL, atol=ATOL)


def test_program_loaded_from_bytes_equals_loaded_from_file(exported):
    model, inputs, program, path = exported("small_cnn")
    from_bytes = wick.runtime.load(program.buffer).method("forward")(*inputs)[0]
    from_file = wick.runtime.load(path).method("forward")(*inputs)[0]
    assert torch.equal(from_bytes, from_file)


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet18"])
def test_planned_arena_is_at_most_half_of_all_intermediates(exported, name):
    _, _, program, path = exported(name)
    report = program.methods["forward"]
    assert report.arena_bytes <= 0.5 * report.intermediate_bytes
    # `wick inspect` shows the same figures from the file itself.
    from wick.inspect_program import describe

    with open(path, "rb") as f:
        info = describe(f.read())["methods"][0]
    assert info["arena_bytes"] == report.arena_bytes
    assert info["intermediate_bytes"] == report.intermediate_bytes


def test_constant_segment_is_aligned_for_zero_copy_mapping(exported):
    _, _, program, _ = exported("mlp")
    from wick.inspect_program import describe

    info = describe(program.buffer)
    assert info["segments"], "constants must live in a segment"
    for seg in info["segments"]:
        assert seg["offset"] % info["segment_alignment"] == 0
        assert seg["offset"] + seg["size"] <= len(program.buffer)


def test_transposed_weights_are_folded_ahead_of_time(exported):
    _, _, program, _ = exported("mlp")
    ops = program.methods["forward"].ops
    assert "aten::permute_copy.out" not in ops, "weight transposes must not run at execute time"
    assert program.methods["forward"].folded_nodes == 3


def test_repeated_runs_give_identical_outputs(exported):
    _, inputs, _, path = exported("tiny_llama")
    method = wick.runtime.load(path).method("forward")
    first = method(*inputs)[0].clone()
    second = method(*inputs)[0]
    assert torch.equal(first, second)
