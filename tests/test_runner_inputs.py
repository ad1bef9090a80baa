"""Malformed inputs to wick-run and to the Python API are named precisely:
what is wrong, in which file; wick-run never dies of an uncaught exception or
a signal, whatever file it is given."""

from __future__ import annotations

import random
import struct
import subprocess

import numpy as np
import pytest
import torch

import wick


class Conv(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return self.conv(x)


X = np.random.default_rng(0).standard_normal((1, 1, 5, 5), dtype=np.float32)


@pytest.fixture(scope="module")
def program_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("runner") / "conv.wick"
    wick.export(Conv().eval(), (torch.from_numpy(X),)).save(str(path))
    return str(path)


def npy_bytes(header: str, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> bytes:
    h = header.encode()
    if version[0] == 1:
        return b"\x93NUMPY" + bytes(version) + struct.pack("<H", len(h)) + h + data
    return b"\x93NUMPY" + bytes(version) + struct.pack("<I", len(h)) + h + data


def run_with_input(wick_run, program_path, path) -> subprocess.CompletedProcess:
    res = subprocess.run([wick_run, program_path, "--input", str(path)], capture_output=True, text=True,
                         errors="replace", timeout=60)
    assert res.returncode in (0, 1), f"wick-run died with {res.returncode}: {res.stderr}"
    return res


def test_a_valid_input_runs(wick_run, program_path, tmp_path):
    np.save(tmp_path / "x.npy", X)
    assert run_with_input(wick_run, program_path, tmp_path / "x.npy").returncode == 0


@pytest.mark.parametrize("name, content, message", [
    ("dir", None, "is a directory, not a .npy file"),
    ("uint16.npy", "uint16", r"has dtype '<u2' \(uint16\), which Wick does not support; supported: float32"),
    ("noshape.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, }\n", b"\0" * 100),
     "has no 'shape' in its header"),
    ("version9.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", b"\0" * 4, (9, 0)),
     r"is .npy format version 9.0, which wick-run does not read \(it reads versions 1.0, 2.0 and 3.0\)"),
    ("huge.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 4611686018427387904), }\n",
                           b"\0" * 64), r"larger than the 64 bytes of data it holds"),
    ("overflow.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n"),
     "which is not a tuple of sizes"),
    ("negative.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 5), }\n"),
     "which is not a tuple of sizes"),
    ("short.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 5, 5), }\n", b"\0" * 8),
     "larger than the 8 bytes of data it holds"),
    ("truncated.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n")[:20],
     r"is truncated: its header says \d+ bytes"),
    ("bigendian.npy", "big", "is big-endian"),
    ("empty.npy", b"", "is not a .npy file"),
    ("wrongrank.npy", "rank2", "must have rank 4, got 2"),
])
def test_a_malformed_input_is_named(wick_run, program_path, tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        path.mkdir()
    elif content == "uint16":
        np.save(path, X.astype(np.uint16))
    elif content == "big":
        np.save(path, X.astype(">f4"))
    elif content == "rank2":
        np.save(path, X.reshape(5, 5))
    else:
        path.write_bytes(content)
    res = run_with_input(wick_run, program_path, path)
    assert res.returncode == 1
    assert res.stderr.startswith("wick-run: ") and str(path) in res.stderr, res.stderr
    assert __import__("re").search(message, res.stderr), res.stderr


def test_mutated_npy_files_never_crash_wick_run(wick_run, program_path, tmp_path):
    np.save(tmp_path / "x.npy", X)
    good = (tmp_path / "x.npy").read_bytes()
    rng = random.Random(7)
    path = tmp_path / "m.npy"
    for _ in range(40):
        b = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(min(len(b), 128))  # the header, where parsing happens
            b[i] = rng.randrange(256)
        path.write_bytes(bytes(b[: rng.randrange(len(b) + 1)] if rng.random() < 0.3 else b))
        run_with_input(wick_run, program_path, path)


def test_python_api_names_an_unsupported_dtype(program_path):
    method = wick.runtime.load(program_path).method("forward")
    with pytest.raises(wick.WickError, match=r"input 0 of method 'forward' has dtype uint16, which Wick does not "
                                             r"support \(supported: float32.*\); the method expects float32"):
        method(X.astype(np.uint16))
    with pytest.raises(wick.WickError, match="input 0 of method 'forward' must have rank 4, got 2"):
        method(X.reshape(5, 5))


def test_wick_run_cli_names_a_directory_or_unreadable_input(program_path, tmp_path, capsys):
    from wick import cli

    assert cli.main(["run", program_path, "--input", str(tmp_path)]) == 1
    assert f"input '{tmp_path}' is a directory" in capsys.readouterr().err
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"\x93NUMPY\x09\x00garbage")
    assert cli.main(["run", program_path, "--input", str(bad)]) == 1
    assert f"cannot read input '{bad}'" in capsys.readouterr().err
