"""Periodic re-evaluation (``reevaluation:``): a policy whose answers are recomputed at fixed
boundaries (every month, every year) rather than the moment a record arrives.

Sesame Credit is re-evaluated monthly; an election counts the ratings of a term at the
term's end. Under ``reevaluation: {every: 1 month}`` everything the policy decides at a
time ``t`` — scores, lists, measures — is what it decided at the last boundary at or
before ``t`` (local midnight on the first day of a period), with what the ledger had
received by then. Between two boundaries nothing changes; a record received mid-period
counts from the next boundary.

Boundaries are ``starting`` plus whole multiples of ``every`` (a number of months or
years), counted in the policy's local time (``calendar.utc_offset``).
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator

from socialcredit.policy.durations import PositiveDuration
from socialcredit.policy.fields import StrictModel
from socialcredit.spans import Span

I64 = npt.NDArray[np.int64]

_FIRST = -62_135_596_800  # 0001-01-01T00:00:00Z: earlier times (BEGINNING) are left as they are
_LAST = 253_402_300_799  # 9999-12-31T23:59:59Z: later times (NEVER) too
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class Reevaluation(StrictModel):
    """When the policy's answers are recomputed: every ``every`` (whole months or years)
    from the first day of month ``starting``, at local midnight."""

    every: PositiveDuration = Field(
        description="The period between re-evaluations, in whole months or years: "
        "'1 month', '3 months', '1 year', '5 years'."
    )
    starting: str = Field(
        "2000-01",
        json_schema_extra={"pattern": _MONTH},
        description="A month (YYYY-MM) whose first day, at local midnight, is a boundary; the "
        'others lie whole periods before and after it. Quote it: "2025-01".',
    )

    @field_validator("starting")
    @classmethod
    def _month(cls, value: str) -> str:
        if not re.fullmatch(_MONTH.strip("^$"), value):
            raise ValueError(f'expected a month written "YYYY-MM", e.g. "2025-01"; got {value!r}')
        return value

    @field_validator("every")
    @classmethod
    def _whole_months(cls, span: Span) -> Span:
        if span.seconds or span.working_days or not span.months:
            raise ValueError(
                f"expected whole months or years ('1 month', '1 year'), not "
                f"{span.written()!r}: a re-evaluation falls on the first day of a month"
            )
        return span

    def months(self) -> int:
        """The period in months."""
        return int(self.every.months)

    def anchor(self) -> int:
        """The month index (months since 1970-01) of ``starting``."""
        year, month = self.starting.split("-")
        return (int(year) - 1970) * 12 + int(month) - 1


def _month_index(ts: I64, offset: int) -> I64:
    local = np.clip(ts, _FIRST, _LAST) + offset
    out: I64 = local.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    return out


def _month_start(months: I64, offset: int) -> I64:
    out: I64 = months.astype("datetime64[M]").astype("datetime64[s]").astype(np.int64) - offset
    return out


def period_start(times: I64, months: int, anchor: int, offset: int) -> I64:
    """The last boundary at or before each time (times outside years 1-9999 unchanged)."""
    times = np.asarray(times, dtype=np.int64)
    k = np.floor_divide(_month_index(times, offset) - anchor, months)
    start = _month_start(anchor + k * months, offset)
    # a time just after local midnight of the month's first day but before its UTC
    # equivalent is handled by the local month index; guard the far ends
    inside = (times >= _FIRST) & (times <= _LAST)
    out: I64 = np.where(inside, np.minimum(start, times), times)
    return out


def period_end(times: I64, months: int, anchor: int, offset: int) -> I64:
    """The first boundary strictly after each time (times outside years 1-9999 unchanged)."""
    times = np.asarray(times, dtype=np.int64)
    k = np.floor_divide(_month_index(times, offset) - anchor, months)
    end = _month_start(anchor + (k + 1) * months, offset)
    inside = (times >= _FIRST) & (times <= _LAST)
    out: I64 = np.where(inside, end, times)
    return out


def period_ceil(times: I64, months: int, anchor: int, offset: int) -> I64:
    """The first boundary at or after each time (times outside years 1-9999 unchanged)."""
    start = period_start(times, months, anchor, offset)
    out: I64 = np.where(start == times, times, period_end(times, months, anchor, offset))
    return out
