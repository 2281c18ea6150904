"""Stable orders of small non-negative integers (subject numbers), by the fastest sort.

``np.argsort(kind="stable")`` sorts 16-bit integers by a radix sort and wider ones by a
merge sort, several times slower (a chunk of 16,384 subjects has 69,000 rows: 9 ms by
``int32`` subject, 1.3 ms by the same values as ``uint16`` on this machine); the order is
the same either way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]


def stable_order(values: npt.NDArray[np.integer]) -> I64:
    """``np.argsort(values, kind="stable")`` as int64 indices: by 16-bit keys when every
    value fits (0..65535)."""
    if len(values) and int(values.min()) >= 0 and int(values.max()) < 2**16:
        return np.argsort(values.astype(np.uint16), kind="stable").astype(np.int64)
    return np.argsort(values, kind="stable").astype(np.int64)
