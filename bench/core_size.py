"""Size of Wick's runtime core: the standalone runner built with no kernels.

Configures the repository with plain CMake into a temporary build directory:

    -DWICK_BUILD_PYTHON=OFF -DWICK_KERNELS=NONE -DCMAKE_BUILD_TYPE=MinSizeRel

(MinSizeRel = -Os), builds the target `wick-run` with one job, strips a copy
and reports its size, plus the size of the static library libwick_runtime.a
(unstripped, as an embedder links it).

    python bench/core_size.py [--keep] [--build-dir DIR] [--json out.json]

Selective build: `--selective MODEL` (a standard model, e.g. mobilenet_v2)
exports the model, builds `wick-run` with only the kernel files its program
uses (wick.selective) and again with all kernels, and reports both sizes.

Also called by `python bench/run.py --core-size`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-4000:]}")
    return proc.stdout


def _find(build: Path, name: str) -> Path:
    hits = sorted(p for p in build.rglob(name) if p.is_file())
    if not hits:
        raise RuntimeError(f"{name} not found under {build}")
    return hits[0]


def measure(build_dir: str | None = None, keep: bool = False, jobs: int = 1, kernels: str = "NONE") -> dict:
    """Configure, build and measure. Returns a dict of sizes (bytes and KB).

    kernels: the WICK_KERNELS value: NONE, "" (all), or a ;-separated file list."""
    tmp = Path(build_dir) if build_dir else Path(tempfile.mkdtemp(prefix="wick-core-size-"))
    t0 = time.perf_counter()
    try:
        configure = [
            "cmake", "-S", str(REPO), "-B", str(tmp),
            "-DWICK_BUILD_PYTHON=OFF", f"-DWICK_KERNELS={kernels}", "-DCMAKE_BUILD_TYPE=MinSizeRel",
        ]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        cfg_log = _run(configure)
        cache = (tmp / "CMakeCache.txt").read_text(errors="replace")
        _run(["cmake", "--build", str(tmp), "--target", "wick-run", "-j", str(jobs)])

        # Did the runtime really build without kernels? Its CMakeLists writes a
        # placeholder source when no kernel is selected.
        placeholder = list(tmp.rglob("no_kernels.cpp"))
        kernel_objs = [p for p in tmp.rglob("*.o") if "wick_portable_kernels" in str(p) and "no_kernels" not in p.name]

        exe = _find(tmp, "wick-run")
        lib = _find(tmp, "libwick_runtime.a")
        stripped = tmp / "wick-run.stripped"
        shutil.copy2(exe, stripped)
        _run(["strip", "--strip-all", str(stripped)])
        sizes = {
            "wick_run_unstripped_bytes": exe.stat().st_size,
            "wick_run_stripped_bytes": stripped.stat().st_size,
            "libwick_runtime_a_bytes": lib.stat().st_size,
        }
        try:
            size_out = _run(["size", str(stripped)]).splitlines()[-1].split()
            sizes["wick_run_text_bytes"], sizes["wick_run_data_bytes"], sizes["wick_run_bss_bytes"] = map(int, size_out[:3])
        except Exception:  # `size` missing: not essential
            pass
        result = {
            **sizes,
            "wick_run_stripped_kb": round(sizes["wick_run_stripped_bytes"] / 1024, 1),
            "libwick_runtime_a_kb": round(sizes["libwick_runtime_a_bytes"] / 1024, 1),
            "kernels": kernels,
            "no_kernels": bool(placeholder) and not kernel_objs,
            "kernel_objects_built": [p.name for p in kernel_objs],
            "build_type": "MinSizeRel" if "CMAKE_BUILD_TYPE:STRING=MinSizeRel" in cache else "?",
            "compiler": _run(["c++", "--version"]).splitlines()[0],
            "build_dir": str(tmp) if keep else None,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        return result
    finally:
        if not keep and not build_dir:
            shutil.rmtree(tmp, ignore_errors=True)


def to_text(r: dict) -> str:
    lines = [
        "Wick runtime core (no kernels, MinSizeRel = -Os):",
        f"  wick-run, stripped:    {r['wick_run_stripped_kb']:.1f} KB ({r['wick_run_stripped_bytes']} bytes;"
        f" unstripped {r['wick_run_unstripped_bytes'] / 1024:.1f} KB)",
        f"  libwick_runtime.a:     {r['libwick_runtime_a_kb']:.1f} KB (static archive, unstripped)",
    ]
    if "wick_run_text_bytes" in r:
        lines.append(f"  wick-run sections:     text {r['wick_run_text_bytes']} / data {r['wick_run_data_bytes']}"
                     f" / bss {r['wick_run_bss_bytes']} bytes")
    lines.append(f"  no kernels compiled:   {'yes' if r['no_kernels'] else 'NO: ' + ', '.join(r['kernel_objects_built'])}")
    lines.append(f"  compiler:              {r['compiler']}")
    return "\n".join(lines)


def selective_kernels(model_name: str) -> str:
    """WICK_KERNELS for one standard model's float32 program."""
    import wick
    from wick import models, selective

    model, inputs = models.STANDARD_MODELS[model_name]()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, f"{model_name}.wick")
        wick.export(model, inputs).save(path)
        files, missing = selective.needed_files([path], str(REPO / "runtime" / "kernels" / "portable"))
    if missing:
        raise RuntimeError(f"no kernel file registers: {', '.join(missing)}")
    return ";".join(files)


def measure_selective(model_name: str, jobs: int) -> dict:
    files = selective_kernels(model_name)
    chosen = measure(jobs=jobs, kernels=files)
    every = measure(jobs=jobs, kernels="")
    return {"model": model_name, "kernel_files": files.split(";"), "selective": chosen, "all_kernels": every,
            "ratio": round(chosen["wick_run_stripped_bytes"] / every["wick_run_stripped_bytes"], 3)}


def selective_text(r: dict) -> str:
    mb = lambda b: b / (1024 * 1024)
    return "\n".join([
        f"Selective build for {r['model']} (MinSizeRel, stripped wick-run):",
        f"  kernel files:          {len(r['kernel_files'])} ({', '.join(r['kernel_files'])})",
        f"  selected kernels:      {mb(r['selective']['wick_run_stripped_bytes']):.2f} MB",
        f"  all kernels:           {mb(r['all_kernels']['wick_run_stripped_bytes']):.2f} MB",
        f"  ratio:                 {r['ratio']:.2f}",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--selective", metavar="MODEL",
                    help="compare a build with only MODEL's kernels against one with all kernels")
    ap.add_argument("--build-dir", help="build here (kept) instead of a temporary directory")
    ap.add_argument("--keep", action="store_true", help="keep the temporary build directory")
    ap.add_argument("--jobs", type=int, default=1, help="parallel build jobs (default 1)")
    ap.add_argument("--json", help="write the figures to this JSON file")
    args = ap.parse_args(argv)
    try:
        if args.selective:
            r = measure_selective(args.selective, args.jobs)
        else:
            r = measure(args.build_dir, args.keep, args.jobs)
    except Exception as e:  # report, don't hide: the build is the measurement
        print(f"core size: build failed: {e}", file=sys.stderr)
        return 1
    print(selective_text(r) if args.selective else to_text(r))
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
