"""Reports: the JSON document (the source of truth), JUnit XML, a
self-contained HTML page, and the one-line console verdict.

Everything but the keys named ``timings``/``wall_s``/``elapsed_s`` and the
environment's ``date`` is a function of the catalog, the backend's outputs and
the tolerance policy: two runs of the same backend give the same report.
"""

from __future__ import annotations

import html
import json
import math
import os
import statistics
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from typing import Any

from . import tolerances
from .catalog import COPY_TO_VIEW
from .worker import FAIL, NOT_CLAIMED, PASS, REFERENCE_UNAVAILABLE, UNAVAILABLE

SCHEMA = "wick.conformance.report/1"
LEVEL_KINDS = {1: ("op",), 2: ("op", "pattern", "model"), 3: ("op", "pattern", "model", "int8", "dynamic")}
LEVEL_TEXT = {1: "every claimed op case", 2: "level 1 plus patterns and float32 models",
              3: "level 2 plus int8 and dynamic shapes"}
NOT_RUN = "not_run"
_METRIC_KEYS = ("numel", "mismatches", "nan_mismatches", "max_abs", "max_rel", "max_ulp", "snr_db", "worst_ratio",
                "detail")


def _f(v: Any) -> float:
    if v is None:
        return -math.inf
    if isinstance(v, str):
        return math.inf if v in ("inf", "nan") else -math.inf
    return float(v)


def _compact(m: dict | None) -> dict | None:
    return None if not m else {k: m.get(k) for k in _METRIC_KEYS}


def _claimed(row: dict) -> bool:
    """Did the backend take part in this case (so that it counts for a level)?"""
    return row["verdict"] in (PASS, FAIL) or (row["verdict"] == REFERENCE_UNAVAILABLE and bool(row["claimed_ops"]))


def _estimates_html(estimates: list[dict] | None) -> str:
    """One line per delegate: the backend's own cost estimates (SDK key "estimates")."""
    return "<br>".join(_e(", ".join(f"{k} {_num(v)}" for k, v in e.items()))
                       for e in estimates or [])


def _case_row(case, r: dict | None) -> dict:
    r = r or {"verdict": NOT_RUN, "message": "the run ended before this case"}
    row = {**case.describe(), "verdict": r.get("verdict"), "cause": r.get("cause"), "signal": r.get("signal"),
           "stage": r.get("stage") if r.get("verdict") == FAIL else None, "message": r.get("message", ""),
           "claimed_ops": r.get("claimed_ops") or [], "target_claimed": bool(r.get("target_claimed")),
           "claimed_nodes": r.get("claimed_nodes"), "total_nodes": r.get("total_nodes"),
           "metrics": _compact(r.get("metrics")), "reference_check": _compact(r.get("reference_check")),
           "notes": r.get("notes") or [], "estimates": r.get("estimates") or [],
           "timings": {**{k: round(v, 6) for k, v in (r.get("timings") or {}).items()},
                       "wall_s": round(r.get("wall_s") or 0.0, 3)}}
    row["failing_ops"] = ([case.op] if case.kind in ("op", "dynamic") else row["claimed_ops"]) \
        if row["verdict"] == FAIL else []
    return row


def _level_verdicts(rows: list[dict], level: int) -> dict:
    out = {}
    for lv in (1, 2, 3):
        if lv > level:
            out[str(lv)] = {"verdict": "NOT RUN", "definition": LEVEL_TEXT[lv]}
            continue
        sel = [r for r in rows if r["level"] <= lv]
        claimed = [r for r in sel if _claimed(r)]
        failed = [r for r in sel if r["verdict"] == FAIL]
        unverified = [r for r in claimed if r["verdict"] == REFERENCE_UNAVAILABLE]
        not_run = [r for r in sel if r["verdict"] == NOT_RUN]
        if failed:
            verdict = "FAIL"
        elif not claimed:
            verdict = "NOTHING CLAIMED"
        elif unverified or not_run:
            verdict = "INCOMPLETE"
        else:
            verdict = "PASS"
        by_kind = {k: {"cases": sum(1 for r in sel if r["kind"] == k),
                       "claimed": sum(1 for r in claimed if r["kind"] == k)} for k in LEVEL_KINDS[lv]}
        out[str(lv)] = {"verdict": verdict, "definition": LEVEL_TEXT[lv], "cases": len(sel), "claimed": len(claimed),
                        "passed": sum(1 for r in sel if r["verdict"] == PASS), "failed": len(failed),
                        "unverified": len(unverified), "not_run": len(not_run), "by_kind": by_kind}
    return out


def _per_op(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "op":
            groups[(r["op"], r["dtype"])].append(r)
    table = []
    for (op, dtype), rs in sorted(groups.items()):
        compared = [r["metrics"] for r in rs if r["metrics"]]
        dele = [r["timings"]["delegated_s"] for r in rs if "delegated_s" in r["timings"]]
        port = [r["timings"]["portable_s"] for r in rs if "portable_s" in r["timings"]]

        def worst(key: str) -> Any:
            vals = [m[key] for m in compared if m.get(key) is not None]
            return max(vals, key=_f) if vals else None

        table.append({
            "op": op, "dtype": dtype, "cases": len(rs), "claimed": sum(1 for r in rs if r["target_claimed"]),
            "passed": sum(1 for r in rs if r["verdict"] == PASS), "failed": sum(1 for r in rs if r["verdict"] == FAIL),
            "not_claimed": sum(1 for r in rs if r["verdict"] == NOT_CLAIMED),
            "unverified": sum(1 for r in rs if r["verdict"] == REFERENCE_UNAVAILABLE),
            "causes": dict(sorted(Counter(r["cause"] for r in rs if r["cause"]).items())),
            "max_abs": worst("max_abs"), "max_ulp": worst("max_ulp"), "worst_ratio": worst("worst_ratio"),
            "failing_cases": [r["id"] for r in rs if r["verdict"] == FAIL],
            "timings": {"delegated_ms_median": round(statistics.median(dele) * 1e3, 4) if dele else None,
                        "portable_ms_median": round(statistics.median(port) * 1e3, 4) if port else None}})
    return table


def _coverage(rows: list[dict], core_ops: list[str]) -> dict:
    ops = [r for r in rows if r["kind"] == "op"]
    pairs = sorted({(r["op"], r["dtype"]) for r in ops})
    claimed_pairs = sorted({(r["op"], r["dtype"]) for r in ops if r["target_claimed"]})
    catalog_ops = sorted({op for op, _ in pairs})
    claimed_ops = sorted({op for op, _ in claimed_pairs})
    dtypes = sorted({d for _, d in pairs})
    claimed_dtypes = sorted({d for _, d in claimed_pairs})
    anywhere = sorted({op for r in rows for op in r["claimed_ops"]})
    core = set(core_ops)
    core_in_selection = sorted({COPY_TO_VIEW.get(op, op) for op in catalog_ops} & core)
    structured = {}
    for kind in ("pattern", "model", "int8", "dynamic"):
        rs = [r for r in rows if r["kind"] == kind]
        if rs:
            structured[kind] = {"cases": len(rs), "claimed": sum(1 for r in rs if _claimed(r)),
                                "nodes_claimed": sum(r["claimed_nodes"] or 0 for r in rs),
                                "nodes_total": sum(r["total_nodes"] or 0 for r in rs)}
    return {
        "ops_claimed": len(claimed_ops), "ops_in_catalog": len(catalog_ops),
        "op_dtype_pairs_claimed": len(claimed_pairs), "op_dtype_pairs_in_catalog": len(pairs),
        "fraction_ops": round(len(claimed_ops) / max(1, len(catalog_ops)), 4),
        "fraction_pairs": round(len(claimed_pairs) / max(1, len(pairs)), 4),
        "dtypes_in_catalog": dtypes, "dtypes_claimed": claimed_dtypes,
        "claimed": {op: sorted(d for o, d in claimed_pairs if o == op) for op in claimed_ops},
        "not_claimed_ops": [op for op in catalog_ops if op not in claimed_ops],
        "matrix": {op: {d: ("claimed" if (op, d) in claimed_pairs else "not claimed")
                        for o, d in pairs if o == op} for op in catalog_ops},
        "claimed_outside_op_cases": [op for op in anywhere if op not in catalog_ops],
        "core_aten_total": len(core), "core_aten_in_catalog": len(core_in_selection),
        "core_aten_not_in_catalog": sorted(core - set(core_in_selection)),
        "excluded": exclusions(),
        "structured": structured,
    }


def exclusions() -> dict:
    """What the catalog leaves out on purpose, with the reasons (conformance/op_specs.py):
    whole core overloads, (overload, dtype) cells, and variants of covered overloads."""
    from . import op_specs

    ops = dict(op_specs.EXCLUDED)
    try:
        from wick.ops_table import EXCEPTIONS
    except ImportError:  # pragma: no cover - an older core
        EXCEPTIONS = {}
    for op, why in EXCEPTIONS.items():
        ops.setdefault(op, f"no portable kernel by design: {why}")
    return {"ops": dict(sorted(ops.items())),
            "cells": [{"op": op, "dtype": d, "reason": why}
                      for (op, d), why in sorted(op_specs.EXCLUDED_CELLS.items())],
            "variants": dict(sorted(op_specs.EXCLUDED_VARIANTS.items()))}


DIST_EDGES = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]


def _distribution(rows: list[dict]) -> dict:
    """Histogram of each compared case's worst error / allowed bound."""
    labels = ["exact"] + ["< 1e-6"] + [f"{DIST_EDGES[i]:g}-{DIST_EDGES[i + 1]:g}" for i in range(len(DIST_EDGES) - 1)] \
        + ["> 1 (fail)", "NaN/inf/shape"]
    counts = [0] * len(labels)
    for r in rows:
        m = r["metrics"]
        if not m or m.get("worst_ratio") is None:
            continue
        v = m["worst_ratio"]
        if isinstance(v, str):
            counts[-1] += 1
        elif v == 0:
            counts[0] += 1
        elif v > 1.0:
            counts[-2] += 1
        elif v < DIST_EDGES[0]:
            counts[1] += 1
        else:
            i = next(i for i in range(len(DIST_EDGES) - 1) if v <= DIST_EDGES[i + 1])
            counts[2 + i] += 1
    return {"quantity": "per compared case: worst |delegated - reference| / allowed bound", "labels": labels,
            "counts": counts}


def build(cfg, env: dict, cases: list, results: dict[str, dict], elapsed_s: float) -> dict:
    rows = [_case_row(c, results.get(c.id)) for c in cases]
    levels = _level_verdicts(rows, cfg.level)
    verdict = levels[str(cfg.level)]["verdict"]
    certified = 0
    for lv in range(1, cfg.level + 1):
        if levels[str(lv)]["verdict"] != "PASS":
            break
        certified = lv
    failures = [{"id": r["id"], "kind": r["kind"], "op": r["op"], "dtype": r["dtype"], "family": r["family"],
                 "cause": r["cause"], "signal": r["signal"], "stage": r["stage"], "ops": r["failing_ops"],
                 "message": r["message"]} for r in rows if r["verdict"] == FAIL]
    failing_ops = sorted({r["op"] for r in rows if r["verdict"] == FAIL and r["kind"] in ("op", "dynamic")})
    implicated = sorted({op for r in rows if r["verdict"] == FAIL for op in r["failing_ops"]})
    core_ops = env.get("core_aten_ops", [])
    env = {k: v for k, v in env.items() if k != "core_aten_ops"}
    mode = "relaxed" if cfg.relaxed else "strict"
    return {
        "schema": SCHEMA,
        "backend": env["backend"]["name"],
        "verdict": verdict,
        "level": cfg.level,
        "certified_level": certified,
        "scope": ("filtered selection (-k): not a certification" if cfg.keyword else
                  "full catalog (--full)" if cfg.full else "default catalog"),
        "tolerance": {"mode": mode, "fingerprint": tolerances.fingerprint(),
                      "relaxed": tolerances.RELAXED_DOC if cfg.relaxed else None,
                      "policy": tolerances.policy_table()},
        "selection": cfg.describe(),
        "levels": levels,
        "summary": {"cases": len(rows), **{v: sum(1 for r in rows if r["verdict"] == v) for v in
                                           (PASS, FAIL, NOT_CLAIMED, REFERENCE_UNAVAILABLE, UNAVAILABLE, NOT_RUN)},
                    "failures_by_cause": dict(sorted(Counter(r["cause"] for r in rows if r["cause"]).items()))},
        "failing_ops": failing_ops,
        "implicated_ops": implicated,
        "failures": failures,
        "ops": _per_op(rows),
        "structured": [{k: r[k] for k in ("id", "kind", "op", "dtype", "verdict", "cause", "signal", "claimed_ops",
                                          "claimed_nodes", "total_nodes", "metrics", "timings", "message", "estimates")}
                       for r in rows if r["kind"] != "op"],
        "coverage": _coverage(rows, core_ops),
        "error_distribution": _distribution(rows),
        "environment": env,
        "cases": rows,
        "elapsed_s": round(elapsed_s, 2),
    }


# ---------------------------------------------------------------- console

def console_line(rep: dict, out_dir: str | None = None) -> str:
    b = rep["environment"]["backend"]
    s = rep["summary"]
    parts = [f"wick conformance: {b['name']} {b['version']} level {rep['level']}: {rep['verdict']}"]
    if rep["failing_ops"] or rep["implicated_ops"]:
        parts.append("failing ops: " + ", ".join(rep["failing_ops"] or rep["implicated_ops"]))
    parts.append(f"{s['pass']} passed, {s['fail']} failed, {s['reference_unavailable']} unverified, "
                 f"{s['not_claimed']} not claimed of {s['cases']} cases")
    if s["failures_by_cause"]:
        parts.append("causes: " + ", ".join(f"{k} {v}" for k, v in s["failures_by_cause"].items()))
    parts.append(f"claims {rep['coverage']['ops_claimed']}/{rep['coverage']['ops_in_catalog']} ops")
    parts.append(f"tolerance {rep['tolerance']['mode'].upper()}")
    if rep["selection"]["filter"]:
        parts.append(f"filter -k {rep['selection']['filter']!r}")
    parts.append(f"{rep['elapsed_s']:.0f} s")
    if out_dir:
        parts.append(f"reports in {out_dir}")
    return " | ".join(parts)


# ---------------------------------------------------------------- JSON

def write_json(rep: dict, path: str) -> None:
    with open(path, "w") as f:
        json.dump(rep, f, indent=1, sort_keys=False)
        f.write("\n")


# ---------------------------------------------------------------- JUnit XML

def junit_tree(rep: dict) -> ET.ElementTree:
    b = rep["environment"]["backend"]
    s = rep["summary"]
    root = ET.Element("testsuites", name=f"wick-conformance {b['name']}", tests=str(s["cases"]),
                      failures=str(s["fail"]), errors="0",
                      skipped=str(s["cases"] - s["pass"] - s["fail"]), time=f"{rep['elapsed_s']:.2f}")
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in rep["cases"]:
        by_kind[r["kind"]].append(r)
    for kind, rows in by_kind.items():
        suite = ET.SubElement(root, "testsuite", name=f"level{rows[0]['level']}.{kind}", tests=str(len(rows)),
                              failures=str(sum(1 for r in rows if r["verdict"] == FAIL)), errors="0",
                              skipped=str(sum(1 for r in rows if r["verdict"] not in (PASS, FAIL))),
                              time=f"{sum(r['timings'].get('wall_s', 0) for r in rows):.2f}")
        props = ET.SubElement(suite, "properties")
        for k, v in (("backend", b["name"]), ("backend_version", b["version"]),
                     ("sdk_api_version", rep["environment"]["sdk_api_version"]),
                     ("wick_version", rep["environment"]["wick_version"]), ("verdict", rep["verdict"]),
                     ("level", str(rep["level"])), ("tolerance_mode", rep["tolerance"]["mode"]),
                     ("tolerance_fingerprint", rep["tolerance"]["fingerprint"]),
                     ("failing_ops", ",".join(rep["failing_ops"]))):
            ET.SubElement(props, "property", name=k, value=str(v))
        for r in rows:
            tc = ET.SubElement(suite, "testcase", classname=f"wick.conformance.{kind}.{r['op']}", name=r["id"],
                               time=f"{r['timings'].get('wall_s', 0):.3f}")
            if r["verdict"] == FAIL:
                what = r["cause"] + (f" ({r['signal']})" if r.get("signal") else "")
                ops = ", ".join(r["failing_ops"]) or r["op"]
                el = ET.SubElement(tc, "failure", type=r["cause"], message=f"{ops}: {what}: {r['message'][:300]}")
                el.text = json.dumps({k: r[k] for k in ("op", "dtype", "family", "stage", "metrics", "message")},
                                     indent=1)
            elif r["verdict"] != PASS:
                ET.SubElement(tc, "skipped", message=f"{r['verdict']}: {r['message'][:300]}")
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(rep: dict, path: str) -> None:
    junit_tree(rep).write(path, encoding="utf-8", xml_declaration=True)


# ---------------------------------------------------------------- HTML

def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _num(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:6px 0;font-size:13px} td,th{border:1px solid #ddd;padding:3px 7px;
text-align:left;vertical-align:top} th{background:#f4f4f4} .num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:3px 12px;border-radius:4px;color:#fff;font-weight:600}
.PASS,.pass{background:#2e7d32;color:#fff} .FAIL,.fail{background:#c62828;color:#fff}
.INCOMPLETE,.reference_unavailable{background:#ef6c00;color:#fff} .not_claimed,.NOT{background:#9e9e9e;color:#fff}
.unavailable{background:#bdbdbd} .claimed{background:#c8e6c9} .notclaimed{background:#eee;color:#777}
.banner{padding:6px 10px;margin:8px 0;border-radius:4px;background:#fff3e0;border:1px solid #ef6c00}
td.msg{max-width:560px;word-break:break-word;font-size:12px} code{font-size:12px}
"""


def _svg_histogram(dist: dict) -> str:
    w, h, pad, bottom = 680, 230, 36, 56
    counts, labels = dist["counts"], dist["labels"]
    top = max(counts) or 1
    bw = (w - 2 * pad) / len(counts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="error distribution">', f'<line x1="{pad}" y1="{h - bottom}" x2="{w - pad}" '
             f'y2="{h - bottom}" stroke="#888"/>']
    for i, (c, label) in enumerate(zip(counts, labels)):
        bh = (h - bottom - 20) * c / top
        x = pad + i * bw
        color = "#c62828" if i >= len(counts) - 2 else "#1565c0"
        parts.append(f'<rect x="{x + 3:.1f}" y="{h - bottom - bh:.1f}" width="{bw - 6:.1f}" height="{bh:.1f}" '
                     f'fill="{color}"><title>{_e(label)}: {c}</title></rect>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{h - bottom - bh - 4:.1f}" font-size="11" '
                     f'text-anchor="middle">{c}</text>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{h - bottom + 14}" font-size="10" text-anchor="end" '
                     f'transform="rotate(-30 {x + bw / 2:.1f} {h - bottom + 14})">{_e(label)}</text>')
    x1 = pad + (len(counts) - 2) * bw
    parts.append(f'<line x1="{x1:.1f}" y1="10" x2="{x1:.1f}" y2="{h - bottom}" stroke="#c62828" '
                 f'stroke-dasharray="4 3"/><text x="{x1 - 4:.1f}" y="20" font-size="11" text-anchor="end" '
                 f'fill="#c62828">tolerance</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_per_op(ops: list[dict]) -> str:
    rows = [r for r in ops if r["worst_ratio"] is not None]
    if not rows:
        return "<p>No claimed op case was compared.</p>"
    lo, hi = -8.0, 2.0
    w, lh, left = 680, 16, 300
    h = lh * len(rows) + 30
    scale = (w - left - 20) / (hi - lo)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="worst error per op">']
    for i, r in enumerate(rows):
        v = r["worst_ratio"]
        lv = hi if isinstance(v, str) else (lo if v <= 0 else max(lo, min(hi, math.log10(v))))
        y = 10 + i * lh
        color = "#c62828" if r["failed"] else "#1565c0"
        parts.append(f'<text x="{left - 6}" y="{y + 11}" font-size="11" text-anchor="end">'
                     f'{_e(r["op"])} {_e(r["dtype"])}</text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{max(1.0, (lv - lo) * scale):.1f}" height="{lh - 4}" '
                     f'fill="{color}"><title>{_e(r["op"])} {_e(r["dtype"])}: {_num(v)}</title></rect>')
    x1 = left + (0 - lo) * scale
    parts.append(f'<line x1="{x1:.1f}" y1="4" x2="{x1:.1f}" y2="{h - 16}" stroke="#c62828" stroke-dasharray="4 3"/>')
    for t in range(int(lo), int(hi) + 1, 2):
        x = left + (t - lo) * scale
        parts.append(f'<text x="{x:.1f}" y="{h - 3}" font-size="10" text-anchor="middle">1e{t}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(rep: dict) -> str:
    env = rep["environment"]
    b = env["backend"]
    s = rep["summary"]
    out = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Wick conformance: {_e(b['name'])} "
           f"{_e(rep['verdict'])}</title><style>{_CSS}</style></head><body>"]
    out.append(f"<h1>Wick conformance: {_e(b['name'])} {_e(b['version'])}</h1>")
    vclass = rep["verdict"].split()[0]
    out.append(f"<p><span class='badge {vclass}' id=verdict>Level {rep['level']}: {_e(rep['verdict'])}</span> "
               f"&nbsp; certified level: <b>{rep['certified_level'] or 'none'}</b> &nbsp; scope: {_e(rep['scope'])} "
               f"&nbsp; tolerance: <b>{_e(rep['tolerance']['mode'].upper())}</b> "
               f"(policy {_e(rep['tolerance']['fingerprint'])})</p>")
    if rep["tolerance"]["relaxed"]:
        out.append(f"<div class=banner><b>RELAXED tolerances</b> were declared for this run: "
                   f"{_e(rep['tolerance']['relaxed'])}. This is not a strict certification.</div>")
    if rep["selection"]["filter"]:
        out.append(f"<div class=banner>Filtered with -k {_e(rep['selection']['filter'])}: only part of the "
                   f"catalog ran; this is not a certification.</div>")
    out.append(f"<p>{s['cases']} cases: {s['pass']} passed, {s['fail']} failed, {s['reference_unavailable']} "
               f"unverified (reference unavailable), {s['not_claimed']} not claimed, {s['unavailable']} unavailable"
               f"; {rep['elapsed_s']:.0f} s.</p>")

    out.append("<h2>Levels</h2><table><tr><th>level</th><th>definition</th><th>verdict</th><th>cases</th>"
               "<th>claimed</th><th>passed</th><th>failed</th><th>unverified</th><th>claimed by kind</th></tr>")
    for lv, L in rep["levels"].items():
        kinds = ", ".join(f"{k} {v['claimed']}/{v['cases']}" for k, v in L.get("by_kind", {}).items())
        out.append(f"<tr><td>{lv}</td><td>{_e(L['definition'])}</td><td><span class='badge "
                   f"{L['verdict'].split()[0]}'>{_e(L['verdict'])}</span></td>"
                   + "".join(f"<td class=num>{L.get(k, '')}</td>" for k in ("cases", "claimed", "passed", "failed",
                                                                          "unverified"))
                   + f"<td>{_e(kinds)}</td></tr>")
    out.append("</table>")

    out.append("<h2>Failures</h2>")
    if rep["failing_ops"] or rep["implicated_ops"]:
        out.append("<p>Failing ops: <b id=failing-ops>" + ", ".join(
            f"<code class=failing-op>{_e(op)}</code>" for op in rep["failing_ops"]) + "</b>")
        extra = [op for op in rep["implicated_ops"] if op not in rep["failing_ops"]]
        if extra:
            out.append(" &nbsp; also claimed in failing pattern/model cases: " + ", ".join(
                f"<code>{_e(op)}</code>" for op in extra))
        out.append("</p>")
    if rep["failures"]:
        out.append("<table><tr><th>case</th><th>op(s)</th><th>cause</th><th>during</th><th>message</th></tr>")
        for f in rep["failures"]:
            cause = f["cause"] + (f" ({f['signal']})" if f.get("signal") else "")
            out.append(f"<tr><td><code>{_e(f['id'])}</code></td><td>{_e(', '.join(f['ops']) or f['op'])}</td>"
                       f"<td class=fail>{_e(cause)}</td><td>{_e(f['stage'])}</td>"
                       f"<td class=msg>{_e(f['message'])}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>None.</p>")

    out.append("<h2>Per-op results</h2><table><tr><th>op</th><th>dtype</th><th>cases</th><th>claimed</th>"
               "<th>passed</th><th>failed</th><th>not claimed</th><th>unverified</th><th>max abs err</th>"
               "<th>max ULP</th><th>worst err/bound</th><th>delegated ms</th><th>portable ms</th></tr>")
    for r in rep["ops"]:
        cls = " class=fail" if r["failed"] else ""
        out.append(f"<tr{cls}><td><code>{_e(r['op'])}</code></td><td>{_e(r['dtype'])}</td>"
                   + "".join(f"<td class=num>{_num(r[k])}</td>" for k in ("cases", "claimed", "passed", "failed",
                                                                        "not_claimed", "unverified", "max_abs",
                                                                        "max_ulp", "worst_ratio"))
                   + f"<td class=num>{_num(r['timings']['delegated_ms_median'])}</td>"
                     f"<td class=num>{_num(r['timings']['portable_ms_median'])}</td></tr>")
    out.append("</table>")

    if rep["structured"]:
        out.append("<h2>Patterns, models, int8, dynamic shapes</h2><table><tr><th>case</th><th>verdict</th>"
                   "<th>nodes claimed</th><th>ops claimed</th><th>max abs err</th><th>SNR dB</th>"
                   "<th>worst err/bound</th><th>delegated ms</th><th>portable ms</th>"
                   "<th>backend's estimates</th></tr>")
        for r in rep["structured"]:
            m = r["metrics"] or {}
            t = r["timings"]
            v = r["verdict"] + (f": {r['cause']}" if r["cause"] else "")
            out.append(f"<tr><td><code>{_e(r['id'])}</code></td><td class={r['verdict']}>{_e(v)}</td>"
                       f"<td class=num>{_num(r['claimed_nodes'])}/{_num(r['total_nodes'])}</td>"
                       f"<td>{_e(', '.join(r['claimed_ops']))}</td><td class=num>{_num(m.get('max_abs'))}</td>"
                       f"<td class=num>{_num(m.get('snr_db'))}</td><td class=num>{_num(m.get('worst_ratio'))}</td>"
                       f"<td class=num>{_num(t.get('delegated_s') and t['delegated_s'] * 1e3)}</td>"
                       f"<td class=num>{_num(t.get('portable_s') and t['portable_s'] * 1e3)}</td>"
                       f"<td>{_estimates_html(r.get('estimates'))}</td></tr>")
        out.append("</table>")

    c = rep["coverage"]
    out.append(f"<h2>Coverage</h2><p>The backend claims <b>{c['ops_claimed']} of {c['ops_in_catalog']}</b> ops "
               f"({100 * c['fraction_ops']:.0f}%) and <b>{c['op_dtype_pairs_claimed']} of "
               f"{c['op_dtype_pairs_in_catalog']}</b> op x dtype pairs ({100 * c['fraction_pairs']:.0f}%) of the "
               f"selected catalog; dtypes claimed: {_e(', '.join(c['dtypes_claimed']) or 'none')} of "
               f"{_e(', '.join(c['dtypes_in_catalog']))}. The catalog has op cases for {c['core_aten_in_catalog']} "
               f"of the {c['core_aten_total']} core ATen ops (plus Edge view copies).</p>")
    for kind, v in c["structured"].items():
        out.append(f"<p>{_e(kind)}: claimed in {v['claimed']} of {v['cases']} cases, {v['nodes_claimed']} of "
                   f"{v['nodes_total']} nodes.</p>")
    dtypes = c["dtypes_in_catalog"]
    out.append("<table><tr><th>op</th>" + "".join(f"<th>{_e(d)}</th>" for d in dtypes) + "</tr>")
    for op, cells in c["matrix"].items():
        out.append(f"<tr><td><code>{_e(op)}</code></td>")
        for d in dtypes:
            st = cells.get(d)
            out.append("<td></td>" if st is None else
                       f"<td class={'claimed' if st == 'claimed' else 'notclaimed'}>{_e(st)}</td>")
        out.append("</tr>")
    out.append("</table>")
    if c["claimed_outside_op_cases"]:
        out.append("<p>Also claimed (inside patterns/models, no op case of its own): " +
                   _e(", ".join(c["claimed_outside_op_cases"])) + "</p>")
    out.append(f"<details><summary>core ATen ops without a case in this selection "
               f"({len(c['core_aten_not_in_catalog'])})</summary>"
               f"<p><code>{_e(' '.join(c['core_aten_not_in_catalog']))}</code></p></details>")
    ex = c.get("excluded") or {"ops": {}, "cells": [], "variants": {}}
    out.append(f"<details><summary>left out of the catalog, with reasons ({len(ex['ops'])} ops, "
               f"{len(ex['cells'])} op x dtype cells, {len(ex['variants'])} variants)</summary><table>"
               "<tr><th>op</th><th>dtype / variant</th><th>reason</th></tr>")
    for op, why in ex["ops"].items():
        out.append(f"<tr><td><code>{_e(op)}</code></td><td>all</td><td class=msg>{_e(why)}</td></tr>")
    for cell in ex["cells"]:
        out.append(f"<tr><td><code>{_e(cell['op'])}</code></td><td>{_e(cell['dtype'])}</td>"
                   f"<td class=msg>{_e(cell['reason'])}</td></tr>")
    for op, why in ex["variants"].items():
        out.append(f"<tr><td><code>{_e(op)}</code></td><td>variant</td><td class=msg>{_e(why)}</td></tr>")
    out.append("</table></details>")

    out.append("<h2>Error distribution</h2><p>Each compared case's worst element: |delegated - reference| divided "
               "by the bound the tolerance policy allows for it (0 = bit-exact; beyond 1 fails).</p>")
    out.append(_svg_histogram(rep["error_distribution"]))
    out.append("<p>Worst error / bound per op and dtype (log scale; the dashed line is the bound):</p>")
    out.append(_svg_per_op(rep["ops"]))

    out.append("<h2>Environment</h2><table>")
    rows = [("backend", f"{b['name']} {b['version']}"), ("package", f"{b['package']} {b['package_version']}"),
            ("backend SDK API version", b["sdk_api_version"]), ("runtime library", b["runtime_library"]),
            ("runtime library sha256", b.get("runtime_library_sha256") or "none"),
            ("Wick runtime sha256", env.get("wick_runtime_sha256") or "unknown"),
            ("available here", f"{b['available']}" + (f" ({b['unavailable_reason']})" if b["unavailable_reason"]
                                                      else "")),
            ("device", b["device"]), ("Wick version", env["wick_version"]), ("Wick SDK API version",
                                                                             env["sdk_api_version"]),
            ("program schema / backend ABI", f"{env['program_schema_version']} / {env['backend_abi_version']}"),
            ("Wick commit", env["wick_commit"] or "unknown"), ("torch", env["torch_version"]),
            ("Python", env["python_version"]), ("machine", f"{env['machine']['cpu']}, {env['machine']['cpu_count']} "
                                                           f"CPUs, {env['machine']['platform']}"),
            ("date (UTC)", env["date"]), ("selection", json.dumps(rep["selection"]))]
    out.extend(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    out.append("</table>")

    out.append(f"<h2>Tolerance policy ({_e(rep['tolerance']['mode'])}, fingerprint "
               f"{_e(rep['tolerance']['fingerprint'])})</h2><table><tr><th>dtype</th><th>class</th><th>bound</th>"
               f"<th>reason</th></tr>")
    for p in rep["tolerance"]["policy"]:
        out.append(f"<tr><td>{_e(p['dtype'])}</td><td>{_e(p['class'])}</td><td>{_e(p['bound'])}</td>"
                   f"<td class=msg>{_e(p['reason'])}</td></tr>")
    out.append("</table>")

    out.append(f"<h2>All cases</h2><details><summary>{len(rep['cases'])} cases</summary><table><tr><th>case</th>"
               "<th>verdict</th><th>claimed ops</th><th>max abs</th><th>max ULP</th><th>wall s</th>"
               "<th>message</th></tr>")
    for r in rep["cases"]:
        m = r["metrics"] or {}
        v = r["verdict"] + (f": {r['cause']}" if r["cause"] else "")
        out.append(f"<tr><td><code>{_e(r['id'])}</code></td><td class={r['verdict']}>{_e(v)}</td>"
                   f"<td>{_e(', '.join(r['claimed_ops']))}</td><td class=num>{_num(m.get('max_abs'))}</td>"
                   f"<td class=num>{_num(m.get('max_ulp'))}</td><td class=num>{_num(r['timings'].get('wall_s'))}</td>"
                   f"<td class=msg>{_e(r['message'][:400])}</td></tr>")
    out.append("</table></details>")
    summary = json.dumps({"verdict": rep["verdict"], "failing_ops": rep["failing_ops"]}).replace("</", "<\\/")
    out.append(f"<script type='application/json' id=wick-conformance-summary>{summary}</script></body></html>")
    return "\n".join(out)


def write_html(rep: dict, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_html(rep))


def write_all(rep: dict, out_dir: str) -> dict[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    paths = {"json": os.path.join(out_dir, "report.json"), "junit": os.path.join(out_dir, "report.xml"),
             "html": os.path.join(out_dir, "report.html")}
    write_json(rep, paths["json"])
    write_junit(rep, paths["junit"])
    write_html(rep, paths["html"])
    return paths
