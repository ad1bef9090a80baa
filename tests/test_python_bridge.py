"""The Python bridge: a backend whose engine is Python code, registered behind
the same C ABI, runs delegates in a Python process; the standalone runner,
which has no Python, names the missing backend."""

from __future__ import annotations

import subprocess
import uuid

import numpy as np
import pytest
import torch

import wick
from wick.delegate_sdk import Backend, Partition, PartitionResult, Partitioner, PreprocessResult

CALLS = {"init": 0, "execute": 0, "destroy": 0}


class TanhPartitioner(Partitioner):
    backend_name = "py_tanh"

    def __init__(self):
        self.backend = TanhBackend()

    def partition(self, ep, claimable):
        parts = [Partition([n.name]) for n in ep.graph.nodes
                 if n.op == "call_function" and n.name in claimable and n.target == torch.ops.aten.tanh.default]
        return PartitionResult(parts)


class TanhBackend(Backend):
    name = "py_tanh"

    def preprocess(self, subgraph, compile_specs):
        return PreprocessResult(b"scale=2")


def _init(blob, specs):
    CALLS["init"] += 1
    assert bytes(blob) == b"scale=2"
    return {"scale": 2.0}


def _execute(handle, args):
    CALLS["execute"] += 1
    x, out = args
    return [np.tanh(x) * handle["scale"] / 2.0]


def _destroy(handle):
    CALLS["destroy"] += 1


@pytest.fixture(scope="module", autouse=True)
def registered():
    if not any(b["name"] == "py_tanh" for b in wick.runtime.registered_backends()):
        wick.runtime.register_python_backend("py_tanh", _init, _execute, _destroy,
                                             is_available=lambda: (True, ""), info=lambda: "numpy tanh")


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.tanh(x)


def test_python_backend_runs_a_delegate():
    x = torch.randn(3, 4)
    program = wick.to_program(wick.to_edge_and_lower(torch.export.export(Model(), (x,)), [TanhPartitioner()]))
    loaded = wick.runtime.load(program.buffer)
    assert loaded.required_backends == ["py_tanh"]
    got = loaded.method("forward")(x)[0]
    torch.testing.assert_close(got, torch.tanh(x))
    assert CALLS["init"] >= 1 and CALLS["execute"] >= 1
    entry = next(b for b in wick.runtime.registered_backends() if b["name"] == "py_tanh")
    assert entry["available"] and entry["info"] == "numpy tanh" and "Python" in entry["source"]


def test_python_backend_errors_become_backend_failed():
    def bad_execute(handle, args):
        raise ValueError("simulator exploded")

    if not any(b["name"] == "py_bad" for b in wick.runtime.registered_backends()):
        wick.runtime.register_python_backend("py_bad", lambda blob, specs: None, bad_execute)
    part = TanhPartitioner()
    part.backend_name = "py_bad"
    x = torch.randn(2)
    program = wick.to_program(wick.to_edge_and_lower(torch.export.export(Model(), (x,)), [part]))
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load(program.buffer).method("forward")(x)
    assert info.value.code == "BackendFailed" and "simulator exploded" in info.value.message


def test_standalone_runner_names_the_python_only_backend(wick_run, tmp_path):
    x = torch.randn(3, 4)
    program = wick.to_program(wick.to_edge_and_lower(torch.export.export(Model(), (x,)), [TanhPartitioner()]))
    path = tmp_path / "m.wick"
    program.save(str(path))
    res = subprocess.run([wick_run, str(path)], capture_output=True, text=True)
    assert res.returncode == 1 and "backend 'py_tanh'" in res.stderr and "not registered" in res.stderr


class ManyTanh(torch.nn.Module):
    """Tanh delegates between portable ops: a method whose bookkeeping is far
    beyond the host's first 64 KiB block."""

    def forward(self, x):
        for _ in range(200):
            x = torch.tanh(x) + 1.0
        return x


def test_each_delegate_is_initialized_exactly_once_per_load():
    name = f"py_once_{uuid.uuid4().hex[:8]}"
    inits = []
    wick.runtime.register_python_backend(name, lambda blob, specs: inits.append(1) or {"scale": 2.0}, _execute)
    part = TanhPartitioner()
    part.backend_name = name
    x = torch.randn(64, 64)
    program = wick.to_program(wick.to_edge_and_lower(torch.export.export(ManyTanh(), (x,)), [part]))
    method = wick.runtime.load(program.buffer).method("forward")
    assert method._native.num_instructions >= 400 and method.runtime_bytes > 64 * 1024
    # No retry: loading sized its memory as it went, so init ran once per call site.
    assert len(inits) == 200
    expected = x
    for _ in range(200):
        expected = torch.tanh(expected) + 1.0
    torch.testing.assert_close(method(x)[0], expected)


def test_more_python_backends_than_the_old_eight_slots_each_get_their_own_context():
    names = [f"py_many_{i}_{uuid.uuid4().hex[:6]}" for i in range(12)]
    for i, name in enumerate(names):
        wick.runtime.register_python_backend(name, lambda blob, specs, i=i: {"scale": float(i)},
                                             lambda handle, args: [np.full_like(args[0], handle["scale"])])
    x = torch.randn(3)
    for i in (0, 7, 11):
        part = TanhPartitioner()
        part.backend_name = names[i]
        program = wick.to_program(wick.to_edge_and_lower(torch.export.export(Model(), (x,)), [part]))
        torch.testing.assert_close(wick.runtime.load(program.buffer)(x)[0], torch.full((3,), float(i)))
