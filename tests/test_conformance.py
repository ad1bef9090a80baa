"""The conformance suite certifies real plugins: a deliberately faulty backend
(tests/plugins/wick-test-faulty) fails with exactly its two bad ops named in
JSON, JUnit and HTML; correct plugins (wick-test-unary, a template-generated
one) pass what they claim; a crash or abort in vendor code is a "crashed"
verdict with its signal and a hang is cut off, while the run goes on; the
pytest plugin makes one item per case; the same run twice gives the same
numbers. Plugins are pip-installed into a private site dir, as in
test_delegate_sdk.py."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import torch

from wick import plugins
from wick.delegate_sdk import SDK_API_VERSION
from wick.new_backend import generate

HERE = os.path.dirname(__file__)
FAULTY_OPS = ["aten.relu.default", "aten.sigmoid.default"]
# Every op case of the faulty backend's five claimed ops, plus one op it does not claim.
FAULTY_FILTER = "float32 and (add.Tensor or mul.Tensor or relu or sigmoid or neg.default or exp)"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("conformance_plugins")
    generate("tmpl_cert", str(root / "wick-tmpl-cert"))
    site = root / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps",
                          "--target", str(site), str(root / "wick-tmpl-cert"),
                          os.path.join(HERE, "plugins", "wick-test-faulty"),
                          os.path.join(HERE, "plugins", "wick-test-unary")], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    return site


def _env(site):
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def conformance(site, out, *args):
    res = subprocess.run([sys.executable, "-m", "wick.cli", "conformance", "--out", str(out), "--jobs", "2", *args],
                         capture_output=True, text=True, env=_env(site), timeout=900)
    return res


def _load(out):
    with open(out / "report.json") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def faulty_run(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("faulty")
    res = conformance(site, out, "--backend", "test_faulty", "--level", "1", "-k", FAULTY_FILTER)
    return res, out


def test_faulty_backend_fails_with_exactly_its_two_bad_ops_in_json(faulty_run):
    res, out = faulty_run
    assert res.returncode == 1, res.stderr
    line = res.stdout.strip().splitlines()[-1]
    assert "test_faulty" in line and "FAIL" in line and all(op in line for op in FAULTY_OPS)
    rep = _load(out)
    assert rep["verdict"] == "FAIL" and rep["levels"]["1"]["verdict"] == "FAIL"
    assert rep["failing_ops"] == FAULTY_OPS
    assert {f["cause"] for f in rep["failures"]} == {"mismatch"}
    # relu is wrong only on NaN inputs: exactly the edge-value case fails, naming the NaN placement.
    relu = [f for f in rep["failures"] if f["op"] == "aten.relu.default"]
    assert [f["family"] for f in relu] == ["edge"] and "NaN" in relu[0]["message"]
    # sigmoid is wrong everywhere (except on an empty tensor).
    sig = {r["family"]: r["verdict"] for r in rep["cases"] if r["op"] == "aten.sigmoid.default"}
    assert sig.pop("empty") == "pass" and set(sig.values()) == {"fail"}
    # add, mul and neg are right; exp is not claimed, and says why.
    for r in rep["cases"]:
        if r["op"] in ("aten.add.Tensor", "aten.mul.Tensor", "aten.neg.default"):
            assert r["verdict"] in ("pass", "not_claimed"), r
        if r["op"] == "aten.exp.default":
            assert r["verdict"] == "not_claimed" and "test_faulty" in r["message"]
    row = {(o["op"], o["dtype"]): o for o in rep["ops"]}[("aten.sigmoid.default", "float32")]
    assert row["failed"] >= 4 and row["max_abs"] > 0.01
    assert rep["coverage"]["claimed"] == {op: ["float32"] for op in
                                          ("aten.add.Tensor", "aten.mul.Tensor", "aten.neg.default",
                                           "aten.relu.default", "aten.sigmoid.default")}
    env = rep["environment"]
    assert env["backend"]["name"] == "test_faulty" and env["backend"]["version"] == "0.1.0"
    assert env["backend"]["sdk_api_version"] == "1.0" and env["sdk_api_version"] == SDK_API_VERSION
    # The certificate names the binaries it tested.
    library = env["backend"]["runtime_library"]
    assert env["backend"]["runtime_library_sha256"] == hashlib.sha256(open(library, "rb").read()).hexdigest()
    assert env["backend"]["package_version"] == "0.1.0"
    assert env["wick_runtime_sha256"] == hashlib.sha256(open(env["wick_runtime"], "rb").read()).hexdigest()
    assert env["wick_version"] and env["machine"]["cpu_count"] and env["date"]
    assert rep["tolerance"]["mode"] == "strict" and rep["scope"].startswith("filtered")


def test_faulty_backend_is_named_in_junit(faulty_run):
    _, out = faulty_run
    root = ET.parse(out / "report.xml").getroot()
    failed = [tc for tc in root.iter("testcase") if tc.find("failure") is not None]
    named = {tc.get("classname").removeprefix("wick.conformance.op.") for tc in failed}
    assert named == set(FAULTY_OPS)
    for tc in failed:
        assert tc.find("failure").get("message").startswith(tc.get("classname").removeprefix("wick.conformance.op."))
        assert tc.find("failure").get("type") == "mismatch"
    assert int(root.get("failures")) == len(failed) and int(root.get("tests")) == len(list(root.iter("testcase")))
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["failing_ops"] == ",".join(FAULTY_OPS) and props["tolerance_mode"] == "strict"


def test_faulty_backend_is_named_in_self_contained_html(faulty_run):
    _, out = faulty_run
    page = (out / "report.html").read_text()
    assert re.findall(r"<code class=failing-op>([^<]+)</code>", page) == FAULTY_OPS
    assert "Level 1: FAIL" in page and "<svg" in page and "tolerance: <b>STRICT</b>" in page
    # Self-contained: nothing fetched from elsewhere.
    assert not re.search(r"<(link|img|script)[^>]+(href|src)=", page)
    summary = re.search(r"id=wick-conformance-summary>(.*?)</script>", page).group(1)
    assert json.loads(summary)["failing_ops"] == FAULTY_OPS


def _strip_volatile(obj):
    if isinstance(obj, dict):
        # Timings, the date and the Wick checkout's state (others commit meanwhile) may differ.
        return {k: _strip_volatile(v) for k, v in obj.items()
                if k not in ("timings", "elapsed_s", "date", "wick_commit")}
    if isinstance(obj, list):
        return [_strip_volatile(v) for v in obj]
    return obj


def test_same_run_twice_gives_the_same_verdicts_and_numbers(site, faulty_run, tmp_path):
    _, first = faulty_run
    res = conformance(site, tmp_path, "--backend", "test_faulty", "--level", "1", "-k", FAULTY_FILTER, "--jobs", "1")
    assert res.returncode == 1
    a, b = _strip_volatile(_load(first)), _strip_volatile(_load(tmp_path))
    a["selection"].pop("jobs"), b["selection"].pop("jobs")
    assert a == b


def test_crash_abort_and_hang_are_verdicts_and_the_run_goes_on(site, tmp_path):
    res = conformance(site, tmp_path, "--backend", "test_faulty", "--level", "1", "--timeout", "6",
                      "--compile-spec", "crash_on=neg", "--compile-spec", "abort_on=relu",
                      "--compile-spec", "hang_on=mul",
                      "-k", "float32/basic and (neg or mul.Tensor or add.Tensor or relu or exp.default)")
    assert res.returncode == 1, res.stderr
    cases = {r["op"]: r for r in _load(tmp_path)["cases"]}
    assert cases["aten.neg.default"]["cause"] == "crashed" and cases["aten.neg.default"]["signal"] == "SIGSEGV"
    assert cases["aten.relu.default"]["cause"] == "crashed" and cases["aten.relu.default"]["signal"] == "SIGABRT"
    assert cases["aten.neg.default"]["stage"] == "delegated execution"
    assert cases["aten.mul.Tensor"]["cause"] == "hung" and "6 s limit" in cases["aten.mul.Tensor"]["message"]
    assert cases["aten.add.Tensor"]["verdict"] == "pass" and cases["aten.exp.default"]["verdict"] == "not_claimed"
    assert _load(tmp_path)["selection"]["compile_specs"] == ["crash_on=neg", "abort_on=relu", "hang_on=mul"]
    root = ET.parse(tmp_path / "report.xml").getroot()
    types = {tc.get("name"): tc.find("failure").get("type") for tc in root.iter("testcase")
             if tc.find("failure") is not None}
    assert types == {"op/neg.default/float32/basic": "crashed", "op/relu.default/float32/basic": "crashed",
                     "op/mul.Tensor/float32/basic": "hung"}
    assert "SIGSEGV" in (tmp_path / "report.html").read_text()


def test_test_unary_plugin_passes_levels_1_and_2(site, tmp_path):
    res = conformance(site, tmp_path, "--backend", "test_unary", "--level", "2",
                      "-k", "relu or neg.default or hardtanh or pattern/ or model/mlp or model/small_cnn")
    rep = _load(tmp_path)
    assert res.returncode == 0, res.stdout + json.dumps(rep["failures"], indent=1)
    assert rep["verdict"] == "PASS" and rep["certified_level"] == 2
    assert rep["levels"]["2"]["by_kind"]["pattern"]["claimed"] >= 5
    assert set(rep["coverage"]["claimed"]) == {"aten.relu.default", "aten.neg.default", "aten.hardtanh.default"}


def test_template_generated_backend_passes_level_1_with_all_three_reports(site, tmp_path):
    res = conformance(site, tmp_path, "--backend", "tmpl_cert", "--level", "1",
                      "-k", "add.Tensor or sub.Tensor or mul.Tensor or relu")
    assert res.returncode == 0, res.stdout + res.stderr
    assert {p.name for p in tmp_path.iterdir()} >= {"report.json", "report.xml", "report.html"}
    rep = _load(tmp_path)
    assert rep["verdict"] == "PASS" and rep["summary"]["pass"] >= 12
    # Broadcasting and integer cases are refused by the template: visible as not claimed, not as passes.
    assert rep["coverage"]["dtypes_claimed"] == ["float32"] and rep["summary"]["not_claimed"] > 0


def test_relaxed_mode_is_declared_in_every_report(site, tmp_path):
    res = conformance(site, tmp_path, "--backend", "tmpl_cert", "--level", "1", "--relaxed",
                      "-k", "add.Tensor/float32/basic")
    assert res.returncode == 0 and "RELAXED" in res.stdout
    rep = _load(tmp_path)
    assert rep["tolerance"]["mode"] == "relaxed" and "x10" in rep["tolerance"]["relaxed"]
    assert "RELAXED tolerances" in (tmp_path / "report.html").read_text()
    props = {p.get("name"): p.get("value") for p in ET.parse(tmp_path / "report.xml").getroot().iter("property")}
    assert props["tolerance_mode"] == "relaxed"


def test_unknown_backend_is_a_usage_error(site, tmp_path):
    res = conformance(site, tmp_path, "--backend", "no_such_backend", "--level", "1", "-k", "relu")
    assert res.returncode == 2 and "no backend plugin named 'no_such_backend'" in res.stderr


def test_pytest_plugin_makes_one_item_per_case_and_fails_precisely(site, tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--wick-backend",
                          "test_faulty", "--wick-level", "1", "-k", "float32/edge and (relu or sigmoid or neg)",
                          "--wick-report", str(tmp_path / "rep")], capture_output=True, text=True,
                         env=_env(site), cwd=tmp_path, timeout=600)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "2 failed, 1 passed" in res.stdout, res.stdout
    failed = re.findall(r"FAILED (\S+)", res.stdout)
    assert sorted(failed) == ["wick-conformance[test_faulty]::op/relu.default/float32/edge",
                              "wick-conformance[test_faulty]::op/sigmoid.default/float32/edge"]
    assert "aten.relu.default: mismatch" in res.stdout
    assert _load(tmp_path / "rep")["failing_ops"] == FAULTY_OPS


def test_pytest_plugin_is_inert_and_cheap_without_the_option(tmp_path):
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0 and "1 passed" in res.stdout
    res = subprocess.run([sys.executable, "-c", "import sys, wick.conformance.pytest_plugin; "
                                                "print(sorted(m for m in ('torch', 'wick.conformance.catalog') "
                                                "if m in sys.modules))"], capture_output=True, text=True)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr


# ---------------------------------------------------------------- in-process units

@pytest.fixture
def on_path(site, monkeypatch):
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    plugins.discover(refresh=True)
    yield site
    monkeypatch.undo()
    importlib.invalidate_caches()
    plugins.discover(refresh=True)


def test_a_reference_that_cannot_run_is_its_own_verdict_never_a_pass(on_path, monkeypatch):
    import wick
    from wick.conformance import report
    from wick.conformance.catalog import by_id
    from wick.conformance.runner import RunConfig
    from wick.conformance.worker import run_case

    real_load = wick.runtime.load

    def load(source):  # the portable-only program (no delegates) stands for one missing a kernel
        program = real_load(source)
        if not program.required_backends:
            raise wick.WickError("no kernel for 'aten::relu.out' with float32", "KernelNotFound")
        return program

    monkeypatch.setattr(wick.runtime, "load", load)
    case = by_id()["op/relu.default/float32/basic"]
    result = run_case(case, "test_faulty")
    assert result["verdict"] == "reference_unavailable" and result["claimed_ops"] == ["aten.relu.default"]
    assert "reference cannot run" in result["message"] and "KernelNotFound" in result["message"]
    env = {"backend": {"name": "test_faulty", "version": "0.1.0"}, "core_aten_ops": []}
    rep = report.build(RunConfig("test_faulty", level=1), env, [case], {case.id: result}, 1.0)
    assert rep["verdict"] == "INCOMPLETE" and rep["certified_level"] == 0 and rep["summary"]["pass"] == 0
    assert rep["levels"]["1"]["unverified"] == 1


def test_compare_judges_nan_placement_signed_zero_ulps_and_integers():
    from wick.conformance.compare import compare, ulp_distance
    from wick.conformance.tolerances import tolerance_for

    exact = tolerance_for("float32", "exact")
    ref = torch.tensor([float("nan"), 0.0, 1.0, float("inf")])
    assert compare(torch.tensor([float("nan"), -0.0, 1.0, float("inf")]), ref, exact)["ok"]
    bad = compare(torch.tensor([0.0, 0.0, 1.0, float("-inf")]), ref, exact)
    assert not bad["ok"] and bad["nan_mismatches"] == 1 and bad["mismatches"] == 2
    one = torch.tensor([1.0])
    assert ulp_distance(torch.nextafter(one, torch.tensor([2.0])), one).item() == 1
    trans = tolerance_for("float32", "transcendental")
    assert compare(torch.nextafter(one, torch.tensor([2.0])), one, trans)["ok"]
    assert not compare(one + 1e-3, one, trans)["ok"]
    ints = compare(torch.tensor([1, 2, 3], dtype=torch.int8), torch.tensor([1, 2, 4], dtype=torch.int8),
                   tolerance_for("int8", "elementwise"))
    assert not ints["ok"] and ints["mismatches"] == 1 and ints["max_abs"] == 1
    assert "dtype" in compare(one.double(), one, exact)["detail"]
    assert "shape" in compare(torch.ones(2), one, exact)["detail"]


def test_tolerance_policy_has_a_reason_for_every_bound_and_relaxed_is_looser_and_declared():
    from wick.conformance import tolerances as t

    assert all(len(tol.reason) > 15 for tol in t.POLICY.values())
    for (dtype, cls), tol in t.POLICY.items():
        relaxed = t.tolerance_for("int8q" if dtype == "int8q" else dtype if dtype != "int" else "int32", cls, True)
        assert relaxed.atol >= tol.atol and relaxed.rtol >= tol.rtol and relaxed.ulp >= tol.ulp
        assert "relaxed mode" in relaxed.reason
    assert t.fingerprint() == t.fingerprint() and len(t.fingerprint()) == 16
    with pytest.raises(KeyError):
        t.tolerance_for("float32", "no_such_class")


def test_catalog_ids_are_unique_inputs_seeded_and_tiers_sized():
    from wick.conformance import catalog

    cases = catalog.catalog()
    assert len({c.id for c in cases}) == len(cases)
    default = catalog.select(3)
    assert 1800 <= len(catalog.select(1)) <= 2600 and len(catalog.select(3, full=True)) > len(default)
    kinds = {c.kind for c in default}
    assert kinds == {"op", "pattern", "model", "int8", "dynamic"}
    families = {c.family for c in default if c.kind == "op"}
    assert {"broadcast", "scalar", "empty", "large", "edge", "channels_last"} <= families
    case = catalog.by_id()["op/add.Tensor/float32/edge"]
    a, b = case.build().inputs, case.build().inputs
    assert all(torch.equal(x.view(torch.int32), y.view(torch.int32)) for x, y in zip(a, b))
    assert torch.isnan(a[0]).any() and torch.isinf(a[0]).any()
    assert catalog.keyword_match("relu and not edge", "op/relu.default/float32/basic")
    assert not catalog.keyword_match("relu and not edge", "op/relu.default/float32/edge")
    assert catalog.keyword_match("(sigmoid or tanh) and float32", "op/tanh.default/float32/large")


def _core_kernel_cells():
    """(core overload, dtype) -> True for every dtype the portable kernels
    register for it (the runtime's own table, not the catalog's)."""
    from wick.ops_table import build_table

    return {(r["op"], d) for r in build_table()["ops"] for d, cell in r["dtypes"].items() if cell["implemented"]}


def test_catalog_covers_every_core_op_with_a_kernel_or_names_why_not():
    from wick.conformance import catalog, op_specs
    from wick.conformance.report import exclusions
    from wick.edge import core_aten_ops
    from wick.ops_table import EXCEPTIONS

    core = {str(op) for op in core_aten_ops()}
    cells = _core_kernel_cells()
    have = {(catalog.COPY_TO_VIEW.get(c.op, c.op), c.dtype) for c in catalog.select(1) if c.kind == "op"}
    missing = sorted((op, d) for op, d in cells if (op, d) not in have and op not in op_specs.EXCLUDED
                     and (op, d) not in op_specs.EXCLUDED_CELLS)
    assert not missing, f"core (op, dtype) cells with a portable kernel but no default-tier case: {missing}"
    # Every core overload has cases, or is excluded with a reason (or has no kernel by design).
    ops_with_cases = {op for op, _ in have}
    without = sorted(core - ops_with_cases)
    ex = exclusions()["ops"]
    assert all(op in ex for op in without), [op for op in without if op not in ex]
    assert set(EXCEPTIONS) <= set(ex) and all(len(why) > 30 for why in ex.values())
    # No stale exclusions: each names a real core overload (and kernel cell), and nothing excluded has cases.
    assert set(op_specs.EXCLUDED) <= core and not set(op_specs.EXCLUDED) & ops_with_cases
    assert set(op_specs.EXCLUDED_CELLS) <= cells and not set(op_specs.EXCLUDED_CELLS) & have
    reasons = list(op_specs.EXCLUDED_CELLS.values()) + list(op_specs.EXCLUDED_VARIANTS.values())
    assert all(len(why) > 30 for why in reasons)
    # The catalog's dtypes are the kernels' dtypes (float32 aside: a few float32 kernels are
    # registered under an optimized name, e.g. avg_pool2d, and run all the same).
    extra = sorted((op, d) for op, d in have if (op, d) not in cells and d != "float32" and op in core)
    assert not extra, f"cases for dtypes with no portable kernel: {extra}"
    assert len(ops_with_cases & core) >= 160 and len(have) >= 1400


def test_generated_cases_are_seeded_and_reach_their_op():
    """Inputs are the same bytes on every build; the module calls the op under test."""
    from wick.conformance import catalog

    ids = ["op/sort.default/int8/basic", "op/scatter.src/bfloat16/basic", "op/grid_sampler_2d.default/float16/basic",
           "op/index_put.default/uint8/basic", "op/sin.default/float16/edge"]
    for cid in ids:
        case = catalog.by_id()[cid]
        a, b = case.build(), case.build()
        for x, y in zip(a.inputs, b.inputs):
            torch.testing.assert_close(x, y, rtol=0, atol=0, equal_nan=True, msg=cid)
        ep = torch.export.export(a.module, tuple(a.inputs))
        import wick

        graph_ops = {f"{n.target._schema.name.replace('::', '.')}.{n.target._overloadname}"
                     for n in wick.to_edge(ep).exported_program.graph.nodes if hasattr(n.target, "_schema")}
        assert case.op in graph_ops, (cid, graph_ops)
    sort_in = catalog.by_id()["op/sort.default/int8/basic"].build().inputs[0]
    assert sort_in.unique().numel() == sort_in.numel()  # distinct values: tie order cannot matter
    edge = catalog.by_id()["op/sin.default/float16/edge"].build().inputs[0]
    assert torch.isnan(edge).any() and torch.isinf(edge).any()
    # float16 grid sampling is judged against float64 rounded to float16 (PyTorch's half kernel rounds
    # its intermediate coordinates; the portable one does not).
    assert catalog.by_id()["op/grid_sampler_2d.default/float16/basic"].build().eager is not None


def test_the_reference_agrees_with_eager_on_one_generated_case_per_op():
    """Keeps the reference honest in CI: one default-tier case of every op
    (dtype chosen by a stable hash, so all dtypes are exercised across ops),
    portable-only program vs eager PyTorch. The whole catalog is checked the
    same way with the ':reference' worker backend (docs/conformance.md)."""
    import zlib

    from wick.conformance import catalog, worker

    worker._memoize_cia_scan()
    by_op = {}
    for c in catalog.select(1):
        if c.kind == "op":
            by_op.setdefault(c.op, []).append(c)
    chosen = [cs[zlib.crc32(op.encode()) % len(cs)] for op, cs in sorted(by_op.items())]
    bad = []
    for case in chosen:
        r = worker.run_case(case, None)
        if r["verdict"] != "pass" or any("does not appear" in n for n in r["notes"]):
            bad.append((case.id, r["verdict"], r["message"][:200], r["notes"]))
    assert not bad, bad
    assert len(chosen) >= 160


def test_backend_estimates_reach_the_case_rows_and_the_html():
    # The SDK reserves the debug-map key "estimates" (e.g. Vela's cycles) for reports.
    from types import SimpleNamespace

    from wick.conformance import report, worker

    with_estimates = SimpleNamespace(debug_map={"estimates": {"by": "Vela 5.2.0", "npu_cycles": 67531}, "x": 1})
    without = SimpleNamespace(debug_map={"tosa": {}})
    lowered = SimpleNamespace(delegates={"forward": [with_estimates, without]})
    estimates = worker._estimates(lowered)
    assert estimates == [{"by": "Vela 5.2.0", "npu_cycles": 67531}]
    assert report._estimates_html(estimates) == "by Vela 5.2.0, npu_cycles 67531"
