"""Certification on the TOSA reference model: the shared conformance suite at
Level 1 (every claimed op case), plus the int8 small_cnn model case whose
report must carry Vela's estimates, run as a vendor would run them."""

from __future__ import annotations

import json
import subprocess
import sys


def _conformance(tmp_path, name, *args):
    out = tmp_path / name
    res = subprocess.run([sys.executable, "-m", "wick.cli", "conformance", "--backend", "arm_ethos", "--out",
                          str(out), *args], capture_output=True, text=True, timeout=1800)
    report = json.loads((out / "report.json").read_text())
    return res, report, out


def test_level_1_conformance_passes(tmp_path):
    res, report, _ = _conformance(tmp_path, "l1", "--level", "1")
    failures = [(f["id"], f["cause"], f["message"]) for f in report["failures"]]
    assert report["verdict"] == "PASS" and res.returncode == 0, (failures, res.stdout[-2000:], res.stderr[-2000:])
    assert report["tolerance"]["mode"] == "strict"
    assert report["levels"]["1"]["claimed"] >= 40  # conv, linear, pooling, add/mul, clamp, ... in int8 and float32


def test_int8_model_case_passes_and_reports_vela_estimates(tmp_path):
    res, report, out = _conformance(tmp_path, "int8", "--level", "3", "-k", "int8q and small_cnn")
    [case] = report["structured"]
    assert case["verdict"] == "pass", case["message"]
    [estimate] = case["estimates"]
    assert estimate["by"].startswith("Vela ") and estimate["npu_cycles"] > 0 and estimate["sram_used_kib"] > 0
    assert "npu_cycles" in (out / "report.html").read_text()
