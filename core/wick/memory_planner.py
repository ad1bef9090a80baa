"""Lifetime-based memory planning of the activation arena.

Every tensor a method computes gets an offset in one arena. Two tensors may
share bytes when their lifetimes (first write .. last read, in instruction
order) do not overlap. Placement is greedy by size, largest first, each at the
lowest offset that does not collide with an already placed tensor whose
lifetime overlaps: the classic heuristic that TFLite's arena planner and
ExecuTorch's greedy planner also use, close to optimal on feed-forward nets.
"""

from __future__ import annotations

from dataclasses import dataclass

ALIGNMENT = 64


@dataclass
class Buffer:
    key: int       # the value id of the tensor
    size: int      # bytes (upper bound for dynamic tensors)
    first: int     # instruction index that writes it
    last: int      # last instruction index that reads it
    offset: int = -1


def _align(n: int, alignment: int = ALIGNMENT) -> int:
    return (n + alignment - 1) // alignment * alignment


def plan(buffers: list[Buffer]) -> int:
    """Assigns ``offset`` to every buffer; returns the arena size in bytes."""
    placed: list[Buffer] = []
    arena = 0
    for buf in sorted(buffers, key=lambda b: (-b.size, b.first, b.key)):
        size = _align(max(buf.size, 1))
        conflicts = sorted((p for p in placed if p.first <= buf.last and buf.first <= p.last), key=lambda p: p.offset)
        offset = 0
        for p in conflicts:
            if offset + size <= p.offset:
                break
            offset = max(offset, _align(p.offset + max(p.size, 1)))
        buf.offset = offset
        placed.append(buf)
        arena = max(arena, offset + size)
    return arena
