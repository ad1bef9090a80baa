"""A conformance worker: runs cases one at a time for the runner.

Started by ``wick.conformance.runner`` as ``python -m wick.conformance.worker``
so that vendor code that crashes (a segfault, an abort) or hangs takes down
only this process; the runner records the case's verdict and starts another
worker. Protocol: the runner writes one case id per line on stdin; the worker
answers JSON lines on its original stdout: ``{"ready": ...}`` once, then for
each case ``{"stage": ...}`` before every step (so a crash names the step it
happened in) and one ``{"result": ...}``. Anything the vendor's code prints to
stdout goes to stderr instead, so it cannot corrupt the protocol.

``run_case`` is also usable in-process (tests, debugging); it never raises for
a case's failure, only records it.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
import traceback
from typing import Any, Callable

Emit = Callable[[dict], None]

# Verdicts. "fail" always comes with a cause.
PASS, FAIL, NOT_CLAIMED, REFERENCE_UNAVAILABLE, UNAVAILABLE = (
    "pass", "fail", "not_claimed", "reference_unavailable", "unavailable")
CAUSES = ("lowering_failed", "load_failed", "execution_failed", "crashed", "hung", "mismatch")


def _flatten(x: Any) -> list:
    import torch

    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for item in x for t in _flatten(item)]
    return [torch.as_tensor(x)]


def _short(e: BaseException) -> str:
    code = getattr(e, "code", None)
    msg = getattr(e, "message", None) or str(e)
    msg = " ".join(msg.split())
    if len(msg) > 600:
        msg = msg[:600] + " ..."
    return f"{type(e).__name__}{f' [{code}]' if code else ''}: {msg}"


def _time_runs(method, inputs, first_s: float) -> float:
    """Median seconds of a run: the first run's time, plus up to 4 more runs
    when a run is short (cheap, and steadier numbers)."""
    times = [first_s]
    if first_s < 0.02:
        for _ in range(4):
            t = time.perf_counter()
            method(*inputs)
            times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def _output_scales(ep) -> list:
    """For quantized programs: the scale of each output that comes straight
    from a dequantize_per_tensor (None for the others)."""
    import torch

    out_node = next(n for n in ep.graph_module.graph.nodes if n.op == "output")
    scales = []
    dq = {torch.ops.quantized_decomposed.dequantize_per_tensor.default}
    for o in out_node.args[0] if isinstance(out_node.args[0], (list, tuple)) else [out_node.args[0]]:
        if hasattr(o, "target") and o.target in dq and isinstance(o.args[1], float):
            scales.append(float(o.args[1]))
        else:
            scales.append(None)
    return scales


def _quantize(module, inputs, backend: str | None, specs: list) -> tuple[Any, str]:
    """PT2E quantization with the backend's quantizer, else the reference one."""
    import torch
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer, source = None, "reference (torchao XNNPACK-style symmetric, per-channel)"
    if backend:
        from wick import plugins

        q = plugins.get(backend).hook.wick_backend_quantizer(compile_specs=specs)
        if q is not None:
            quantizer, source = q.quantizer(), f"{backend}'s quantizer"
    if quantizer is None:
        from torchao.testing.pt2e._xnnpack_quantizer import XNNPACKQuantizer, get_symmetric_quantization_config

        quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    graph = torch.export.export(module, inputs).module()
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        prepared(*inputs)
    return convert_pt2e(prepared), source


def _estimates(lowered) -> list[dict]:
    """The reserved "estimates" entry of each delegate's debug map (the
    engine's own cycle/memory figures, e.g. Vela's), in delegate order."""
    return [dict(d.debug_map["estimates"]) for records in lowered.delegates.values() for d in records
            if isinstance(d.debug_map.get("estimates"), dict)]


def run_case(case, backend: str | None, compile_specs: list | None = None, relaxed: bool = False,
             emit: Emit | None = None) -> dict:
    """Runs one case. ``backend`` None checks only the reference (portable vs
    eager). Returns the result record (JSON-ready)."""
    import torch

    import wick
    from wick.delegate_sdk import CompileSpec

    from .compare import compare, merge
    from .tolerances import tolerance_for

    emit = emit or (lambda msg: None)
    specs = [CompileSpec(k, v.encode() if isinstance(v, str) else v) for k, v in (compile_specs or [])]
    res: dict[str, Any] = {"id": case.id, "verdict": None, "cause": None, "stage": None, "message": "",
                           "claimed_ops": [], "claimed_nodes": 0, "total_nodes": 0, "target_claimed": False,
                           "metrics": None, "reference_check": None, "notes": [], "timings": {}}

    def stage(name: str) -> None:
        res["stage"] = name
        emit({"stage": name})

    def finish(verdict: str, cause: str | None = None, message: str = "") -> dict:
        res.update(verdict=verdict, cause=cause, message=message)
        return res

    # 1. Build, eager reference.
    stage("build")
    try:
        built = case.build()
        module, run_inputs = built.module, tuple(built.inputs)
        if case.kind == "int8":
            module, source = _quantize(module, tuple(x.contiguous() for x in run_inputs), backend, specs)
            res["notes"].append(f"quantized with {source}")
    except ImportError as e:
        return finish(UNAVAILABLE, None, f"this case needs a package that is not installed: {_short(e)}")
    except Exception as e:  # noqa: BLE001 - the suite's own fault: reported, not hidden
        return finish(REFERENCE_UNAVAILABLE, None, f"building the case failed: {_short(e)}")
    # Programs are row-major at their boundary: export from contiguous inputs
    # (except channels_last_export), run with the case's own (maybe channels-last) ones.
    export_inputs = run_inputs if case.family == "channels_last_export" else \
        tuple(x.contiguous() if isinstance(x, torch.Tensor) else x for x in run_inputs)
    input_sets = [run_inputs] + list(built.more_inputs)
    reference_fn = built.eager or module
    with torch.no_grad():
        eager = [_flatten(reference_fn(*inp)) for inp in input_sets]

    # 2. Export and Edge (the suite's side: failures here are not the backend's).
    stage("export")
    t0 = time.perf_counter()
    try:
        ep = torch.export.export(module, export_inputs, dynamic_shapes=built.dynamic_shapes)
        edge_ref = wick.to_edge(ep)
    except Exception as e:  # noqa: BLE001
        return finish(REFERENCE_UNAVAILABLE, None, f"export to the Edge dialect failed: {_short(e)}")
    try:
        # Lowering rewrites the graph in place: the backend gets a copy (a
        # second to_edge would cost ~0.5 s per case; the copy ~2 ms).
        edge_del = copy.deepcopy(edge_ref) if backend else None
    except Exception:  # noqa: BLE001 - an uncopyable graph: decompose again
        edge_del = wick.to_edge(ep)
    res["timings"]["export_s"] = time.perf_counter() - t0
    ops_in_graph = sorted({f"{n.target._schema.name.replace('::', '.')}."
                           f"{n.target._overloadname}" for n in edge_ref.exported_program.graph.nodes
                           if n.op == "call_function" and hasattr(n.target, "_schema")})
    res["graph_ops"] = ops_in_graph
    if case.kind in ("op", "dynamic") and case.op not in ops_in_graph:
        res["notes"].append(f"catalog: {case.op} does not appear in the exported graph ({ops_in_graph})")

    # 3. Lowering with only the backend under test.
    delegated_outputs = None
    if backend:
        stage("lowering")
        t0 = time.perf_counter()
        try:
            lowered = wick.to_edge_and_lower(edge_del, backends=[backend], compile_specs={backend: specs})
            report = lowered.partition_report
            assignments = {n: w for m in report.assignments.values() for n, w in m.items()}
            ops = {n: op for m in report.ops.values() for n, op in m.items()}
            claimed = sorted({ops[n].replace("::", ".") for n, w in assignments.items() if w == backend})
            res["claimed_ops"] = claimed
            res["claimed_nodes"] = sum(1 for w in assignments.values() if w == backend)
            res["total_nodes"] = len(assignments)
            res["target_claimed"] = case.op in claimed
            emit({"claimed": claimed})
            if not claimed:
                res["timings"]["lowering_s"] = time.perf_counter() - t0
                reasons = sorted({r for m in report.reasons.values() for rs in m.values() for r in rs})
                return finish(NOT_CLAIMED, None, "; ".join(reasons)[:300] or f"{backend} claims no node of this case")
            res["estimates"] = _estimates(lowered)
            program = wick.to_program(lowered)
        except Exception as e:  # noqa: BLE001 - vendor partitioner/preprocess
            return finish(FAIL, "lowering_failed", _short(e))
        res["timings"]["lowering_s"] = time.perf_counter() - t0

        stage("delegated load")
        try:
            method = wick.runtime.load(program.buffer).method("forward")
        except Exception as e:  # noqa: BLE001
            return finish(FAIL, "load_failed", _short(e))
        stage("delegated execution")
        try:
            delegated_outputs = []
            for i, inp in enumerate(input_sets):
                t0 = time.perf_counter()
                delegated_outputs.append(_flatten(method(*inp)))
                if i == 0:
                    res["timings"]["delegated_s"] = _time_runs(method, inp, time.perf_counter() - t0)
        except Exception as e:  # noqa: BLE001
            return finish(FAIL, "execution_failed", _short(e))

    # 4. The portable-only reference, checked against eager.
    stage("reference")
    try:
        ref_method = wick.runtime.load(wick.to_program(edge_ref).buffer).method("forward")
        reference = []
        for i, inp in enumerate(input_sets):
            t0 = time.perf_counter()
            reference.append(_flatten(ref_method(*inp)))
            if i == 0:
                res["timings"]["portable_s"] = _time_runs(ref_method, inp, time.perf_counter() - t0)
    except Exception as e:  # noqa: BLE001
        return finish(REFERENCE_UNAVAILABLE, None, f"the portable-kernel reference cannot run this case: {_short(e)}")
    scales = _output_scales(edge_ref.exported_program) if case.dtype == "int8q" else None

    def judge(got_sets: list, want_sets: list) -> dict:
        metrics = []
        for got, want in zip(got_sets, want_sets):
            if len(got) != len(want):
                return {"ok": False, "detail": f"{len(got)} outputs where the reference has {len(want)}",
                        "numel": 0, "mismatches": 0, "nan_mismatches": 0}
            for j, (g, w) in enumerate(zip(got, want)):
                out_dtype = "int8q" if case.dtype == "int8q" else str(w.dtype).replace("torch.", "")
                cls = case.family if case.dtype == "int8q" else case.op_class  # int8q: "pattern" or "model"
                tol = tolerance_for(out_dtype, cls, relaxed)
                scale = scales[j] if scales and j < len(scales) else None
                metrics.append(compare(g.detach().cpu(), w.detach().cpu(), tol, scale))
        return merge(metrics)

    stage("compare")
    ref_check = judge(reference, eager)
    res["reference_check"] = ref_check
    if not ref_check["ok"]:
        return finish(REFERENCE_UNAVAILABLE, None,
                      f"the portable-kernel reference disagrees with eager PyTorch: {ref_check['detail']}")
    if not backend:
        return finish(PASS, None, "reference agrees with eager PyTorch")
    metrics = judge(delegated_outputs, reference)
    res["metrics"] = metrics
    if not metrics["ok"]:
        return finish(FAIL, "mismatch", metrics["detail"])
    return finish(PASS, None, metrics["detail"])


def environment(backend: str | None) -> dict:
    """What the worker knows that the runner does not load: torch, the core
    ATen op set, and whether the backend's runtime half is available here."""
    import torch

    from wick import plugins, runtime
    from wick.edge import core_aten_ops

    ops = sorted(f"{op._schema.name.replace('::', '.')}.{op._overloadname}" for op in core_aten_ops())
    env = {"torch": torch.__version__, "core_aten_ops": ops}
    if backend:
        try:
            why = plugins.register_runtime(plugins.get(backend))
            native = next((b for b in runtime.registered_backends() if b["name"] == backend), None)
            env["backend_available"] = bool(native and native["available"])
            env["backend_unavailable_reason"] = why or (native["reason"] if native else "not registered") or ""
            env["backend_device"] = (native or {}).get("info") or ""
        except Exception as e:  # noqa: BLE001 - vendor code
            env["backend_available"] = False
            env["backend_unavailable_reason"] = _short(e)
    return env


def _memoize_cia_scan() -> None:
    """Speed: every torch.export run_decompositions (one per case, in
    wick.to_edge) scans all CompositeImplicitAutograd operators twice, about a
    third of a small case's time. The result only changes when operators are
    registered, so the worker memoizes it per registry size (a registration
    by a plugin invalidates it). Skipped if torch's internals differ."""
    try:
        import torch
        import torch._export.utils as utils
        import torch.export.decomp_utils as decomp_utils
        import torch.export.exported_program as exported_program
    except ImportError:
        return
    scan = getattr(utils, "_collect_all_valid_cia_ops", None)
    users = [m for m in (utils, decomp_utils, exported_program)
             if getattr(m, "_collect_all_valid_cia_ops", None) is scan]
    if scan is None or not users:
        return
    cache: dict = {}

    def memoized():
        key = (len(torch._C._dispatch_get_all_op_names()), tuple(torch.ops._dir))
        if key not in cache:
            cache.clear()
            cache[key] = scan()
        return set(cache[key])

    for m in users:
        m._collect_all_valid_cia_ops = memoized


def _warm_up() -> None:
    """One tiny export -> Edge -> program -> run before taking cases: the first
    torch.export in a process costs seconds, which must not count against the
    first case's time limit (nor make a fresh worker after a hang look hung)."""
    import torch

    import wick

    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU()).eval()
    x = torch.randn(2, 4)
    try:
        edge = wick.to_edge(torch.export.export(model, (x,)))
        copy.deepcopy(edge)
        wick.runtime.load(wick.to_program(edge).buffer).method("forward")(x)
    except Exception:  # noqa: BLE001 - a broken reference shows up in the cases themselves
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wick.conformance.worker")
    parser.add_argument("--backend", required=True)
    parser.add_argument("--spec", action="append", default=[], help="KEY=VALUE compile spec")
    parser.add_argument("--relaxed", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    # The protocol keeps the original stdout; anything else printed goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(msg: dict) -> None:
        proto.write(json.dumps(msg) + "\n")
        proto.flush()

    import torch

    torch.set_num_threads(args.threads)  # determinism, and the run's CPU budget
    import warnings

    warnings.filterwarnings("ignore")
    from . import catalog

    _memoize_cia_scan()
    cases = catalog.by_id()
    specs = [tuple(s.split("=", 1)) if "=" in s else (s, "") for s in args.spec]
    backend = None if args.backend == ":reference" else args.backend
    _warm_up()
    emit({"ready": environment(backend), "pid": os.getpid()})
    for line in sys.stdin:
        case_id = line.strip()
        if not case_id:
            continue
        case = cases.get(case_id)
        if case is None:
            emit({"result": {"id": case_id, "verdict": REFERENCE_UNAVAILABLE, "cause": None,
                             "message": "unknown case id"}})
            continue
        try:
            result = run_case(case, backend, specs, args.relaxed, emit)
        except Exception:  # noqa: BLE001 - a bug in the suite must not end the run
            result = {"id": case_id, "verdict": REFERENCE_UNAVAILABLE, "cause": None,
                      "message": "internal error in the conformance suite: " +
                                 " ".join(traceback.format_exc().split())[-600:]}
        emit({"result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
