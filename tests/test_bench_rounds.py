"""wick.bench_rounds: interleaved benchmark rounds give every engine every
predecessor equally often (a rotated single order does not)."""

from collections import Counter

from wick.bench_rounds import interleaved_rounds


def _within_round_predecessors(rounds, engine):
    return Counter(round_[i - 1] for round_ in rounds for i in range(1, len(round_)) if round_[i] == engine)


def test_every_order_once_per_cycle():
    rounds = interleaved_rounds("abc", 12)
    assert len(rounds) == 12
    assert sorted(rounds[:6]) == sorted(set(rounds[:6])) and len(set(rounds[:6])) == 6
    assert rounds[6:] == rounds[:6]
    assert all(Counter(r) == Counter("abc") for r in rounds)


def test_within_a_round_each_engine_follows_each_other_equally():
    within = Counter()
    for round_ in interleaved_rounds("abc", 6):
        within.update(zip(round_, round_[1:]))
    assert set(within.values()) == {2} and len(within) == 6


def test_rotation_would_not():
    # the bug this module replaced: in a rotated order an engine, when it does
    # not open the round, always follows the same neighbor
    rotated = ["abc"[r % 3:] + "abc"[:r % 3] for r in range(6)]
    assert set(_within_round_predecessors(rotated, "a")) == {"c"}
    assert _within_round_predecessors(interleaved_rounds("abc", 6), "a") == Counter({"b": 2, "c": 2})


def test_one_engine_and_short_runs():
    assert interleaved_rounds(["x"], 3) == [("x",), ("x",), ("x",)]
    assert interleaved_rounds("ab", 0) == []
