"""scoring.order.stable_order is np.argsort(kind="stable") whatever the values' range."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.scoring.order import stable_order


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-5, 70_000), max_size=200),
    st.sampled_from([np.int32, np.int64]),
    st.integers(1, 70_000),
)
def test_stable_order_is_a_stable_argsort(values: list[int], dtype: type, top: int) -> None:
    """Equal values keep their order; values within 16 bits (the fast path) or beyond, or
    negative (the plain sort), give np.argsort's own stable order."""
    a = np.array([v % top if v >= 0 else v for v in values], dtype=dtype)
    got = stable_order(a)
    assert got.dtype == np.int64
    assert np.array_equal(got, np.argsort(a, kind="stable"))
