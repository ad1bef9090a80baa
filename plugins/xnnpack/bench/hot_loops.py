"""Where the time goes, in machine code: the hottest XNNPACK loop of each engine.

    python plugins/xnnpack/bench/hot_loops.py [--models mlp,resnet18] [--threads 1] [--seconds 3] [--int8]

For Wick+xnnpack (XNNPACK linked into libwick_xnnpack_runtime.so) and ExecuTorch 1.5.1's XNNPACK
delegate (its own, newer XNNPACK) in turn, a child process runs the model in a
loop, `perf record` samples it, and the hottest address inside the XNNPACK
library is traced back to its innermost loop, which `objdump` disassembles.
Printed per engine: the share of samples in that library, the loop's
multiply-adds per iteration, its vector registers and how many independent
accumulators it keeps (fewer accumulators than the FMA latency times the FMA
ports leaves the core waiting on its own results), and whether the clamp after
the loop lets NaN through (x86 `maxps` returns its second source operand when
either is NaN, so `max(acc, min)` turns NaN into `min`, `max(min, acc)` keeps it).

Needs `perf` (linux-perf) and `objdump` (binutils). Not a test: evidence for
the README's speed and conformance sections.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY_NAMES = ("libwick_xnnpack_runtime.so", "libXNNPACK.so", "libexecutorch_backend_xnnpack.so")


def child(engine: str, model: str, threads: int, int8: bool, ready: str, seconds: float) -> None:
    import warnings

    import torch

    sys.path.insert(0, HERE)
    import bench
    from wick.models import STANDARD_MODELS

    warnings.filterwarnings("ignore")
    torch.set_num_threads(threads)
    module, example = STANDARD_MODELS[model]()
    if int8:
        from wick_xnnpack.quantizer import quantize_for_xnnpack

        module = quantize_for_xnnpack(module, example)  # as bench.py --int8 does
    make = bench.wick_engine if engine == "wick" else bench.executorch_engine
    run = make(module, example, threads, int8)[0]
    for _ in range(20):
        run()
    with open(ready, "w") as f:
        f.write(str(os.getpid()))
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run()
        calls += 1
    print(f"{(time.perf_counter() - start) / calls * 1e3:.3f}")


def library_path(pid: int) -> str | None:
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            path = line.split()[-1]
            if any(name in path for name in LIBRARY_NAMES):
                return path
    return None


def profile(engine: str, model: str, threads: int, int8: bool, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ready, data = os.path.join(tmp, "ready"), os.path.join(tmp, "perf.data")
        proc = subprocess.Popen([sys.executable, __file__, "--child", engine, model, str(threads), str(int(int8)),
                                 ready, str(seconds + 2)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        while not os.path.exists(ready):
            if proc.poll() is not None:
                raise RuntimeError(f"{engine} {model}: the child process exited early")
            time.sleep(0.2)
        pid = int(open(ready).read())
        lib = library_path(pid)
        subprocess.run(["perf", "record", "-q", "-o", data, "-p", str(pid), "--", "sleep", str(seconds)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        ms = float(proc.communicate()[0].strip() or "nan")
        report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym", "--stdio"],
                                capture_output=True, text=True).stdout
    samples = Counter()
    total = 0.0
    for line in report.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[\.\]\s+0x([0-9a-f]+)", line)
        if m:
            total += float(m.group(1))
            if any(name in m.group(2) for name in LIBRARY_NAMES):
                samples[int(m.group(3), 16)] += float(m.group(1))
    return {"engine": engine, "model": model, "ms": ms, "library": lib, "samples": samples}


def disassemble(lib: str, start: int, stop: int) -> list[tuple[int, str]]:
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={start:#x}",
                          f"--stop-address={stop:#x}", lib], capture_output=True, text=True).stdout
    lines = []
    for line in out.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(.*)", line)
        if m:
            lines.append((int(m.group(1), 16), m.group(2).strip()))
    return lines


def hot_loop(lib: str, hot: int) -> list[tuple[int, str]]:
    """The innermost loop around `hot`: the first backward jump after it whose
    target is at or before it."""
    code = disassemble(lib, hot - 0x400, hot + 0x400)
    for address, text in code:
        m = re.match(r"j\w+\s+([0-9a-f]+)", text)
        if address >= hot and m and int(m.group(1), 16) <= hot:
            target = int(m.group(1), 16)
            return [(a, t) for a, t in code if target <= a <= address]
    return []


# Multiply-add instructions and the multiply-adds each does per 32-bit lane:
# float FMA 1, VNNI int8 dot product 4, int16 pair multiply-add 2 (after a
# widening of int8 to int16, the non-VNNI int8 path).
MULTIPLY_ADDS = {"vfmadd": 1, "vpdpbusd": 4, "vpmaddwd": 2}
LANES = {"zmm": 16, "ymm": 8, "xmm": 4}


def describe(lib: str, loop: list[tuple[int, str]]) -> str:
    kinds, macs, accumulators = Counter(), 0, set()
    for _, t in loop:
        for prefix, per_lane in MULTIPLY_ADDS.items():
            if t.startswith(prefix):
                width = next((w for w in LANES if f"%{w}" in t), "xmm")
                kinds[f"{t.split()[0]} ({width})"] += 1
                macs += per_lane * LANES[width]
                if prefix != "vpmaddwd":  # its result is summed by a separate add
                    accumulators.add(t.split(",")[-1])
    text = (", ".join(f"{n} {k}" for k, n in kinds.items()) + f" per iteration = {macs} multiply-adds"
            if kinds else "no multiply-add instructions")
    if accumulators:
        text += f", {len(accumulators)} independent accumulator{'s' if len(accumulators) != 1 else ''}"
    after = disassemble(lib, loop[-1][0], loop[-1][0] + 0x60)[1:] if loop else []
    clamp = next((t for _, t in after if t.startswith("vmaxps")), None)
    if clamp:
        operands = clamp.split(None, 1)[1].split(",")  # AT&T: src2, src1, dst
        verdict = ("keeps NaN" if operands[0] in accumulators else
                   "drops NaN" if operands[1] in accumulators else "(not on the accumulators)")
        text += f"; clamp `{clamp}` {verdict}"
    return text


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1", sys.argv[6], float(sys.argv[7]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mlp,resnet18")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--int8", action="store_true", help="the models quantized with the plugin's quantizer")
    args = ap.parse_args(argv)
    for model in args.models.split(","):
        for engine in ("wick", "executorch"):
            p = profile(engine, model, args.threads, args.int8, args.seconds)
            share = sum(p["samples"].values())
            print(f"== {model}, {engine}: {p['ms']:.3f} ms per call, {share:.0f}% of samples in "
                  f"{os.path.basename(p['library'] or '?')}")
            if not p["samples"]:
                continue
            hot = p["samples"].most_common(1)[0][0]
            loop = hot_loop(p["library"], hot)
            in_loop = sum(v for a, v in p["samples"].items() if loop and loop[0][0] <= a <= loop[-1][0])
            print(f"   hottest loop {loop[0][0]:#x}-{loop[-1][0]:#x}: {in_loop:.0f}% of samples; "
                  f"{describe(p['library'], loop)}" if loop else f"   hottest address {hot:#x} (no loop found)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
