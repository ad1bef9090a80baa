"""The real Arm tools, run on a TOSA flatbuffer: the TOSA validator
(``tosa-opt --tosa-validate`` from tosa-tools, against a TOSA 1.0 profile and
level) and Vela (ethos-u-vela), which compiles integer TOSA for an Ethos-U
configuration and estimates its cost.

Both run as subprocesses: they are C++ programs that may abort on input they
reject, and a crash must become an error message, not a dead exporter.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from .rules_light import ACCELERATORS

# Vela's own defaults for each family, the ones Arm's examples use.
DEFAULT_SYSTEM = {
    "ethos-u55": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "ethos-u65": ("Ethos_U65_High_End", "Dedicated_Sram_384KB"),
    "ethos-u85": ("Ethos_U85_SYS_DRAM_Mid", "Sram_Only"),
}


class ToolchainError(Exception):
    pass


def _bin(name: str) -> str:
    here = os.path.join(os.path.dirname(sys.executable), name)
    found = here if os.path.exists(here) else shutil.which(name)
    if not found:
        raise ToolchainError(f"'{name}' is not installed; pip install tosa-tools==2026.8.0")
    return found


def validate(tosa: bytes, profile: str) -> None:
    """Runs the TOSA dialect validator of tosa-tools (``tosa-opt``) on the
    flatbuffer: TOSA 1.0, ``profile`` (pro_int / pro_fp), level 8K, strict
    alignment with the specification. Raises with its diagnostics."""
    with tempfile.TemporaryDirectory(prefix="wick-tosa-") as tmp:
        path = os.path.join(tmp, "graph.tosa")
        empty = os.path.join(tmp, "empty.mlir")
        with open(path, "wb") as f:
            f.write(tosa)
        with open(empty, "w") as f:
            f.write("\n")
        cmd = [_bin("tosa-opt"), f"--tosa-deserialize=tosa-flatbuffer-filename={path}",
               f"--tosa-attach-target=specification_version=1.0 profiles={profile} level=8k",
               "--tosa-validate=strict-op-spec-alignment", empty, "-o", os.devnull]
        res = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        if res.returncode != 0:
            msgs = [ln for ln in res.stderr.splitlines() if "error" in ln]
            raise ToolchainError(f"the TOSA validator rejected the graph ({profile}): " +
                                 "; ".join(msgs[:5] or [res.stderr.strip()[-500:]]))


def vela_compile(tosa: bytes, accelerator: str, system_config: str | None = None,
                 memory_mode: str | None = None, optimise: str = "Performance") -> tuple[bytes, dict[str, Any]]:
    """Compiles the integer TOSA graph with Vela for ``accelerator`` (e.g.
    ethos-u55-128). Returns Vela's raw output (an .npz with the command
    stream, the encoded weights, scratch sizes and I/O layout, as a device
    driver consumes it) and Vela's estimates (from its summary CSV)."""
    if accelerator not in ACCELERATORS:
        raise ToolchainError(f"unknown Ethos-U accelerator '{accelerator}'; one of {', '.join(ACCELERATORS)}")
    family = accelerator.rsplit("-", 1)[0]
    default_sys, default_mem = DEFAULT_SYSTEM[family]
    system_config = system_config or default_sys
    memory_mode = memory_mode or default_mem
    with tempfile.TemporaryDirectory(prefix="wick-vela-") as tmp:
        path = os.path.join(tmp, "graph.tosa")
        with open(path, "wb") as f:
            f.write(tosa)
        out = os.path.join(tmp, "out")
        cmd = [sys.executable, "-m", "ethosu.vela", f"--accelerator-config={accelerator}", "--config=Arm/vela.ini",
               f"--system-config={system_config}", f"--memory-mode={memory_mode}", "--output-format=raw",
               f"--optimise={optimise}", f"--output-dir={out}", path]
        res = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        if res.returncode != 0:
            tail = (res.stderr.strip() or res.stdout.strip())[-1500:]
            raise ToolchainError(f"Vela could not compile the TOSA graph for {accelerator}: {tail}")
        npz = os.path.join(out, "graph_vela.npz")
        if not os.path.exists(npz):
            raise ToolchainError(f"Vela wrote no raw output for {accelerator}: {res.stdout[-800:]}")
        with open(npz, "rb") as f:
            raw = f.read()
        csv_path = os.path.join(out, f"graph_summary_{system_config}.csv")
        estimates = _summary(csv_path) if os.path.exists(csv_path) else {}
    estimates.update({"accelerator": accelerator, "system_config": system_config, "memory_mode": memory_mode,
                      "optimise": optimise, "vela_version": _vela_version()})
    return raw, estimates


# Columns of Vela's summary CSV worth keeping, under stable names.
_KEEP = {
    "inference_time": "inference_time_s",
    "inferences_per_second": "inferences_per_second",
    "npu_cycles": "npu_cycles",
    "sram_access_cycles": "sram_access_cycles",
    "dram_access_cycles": "dram_access_cycles",
    "on_chip_flash_access_cycles": "on_chip_flash_access_cycles",
    "off_chip_flash_access_cycles": "off_chip_flash_access_cycles",
    "total_cycles": "total_cycles",
    "sram_memory_used": "sram_used_kib",
    "dram_memory_used": "dram_used_kib",
    "on_chip_flash_memory_used": "on_chip_flash_used_kib",
    "off_chip_flash_memory_used": "off_chip_flash_used_kib",
    "weights_size": "weights_size_kib",  # may be absent in some Vela versions
    "nn_macs": "nn_macs",
    "nn_tops": "nn_tops",
    "cycles_npu": "npu_cycles",
    "cycles_sram_access": "sram_access_cycles",
    "cycles_dram_access": "dram_access_cycles",
    "cycles_on_chip_flash_access": "on_chip_flash_access_cycles",
    "cycles_off_chip_flash_access": "off_chip_flash_access_cycles",
    "cycles_total": "total_cycles",
    "core_clock": "core_clock_hz",
}


def _summary(path: str) -> dict[str, Any]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    if not rows:
        return {}
    row = rows[-1]
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            continue
        k = key.strip()
        name = _KEEP.get(k)
        if name is None:
            continue
        try:
            num = float(value)
            out[name] = int(num) if num.is_integer() and "time" not in name else num
        except (TypeError, ValueError):
            out[name] = value
    return out


def _vela_version() -> str:
    try:
        from importlib.metadata import version

        return version("ethos-u-vela")
    except Exception:  # noqa: BLE001
        return "?"
