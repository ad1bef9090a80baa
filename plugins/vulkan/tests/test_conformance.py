"""Certification on this machine's Vulkan device (lavapipe in CI): the shared
conformance suite at Level 2, run exactly as a vendor would run it."""

from __future__ import annotations

import json
import subprocess
import sys


def test_level_2_conformance_passes(vulkan, tmp_path):
    out = tmp_path / "report"
    res = subprocess.run([sys.executable, "-m", "wick.cli", "conformance", "--backend", "vulkan", "--level", "2",
                          "--out", str(out)], capture_output=True, text=True, timeout=1800)
    report = json.loads((out / "report.json").read_text())
    failures = [(f["id"], f["cause"], f["message"]) for f in report["failures"]]
    assert report["verdict"] == "PASS" and res.returncode == 0, (failures, res.stdout[-2000:], res.stderr[-2000:])
    assert report["tolerance"]["mode"] == "strict"
    level2 = report["levels"]["2"]
    # the three standard models this plugin is for were claimed, not skipped
    claimed_models = {c["op"] for c in report["cases"] if c["kind"] == "model" and c["verdict"] == "pass"}
    assert {"mobilenet_v2", "resnet18", "tiny_llama"} <= claimed_models
    assert level2["claimed"] >= 100 and level2["failed"] == 0
