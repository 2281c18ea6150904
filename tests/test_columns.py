"""LedgerColumns: the same columns for other subjects."""

from __future__ import annotations

import numpy as np
import pytest

from socialcredit.columns import columns_from_entries

ENTRY = {
    "kind": "record",
    "source": "court",
    "id": "c-1",
    "subject": "P1",
    "type": "debt",
    "occurred_at": "2026-01-01T00:00:00Z",
}


def test_with_subjects_shares_every_column_and_changes_only_the_subjects() -> None:
    cols = columns_from_entries([ENTRY])
    other = cols.with_subjects(["X", "Y"], np.array([0, 1], dtype=np.int8))
    assert other.subjects == ["X", "Y"] and other.subject_kind.tolist() == [0, 1]
    assert other.rec_seq is cols.rec_seq and other.rec_type is cols.rec_type
    assert cols.subjects == ["P1"]  # the original is unchanged
    with pytest.raises(ValueError, match="2 subjects but 1 subject kinds"):
        cols.with_subjects(["X", "Y"], np.array([0], dtype=np.int8))
