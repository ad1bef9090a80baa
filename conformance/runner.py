"""The runner: a small pool of worker processes, each running one case at a
time, so that a backend that crashes or hangs costs one case, not the run.

    result = run(RunConfig(backend="xnnpack", level=2))   # a dict, the JSON report

A worker that dies during a case makes that case "crashed" (with the signal);
a case that outlives its time limit is "hung" and its worker is killed; in both
cases a fresh worker takes the next case. Workers are long-lived otherwise:
starting one (importing torch and Wick) costs seconds.

The parent process imports neither torch nor the backend's runtime library:
only the plugin's Python descriptor, to fail early on an unknown backend.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from . import catalog as _catalog
from .environment import file_sha256
from .worker import FAIL

DEFAULT_TIMEOUT_S = 60.0
STARTUP_TIMEOUT_S = 180.0


class RunError(RuntimeError):
    """The run itself cannot go on (unknown backend, workers cannot start)."""


@dataclass
class RunConfig:
    backend: str
    level: int = 2
    keyword: str | None = None
    full: bool = False
    relaxed: bool = False
    timeout: float = DEFAULT_TIMEOUT_S     # per case, times the case's time_factor
    jobs: int = 2
    compile_specs: list[tuple[str, str]] = field(default_factory=list)

    def describe(self) -> dict:
        return {"level": self.level, "filter": self.keyword, "full": self.full, "relaxed": self.relaxed,
                "timeout_s": self.timeout, "jobs": self.jobs,
                "compile_specs": [f"{k}={v}" for k, v in self.compile_specs]}


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


class _Worker:
    def __init__(self, cfg: RunConfig, log_dir: str, index: int, sel: selectors.BaseSelector):
        self.log_path = os.path.join(log_dir, f"worker-{index}.log")
        self.log = open(self.log_path, "ab")
        cmd = [sys.executable, "-m", "wick.conformance.worker", "--backend", cfg.backend]
        for k, v in cfg.compile_specs:
            cmd += ["--spec", f"{k}={v}"]
        if cfg.relaxed:
            cmd.append("--relaxed")
        # Own session: a hung worker is killed with everything it started.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.sel = sel
        sel.register(self.proc.stdout, selectors.EVENT_READ, self)
        self.buffer = b""
        self.ready = False
        self.env: dict = {}
        self.started = time.monotonic()
        self.case: _catalog.Case | None = None
        self.deadline = 0.0
        self.dispatched = 0.0
        self.stage: str | None = None
        self.claimed: list[str] = []
        self.log_offset = 0

    def send(self, case: _catalog.Case, limit: float) -> None:
        self.case, self.stage, self.claimed = case, "queued", []
        self.dispatched = time.monotonic()
        self.deadline = self.dispatched + limit
        self.log.flush()
        self.log_offset = os.path.getsize(self.log_path)
        self.proc.stdin.write((case.id + "\n").encode())
        self.proc.stdin.flush()

    def read_messages(self) -> list[dict] | None:
        """Complete messages available now; None at end of file."""
        try:
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return []
        if not chunk:
            return None
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # not ours: the protocol fd only carries JSON lines
        return out

    def stderr_tail(self, lines: int = 6) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        keep = [ln for ln in text.splitlines() if ln.strip() and "Warning" not in ln][-lines:]
        return " | ".join(keep)[-800:]

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.close()

    def close(self) -> None:
        try:
            self.sel.unregister(self.proc.stdout)
        except (KeyError, ValueError):
            pass
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


def _signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return f"signal {-rc}"


class Pool:
    """Runs cases on ``jobs`` workers; results come back through ``on_result``
    in completion order (the caller orders them)."""

    def __init__(self, cfg: RunConfig, log_dir: str | None = None):
        self.cfg = cfg
        self._tmp = None if log_dir else tempfile.TemporaryDirectory(prefix="wick-conformance-")
        self.log_dir = log_dir or self._tmp.name
        os.makedirs(self.log_dir, exist_ok=True)
        self.sel = selectors.DefaultSelector()
        self.workers: list[_Worker] = []
        self.spawned = 0
        self.env: dict = {}
        self.crashes = 0
        self.hangs = 0

    def _spawn(self) -> _Worker:
        w = _Worker(self.cfg, self.log_dir, self.spawned, self.sel)
        self.spawned += 1
        self.workers.append(w)
        return w

    def _limit(self, case: _catalog.Case) -> float:
        return self.cfg.timeout * case.time_factor

    def run(self, cases: list[_catalog.Case], on_result: Callable[[dict], None]) -> None:
        # Longest cases first: the tail of the run is then short cases on both workers.
        pending = deque(sorted(cases, key=lambda c: -c.time_factor))
        startup_failures = 0
        while len(self.workers) < min(self.cfg.jobs, len(pending)):
            self._spawn()
        while pending or any(w.case for w in self.workers):
            for w in self.workers:
                if w.ready and w.case is None and pending:
                    case = pending.popleft()
                    w.send(case, self._limit(case))
            now = time.monotonic()
            deadlines = [w.deadline for w in self.workers if w.case] + \
                        [w.started + STARTUP_TIMEOUT_S for w in self.workers if not w.ready]
            wait = max(0.0, min(deadlines) - now) if deadlines else None
            events = self.sel.select(timeout=min(wait, 1.0) if wait is not None else 1.0)
            for key, _ in events:
                w: _Worker = key.data
                msgs = w.read_messages()
                if msgs is None:
                    self._on_exit(w, on_result)
                    if not w.ready:
                        startup_failures += 1
                        if startup_failures >= 2:
                            raise RunError(f"conformance workers for backend '{self.cfg.backend}' exit while "
                                           f"starting: {w.stderr_tail(12) or 'no output'} (log: {w.log_path})")
                    if pending and len(self.workers) < self.cfg.jobs:
                        self._spawn()
                    continue
                for msg in msgs:
                    if "ready" in msg:
                        w.ready = True
                        self.env = self.env or msg["ready"]
                        startup_failures = 0
                    elif "stage" in msg:
                        w.stage = msg["stage"]
                    elif "claimed" in msg:
                        w.claimed = msg["claimed"]
                    elif "result" in msg and w.case is not None:
                        result = msg["result"]
                        result["wall_s"] = time.monotonic() - w.dispatched
                        w.case = None
                        on_result(result)
            now = time.monotonic()
            for w in list(self.workers):
                if w.case is not None and now > w.deadline:
                    self.hangs += 1
                    limit = self._limit(w.case)
                    on_result({"id": w.case.id, "verdict": FAIL, "cause": "hung", "stage": w.stage,
                               "claimed_ops": w.claimed, "target_claimed": w.case.op in w.claimed,
                               "message": f"no result within the {limit:g} s limit (during {w.stage}); the worker "
                                          f"was killed", "wall_s": now - w.dispatched, "timings": {}})
                    w.case = None
                    w.kill()
                    self.workers.remove(w)
                    if pending:
                        self._spawn()
                elif not w.ready and now > w.started + STARTUP_TIMEOUT_S:
                    w.kill()
                    self.workers.remove(w)
                    raise RunError(f"a conformance worker did not start within {STARTUP_TIMEOUT_S:g} s "
                                   f"(log: {w.log_path})")

    def _on_exit(self, w: _Worker, on_result: Callable[[dict], None]) -> None:
        w.close()
        self.workers.remove(w)
        rc = w.proc.returncode
        if w.case is None:
            return
        self.crashes += 1
        how = _signal_name(rc) if rc < 0 else f"exit status {rc}"
        tail = w.stderr_tail()
        on_result({"id": w.case.id, "verdict": FAIL, "cause": "crashed", "signal": how if rc < 0 else None,
                   "exit_status": rc, "stage": w.stage, "claimed_ops": w.claimed,
                   "target_claimed": w.case.op in w.claimed,
                   "message": f"the worker process died with {how} during {w.stage}"
                              + (f"; its last output: {tail}" if tail else ""),
                   "wall_s": time.monotonic() - w.dispatched, "timings": {}})
        w.case = None

    def close(self) -> None:
        for w in list(self.workers):
            w.kill()
        self.workers.clear()
        self.sel.close()
        if self._tmp:
            self._tmp.cleanup()


def backend_info(name: str) -> dict:
    """The plugin's self-description, from its Python descriptor (no runtime
    library is loaded here). Raises RunError for an unknown or broken plugin."""
    from wick import plugins

    try:
        p = plugins.get(name)
    except LookupError as e:
        raise RunError(str(e)) from None
    d = p.descriptor
    return {"name": d.name, "version": d.version, "sdk_api_version": d.sdk_api_version, "package": p.distribution,
            "package_version": p.distribution_version, "runtime_library": d.runtime_library,
            # Ties the certificate to the binary that was tested.
            "runtime_library_sha256": file_sha256(d.runtime_library),
            "description": d.description, "capabilities": d.capabilities}


def run(cfg: RunConfig, progress: Callable[[int, int, dict], None] | None = None,
        cases: list | None = None, log_dir: str | None = None) -> dict:
    """Runs the selection of ``cfg`` (or ``cases``) and returns the report
    dict (see wick.conformance.report.build)."""
    from . import environment, report

    if cfg.level not in (1, 2, 3):
        raise RunError(f"--level must be 1, 2 or 3, got {cfg.level}")
    info = backend_info(cfg.backend)
    selected = cases if cases is not None else _catalog.select(cfg.level, cfg.keyword, cfg.full)
    results: dict[str, dict] = {}
    start = time.monotonic()

    def collect(result: dict) -> None:
        results[result["id"]] = result
        if progress:
            progress(len(results), len(selected), result)

    pool = Pool(cfg, log_dir)
    try:
        pool.run(selected, collect)
        worker_env = pool.env
    finally:
        pool.close()
    env = environment.collect(info, worker_env)
    return report.build(cfg, env, selected, results, time.monotonic() - start)
