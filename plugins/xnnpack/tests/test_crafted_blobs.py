"""Crafted delegate blobs get an error, never a crash: the runtime half
validates the whole graph (counts, indices, parameters, shapes between nodes,
sizes against the blob and declared limits) before XNNPACK sees any of it.

The delegate blob of a small exported model (a convolution, a linear layer,
attention-style matmul and softmax) is mutated in place; each mutant is
loaded and run in a child process, which must exit normally whatever the
verdict."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

import wick
from wick.inspect_program import describe


class Small(torch.nn.Module):
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


INPUT = torch.randn(2, 2, 4, 4, generator=torch.Generator().manual_seed(1))

CHILD = textwrap.dedent("""
    import random, sys, torch, wick
    data = bytes(open(sys.argv[1], "rb").read())
    start, size, seed, count = (int(a) for a in sys.argv[2:6])
    x = torch.load(sys.argv[6])
    rng = random.Random(seed)
    verdicts = {}
    for i in range(count):
        b = bytearray(data)
        kind = rng.randrange(4)
        if kind == 0:    # flip bits (flatbuffer offsets, dims, params, ids)
            for _ in range(rng.randint(1, 4)):
                j = start + rng.randrange(size)
                b[j] ^= 1 << rng.randrange(8)
        elif kind == 1:  # an extreme 4- or 8-byte word
            width = rng.choice([4, 8])
            j = start + rng.randrange(size - width)
            b[j:j + width] = rng.choice([0, 1, 0x7F, 0xFF]).to_bytes(1, "little") * width
        elif kind == 2:  # small integers (plausible ids, dims, params)
            j = start + rng.randrange(size - 4)
            b[j:j + 4] = rng.choice([0, 1, 2, 3, 7, 64, 255, 4096]).to_bytes(4, "little")
        else:            # random bytes
            for _ in range(rng.randint(1, 16)):
                b[start + rng.randrange(size)] = rng.randrange(256)
        print(seed, i, flush=True)  # the last line names the mutant that crashed
        try:
            # unverified: with the segment checksums on, every mutant would stop at its CRC
            wick.runtime.load(bytes(b), verify_checksums=False).method("forward")(x)
            verdict = "ran"
        except wick.WickError as e:
            verdict = e.code
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
    print("verdicts", verdicts)
""")


@pytest.fixture(scope="module")
def delegated(tmp_path_factory):
    program = wick.export(Small().eval(), (INPUT,), backends=["xnnpack"])
    data = program.buffer
    blobs = [s for s in describe(data)["segments"]
             if s["size"] > 8 and data[s["offset"] + 4:s["offset"] + 8] == b"WXNN"]
    assert len(blobs) == 1, describe(data)["segments"]
    folder = tmp_path_factory.mktemp("crafted")
    (folder / "p.wick").write_bytes(data)
    torch.save(INPUT, folder / "x.pt")
    return folder, blobs[0]["offset"], blobs[0]["size"]


def test_intact_blob_matches_eager(delegated):
    folder, _, _ = delegated
    out = wick.runtime.load((folder / "p.wick").read_bytes()).method("forward")(INPUT)
    got = torch.as_tensor(out[0] if isinstance(out, (list, tuple)) else out)
    torch.testing.assert_close(got, Small().eval()(INPUT), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_mutated_blobs_never_crash(delegated, seed):
    folder, start, size = delegated
    child = folder / "child.py"
    child.write_text(CHILD)
    env = dict(os.environ, WICK_XNNPACK_THREADS="1")
    res = subprocess.run([sys.executable, str(child), str(folder / "p.wick"), str(start), str(size), str(seed),
                          "150", str(folder / "x.pt")], capture_output=True, text=True, timeout=600, env=env)
    last = res.stdout.strip().splitlines()[-1:] or ["(no output)"]
    assert res.returncode == 0, f"mutant {last[0]} ended the process with {res.returncode}: {res.stderr[-2000:]}"
    assert last[0].startswith("verdicts"), last
    verdicts = eval(last[0][len("verdicts "):], {})  # noqa: S307 - our own child's dict literal
    # The mutations reach the plugin: many are refused by its validation (the
    # rest change weights or unused bytes and run).
    assert verdicts.get("BackendFailed", 0) >= 20, verdicts
