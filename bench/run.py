"""Wick portable kernels vs ExecuTorch 1.5.1 portable flow on the standard models.

    python bench/run.py [--models a,b] [--runs N] [--json out.json] [--core-size]

For each model (wick.models.STANDARD_MODELS, batch 1) in ONE process:

  export   model -> program bytes in memory, torch.export included, once per
           toolchain (Wick: wick.export(...).buffer; ExecuTorch:
           to_edge(torch.export.export(...)).to_executorch().buffer); the order
           alternates between models and both toolchains export a tiny model
           first so neither pays the one-off torch.export warm-up.
  load     program file on disk (page-cached) -> a method ready to execute;
           alternating Wick / ExecuTorch, --load-runs rounds, median.
  latency  one forward call, timed around the execute call only (Python
           runtime of each: wick.runtime Method.__call__ vs ExecuTorch
           Method.execute); rounds alternate Wick / ExecuTorch / eager with the
           order rotated every round; each round takes --wick-per-round Wick
           and eager calls and one ExecuTorch call (ExecuTorch portable is
           2-3 orders of magnitude slower on CNNs); one untimed warm-up call
           each; medians.
  check    each output against eager PyTorch: max |difference|.

Times are taken twice: CPU time (time.thread_time of the calling thread for
load and latency -- Wick, ExecuTorch and eager each run on that one thread --
and time.process_time for export) and wall time (time.perf_counter). The
tables lead with CPU time: on a shared, busy machine the wall time of a call
also counts the time it waited for a core, which stretches ExecuTorch's long
calls far more than Wick's short ones (measured: a 16 ms-CPU ExecuTorch call
took 30-70 ms wall, the difference all run-queue wait in /proc schedstat).
wick-run's own timing is wall time.

Threads: torch.set_num_threads(1) (eager), ExecuTorch's thread pool reset to 1
thread, Wick's runtime is single-threaded. Ratios are Wick / ExecuTorch (< 1:
Wick is faster / smaller); they are the claim, absolute times drift with the
load on this shared machine.

If ExecuTorch cannot be imported, Wick's figures are still reported and the
peer columns say "peer unavailable".
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# Default rounds per model: ExecuTorch portable takes ~1-10 s per CNN call on
# this machine, so the CNNs get few rounds; the whole default run stays within
# ~10 minutes on 2 busy cores.
DEFAULT_ROUNDS = {"mobilenet_v2": 5, "resnet18": 3, "tiny_llama": 10, "mlp": 20, "small_cnn": 20}
DEFAULT_WICK_PER_ROUND = {"mobilenet_v2": 5, "resnet18": 5, "tiny_llama": 3, "mlp": 5, "small_cnn": 5}

# Ops that ExecuTorch 1.5.1's pip Python runtime serves with its *optimized*
# kernel library (libexecutorch_kernels_optimized.so exports opt_<op>_out for
# these; every other op falls back to the portable kernel). There is no
# pure-portable runtime in the wheel, so the report lists how many of each
# model's instructions hit one of these.
ET_OPTIMIZED_OPS = {
    "aten::add", "aten::bmm", "aten::div", "aten::elu", "aten::exp", "aten::_fft_c2r", "aten::_fft_r2c",
    "aten::gelu", "aten::grid_sampler_2d", "aten::le", "aten::linear", "aten::_log_softmax", "aten::mm",
    "aten::mul", "aten::native_layer_norm", "aten::sub", "aten::sum", "aten::where",
}


# ----------------------------------------------------------------------------- helpers

def _median(xs):
    return statistics.median(xs) if xs else None


def _quiet():
    """Silence the torchao / ExecuTorch import chatter (warnings and C-level prints stay on stderr)."""
    warnings.filterwarnings("ignore")
    import logging
    logging.getLogger("torch").setLevel(logging.ERROR)
    logging.getLogger("torchao").setLevel(logging.ERROR)


def machine_info() -> dict:
    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cores": os.cpu_count(), "python": platform.python_version()}
    try:
        for line in subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
    except OSError:
        info["cpu"] = platform.processor()
    try:
        info["loadavg_start"] = os.getloadavg()
    except OSError:
        pass
    try:
        info["repo_commit"] = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                             stdout=subprocess.PIPE, text=True).stdout.strip()
    except OSError:
        pass
    return info


class Peer:
    """ExecuTorch, or the reason it is unavailable."""

    def __init__(self):
        self.available = False
        self.reason = ""
        self.version = None
        self.threads = None
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                from executorch.exir import to_edge  # noqa: F401
                from executorch.runtime import Runtime
                self.runtime = Runtime.get()
            from importlib.metadata import version
            self.version = version("executorch")
            self.available = True
        except Exception as e:  # ImportError, missing deps, broken wheel: all mean "no peer"
            self.reason = f"{type(e).__name__}: {e}"
            return
        try:
            from executorch.extension.pybindings import portable_lib as pl
            pl._unsafe_reset_threadpool(1)
            self.threads = pl._threadpool_get_thread_count()
        except Exception as e:
            self.threads = f"unknown ({type(e).__name__})"

    def export(self, model, inputs):
        import torch
        from executorch.exir import to_edge
        et = to_edge(torch.export.export(model, inputs)).to_executorch()
        return et, bytes(et.buffer)

    def load(self, path):
        return self.runtime.load_program(path).load_method("forward")

    @staticmethod
    def call(method, inputs):
        return method.execute(list(inputs))

    @staticmethod
    def describe(et) -> dict:
        plan = et.executorch_program.execution_plan[0]
        ops = Counter()
        for chain in plan.chains:
            for ins in chain.instructions:
                idx = getattr(ins.instr_args, "op_index", None)
                if idx is not None:
                    ops[plan.operators[idx].name] += 1
        optimized = {k: v for k, v in ops.items() if k in ET_OPTIMIZED_OPS}
        return {"planned_bytes": int(sum(plan.non_const_buffer_sizes)),
                "num_instructions": int(sum(ops.values())),
                "ops": dict(ops),
                "ops_on_optimized_kernels": optimized}


def wick_export(model, inputs):
    import wick
    program = wick.export(model, inputs)
    return program, bytes(program.buffer)


def wick_load(path):
    import wick.runtime
    return wick.runtime.load(path).method("forward")


def wick_run_once(wick_run: str, path: str, input_files: list, iterations: int) -> float:
    """One `wick-run` process: 1 warm-up, `iterations` timed executes; returns its median in ms."""
    cmd = [wick_run, path, "--iterations", str(iterations), "--warmup", "1"]
    for f in input_files:
        cmd += ["--input", f]
    proc = subprocess.run(cmd,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"wick-run exit {proc.returncode}: {proc.stdout.strip()[-300:]}")
    m = re.search(r"execute: median ([0-9.]+) ms", proc.stdout)
    if not m:
        raise RuntimeError(f"wick-run printed no timing: {proc.stdout.strip()[-300:]}")
    return float(m.group(1))


def _max_err(out, ref):
    import torch
    a = out[0] if isinstance(out, (list, tuple)) else out
    a = torch.as_tensor(a).detach().to(torch.float64)
    b = ref.detach().to(torch.float64)
    if a.shape != b.shape:
        return float("inf")
    return float((a - b).abs().max())


def _fmt(x, unit="", nd=2):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if x >= 100:
        return f"{x:.0f}{unit}"
    if x >= 10:
        return f"{x:.1f}{unit}"
    return f"{x:.{nd}f}{unit}"


def _ratio(a, b):
    if a is None or b is None or isinstance(a, str) or isinstance(b, str) or b == 0:
        return None
    return a / b


def _fmt_ratio(r):
    return "-" if r is None else f"{r:.3g}"


def _fmt_speed(r):
    """Wick/peer time ratio as words: '54x faster', '1.3x slower'."""
    if r is None:
        return "-"
    if r <= 1:
        return f"{1 / r:.3g}x faster"
    return f"{r:.3g}x slower"


# ----------------------------------------------------------------------------- one model

def bench_model(name, factory, peer: Peer, args, workdir: Path, index: int, log) -> dict:
    import torch

    rounds = args.runs or DEFAULT_ROUNDS.get(name, 5)
    per_round = args.wick_per_round or DEFAULT_WICK_PER_ROUND.get(name, 3)
    res = {"model": name, "rounds": rounds, "wick_per_round": per_round, "wick": {}, "et": {}, "eager": {}}
    model, inputs = factory()
    model.eval()
    with torch.no_grad():
        ref = model(*inputs)
    res["output_shape"] = list(ref.shape)
    peer_ok = peer.available
    if not peer_ok:
        res["et"]["error"] = "peer unavailable"

    # ---- export, order alternating between models
    order = ["wick", "et"] if index % 2 == 0 else ["et", "wick"]
    wick_prog = et_prog = None
    for side in order:
        if side == "wick":
            try:
                c0, t0 = time.process_time(), time.perf_counter()
                wick_prog, buf = wick_export(model, inputs)
                res["wick"]["export_s"] = time.perf_counter() - t0
                res["wick"]["export_cpu_s"] = time.process_time() - c0
                wpath = workdir / f"{name}.wick"
                wpath.write_bytes(buf)
                rep = wick_prog.methods["forward"]
                res["wick"].update(file_bytes=len(buf), planned_bytes=int(rep.arena_bytes),
                                   intermediate_bytes=int(rep.intermediate_bytes),
                                   constant_bytes=int(rep.constant_bytes),
                                   num_instructions=int(rep.num_instructions),
                                   ops=dict(getattr(rep, "ops", {}) or {}))
            except Exception as e:
                res["wick"]["error"] = f"export: {type(e).__name__}: {e}"
                log(f"  wick export failed: {res['wick']['error']}")
        elif peer_ok:
            try:
                c0, t0 = time.process_time(), time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    et_prog, buf = peer.export(model, inputs)
                res["et"]["export_s"] = time.perf_counter() - t0
                res["et"]["export_cpu_s"] = time.process_time() - c0
                epath = workdir / f"{name}.pte"
                epath.write_bytes(buf)
                res["et"].update(file_bytes=len(buf), **peer.describe(et_prog))
            except Exception as e:
                res["et"]["error"] = f"export: {type(e).__name__}: {e}"
                log(f"  ExecuTorch export failed: {res['et']['error']}")
    del wick_prog, et_prog
    log(f"  export CPU s: wick {_fmt(res['wick'].get('export_cpu_s'))}, ExecuTorch {_fmt(res['et'].get('export_cpu_s'))}"
        f"  (wall: {_fmt(res['wick'].get('export_s'))} / {_fmt(res['et'].get('export_s'))})")

    wick_ok = "error" not in res["wick"]
    et_ok = "error" not in res["et"]
    wpath, epath = str(workdir / f"{name}.wick"), str(workdir / f"{name}.pte")

    # ---- load, alternating
    wl, el, wlc, elc = [], [], [], []
    for r in range(args.load_runs):
        for side in (("wick", "et") if r % 2 == 0 else ("et", "wick")):
            if side == "wick" and wick_ok:
                try:
                    gc.collect()
                    c0, t0 = time.thread_time(), time.perf_counter()
                    m = wick_load(wpath)
                    wl.append(time.perf_counter() - t0)
                    wlc.append(time.thread_time() - c0)
                    del m
                except Exception as e:
                    res["wick"]["error"] = f"load: {type(e).__name__}: {e}"
                    wick_ok = False
                    log(f"  wick load failed: {res['wick']['error']}")
            elif side == "et" and et_ok:
                try:
                    gc.collect()
                    c0, t0 = time.thread_time(), time.perf_counter()
                    m = peer.load(epath)
                    el.append(time.perf_counter() - t0)
                    elc.append(time.thread_time() - c0)
                    del m
                except Exception as e:
                    res["et"]["error"] = f"load: {type(e).__name__}: {e}"
                    et_ok = False
                    log(f"  ExecuTorch load failed: {res['et']['error']}")
    if wl:
        res["wick"].update(load_ms=_median(wl) * 1e3, load_cpu_ms=_median(wlc) * 1e3)
    if el:
        res["et"].update(load_ms=_median(el) * 1e3, load_cpu_ms=_median(elc) * 1e3)

    # ---- latency: warm-up + correctness, then interleaved rounds
    wm = em = None
    if wick_ok:
        try:
            wm = wick_load(wpath)
            out = wm(*inputs)
            res["wick"]["max_abs_err"] = _max_err(out, ref)
        except Exception as e:
            res["wick"]["error"] = f"run: {type(e).__name__}: {e}"
            wick_ok = False
            log(f"  wick run failed: {res['wick']['error']}")
    if et_ok:
        try:
            em = peer.load(epath)
            out = Peer.call(em, inputs)
            res["et"]["max_abs_err"] = _max_err(out, ref)
        except Exception as e:
            res["et"]["error"] = f"run: {type(e).__name__}: {e}"
            et_ok = False
            log(f"  ExecuTorch run failed: {res['et']['error']}")
    res["ref_max_abs"] = float(ref.abs().max())
    with torch.no_grad():
        model(*inputs)  # eager warm-up

    input_files = []
    if args.wick_run_path:
        import numpy as np
        for k, x in enumerate(inputs):
            f = workdir / f"{name}.input{k}.npy"
            np.save(f, x.detach().numpy())
            input_files.append(str(f))
    wt, et_t, gt, wr = [], [], [], []
    wc, ec, gc_ = [], [], []  # CPU time of the calling thread (all three run on it: 1 thread each)
    sides = ["wick", "et", "eager"] + (["wick-run"] if args.wick_run_path else [])
    for r in range(rounds):
        rot = sides[r % len(sides):] + sides[:r % len(sides)]
        for side in rot:
            if side == "wick-run" and wick_ok and "wick_run_error" not in res["wick"]:
                try:
                    wr.append(wick_run_once(args.wick_run_path, wpath, input_files, per_round))
                except Exception as e:
                    res["wick"]["wick_run_error"] = f"{type(e).__name__}: {e}"
                    log(f"  wick-run failed: {res['wick']['wick_run_error']}")
            if side == "wick" and wick_ok:
                for _ in range(per_round):
                    c0, t0 = time.thread_time(), time.perf_counter()
                    wm(*inputs)
                    wt.append(time.perf_counter() - t0)
                    wc.append(time.thread_time() - c0)
            elif side == "et" and et_ok:
                c0, t0 = time.thread_time(), time.perf_counter()
                Peer.call(em, inputs)
                et_t.append(time.perf_counter() - t0)
                ec.append(time.thread_time() - c0)
            elif side == "eager" and not args.no_eager:
                with torch.no_grad():
                    for _ in range(per_round):
                        c0, t0 = time.thread_time(), time.perf_counter()
                        model(*inputs)
                        gt.append(time.perf_counter() - t0)
                        gc_.append(time.thread_time() - c0)
    for key, xs, cs in (("wick", wt, wc), ("et", et_t, ec), ("eager", gt, gc_)):
        if xs:
            res[key].update(latency_ms=_median(xs) * 1e3, latency_min_ms=min(xs) * 1e3,
                            latency_max_ms=max(xs) * 1e3, latency_samples=len(xs),
                            cpu_ms=_median(cs) * 1e3)
    if wr:
        res["wick"]["wick_run_ms"] = _median(wr)  # median of per-process medians
    del wm, em, model
    gc.collect()
    return res


# ----------------------------------------------------------------------------- report

def _err_cell(side: dict, ref_max: float):
    e = side.get("max_abs_err")
    if e is None:
        return "-"
    ok = e <= 1e-4 * max(1.0, ref_max)
    return f"{e:.1e}" + ("" if ok else " WRONG")


def report(results: list[dict], info: dict, peer: Peer) -> str:
    def side_val(r, side, key):
        s = r[side]
        if key in s:
            return s[key]
        if "error" in s:
            return "peer unavailable" if s["error"] == "peer unavailable" else "failed"
        return None

    lines = []
    lines.append(f"# Wick portable vs ExecuTorch {peer.version or '(unavailable)'} portable flow -- {info['date']}")
    lines.append(f"# machine: {info.get('cpu', '?')}, {info['cores']} cores; load average at start "
                 f"{', '.join(f'{x:.1f}' for x in info.get('loadavg_start', ()))}; threads: eager 1, "
                 f"ExecuTorch {peer.threads if peer.available else '-'}, Wick 1 (single-threaded runtime)")
    if not peer.available:
        lines.append(f"# ExecuTorch UNAVAILABLE ({peer.reason}): peer columns say 'peer unavailable'")
    lines.append("")
    lines.append("Latency per forward call, batch 1, medians. CPU ms = CPU time of the calling thread (all three run on it,")
    lines.append("one thread each): the figure that survives other load on a shared machine; wall ms also counts time spent")
    lines.append("waiting for a core, which stretches long calls (ExecuTorch's) more than short ones. Ratio = Wick / ExecuTorch,")
    lines.append("< 1 means Wick is faster. eager = PyTorch eager, 1 thread. 'WRONG' = max|err| vs eager above")
    lines.append("1e-4 x max(1, max|eager output|).")
    hdr = ["model", "Wick CPU ms", "ET CPU ms", "Wick/ET", "Wick vs ET", "Wick wall ms", "ET wall ms",
           "Wick/ET wall", "wick-run wall ms", "eager CPU ms", "Wick/eager", "Wick max|err|", "ET max|err|",
           "samples W/ET"]
    rows = []
    for r in results:
        w, e = side_val(r, "wick", "latency_ms"), side_val(r, "et", "latency_ms")
        wc, ec, gc_ = side_val(r, "wick", "cpu_ms"), side_val(r, "et", "cpu_ms"), side_val(r, "eager", "cpu_ms")
        wr = r["wick"].get("wick_run_ms", r["wick"].get("wick_run_error") and "failed")
        rows.append([r["model"], _fmt(wc), _fmt(ec), _fmt_ratio(_ratio(wc, ec)), _fmt_speed(_ratio(wc, ec)),
                     _fmt(w), _fmt(e), _fmt_ratio(_ratio(w, e)), _fmt(wr), _fmt(gc_), _fmt_ratio(_ratio(wc, gc_)),
                     _err_cell(r["wick"], r["ref_max_abs"]) if "wick" in r else "-",
                     _err_cell(r["et"], r["ref_max_abs"]) if "et" in r else "-",
                     f"{r['wick'].get('latency_samples', 0)}/{r['et'].get('latency_samples', 0)}"])
    lines += _table(hdr, rows)
    lines.append("")
    lines.append("Export (CPU s of the process, torch.export included; wall s in the JSON), load (CPU ms of the calling")
    lines.append("thread, program file on disk -> executable method), program file and planned non-constant memory (MB)")
    hdr = ["model", "export W s", "export ET s", "W/ET", "load W ms", "load ET ms", "W/ET",
           "file W MB", "file ET MB", "W/ET", "planned W MB", "planned ET MB", "W/ET"]
    rows = []
    for r in results:
        cells = [r["model"]]
        for key, scale in (("export_cpu_s", 1), ("load_cpu_ms", 1), ("file_bytes", 1e-6), ("planned_bytes", 1e-6)):
            w, e = side_val(r, "wick", key), side_val(r, "et", key)
            w = w * scale if isinstance(w, (int, float)) else w
            e = e * scale if isinstance(e, (int, float)) else e
            cells += [_fmt(w), _fmt(e), _fmt_ratio(_ratio(w, e))]
        rows.append(cells)
    lines += _table(hdr, rows)
    errors = [(r["model"], s, r[s]["error"]) for r in results for s in ("wick", "et")
              if "error" in r[s] and r[s]["error"] != "peer unavailable"]
    if errors:
        lines.append("")
        lines.append("Failures:")
        lines += [f"  {m} {('Wick' if s == 'wick' else 'ExecuTorch')}: {msg}" for m, s, msg in errors]
    if peer.available:
        lines.append("")
        lines.append("ExecuTorch instructions served by its optimized kernel library (the pip runtime has no pure-portable build):")
        for r in results:
            opt = r["et"].get("ops_on_optimized_kernels")
            if opt is not None:
                n = sum(opt.values())
                lines.append(f"  {r['model']}: {n} of {r['et'].get('num_instructions')}"
                             + (f" ({', '.join(f'{k.split(chr(58))[-1]} x{v}' for k, v in sorted(opt.items()))})" if opt else ""))
    return "\n".join(lines)


def _table(hdr, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(hdr, widths)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(c).rjust(w) if i else str(c).ljust(w)
                                     for i, (c, w) in enumerate(zip(row, widths))) + " |")
    return out


# ----------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Wick vs ExecuTorch portable: export, load, latency on the standard models")
    ap.add_argument("--models", help="comma-separated subset of the standard models (default: all five)")
    ap.add_argument("--runs", type=int, help="interleaved latency rounds for every model "
                    f"(default per model: {DEFAULT_ROUNDS})")
    ap.add_argument("--wick-per-round", type=int, help="Wick (and eager) calls per round "
                    f"(default per model: {DEFAULT_WICK_PER_ROUND}); ExecuTorch makes one call per round")
    ap.add_argument("--load-runs", type=int, default=5, help="alternating load rounds (default 5)")
    ap.add_argument("--no-eager", action="store_true", help="skip the eager PyTorch latency column")
    ap.add_argument("--no-peer", action="store_true", help="Wick only (as if ExecuTorch were unavailable)")
    ap.add_argument("--no-wick-run", action="store_true",
                    help="skip the C++ runner column (wick-run, one process per round, same inputs)")
    ap.add_argument("--json", help="write every figure to this JSON file")
    ap.add_argument("--core-size", action="store_true", help="also build the kernel-less runtime core and report its size")
    ap.add_argument("--workdir", help="keep the .wick / .pte files here (default: a temporary directory)")
    args = ap.parse_args(argv)

    _quiet()
    import torch
    from wick.models import STANDARD_MODELS
    torch.set_num_threads(1)
    torch.manual_seed(0)

    names = list(STANDARD_MODELS) if not args.models else [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [n for n in names if n not in STANDARD_MODELS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; choose from {list(STANDARD_MODELS)}")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    args.wick_run_path = None if args.no_wick_run else shutil.which("wick-run")
    if not args.no_wick_run and not args.wick_run_path:
        log("wick-run not found on PATH: the wick-run column is left out")
    info = machine_info()
    info["torch"] = torch.__version__
    try:
        from importlib.metadata import version
        info["wick"] = version("wick")
    except Exception:
        info["wick"] = "?"
    peer = Peer() if not args.no_peer else Peer.__new__(Peer)
    if args.no_peer:
        peer.available, peer.reason, peer.version, peer.threads = False, "--no-peer", None, None
    if not peer.available:
        log(f"ExecuTorch unavailable ({peer.reason}): reporting Wick only, peer columns marked 'peer unavailable'")
    info["executorch"] = peer.version
    info["executorch_threads"] = peer.threads
    info["torch_threads"] = torch.get_num_threads()

    tmp = None
    if args.workdir:
        workdir = Path(args.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="wick-bench-")
        workdir = Path(tmp.name)

    # Warm both export pipelines on a tiny model: the first torch.export in a
    # process pays one-off costs that would otherwise land on one side.
    tiny = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU()).eval()
    try:
        wick_export(tiny, (torch.randn(1, 4),))
    except Exception as e:
        log(f"wick warm-up export failed: {type(e).__name__}: {e}")
    if peer.available:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                peer.export(tiny, (torch.randn(1, 4),))
        except Exception as e:
            log(f"ExecuTorch warm-up export failed: {type(e).__name__}: {e}")

    t_start = time.perf_counter()
    results = []
    for i, name in enumerate(names):
        log(f"[{i + 1}/{len(names)}] {name}")
        try:
            results.append(bench_model(name, STANDARD_MODELS[name], peer, args, workdir, i, log))
        except Exception as e:  # a model that cannot even be built: report, go on
            log(f"  {name}: {type(e).__name__}: {e}\n{traceback.format_exc()}")
            results.append({"model": name, "wick": {"error": f"{type(e).__name__}: {e}"},
                            "et": {"error": "not run"}, "eager": {}, "ref_max_abs": 1.0})
        r = results[-1]
        log(f"  latency CPU ms: wick {_fmt(r['wick'].get('cpu_ms'))}  ExecuTorch {_fmt(r['et'].get('cpu_ms'))}"
            f"  eager {_fmt(r['eager'].get('cpu_ms'))}  (wall: {_fmt(r['wick'].get('latency_ms'))} /"
            f" {_fmt(r['et'].get('latency_ms'))} / {_fmt(r['eager'].get('latency_ms'))})")
    info["bench_seconds"] = round(time.perf_counter() - t_start, 1)
    try:
        info["loadavg_end"] = os.getloadavg()
    except OSError:
        pass

    text = report(results, info, peer)
    core = None
    if args.core_size:
        sys.path.insert(0, str(HERE))
        import core_size
        log("building the kernel-less runtime core (-j1)...")
        try:
            core = core_size.measure()
            text += "\n\n" + core_size.to_text(core)
        except Exception as e:
            core = {"error": str(e)}
            text += f"\n\ncore size: build failed: {e}"
    text += f"\n\n(benchmark took {info['bench_seconds']} s; load average at end " \
            f"{', '.join(f'{x:.1f}' for x in info.get('loadavg_end', ()))})"
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"info": info, "peer_available": peer.available,
                                               "peer_reason": peer.reason, "results": results,
                                               "core_size": core}, indent=2, default=str))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
