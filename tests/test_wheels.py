"""Binary wheels: scripts/build_wheels.sh makes manylinux-tagged, repaired
wheels of wick and a plugin (here one from `wick new-backend`); a fresh
virtual environment without torch installs ONLY those two from dist/ with
--no-index (plus wick's own dependencies, numpy, flatbuffers and pluggy,
downloaded beforehand) and runs a delegated program through `wick.runtime`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
import torch

import wick
from wick.new_backend import generate

REPO = os.path.dirname(os.path.dirname(__file__))


def _run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert res.returncode == 0, " ".join(map(str, cmd)) + "\n" + res.stdout[-3000:] + res.stderr[-3000:]
    return res


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    root = tmp_path_factory.mktemp("wheels")
    generate("whl_be", str(root / "wick-whl-be"))
    env = {**os.environ, "PYTHON": sys.executable, "WICK_DIST": str(root / "dist"), "WICK_WHEEL_PLUGINS": "",
           "WICK_WHEEL_EXTRA": str(root / "wick-whl-be")}
    _run(["bash", os.path.join(REPO, "scripts", "build_wheels.sh")], env=env, cwd=REPO, timeout=1800)
    return root / "dist"


def test_wheels_are_manylinux_and_plugins_carry_no_wick_runtime(dist):
    wheels = sorted(p.name for p in dist.glob("*.whl"))
    assert [w.split("-")[0] for w in wheels] == ["wick", "wick_whl_be"], wheels
    for w in wheels:
        assert "manylinux" in w.split("-")[-1], w
        shown = _run([sys.executable, "-m", "auditwheel", "show", str(dist / w)]).stdout
        assert "manylinux_" in shown, shown
    plugin = next(dist.glob("wick_whl_be-*.whl"))
    with zipfile.ZipFile(plugin) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert any(n.endswith("libwick_whl_be_runtime.so") for n in names)
    assert not [n for n in names if "_runtime.cpython" in n or "libwick_runtime" in n or n.startswith("wick/")]
    assert "Requires-Dist: wick<1,>=0.1" in metadata or "Requires-Dist: wick>=0.1,<1" in metadata


def test_fresh_venv_without_torch_installs_from_dist_and_runs_a_delegated_program(dist, tmp_path):
    # Export here (the exporter needs torch) with the plugin's AOT half from its wheel.
    site = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
          str(next(dist.glob("wick_whl_be-*.whl")))])
    sys.path.insert(0, str(site))
    try:
        from wick import plugins

        plugins.discover(refresh=True)
        model = torch.nn.Sequential(torch.nn.ReLU()).eval()
        x = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
        program = wick.export(model, (x,), backends=["whl_be"])
    finally:
        sys.path.remove(str(site))
        plugins.discover(refresh=True)
    program.save(str(tmp_path / "m.wick"))
    np.save(tmp_path / "x.npy", x.numpy())
    np.save(tmp_path / "expected.npy", torch.relu(x).numpy())

    deps = tmp_path / "deps"
    _run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", str(deps),
          "numpy>=1.26", "flatbuffers>=25.2.10", "pluggy>=1.5"], timeout=600)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(dist), "--find-links",
          str(deps), "wick", "wick-whl-be"], timeout=600)
    script = textwrap.dedent(f"""
        import importlib.util, sys
        import numpy as np
        import wick.runtime
        assert importlib.util.find_spec("torch") is None, "torch is installed"
        program = wick.runtime.load({str(tmp_path / 'm.wick')!r})
        assert program.required_backends == ["whl_be"]
        (y,) = program(np.load({str(tmp_path / 'x.npy')!r}))
        np.testing.assert_allclose(y, np.load({str(tmp_path / 'expected.npy')!r}))
        entry = next(b for b in wick.runtime.registered_backends() if b["name"] == "whl_be")
        print("ok", type(y).__name__, entry["abi"], "torch" in sys.modules)
        """)
    res = _run([str(python), "-c", script], cwd=str(tmp_path))
    assert res.stdout.split() == ["ok", "ndarray", "2.0", "False"]
