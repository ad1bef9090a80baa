"""The `wick` command line and the `wick-run` runner, as a user calls them."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import torch

FACTORY = '''
import torch

def make():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.ReLU())
    return model, (torch.randn(2, 6),)
'''


def wick_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "wick.cli", *args], capture_output=True, text=True, **kw)


def test_export_inspect_run_round_trip(tmp_path):
    (tmp_path / "model.py").write_text(FACTORY)
    out = tmp_path / "m.wick"
    res = wick_cli("export", f"{tmp_path / 'model.py'}:make", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert out.stat().st_size > 0 and "arena" in res.stdout

    res = wick_cli("inspect", str(out), "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    method = info["methods"][0]
    assert method["name"] == "forward"
    assert method["ops"] == {"aten::addmm.out": 1, "aten::relu.out": 1}
    assert method["inputs"] == ["float32[2, 6]"]

    res = wick_cli("inspect", str(out))
    assert "method 'forward'" in res.stdout and "aten::addmm.out" in res.stdout

    x = torch.randn(2, 6)
    np.save(tmp_path / "x.npy", x.numpy())
    res = wick_cli("run", str(out), "--input", str(tmp_path / "x.npy"), "--output-dir", str(tmp_path / "o"))
    assert res.returncode == 0, res.stderr
    exec(FACTORY, ns := {})
    model, _ = ns["make"]()
    with torch.no_grad():
        np.testing.assert_allclose(np.load(tmp_path / "o" / "output_0.npy"), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_export_refuses_to_overwrite_without_force(tmp_path):
    (tmp_path / "model.py").write_text(FACTORY)
    out = tmp_path / "m.wick"
    out.write_bytes(b"precious")
    res = wick_cli("export", f"{tmp_path / 'model.py'}:make", "-o", str(out))
    assert res.returncode == 1 and "--force" in res.stderr
    assert out.read_bytes() == b"precious"
    assert wick_cli("export", f"{tmp_path / 'model.py'}:make", "-o", str(out), "--force").returncode == 0
    assert out.read_bytes()[4:8] == b"WICK"


def test_export_with_a_bad_factory_spec_names_it(tmp_path):
    res = wick_cli("export", "nofile.py:make", "-o", str(tmp_path / "m.wick"))
    assert res.returncode == 2 and "nofile.py" in res.stderr


def test_inspect_of_a_non_program_is_an_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.wick"
    bad.write_bytes(b"hello world, not a program")
    res = wick_cli("inspect", str(bad))
    assert res.returncode == 1 and "not a Wick program" in res.stderr and "Traceback" not in res.stderr


def test_wick_run_reports_errors_with_exit_codes(wick_run, tmp_path):
    res = subprocess.run([wick_run], capture_output=True, text=True)
    assert res.returncode == 2 and "usage" in res.stderr
    res = subprocess.run([wick_run, str(tmp_path / "missing.wick")], capture_output=True, text=True)
    assert res.returncode == 1 and "missing.wick" in res.stderr
    res = subprocess.run([wick_run, "x.wick", "--backend-lib", str(tmp_path / "nolib.so")], capture_output=True,
                         text=True)
    assert res.returncode == 1 and "nolib.so" in res.stderr


def test_wick_run_prints_outputs_and_timings(exported, wick_run):
    _, _, _, path = exported("small_cnn")
    res = subprocess.run([wick_run, path, "--iterations", "3", "--warmup", "1"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "output 0: float32 [1, 10]" in res.stdout
    assert "median" in res.stdout and "(3 iterations)" in res.stdout


def test_wick_ops_json_agrees_with_the_runtime_kernel_registry():
    import wick.runtime

    res = wick_cli("ops", "--json")
    assert res.returncode == 0, res.stderr
    table = json.loads(res.stdout)
    assert table["summary"]["core_overloads"] == len(table["ops"]) >= 189
    registered = {name: set(dtypes) for name, dtypes in wick.runtime.registered_kernels()}
    add = next(r for r in table["ops"] if r["op"] == "aten.add.Tensor")
    assert add["kernel"] == "aten::add.out"
    for dtype, cell in add["dtypes"].items():
        assert cell["implemented"] == (dtype in registered["aten::add.out"])
    # the committed coverage results mark tested cells
    assert table["summary"]["cells_tested_passed"] > 1000
