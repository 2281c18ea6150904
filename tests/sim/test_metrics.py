"""The score histogram adds chunks up into one row per (day, group, score), in key order,
whatever the keys' range (one integer per key when it fits, three columns otherwise)."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.sim.metrics import PolicyMetrics

KEY = st.tuples(st.integers(0, 400), st.integers(0, 5), st.integers(-(2**40), 2**40))
SMALL = st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(-3, 3))
CHUNK = st.lists(st.tuples(st.one_of(KEY, SMALL), st.integers(1, 9)), max_size=30)


def chunk(rows: list[tuple[tuple[int, int, int], int]]) -> PolicyMetrics:
    m = PolicyMetrics(401, 6)
    if rows:
        m.score_keys = np.array([k for k, _ in rows], dtype=np.int64)
        m.score_counts = np.array([c for _, c in rows], dtype=np.int64)
    return m


@settings(max_examples=200, deadline=None)
@given(st.lists(CHUNK, min_size=1, max_size=5))
def test_merged_histogram_is_the_sum_in_key_order(
    chunks: list[list[tuple[tuple[int, int, int], int]]],
) -> None:
    expected: Counter[tuple[int, int, int]] = Counter()
    for rows in chunks:
        for key, count in rows:
            expected[key] += count
    total = PolicyMetrics(401, 6)
    for rows in chunks:
        total.merge(chunk(rows))
    total.finish()
    keys = sorted(expected)
    assert [tuple(k) for k in total.score_keys.tolist()] == keys
    assert total.score_counts.tolist() == [expected[k] for k in keys]


def test_keys_too_wide_for_one_integer() -> None:
    """Scores spanning more than 2^62 cents over the days and groups: the three-column sort."""
    m = chunk([((1, 0, 2**61), 1), ((0, 1, -(2**61)), 2), ((1, 0, 2**61), 3), ((0, 0, 5), 4)])
    m.finish()
    assert m.score_keys.tolist() == [[0, 0, 5], [0, 1, -(2**61)], [1, 0, 2**61]]
    assert m.score_counts.tolist() == [4, 2, 4]
