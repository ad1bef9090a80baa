"""The environment block of a report: what was certified, with what, where, when."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import subprocess


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _wick_source_dir() -> str | None:
    """Where the installed Wick was built from (pip's direct_url.json), or None."""
    try:
        from importlib.metadata import distribution

        text = distribution("wick").read_text("direct_url.json")
        url = json.loads(text or "{}").get("url", "")
        return url[len("file://"):] if url.startswith("file://") else None
    except Exception:  # noqa: BLE001 - metadata may be absent
        return None


def git_commit(path: str | None) -> str | None:
    for where in filter(None, [path]):
        try:
            res = subprocess.run(["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True,
                                 timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if res.returncode == 0:
            dirty = subprocess.run(["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=10).stdout.strip()
            return res.stdout.strip() + ("+dirty" if dirty else "")
    return None


def file_sha256(path: str | None) -> str | None:
    """sha256 of a file's bytes (a runtime library), or None when there is none."""
    if not path or not os.path.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def collect(backend: dict, worker_env: dict) -> dict:
    import wick
    from wick import runtime
    from wick.delegate_sdk import SDK_API_VERSION

    return {
        "backend": {**backend, "available": worker_env.get("backend_available"),
                    "unavailable_reason": worker_env.get("backend_unavailable_reason") or None,
                    "device": worker_env.get("backend_device") or None},
        "wick_version": wick.__version__,
        "sdk_api_version": SDK_API_VERSION,
        "program_schema_version": runtime.SCHEMA_VERSION,
        "backend_abi_version": runtime.BACKEND_ABI_VERSION,
        # The Wick runtime that ran the cases (its Python module holds it).
        "wick_runtime": runtime._runtime.__file__,
        "wick_runtime_sha256": file_sha256(runtime._runtime.__file__),
        "torch_version": worker_env.get("torch"),
        "python_version": platform.python_version(),
        "machine": {"platform": platform.platform(), "arch": platform.machine(), "cpu": _cpu_model(),
                    "cpu_count": os.cpu_count()},
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "wick_commit": git_commit(_wick_source_dir()),
        "core_aten_ops": worker_env.get("core_aten_ops", []),
    }
