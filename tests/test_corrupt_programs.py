"""Bad program files get an error code, never a crash or a hang: specific
corruptions with their messages, then a corpus of over 1,000 mutated files
through the Python runtime and a sample through wick-run."""

from __future__ import annotations

import random
import subprocess

import pytest
import torch

import wick
from wick import program_builder


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(2, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        return self.fc(y.flatten(1)).softmax(-1)


INPUT = torch.randn(1, 2, 4, 4, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def program() -> bytes:
    return wick.export(Tiny().eval(), (INPUT,)).buffer


def load_and_run(data: bytes) -> str:
    """'ok' or the error code; anything else (a crash) ends the test process."""
    try:
        method = wick.runtime.load(data).method("forward")
        method(INPUT)
        return "ok"
    except wick.WickError as e:
        return e.code


def test_intact_program_runs(program):
    assert load_and_run(program) == "ok"


def test_wrong_identifier_is_named(program):
    bad = bytearray(program)
    bad[4:8] = b"NOPE"
    with pytest.raises(wick.WickError, match="file identifier is 'NOPE', expected 'WICK'"):
        wick.runtime.load(bytes(bad))


def test_other_schema_version_is_refused_with_both_versions(monkeypatch):
    monkeypatch.setattr(program_builder, "SCHEMA_VERSION", 99)
    data = wick.export(Tiny().eval(), (INPUT,)).buffer
    with pytest.raises(wick.WickError, match="schema version 99 .* reads version 1"):
        wick.runtime.load(data)


def test_truncated_file_reports_the_segment(program):
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load(program[: len(program) - 100])
    assert info.value.code == "InvalidProgram"
    assert "segment" in info.value.message


def test_out_of_range_value_index_is_refused(monkeypatch):
    real = program_builder._MethodBuilder._kernel_call

    def corrupt(self, op_name, args):
        real(self, op_name, [*args[:-1], 10_000])

    monkeypatch.setattr(program_builder._MethodBuilder, "_kernel_call", corrupt)
    data = wick.export(Tiny().eval(), (INPUT,)).buffer
    with pytest.raises(wick.WickError, match="kernel argument index out of range"):
        wick.runtime.load(data)


def test_empty_and_tiny_inputs(tmp_path):
    for data in (b"", b"WICK", b"\0" * 7):
        with pytest.raises(wick.WickError):
            wick.runtime.load(data)
    empty = tmp_path / "empty.wick"
    empty.write_bytes(b"")
    with pytest.raises(wick.WickError, match="empty"):
        wick.runtime.load(empty)


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0:  # truncate anywhere
        return bytes(b[: rng.randrange(len(b))])
    if kind == 1:  # flip a few bits in the flatbuffer part (where indices live)
        header_end = int.from_bytes(b[0:4], "little") + 4096
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(min(len(b), header_end))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if kind == 2:  # overwrite a random 4- or 8-byte word with an extreme value
        i = rng.randrange(len(b) - 8)
        width = rng.choice([4, 8])
        b[i:i + width] = rng.choice([0, 1, 0x7F, 0xFF]).to_bytes(1, "little") * width
        return bytes(b)
    if kind == 3:  # random bytes anywhere
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    # splice: duplicate or drop a chunk
    i, j = sorted(rng.randrange(len(b)) for _ in range(2))
    return bytes(b[:i] + b[j:]) if rng.random() < 0.5 else bytes(b[:j] + b[i:j] + b[j:])


def test_mutated_corpus_never_crashes_the_python_runtime(program):
    rng = random.Random(1234)
    verdicts: dict[str, int] = {}
    for _ in range(1200):
        verdict = load_and_run(mutate(program, rng))
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
    # Most mutations must be caught as corrupt programs, not silently accepted.
    assert verdicts.get("InvalidProgram", 0) > 600, verdicts


def test_mutated_corpus_never_crashes_wick_run(program, wick_run, tmp_path):
    rng = random.Random(99)
    path = tmp_path / "m.wick"
    for _ in range(60):
        path.write_bytes(mutate(program, rng))
        res = subprocess.run([wick_run, str(path)], capture_output=True, text=True, errors="replace", timeout=30)
        assert res.returncode in (0, 1), f"wick-run died with {res.returncode}: {res.stderr}"
        if res.returncode == 1:
            assert res.stderr.startswith("wick-run: "), res.stderr


def test_misaligned_int64_sizes_are_refused(program):
    """A fuzzer finding: the flatbuffers verifier checks a vector's length
    field, not the alignment of 8-byte elements; reading them misaligned is
    undefined behaviour. Point the input tensor's sizes 4 bytes further."""
    from wick.fb import Program as FbProgram
    from wick.fb import Tensor as FbTensor

    data = bytearray(program)
    method = FbProgram.Program.GetRootAs(bytes(data), 0).Methods(0)
    value = method.Values(method.Inputs(0))
    tensor = FbTensor.Tensor()
    table = value.Kind()
    tensor.Init(table.Bytes, table.Pos)
    field = tensor._tab.Pos + tensor._tab.Offset(6)  # the `sizes` field: a uoffset to the vector
    uoffset = int.from_bytes(data[field:field + 4], "little")
    assert (field + uoffset + 4) % 8 == 0  # elements 8-byte aligned as written
    data[field:field + 4] = (uoffset + 4).to_bytes(4, "little")
    with pytest.raises(wick.WickError, match="tensor sizes are misaligned"):
        wick.runtime.load(bytes(data), verify_checksums=False)


def test_a_huge_convolution_padding_is_an_error_not_an_overflow(program):
    """A fuzzer finding: a padding near 2^61 overflowed the convolution's
    scratch-size arithmetic at load (undefined behaviour). Set the conv's
    padding list to 2^40."""
    from wick.fb import IntList as FbIntList
    from wick.fb import KernelCall as FbKernelCall
    from wick.fb import Program as FbProgram
    from wick.fb.InstructionKind import InstructionKind

    data = bytearray(program)
    method = FbProgram.Program.GetRootAs(bytes(data), 0).Methods(0)
    for i in range(method.InstructionsLength()):
        ins = method.Instructions(i)
        if ins.KindType() != InstructionKind.KernelCall:
            continue
        call = FbKernelCall.KernelCall()
        table = ins.Kind()
        call.Init(table.Bytes, table.Pos)
        if method.Operators(call.OpIndex()).Name() == b"aten::convolution.out":
            break
    else:
        pytest.fail("no convolution in the program")
    padding = FbIntList.IntList()
    table = method.Values(call.Args(4)).Kind()
    padding.Init(table.Bytes, table.Pos)
    assert padding.ItemsAsNumpy().tolist() == [1, 1]
    start = padding._tab.Vector(padding._tab.Offset(4))
    data[start:start + 16] = (1 << 40).to_bytes(8, "little") * 2
    method = wick.runtime.load(bytes(data), verify_checksums=False).method("forward")
    with pytest.raises(wick.WickError, match="stride, padding and dilation must be at most 1048576"):
        method(INPUT)
