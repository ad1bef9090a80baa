"""The delegate SDK end to end: two separately built plugin packages (one from
`wick new-backend`, one test plugin with a C++ runtime half) are pip-installed
into a private site dir, discovered, lowered to, and executed from Python and
from wick-run; broken plugins are isolated; ABI/SDK mismatches are refused
with both versions named; a missing backend is named at load."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import wick
from wick import plugins
from wick.delegate_sdk import SDK_API_VERSION
from wick.new_backend import generate

HERE = os.path.dirname(__file__)
REPO = os.path.dirname(HERE)


def _pip_install(target, *packages):
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps",
                          "--target", str(target), *map(str, packages)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def _write_dist(site, dist, version, entry_name, module, module_source=None):
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[wick.backends]\n{entry_name} = {module}\n")
    if module_source:
        (site / f"{module}.py").write_text(textwrap.dedent(module_source))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugins")
    site = root / "site"
    generate("tmpl_be", str(root / "wick-tmpl-be"))
    _pip_install(site, root / "wick-tmpl-be", os.path.join(HERE, "plugins", "wick-test-unary"))
    _write_dist(site, "wick-broken-import", "0.1", "broken_import", "wick_no_such_module_xyz")
    _write_dist(site, "wick-future-sdk", "3.0", "future_sdk", "wick_future_sdk", """
        from wick.delegate_sdk import PluginDescriptor, hookimpl

        @hookimpl
        def wick_backend_descriptor():
            return PluginDescriptor(name="future_sdk", version="3.0", sdk_api_version="2.0")

        @hookimpl
        def wick_backend_partitioner(compile_specs):
            return None
    """)
    return site


@pytest.fixture
def on_path(site, monkeypatch):
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    plugins.discover(refresh=True)
    yield site
    monkeypatch.undo()
    importlib.invalidate_caches()
    plugins.discover(refresh=True)


def env_with(site):
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


class Elementwise(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("scale", torch.linspace(-1, 1, 32).reshape(4, 8))

    def forward(self, x, y):
        z = torch.relu(x + y) * self.scale
        return z - x, torch.nn.functional.hardtanh(-z, -0.5, 0.5)


INPUTS = (torch.randn(4, 8, generator=torch.Generator().manual_seed(0)),
          torch.randn(4, 8, generator=torch.Generator().manual_seed(1)))


def expected():
    with torch.no_grad():
        return Elementwise().eval()(*INPUTS)


def test_discovery_lists_working_and_broken_plugins(on_path):
    found = {p.name: p for p in plugins.discover()}
    assert not found["tmpl_be"].broken and not found["test_unary"].broken
    assert found["tmpl_be"].distribution == "wick-tmpl-be"
    assert found["broken_import"].broken and "cannot import wick_no_such_module_xyz" in found["broken_import"].error
    assert found["future_sdk"].broken
    assert "API 2.0" in found["future_sdk"].error and f"API {SDK_API_VERSION}" in found["future_sdk"].error


def test_wick_backends_table_and_json(site):
    res = subprocess.run([sys.executable, "-m", "wick.cli", "backends", "--json"], capture_output=True, text=True,
                         env=env_with(site))
    assert res.returncode == 0, res.stderr
    rows = {r["name"]: r for r in json.loads(res.stdout)["plugins"]}
    assert rows["tmpl_be"]["available"] is True and rows["tmpl_be"]["sdk_api"] == SDK_API_VERSION
    assert rows["test_unary"]["runtime_library"].endswith("libwick_test_unary_runtime.so")
    assert rows["broken_import"]["broken"] and rows["future_sdk"]["broken"]
    res = subprocess.run([sys.executable, "-m", "wick.cli", "backends"], capture_output=True, text=True,
                         env=env_with(site))
    assert "BROKEN future_sdk" in res.stdout and "tmpl_be 0.1.0" in res.stdout and "available here" in res.stdout
    assert "load-time options: fail_init" in res.stdout


def test_both_plugins_lower_and_run_from_python(on_path):
    program = wick.export(Elementwise().eval(), INPUTS, backends=["test_unary", "tmpl_be"])
    report = program.partition_report
    where = report.assignments["forward"]
    # Priority order: relu, neg and hardtanh go to test_unary, the rest of the
    # elementwise work to tmpl_be; nothing stays on the portable kernels.
    assert where["relu"] == where["neg"] == where["hardtanh"] == "test_unary"
    assert where["add"] == where["mul"] == where["sub"] == "tmpl_be"
    assert sorted(wick.runtime.load(program.buffer).required_backends) == ["test_unary", "tmpl_be"]
    got = wick.runtime.load(program.buffer).method("forward")(*INPUTS)
    for g, e in zip(got, expected()):
        torch.testing.assert_close(g, e)


def test_weights_inside_a_partition_reach_preprocess_as_constants(on_path):
    from wick.lowering import to_edge_and_lower

    edge = to_edge_and_lower(torch.export.export(Elementwise().eval(), INPUTS), ["tmpl_be"])
    record = edge.delegates["forward"][0]
    # The `scale` buffer is baked into the blob: only x and y are runtime inputs.
    assert [n.name for n in record.inputs] == ["x", "y"]
    assert len(record.blob) > 32 * 4  # the 4x8 float32 constant is inside


def test_partition_report_says_why_nodes_were_refused(on_path):
    program = wick.export(Elementwise().eval(), INPUTS, backends=["tmpl_be"])
    report = json.loads(program.partition_report.to_json())
    nodes = {n["node"]: n for n in report["methods"]["forward"]["nodes"]}
    assert nodes["hardtanh"]["assigned"] == "portable"
    assert any("tmpl_be" in r and "not one of" in r for r in nodes["hardtanh"]["refused_because"])
    assert nodes["add"]["assigned"] == "tmpl_be"
    assert "tmpl_be" in program.partition_report.to_text()


def test_wick_run_executes_delegates_with_backend_lib_and_env(on_path, wick_run, tmp_path):
    program = wick.export(Elementwise().eval(), INPUTS, backends=["test_unary", "tmpl_be"])
    path = tmp_path / "m.wick"
    program.save(str(path))
    args = []
    for i, x in enumerate(INPUTS):
        np.save(tmp_path / f"in{i}.npy", x.numpy())
        args += ["--input", str(tmp_path / f"in{i}.npy")]
    libs = [plugins.get("tmpl_be").descriptor.runtime_library, plugins.get("test_unary").descriptor.runtime_library]
    res = subprocess.run([wick_run, str(path), *args, "--backend-lib", libs[0], "--backend-lib", libs[1],
                          "--output-dir", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    for i, e in enumerate(expected()):
        np.testing.assert_allclose(np.load(tmp_path / f"output_{i}.npy"), e.numpy(), rtol=1e-6)
    env = {**os.environ, "WICK_BACKEND_LIBS": os.pathsep.join(libs)}
    res = subprocess.run([wick_run, str(path), *args], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([wick_run, str(path), *args], capture_output=True, text=True)
    # The first delegate call (add, on tmpl_be) names its backend and package.
    assert res.returncode == 1 and "backend 'tmpl_be'" in res.stderr and "wick-tmpl-be" in res.stderr


def test_missing_backend_is_named_at_load_with_its_package(on_path, tmp_path):
    program = wick.export(Elementwise().eval(), INPUTS, backends=["tmpl_be"])
    path = tmp_path / "m.wick"
    program.save(str(path))
    script = f"""
import wick
try:
    wick.runtime.load({str(path)!r}).method("forward")
except wick.WickError as e:
    print(e.code, e.message)
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)  # plugin not on path
    assert "BackendNotFound" in res.stdout and "'tmpl_be'" in res.stdout and "wick-tmpl-be" in res.stdout


def test_plugin_for_another_sdk_major_is_refused_by_name(on_path):
    with pytest.raises(wick.ExportError, match=f"API 2.0.*API {SDK_API_VERSION}"):
        wick.export(Elementwise().eval(), INPUTS, backends=["future_sdk"])
    with pytest.raises(wick.ExportError, match="no backend plugin named 'nope'"):
        wick.export(Elementwise().eval(), INPUTS, backends=["nope"])


def test_failing_init_names_backend_and_reason(on_path):
    from wick.delegate_sdk import CompileSpec

    program = wick.export(torch.nn.ReLU(), INPUTS[:1], backends=["test_unary"],
                          compile_specs={"test_unary": [CompileSpec("fail_init", b"1")]})
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load(program.buffer).method("forward")
    assert info.value.code == "BackendFailed"
    assert "test_unary" in info.value.message and "fail_init=1" in info.value.message


def test_load_time_options_reach_init_and_replace_the_program_spec(on_path, wick_run, tmp_path):
    from wick.delegate_sdk import CompileSpec

    relu = torch.nn.ReLU()
    plain = wick.export(relu, INPUTS[:1], backends=["test_unary"])
    with pytest.raises(wick.WickError, match="fail_init=1"):
        wick.runtime.load(plain.buffer, backend_options={"test_unary": {"fail_init": 1}}).method("forward")
    # A program exported to fail at init loads when the option replaces that spec.
    failing = wick.export(relu, INPUTS[:1], backends=["test_unary"],
                          compile_specs={"test_unary": [CompileSpec("fail_init", b"1")]})
    method = wick.runtime.load(failing.buffer, backend_options={"test_unary": {"fail_init": "0"}}).method("forward")
    torch.testing.assert_close(method(INPUTS[0])[0], relu(INPUTS[0]))
    # The same through wick-run.
    path = tmp_path / "relu.wick"
    plain.save(str(path))
    lib = ["--backend-lib", plugins.get("test_unary").descriptor.runtime_library]
    res = subprocess.run([wick_run, str(path), *lib, "--backend-option", "test_unary.fail_init=1"],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "fail_init=1" in res.stderr, res.stderr
    res = subprocess.run([wick_run, str(path), *lib, "--backend-option", "fail_init=1"], capture_output=True, text=True)
    assert res.returncode == 2 and "BACKEND.KEY=VALUE" in res.stderr
    res = subprocess.run([wick_run, str(path), *lib, "--backend-option", "xnnpak.threads=1"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "names backend 'xnnpak', which this program does not delegate to" in res.stderr


def test_load_time_options_name_unknown_keys_and_unused_backends(on_path):
    program = wick.export(torch.nn.ReLU(), INPUTS[:1], backends=["test_unary"])
    with pytest.raises(ValueError, match="no load-time option 'fail' .*it takes: fail_init"):
        wick.runtime.load(program.buffer, backend_options={"test_unary": {"fail": 1}})
    with pytest.raises(ValueError, match="names backend 'xnnpak', which this program does not delegate to .*test_unary"):
        wick.runtime.load(program.buffer, backend_options={"xnnpak": {"threads": 1}})


def _compile_library(tmp_path, name, source):
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    out = tmp_path / f"lib{name}.so"
    include = os.path.join(wick.sdk_dir(), "include")
    res = subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", "-shared", "-fPIC", f"-I{include}", str(src), "-o",
                          str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return str(out)


ABI_SOURCE = """
#include "wick/backend.h"
static WickStatus init(const uint8_t* b, size_t n, const WickCompileSpec* s, size_t ns, const WickHostAllocator* a,
                       void** h, char* e, size_t es) { (void)b; (void)n; (void)s; (void)ns; (void)a; (void)e;
                       (void)es; *h = 0; return WICK_STATUS_OK; }
static WickStatus run(void* h, WickTensorArg* a, size_t n, char* e, size_t es) {
  (void)h; (void)a; (void)n; (void)e; (void)es; return WICK_STATUS_OK; }
static const WickBackend table = {ABI, "NAME", 0, init, run, 0, 0};
const WickBackend* wick_backend_entry(void) { return &table; }
"""


def test_runtime_refuses_abi_mismatch_naming_both_versions(tmp_path):
    lib = _compile_library(tmp_path, "abi99", ABI_SOURCE.replace("ABI", "99").replace("NAME", "abi99"))
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load_backend_library(lib)
    assert "ABI version 99" in info.value.message and "ABI 2.0" in info.value.message
    assert lib in info.value.message


def test_runtime_library_errors_name_what_and_whom(tmp_path):
    no_entry = _compile_library(tmp_path, "noentry", "int unrelated(void) { return 1; }\n")
    with pytest.raises(wick.WickError, match=r"exports neither 'wick_backend_entry2' \(ABI 2\) nor 'wick_backend_entry'"):
        wick.runtime.load_backend_library(no_entry)
    first = _compile_library(tmp_path, "clash_a", ABI_SOURCE.replace("ABI", "WICK_BACKEND_ABI_VERSION")
                             .replace("NAME", "clash_name"))
    second = _compile_library(tmp_path, "clash_b", ABI_SOURCE.replace("ABI", "WICK_BACKEND_ABI_VERSION")
                              .replace("NAME", "clash_name"))
    wick.runtime.load_backend_library(first)
    with pytest.raises(wick.WickError, match="already loaded"):
        wick.runtime.load_backend_library(first)
    with pytest.raises(wick.WickError, match="'clash_name'.*clashes.*clash_a"):
        wick.runtime.load_backend_library(second)
    with pytest.raises(wick.WickError, match="cannot load backend library"):
        wick.runtime.load_backend_library(tmp_path / "missing.so")


def test_abi_header_compiles_as_c_and_cpp():
    header = os.path.join(wick.sdk_dir(), "include", "wick", "backend.h")
    for cmd in (["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-x", "c", header],
                ["c++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-x", "c++", header]):
        res = subprocess.run(cmd, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr


def test_cli_export_with_backend_and_inspect_shows_delegate_ops(site, tmp_path):
    (tmp_path / "m.py").write_text(textwrap.dedent("""
        import torch
        def make():
            model = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Hardtanh(-0.5, 0.5))
            return model, (torch.randn(3, 5),)
    """))
    out = tmp_path / "m.wick"
    res = subprocess.run([sys.executable, "-m", "wick.cli", "export", f"{tmp_path / 'm.py'}:make", "-o", str(out),
                          "--backend", "test_unary", "--report-json", str(tmp_path / "r.json")],
                         capture_output=True, text=True, env=env_with(site))
    assert res.returncode == 0, res.stderr
    assert "test_unary 2 (100%)" in res.stdout
    assert json.loads((tmp_path / "r.json").read_text())["methods"]["forward"]["nodes"][0]["assigned"] == "test_unary"
    res = subprocess.run([sys.executable, "-m", "wick.cli", "inspect", str(out), "--json"], capture_output=True,
                         text=True)
    delegates = json.loads(res.stdout)["methods"][0]["delegates"]
    assert [d["backend"] for d in delegates] == ["test_unary", "test_unary"]
    assert delegates[0]["ops"] == {"aten::relu.default": 1}
    assert delegates[0]["debug"] == {"op": "aten.relu.default"}  # the backend's debug map
    text = subprocess.run([sys.executable, "-m", "wick.cli", "inspect", str(out)], capture_output=True,
                          text=True).stdout
    assert 'op: "aten.relu.default"' in text  # one line per debug key in the text view


def test_inspect_text_shows_every_debug_key_even_after_a_long_one():
    from wick.inspect_program import _debug_lines

    lines = _debug_lines({"a_long": list(range(1000)), "vela": {"npu_cycles": 67531}})
    assert lines[1].startswith("      a_long: [0, 1,") and lines[1].endswith(" ...") and len(lines[1]) < 420
    assert lines[2] == '      vela: {"npu_cycles": 67531}'


def test_generated_template_passes_its_own_tests(site, tmp_path):
    root = tmp_path / "gen"
    generate("tmpl_two", str(root))
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
                         capture_output=True, text=True, env=env_with(site), cwd=root)
    # The generated tests target 'tmpl_two', which is not installed: they must
    # fail cleanly naming it (proving they test the plugin, not a stand-in).
    assert res.returncode != 0 and "tmpl_two" in res.stdout
    _pip_install(site, root)
    importlib.invalidate_caches()
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
                         capture_output=True, text=True, env=env_with(site), cwd=root)
    assert res.returncode == 0, res.stdout + res.stderr


QUANT_FACTORY = """
import torch

def make():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 6 * 6, 5))
    example = (torch.randn(1, 3, 6, 6),)
    calibration = [(torch.randn(1, 3, 6, 6),) for _ in range(4)]
    return model, example, None, calibration
"""


def test_cli_quantize_runs_the_first_backends_quantizer(site, tmp_path):
    (tmp_path / "q.py").write_text(QUANT_FACTORY)
    out = tmp_path / "q.wick"
    res = subprocess.run([sys.executable, "-m", "wick.cli", "export", f"{tmp_path / 'q.py'}:make", "-o", str(out),
                          "--backend", "test_unary", "--quantize"], capture_output=True, text=True,
                         env=env_with(site))
    assert res.returncode == 0, res.stderr
    info = json.loads(subprocess.run([sys.executable, "-m", "wick.cli", "inspect", str(out), "--json"],
                                     capture_output=True, text=True).stdout)["methods"][0]
    assert info["ops"].get("quantized_decomposed::quantize_per_tensor.out", 0) >= 2
    assert info["ops"].get("quantized_decomposed::dequantize_per_channel.out", 0) >= 2
    # int8 weights stay int8 in the file: far smaller than the float32 weights
    assert info["constant_bytes"] < (8 * 3 * 9 + 8 * 36 * 5) * 4 * 0.5


def test_quantize_without_a_backend_is_a_usage_error(tmp_path):
    (tmp_path / "q.py").write_text(QUANT_FACTORY)
    res = subprocess.run([sys.executable, "-m", "wick.cli", "export", f"{tmp_path / 'q.py'}:make", "-o",
                          str(tmp_path / "q.wick"), "--quantize"], capture_output=True, text=True)
    assert res.returncode == 2 and "--backend" in res.stderr


def test_backend_registered_statically_runs_without_dynamic_loading(site, tmp_path):
    """The template's pure-C runtime half linked into a binary and registered
    with wick::register_backend: no dlopen, as on a microcontroller."""
    backend_c = site.parent / "wick-tmpl-be" / "runtime" / "tmpl_be_backend.c"
    build = tmp_path / "build"
    res = subprocess.run(["cmake", "-S", os.path.join(HERE, "cpp", "static_backend"), "-B", str(build),
                          f"-Dwick_DIR={wick.cmake_dir()}", f"-DBACKEND_SOURCE={backend_c}",
                          "-DCMAKE_BUILD_TYPE=Release"], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    res = subprocess.run(["cmake", "--build", str(build), "-j2"], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    sys.path.insert(0, str(site))
    try:
        importlib.invalidate_caches()
        plugins.discover(refresh=True)
        model = Elementwise().eval()
        program = wick.export(model, INPUTS, backends=["tmpl_be"])
    finally:
        sys.path.remove(str(site))
        plugins.discover(refresh=True)
    path = tmp_path / "m.wick"
    program.save(str(path))
    res = subprocess.run([str(build / "static_backend"), str(path)], capture_output=True, text=True)
    # hardtanh is not claimed by tmpl_be: it runs on the linked portable kernels
    assert res.returncode == 0, res.stderr
    pattern = (torch.arange(32) % 17).float().mul(0.25).sub(2).reshape(4, 8)
    with torch.no_grad():
        expected = torch.cat([o.flatten() for o in model(pattern, pattern.clone())])
    got = torch.tensor([float(v) for v in res.stdout.split()])
    torch.testing.assert_close(got, expected)
