"""spans.add_months finds each day's month by a lookup over the days' range when many days
lie close together: the same month as a search of the table, and the same sums."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.spans import _MONTH_STARTS, _add_months_local, _month_index, add_months
from socialcredit.timeutil import DAY


@settings(max_examples=150, deadline=None)
@given(
    st.integers(-800_000, 3_000_000),
    st.integers(0, 5_000),
    st.integers(0, 300),
    st.integers(0, 2**32 - 1),
)
def test_month_index_is_the_search(first: int, width: int, n: int, seed: int) -> None:
    """Few or many days, over a short or long range (the lookup or the search), even before
    the table: each day's month is the table's own search."""
    days = first + np.random.default_rng(seed).integers(0, width + 1, n)
    want = np.searchsorted(_MONTH_STARTS, days, side="right") - 1
    assert np.array_equal(_month_index(days), want)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(65, 400),
    st.sampled_from([0, 8 * 3600, -5 * 3600]),
)
def test_add_months_many_close_times(seed: int, n: int, offset: int) -> None:
    """Many times within a year or two plus 0 to 36 months (the lookup path): each is the
    one-at-a-time calendar arithmetic's result (``_add_months_local``)."""
    rng = np.random.default_rng(seed)
    times = 1_767_225_600 + rng.integers(0, 700 * DAY, n)
    months = rng.integers(0, 37, n)
    got = add_months(times, months, offset)
    for t, m, g in zip(times.tolist(), months.tolist(), got.tolist(), strict=True):
        assert g == _add_months_local(t + offset, m) - offset
