"""wick.conformance — the certification suite for backend plugins (see docs/conformance.md).

    wick conformance --backend NAME [--level N] [-k FILTER] [--out DIR]     # command line
    pytest --wick-backend NAME [--wick-level N] [-k FILTER]                 # inside a test run

    from wick.conformance import RunConfig, run, report
    rep = run(RunConfig(backend="xnnpack", level=2))      # the JSON report as a dict
    report.write_all(rep, "out/")                         # report.json, report.xml, report.html

Modules: ``catalog`` (the cases), ``tolerances`` (the policy), ``compare``
(error metrics), ``worker`` (runs one case in a subprocess), ``runner`` (the
worker pool: crashes and hangs become verdicts), ``report`` (JSON, JUnit,
HTML, console), ``cli``, ``pytest_plugin``. Importing this package is cheap:
torch is imported by the workers, not here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RunConfig", "run", "catalog", "report", "tolerances"]


def __getattr__(name: str) -> Any:
    import importlib

    if name in ("RunConfig", "run", "RunError"):
        return getattr(importlib.import_module(".runner", __name__), name)
    if name in ("catalog", "report", "tolerances", "compare", "runner", "worker"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'wick.conformance' has no attribute {name!r}")
