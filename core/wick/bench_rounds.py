"""Round orders for benchmarks that interleave several engines in one process.

An engine's idle worker threads keep spinning for a while after its call
(OpenMP, pthreadpool, lavapipe's), so on a small machine the engine that runs
next loses a core for a moment. Rotating one order (A B C, B C A, C A B) does
not spread that: within a round an engine always follows the same neighbor
(A only ever follows C). Going through every permutation of the engines does:
each engine follows each other one equally often.
"""

from __future__ import annotations

import itertools
from typing import Sequence, TypeVar

T = TypeVar("T")


def interleaved_rounds(engines: Sequence[T], runs: int) -> list[tuple[T, ...]]:
    """`runs` rounds, round r running the engines in the r-th of all their
    orders (cycling when there are more rounds than orders)."""
    orders = list(itertools.permutations(engines))
    return [orders[r % len(orders)] for r in range(runs)]
