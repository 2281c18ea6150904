"""Terms set per case, extensions and early ends (issue 7, construct 1), by hand.

Dates worked out by hand (durations in days, so exact under any calendar rules):
- 2024-01-15 + 730 days: 2024 is a leap year, so 2025-01-15 is 366 days on and 2026-01-15
  731; the default term ends on 2026-01-14.
- 2024-01-15 + 1095 days (the longest own term): 366 + 365 + 365 = 1096 days to
  2027-01-15, so it ends on 2027-01-14.
- 2026-01-14 + 548 days: + 365 = 2027-01-14; + 183: 17 days to the end of January, then
  28 + 31 + 30 + 31 + 30 = 150 (167) to 2027-06-30, + 16 = 2027-07-16.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from socialcredit.columns import columns_from_entries
from socialcredit.explain import explain
from socialcredit.scoring import Prepared, RecordLine, standing
from socialcredit.scoring.rows import TERM_CLAMPED, TERM_ENDED, TERM_EXTENSION_CAPPED
from socialcredit.timeutil import DAY, parse_timestamp, to_date

from .terms_policy import terms_policy

T = parse_timestamp


def listing(**extra: Any) -> dict[str, Any]:
    return {
        "id": "j1",
        "source": "court",
        "subject": "ann",
        "type": "listing",
        "occurred_at": "2024-01-15",
        **extra,
    }


def correction(kind: str, cid: str, occurred: str, recorded: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": cid,
        "source": "court",
        "target_source": "court",
        "target_id": "j1",
        "occurred_at": occurred,
        "recorded_at": recorded,
        **extra,
    }


def prep(entries: list[dict[str, Any]]) -> Prepared:
    return Prepared.build(columns_from_entries(entries), terms_policy())


def current(p: Prepared, at: str) -> RecordLine:
    """The record's version as known at ``at`` (earlier versions are listed as superseded)."""
    (line,) = [x for x in standing(p, 0, T(at)).breakdown if x.status != "annulled or rectified"]
    return line


def listed(p: Prepared, at: str) -> bool:
    return [m.name for m in standing(p, 0, T(at)).lists] == ["dishonest"]


def test_the_default_term_ends_on_the_day_across_a_leap_year() -> None:
    p = prep([listing()])
    assert listed(p, "2026-01-13T23:59:59Z")
    assert not listed(p, "2026-01-14")
    line = current(p, "2025-01-01")
    assert to_date(line.expires_at) == "2026-01-14"
    assert line.term is None  # the type's term: nothing to explain


def test_a_term_set_by_the_court_is_used() -> None:
    p = prep([listing(term="P1095D")])
    assert listed(p, "2027-01-13T23:59:59Z")
    assert not listed(p, "2027-01-14")
    st = standing(p, 0, T("2025-01-01"))
    assert to_date(st.lists[0].until) == "2027-01-14"
    assert st.breakdown[0].term == "its term was set at 1095 days"


def test_a_term_outside_the_bounds_is_clamped_and_said_so() -> None:
    # 2000 days is longer than the 1095 the policy allows: the nearest bound is used
    p = prep([listing(term="P2000D")])
    assert p.rows.term_flags[0] & TERM_CLAMPED
    assert to_date(int(p.rows.expires[0])) == "2027-01-14"
    # 100 days is shorter than the 365 at least: 2024-01-15 + 365 = 2025-01-14 (leap year)
    short = prep([listing(term="P100D")])
    assert to_date(int(short.rows.expires[0])) == "2025-01-14"
    ex = explain(p, 0, "air_travel", T("2025-01-01"))
    assert (
        "Record court/j1 counts until 2027-01-14: the term given for it (2000 days) is outside "
        "what the policy allows for listing records (365 days to 1095 days), so the nearest bound "
        "is used." in ex.text
    )


def test_an_extension_counts_from_when_it_was_learned() -> None:
    p = prep([listing(), correction("extend", "x1", "2025-06-01", "2025-06-01", by="P548D")])
    # as of before the extension was known, the listing ends on 2026-01-14 ...
    before = standing(p, 0, T("2025-05-31"))
    assert to_date(before.lists[0].until) == "2026-01-14"
    # ... and from then on 548 days later, on 2027-07-16
    after = standing(p, 0, T("2025-06-02"))
    assert to_date(after.lists[0].until) == "2027-07-16"
    assert listed(p, "2027-07-15T23:59:59Z") and not listed(p, "2027-07-16")
    assert current(p, "2025-06-02").term == "extended by 548 days on 2025-06-01"
    text = explain(p, 0, "air_travel", T("2025-06-02")).text
    assert "Record court/j1 counts until 2027-07-16: extended by 548 days on 2025-06-01." in text


def test_an_eighteen_month_extension_is_writable_both_ways() -> None:
    iso = prep([listing(), correction("extend", "x1", "2025-06-01", "2025-06-01", by="P1Y6M")])
    words = prep(
        [listing(), correction("extend", "x1", "2025-06-01", "2025-06-01", by="18 months")]
    )
    # longer than a year and shorter than two, from the default end 2026-01-14 (the exact
    # day is the calendar's: 18 calendar months once durations are calendar-aware)
    for p in (iso, words):
        assert T("2027-01-14") < int(p.rows.expires[-1]) < T("2028-01-14")
    assert current(iso, "2025-07-01").term == ("extended by 1 year and 6 months on 2025-06-01")


def test_extensions_together_are_capped_at_the_policys_maximum() -> None:
    p = prep(
        [
            listing(),
            correction("extend", "x1", "2025-01-01", "2025-01-01", by="P730D"),
            correction("extend", "x2", "2025-02-01", "2025-02-01", by="P730D"),
        ]
    )
    last = int(np.flatnonzero(p.rows.record == 0)[-1])
    assert p.rows.term_flags[last] & TERM_EXTENSION_CAPPED
    # 2026-01-14 + 1095 days (2028 is a leap year: 366 + 365 + 365 - 1 ... = 2029-01-13)
    assert to_date(int(p.rows.expires[last])) == "2029-01-13"
    assert "capped at 1095 days" in (current(p, "2025-03-01").term or "")


def test_the_court_ends_a_term_early_from_when_the_ledger_learns_it() -> None:
    p = prep([listing(), correction("end", "e1", "2025-03-01", "2025-03-03")])
    # on 2025-03-02 nobody knew of the end yet: listed, until the term's own end
    st = standing(p, 0, T("2025-03-02"))
    assert to_date(st.lists[0].until) == "2026-01-14"
    # known on 2025-03-03: the record stopped counting on 2025-03-01
    assert not listed(p, "2025-03-03")
    assert p.rows.term_flags[-1] & TERM_ENDED
    line = current(p, "2025-03-04")
    assert line.status == "expired" and to_date(line.expires_at) == "2025-03-01"
    assert line.term == "ended early on 2025-03-01"


def test_an_end_and_an_extension_on_one_record() -> None:
    p = prep(
        [
            listing(term="P365D"),
            correction("extend", "x1", "2024-06-01", "2024-06-01", by="P365D"),
            correction("end", "e1", "2025-06-01", "2025-06-01"),
        ]
    )
    # own term 365 days: 2025-01-14; extended by 365 days: 2026-01-14; ended 2025-06-01
    assert [to_date(int(x)) for x in p.rows.expires] == ["2025-01-14", "2026-01-14", "2025-06-01"]
    assert current(p, "2025-07-01").term == (
        "its term was set at 365 days; extended by 365 days on 2024-06-01; ended early on "
        "2025-06-01"
    )


def test_a_term_needs_a_policy_that_allows_it() -> None:
    # a stored term on a type without term bounds is clamped to its one term (P100D)
    p = prep([{**listing(term="P300D"), "type": "smoking"}])
    assert int(p.rows.expires[0]) == T("2024-01-15") + 100 * DAY


def test_a_record_that_never_expires_lasts_until_performed() -> None:
    p = prep(
        [
            {**listing(), "type": "refuses"},
            {**correction("resolve", "r1", "2030-05-01", "2030-05-01")},
        ]
    )
    assert listed(p, "2030-04-30")
    assert not listed(p, "2030-05-01")
