"""Threads sharing one program (README "Threads"): a shared method serializes
its calls, so every output equals the single-threaded one; independent
method instances run in parallel, each in its own memory.

`backend` is parametrized so the same checks run on a plugin's delegates:
"portable" runs the program undelegated; WICK_TEST_BACKENDS=xnnpack,vulkan
adds those backends (skipped when a plugin is not installed).
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import torch

import wick

THREADS = 8
CALLS = 2_000
BACKENDS = ["portable", *filter(None, os.environ.get("WICK_TEST_BACKENDS", "").split(","))]


class SmallNet(torch.nn.Module):
    """Small enough that 16,000 calls stay fast, deep enough that two calls
    interleaving in one arena would corrupt each other's intermediates."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc1 = torch.nn.Linear(32, 64)
        self.fc2 = torch.nn.Linear(64, 64)
        self.fc3 = torch.nn.Linear(64, 8)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x))))).softmax(-1)


def export_program(backend: str) -> bytes:
    model = SmallNet().eval()
    example = (torch.randn(4, 32),)
    if backend == "portable":
        return wick.export(model, example).buffer
    try:
        return wick.export(model, example, backends=[backend]).buffer
    except Exception as e:  # the plugin is not installed here
        pytest.skip(f"backend '{backend}' not usable here: {e}")


# One distinct input per thread: interleaved calls would mix them up.
INPUTS = [np.random.default_rng(t).standard_normal((4, 32), dtype=np.float32) for t in range(THREADS)]


def run_threads(work) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def body(t):
        try:
            start.wait()
            work(t)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return errors


def expected_outputs(data: bytes) -> list[np.ndarray]:
    """Single-threaded outputs (and a check that they match eager PyTorch)."""
    method = wick.runtime.load(data).method("forward")
    outs = [np.asarray(method(x)[0]) for x in INPUTS]
    with torch.no_grad():
        for x, out in zip(INPUTS, outs):
            np.testing.assert_allclose(out, SmallNet().eval()(torch.from_numpy(x)).numpy(), rtol=1e-4, atol=1e-6)
    return outs


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_sharing_one_method_get_single_threaded_outputs(backend):
    data = export_program(backend)
    expected = expected_outputs(data)
    program = wick.runtime.load(data)
    mismatches = [0] * THREADS

    def work(t):
        method = program.method("forward")  # the one cached, shared instance
        for _ in range(CALLS):
            if not np.array_equal(np.asarray(method(INPUTS[t])[0]), expected[t]):
                mismatches[t] += 1

    errors = run_threads(work)
    assert not errors, errors
    assert mismatches == [0] * THREADS


@pytest.mark.parametrize("backend", BACKENDS)
def test_independent_instances_run_in_parallel_with_single_threaded_outputs(backend):
    data = export_program(backend)
    expected = expected_outputs(data)
    program = wick.runtime.load(data)
    instances = [program.new_method("forward") for _ in range(THREADS)]
    shared = program.method("forward")
    assert all(m is not shared for m in instances) and len({id(m) for m in instances}) == THREADS
    mismatches = [0] * THREADS

    def work(t):
        method = instances[t]
        for _ in range(CALLS // 4):
            if not np.array_equal(np.asarray(method(INPUTS[t])[0]), expected[t]):
                mismatches[t] += 1

    errors = run_threads(work)
    assert not errors, errors
    assert mismatches == [0] * THREADS


def test_program_method_is_one_cached_instance_and_new_method_is_not():
    program = wick.runtime.load(export_program("portable"))
    assert program.method("forward") is program.method("forward")
    assert program.new_method("forward") is not program.new_method("forward")


def test_an_instance_outlives_its_program_object():
    data = export_program("portable")
    expected = expected_outputs(data)
    method = wick.runtime.load(data).new_method("forward")  # the Program object is dropped here
    np.testing.assert_array_equal(np.asarray(method(INPUTS[0])[0]), expected[0])
