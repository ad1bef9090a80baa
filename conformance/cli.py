"""`wick conformance`: certify a backend plugin against the portable reference.

    wick conformance --backend NAME [--level N] [-k FILTER] [--out DIR] [--relaxed]
                     [--timeout S] [--jobs N] [--full] [--compile-spec KEY=VALUE] [--list]

Exit status: 0 the level passed; 1 it failed, is incomplete (claimed cases
whose reference could not run) or nothing was claimed; 2 usage error (unknown
backend, bad option).
"""

from __future__ import annotations

import argparse
import os
import sys
import time


class Progress:
    """A progress bar on a terminal; a line every 10% otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.monotonic()
        self.failed = 0
        self.last_decile = -1

    def __call__(self, done: int, total: int, result: dict) -> None:
        if result.get("verdict") == "fail":
            self.failed += 1
        frac = done / max(1, total)
        elapsed = time.monotonic() - self.start
        if self.tty:
            width = 30
            bar = "#" * int(frac * width) + "." * (width - int(frac * width))
            line = f"\r[{bar}] {done}/{total} {elapsed:5.0f}s failed {self.failed}  {result['id'][:50]:50s}"
            self.stream.write(line)
            if done == total:
                self.stream.write("\n")
        elif int(frac * 10) != self.last_decile or done == total:
            self.last_decile = int(frac * 10)
            self.stream.write(f"[{int(frac * 100):3d}%] {done}/{total} cases, {self.failed} failed, "
                              f"{elapsed:.0f} s\n")
        self.stream.flush()


def parser() -> argparse.ArgumentParser:
    from .runner import DEFAULT_TIMEOUT_S, default_jobs

    p = argparse.ArgumentParser(prog="wick conformance",
                                description="Certify a backend plugin: run the conformance catalog with only this "
                                            "backend, compare with the portable-kernel reference, write JSON, JUnit "
                                            "XML and HTML reports. See docs/conformance.md.")
    p.add_argument("--backend", required=False, help="backend plugin name (see `wick backends`)")
    p.add_argument("--level", type=int, default=2, choices=(1, 2, 3),
                   help="1: op cases; 2: + patterns and float32 models (default); 3: + int8 and dynamic shapes")
    p.add_argument("-k", dest="keyword", help="only cases whose id matches this expression (words, and/or/not); "
                                              "a filtered run is not a certification")
    p.add_argument("--out", default="conformance-report", help="report directory (default ./conformance-report)")
    p.add_argument("--relaxed", action="store_true",
                   help="declared relaxed tolerances (shown in every report; not a strict certification)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                   help=f"per-case time limit in seconds (model cases get a multiple); default {DEFAULT_TIMEOUT_S:g}")
    p.add_argument("--jobs", type=int, default=default_jobs(), help="worker processes (default: min(2, CPUs))")
    p.add_argument("--full", action="store_true", help="the full tier: more dtypes, shape families and sizes")
    p.add_argument("--compile-spec", action="append", default=[], metavar="KEY=VALUE",
                   help="compile spec handed to the backend (repeatable); recorded in the reports")
    p.add_argument("--list", action="store_true", help="list the selected case ids and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    from . import catalog, report
    from .runner import RunConfig, RunError, run

    try:
        cases = catalog.select(args.level, args.keyword, args.full)
    except ValueError as e:
        print(f"wick conformance: error: {e}", file=sys.stderr)
        return 2
    if args.list:
        for c in cases:
            print(c.id)
        return 0
    if not args.backend:
        print("wick conformance: error: --backend NAME is required (installed: `wick backends`)", file=sys.stderr)
        return 2
    if not cases:
        print(f"wick conformance: error: no case matches -k {args.keyword!r} at level {args.level}", file=sys.stderr)
        return 2
    if args.jobs < 1 or args.timeout <= 0:
        print("wick conformance: error: --jobs must be >= 1 and --timeout > 0", file=sys.stderr)
        return 2
    specs = []
    for s in args.compile_spec:
        key, sep, value = s.partition("=")
        if not key:
            print(f"wick conformance: error: --compile-spec wants KEY=VALUE, got {s!r}", file=sys.stderr)
            return 2
        specs.append((key, value))
    cfg = RunConfig(backend=args.backend, level=args.level, keyword=args.keyword, full=args.full,
                    relaxed=args.relaxed, timeout=args.timeout, jobs=args.jobs, compile_specs=specs)
    try:
        rep = run(cfg, progress=Progress(), cases=cases, log_dir=os.path.join(args.out, "logs"))
    except RunError as e:
        print(f"wick conformance: error: {e}", file=sys.stderr)
        return 2
    report.write_all(rep, args.out)
    print(report.console_line(rep, args.out))
    return 0 if rep["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
