"""Load time of the standard models' program files with and without checksum
verification (wick.runtime.load(..., verify_checksums=False)): the cost of
one CRC-32 pass over the file. Median of repeated loads of a file already in
the page cache.

    python bench/load_checksums.py [--models resnet18 mobilenet_v2 ...] [--repeats 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import wick
from wick.models import STANDARD_MODELS


def median_load_ms(path: str, verify: bool, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        wick.runtime.load(path, verify_checksums=verify)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(STANDARD_MODELS))
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(f"{'model':>14} {'file MB':>8} {'verified ms':>12} {'unverified ms':>14} {'CRC MB/s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            model, inputs = STANDARD_MODELS[name]()
            path = os.path.join(tmp, f"{name}.wick")
            wick.export(model, inputs).save(path)
            size_mb = os.path.getsize(path) / 1e6
            median_load_ms(path, True, 2)  # page cache warm
            on = median_load_ms(path, True, args.repeats)
            off = median_load_ms(path, False, args.repeats)
            rate = size_mb / ((on - off) / 1e3) if on > off else float("inf")
            print(f"{name:>14} {size_mb:8.1f} {on:12.2f} {off:14.2f} {rate:9.0f}")


if __name__ == "__main__":
    main()
