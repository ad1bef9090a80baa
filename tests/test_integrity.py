"""Checksums (docs/format.md, "Integrity"): a flipped bit anywhere in a
program file is an error at load, naming what is damaged, never different
numbers; the check can be skipped; files written before checksums load
unverified."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

import wick
from wick import program_builder


def load_error(data: bytes) -> str | None:
    try:
        wick.runtime.load(data)
    except wick.WickError as e:
        assert e.code == "InvalidProgram", e
        return e.message
    return None


def test_every_97th_byte_flipped_in_small_cnn_is_a_load_error(exported):
    _, _, program, _ = exported("small_cnn")
    data = program.buffer
    assert load_error(data) is None
    kinds: dict[str, int] = {}
    silent = []
    bad = bytearray(data)
    for i in range(0, len(data), 97):
        bad[i] ^= 1 << (i % 8)  # one bit, a different one from byte to byte
        message = load_error(bytes(bad))
        bad[i] = data[i]
        if message is None:
            silent.append(i)
            continue
        kind = "checksum" if "checksum" in message else "padding" if "padding" in message else "structure"
        kinds[kind] = kinds.get(kind, 0) + 1
    assert not silent, f"flipping a bit at these offsets loaded without an error: {silent[:20]}"
    # Almost every byte is weights: the segment checksum must be what catches them.
    assert kinds["checksum"] > 0.95 * sum(kinds.values()), kinds


def constant_segment_range(data: bytes) -> tuple[int, int]:
    from wick.fb import Program

    prog = Program.Program.GetRootAs(data, 0)
    seg = prog.Segments(0)
    start = prog.SegmentBase() + seg.Offset()
    return start, start + seg.Size()


def test_a_damaged_weight_names_its_segment_and_the_check_can_be_skipped(exported):
    model, inputs, program, _ = exported("small_cnn")
    data = bytearray(program.buffer)
    start, end = constant_segment_range(bytes(data))
    data[(start + end) // 2] ^= 0x10
    with pytest.raises(wick.WickError, match=r"segment 0 \(constant tensors of method 'forward'\) fails its checksum"):
        wick.runtime.load(bytes(data))
    # Skipped: the structure is still verified, the damaged weight is not.
    out = wick.runtime.load(bytes(data), verify_checksums=False).method("forward")(*inputs)[0]
    assert out.shape == model(*inputs).shape


def test_damaged_metadata_is_reported_before_the_flatbuffer_is_read(exported):
    _, _, program, _ = exported("small_cnn")
    data = bytearray(program.buffer)
    data[40] ^= 1
    with pytest.raises(wick.WickError, match=r"its metadata \(bytes 0 to \d+\) fail their checksum"):
        wick.runtime.load(bytes(data))


def test_missing_footer_is_named():
    data = wick.export(torch.nn.Linear(4, 2).eval(), (torch.randn(1, 4),)).buffer
    with pytest.raises(wick.WickError, match="does not end with the 16-byte checksum footer"):
        wick.runtime.load(data[:-16])


def test_a_file_without_checksums_loads_unverified(monkeypatch):
    model = torch.nn.Linear(4, 2).eval()
    x = torch.randn(1, 4)
    monkeypatch.setattr(program_builder, "_serialize", functools.partial(program_builder._serialize, checksums=False))
    legacy = wick.export(model, (x,)).buffer
    monkeypatch.undo()
    current = wick.export(model, (x,)).buffer
    assert len(current) == len(legacy) + 16
    old = wick.runtime.load(legacy)
    assert not old.has_checksums and wick.runtime.load(current).has_checksums
    np.testing.assert_allclose(np.asarray(old.method("forward")(x)[0]), model(x).detach().numpy(), rtol=1e-5)


def test_wick_run_reports_a_damaged_segment_and_can_skip_the_check(exported, wick_run, tmp_path):
    import subprocess

    _, _, program, _ = exported("small_cnn")
    data = bytearray(program.buffer)
    start, end = constant_segment_range(bytes(data))
    data[start + 100] ^= 0x01
    path = tmp_path / "damaged.wick"
    path.write_bytes(bytes(data))
    res = subprocess.run([wick_run, str(path)], capture_output=True, text=True)
    assert res.returncode == 1 and "segment 0 (constant tensors of method 'forward') fails its checksum" in res.stderr
    res = subprocess.run([wick_run, str(path), "--no-verify-checksums"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
