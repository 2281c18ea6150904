"""Calendar arithmetic (issue 7, construct 2): calendar years and months, working days from a
holiday calendar, and the sentences that name such dates.

Every expected date below is worked out by hand from a calendar and, for working days, from
the State Council's notices as listed in src/socialcredit/calendars/prc.yaml.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.calendars import available, holiday_calendar
from socialcredit.columns import columns_from_entries
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy, PolicyError, compile_policy, parse_policy
from socialcredit.policy.compiled import FEW_TIMES, compile_calendar
from socialcredit.policy.model import CalendarDef
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.spans import Calendar, Span, parse_span, shift_one, shift_span
from socialcredit.timeutil import DAY, NEVER, parse_timestamp, to_date, to_iso

from .conftest import TEST_POLICY
from .scoring.test_properties import SETTINGS, T0, ledgers, summary

PRC = compile_calendar(CalendarDef(holidays="prc", utc_offset="+08:00"))
PRC_COUNTING_FIRST = compile_calendar(
    CalendarDef(holidays="prc", utc_offset="+08:00", first_day_counted=True)
)
WEEKDAYS = compile_calendar(CalendarDef(holidays="none", utc_offset="+08:00"))
UTC = Calendar()


def at(text: str) -> int:
    return parse_timestamp(text)


def plus(start: str, span: str, cal: Calendar = UTC) -> str | None:
    return to_iso(shift_one(at(start), parse_span(span), cal))


# --- calendar years and months, by hand ---------------------------------------------------


@pytest.mark.parametrize(
    ("start", "span", "end"),
    [
        # two calendar years across the leap day of 2024 (730 days would end on 2026-01-14)
        ("2024-01-15T00:00:00Z", "P2Y", "2026-01-15T00:00:00Z"),
        ("2024-01-15T00:00:00Z", "2 years", "2026-01-15T00:00:00Z"),
        # a year from 2023-03-01 crosses 2024-02-29: 366 days
        ("2023-03-01T00:00:00Z", "P1Y", "2024-03-01T00:00:00Z"),
        # from 29 February: 2025 has none, so the year runs to the end of 2025-02-28
        ("2024-02-29T00:00:00Z", "P1Y", "2025-03-01T00:00:00Z"),
        ("2024-02-29T00:00:00Z", "P4Y", "2028-02-29T00:00:00Z"),
        ("2024-02-29T09:30:00Z", "P12M", "2025-03-01T00:00:00Z"),
        # month ends: a month from 31 January runs to the end of February
        ("2025-01-31T00:00:00Z", "P1M", "2025-03-01T00:00:00Z"),
        ("2024-01-31T00:00:00Z", "P1M", "2024-03-01T00:00:00Z"),
        ("2024-01-29T00:00:00Z", "P1M", "2024-02-29T00:00:00Z"),
        # each month is counted from the start, not month by month: two months from 31
        # January end on 31 March
        ("2024-01-31T00:00:00Z", "P2M", "2024-03-31T00:00:00Z"),
        ("2024-03-31T12:00:00Z", "P1M", "2024-05-01T00:00:00Z"),
        # the time of day is kept
        ("2024-01-15T13:45:10Z", "P1M", "2024-02-15T13:45:10Z"),
        ("1999-12-31T23:00:00Z", "P1M", "2000-01-31T23:00:00Z"),
        # months first, then the exact days: 18 months and 10 days
        ("2024-01-15T00:00:00Z", "P1Y6M10D", "2025-07-25T00:00:00Z"),
        ("2024-01-15T00:00:00Z", "18 months", "2025-07-15T00:00:00Z"),
        # days, weeks and hours stay exact
        ("2024-02-28T00:00:00Z", "P2D", "2024-03-01T00:00:00Z"),
        ("2024-02-28T00:00:00Z", "2w", "2024-03-13T00:00:00Z"),
        ("2024-02-28T20:00:00Z", "PT12H", "2024-02-29T08:00:00Z"),
    ],
)
def test_calendar_months_by_hand(start: str, span: str, end: str) -> None:
    assert plus(start, span) == end


def test_months_count_in_the_policys_local_time() -> None:
    # 2024-02-29T20:00Z is 2024-03-01T04:00 in Beijing: a month later there is
    # 2024-04-01T04:00 local = 2024-03-31T20:00Z (in UTC it would be 2024-03-29T20:00Z)
    assert plus("2024-02-29T20:00:00Z", "P1M", PRC) == "2024-03-31T20:00:00Z"
    assert plus("2024-02-29T20:00:00Z", "P1M", UTC) == "2024-03-29T20:00:00Z"


def test_a_term_ends_exactly_on_its_boundary_day() -> None:
    # a record of 2024-01-15 that counts for two years counts on the last second of
    # 2026-01-14 and no longer at 2026-01-15T00:00
    policy = compile_policy(
        parse_policy(TEST_POLICY.replace("expires_after: P1000D", "expires_after: P2Y"))
    )
    entries = [
        {
            "id": "d1",
            "source": "court",
            "subject": "bob",
            "type": "debt",
            "occurred_at": at("2024-01-15"),
            "recorded_at": at("2024-01-15"),
        }
    ]
    prep = Prepared.build(columns_from_entries(entries), policy)
    (line,) = standing(prep, 0, at("2025-06-01")).breakdown
    assert to_iso(line.expires_at) == "2026-01-15T00:00:00Z"
    assert standing(prep, 0, at("2026-01-15") - 1).breakdown[0].status == "counts"
    assert standing(prep, 0, at("2026-01-15")).breakdown[0].status == "expired"
    assert [m.name for m in standing(prep, 0, at("2026-01-15") - 1).lists] == ["debtors"]
    assert standing(prep, 0, at("2026-01-15")).lists == []


def test_a_within_window_of_a_year_is_a_calendar_year() -> None:
    # two volunteering records, 2023-03-01 and 2023-06-01: on the red list while both are
    # less than a year old, i.e. until 2024-03-01 (366 days later, across 2024-02-29;
    # with a year of 365 days it ended on 2024-02-29)
    text = TEST_POLICY.replace("P365D", "P1Y")  # its expiry and its window
    policy = compile_policy(parse_policy(text))
    entries = [
        {
            "id": f"v{i}",
            "source": "ngo",
            "subject": "amy",
            "type": "volunteering",
            "occurred_at": at(day),
            "recorded_at": at(day),
        }
        for i, day in enumerate(["2023-03-01", "2023-06-01"])
    ]
    prep = Prepared.build(columns_from_entries(entries), policy)
    on = standing(prep, 0, at("2024-02-29T23:59:59Z"))
    assert [m.name for m in on.lists] == ["volunteers"]
    assert to_iso(on.lists[0].until) == "2024-03-01T00:00:00Z"
    assert standing(prep, 0, at("2024-03-01")).lists == []


# --- working days, by hand ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "span", "last_day", "cal"),
    [
        # Spring Festival 2026: 15-23 February off, Saturday 14 February a working day.
        # From Thursday 12 February (not counted): Fri 13, Sat 14 (adjusted), Tue 24
        ("2026-02-12T02:00:00Z", "3 working days", "2026-02-24", PRC),
        # Monday to Friday only, the same start: Fri 13, Mon 16, Tue 17
        ("2026-02-12T02:00:00Z", "3 working days", "2026-02-17", WEEKDAYS),
        # the day counted when the policy says so: Thu 12, Fri 13, Sat 14
        ("2026-02-12T02:00:00Z", "3wd", "2026-02-14", PRC_COUNTING_FIRST),
        # 17:00Z on the 12th is 01:00 on Friday 13th in Beijing: Sat 14, Tue 24, Wed 25
        ("2026-02-12T17:00:00Z", "3 working days", "2026-02-25", PRC),
        # Saturday 28 February 2026 is a working day: from Thu 26: Fri 27, Sat 28, Mon 2
        ("2026-02-26T02:00:00Z", "3 working days", "2026-03-02", PRC),
        ("2026-02-26T02:00:00Z", "3 working days", "2026-03-03", WEEKDAYS),
        # National Day 2025 (1-8 October; Sunday 28 September and Saturday 11 October
        # worked): from Friday 26 September: Sun 28, Mon 29, Tue 30
        ("2025-09-26T02:00:00Z", "3 working days", "2025-09-30", PRC),
        # ... and seven: Sep 28, 29, 30, Oct 9, 10, 11 (Sat), 13
        ("2025-09-26T02:00:00Z", "7 working days", "2025-10-13", PRC),
        # 2020: the Spring Festival was extended to 2 February, so Saturday 1 February was
        # no longer a working day; from Thursday 23 January: Mon 3, Tue 4, Wed 5 February
        ("2020-01-23T02:00:00Z", "3 working days", "2020-02-05", PRC),
        # 2015: the 70th anniversary of the victory, 3-5 September off, Sunday 6 worked.
        # From Wednesday 2 September: Sun 6, Mon 7, Tue 8
        ("2015-09-02T02:00:00Z", "3 working days", "2015-09-08", PRC),
    ],
)
def test_working_days_by_hand(start: str, span: str, last_day: str, cal: Calendar) -> None:
    end = shift_one(at(start), parse_span(span), cal)
    # the period ends when its last day ends in the calendar's local time (+08:00): at
    # 16:00 UTC that day
    assert to_iso(end) == f"{last_day}T16:00:00Z"


def test_beyond_the_calendar_monday_to_friday_is_counted_and_said() -> None:
    from socialcredit.spans import estimated

    # from Wednesday 30 December 2026: Thu 31 (covered), then Fri 1 January 2027 and Mon 4
    # counted as weekdays: the calendar does not know 2027's holidays
    start = at("2026-12-30T02:00:00Z")
    span = parse_span("3 working days")
    assert shift_one(start, span, PRC) == at("2027-01-04") + DAY - 8 * 3600
    assert estimated(start, span, PRC)
    # before 2015: Wed 31 December 2014 (a weekday, not covered), then the 2015 calendar:
    # 1-3 January off, Sunday 4 worked, Monday 5
    early = at("2014-12-30T02:00:00Z")
    assert shift_one(early, span, PRC) == at("2015-01-05") + DAY - 8 * 3600
    assert estimated(early, span, PRC)
    inside = at("2026-02-12T02:00:00Z")
    assert not estimated(inside, span, PRC)
    assert not estimated(start, span, WEEKDAYS)  # 'none' means Monday to Friday everywhere


def test_the_prc_calendar_reads_as_published() -> None:
    prc = holiday_calendar("prc")
    assert "prc" in available() and "none" in available()
    assert prc.covered_years() == "2015-2026"
    working = set(prc.working.tolist())

    def day(text: str) -> int:
        return at(text) // DAY

    # adjusted working weekend days are working days; holidays on weekdays are not
    for adjusted in ("2019-05-05", "2024-02-04", "2024-02-18", "2026-02-14", "2026-02-28"):
        assert day(adjusted) in working, adjusted
    for off in ("2020-01-31", "2024-02-16", "2025-10-08", "2015-09-04", "2023-04-05"):
        assert day(off) not in working, off
    assert day("2020-02-01") not in working  # the 2020 extension
    # every year holds about 250 working days (246-252 in the notices' years)
    for year in range(2015, 2027):
        days = [d for d in working if day(f"{year}-01-01") <= d < day(f"{year + 1}-01-01")]
        assert 244 <= len(days) <= 252, year


# --- properties --------------------------------------------------------------------------

TIMES = st.integers(at("1990-01-01"), at("2040-01-01"))
CALENDARS = st.sampled_from([UTC, PRC, PRC_COUNTING_FIRST, WEEKDAYS])
CALENDAR_SPANS = st.builds(
    Span, months=st.integers(0, 600), seconds=st.integers(0, 400 * DAY)
) | st.builds(Span, working_days=st.integers(0, 400))


@settings(max_examples=300, deadline=None)
@given(TIMES, TIMES, CALENDAR_SPANS, CALENDARS)
def test_adding_a_span_is_monotone(t1: int, t2: int, span: Span, cal: Calendar) -> None:
    a, b = sorted((t1, t2))
    assert shift_one(a, span, cal) <= shift_one(b, span, cal)
    assert shift_one(a, span, cal) >= a


@settings(max_examples=300, deadline=None)
@given(TIMES, st.integers(0, 600), st.integers(0, 600), st.integers(0, 10**8), CALENDARS)
def test_a_longer_span_never_ends_earlier(
    t: int, m1: int, m2: int, seconds: int, cal: Calendar
) -> None:
    short, long = sorted((m1, m2))
    assert shift_one(t, Span(months=short), cal) <= shift_one(t, Span(months=long), cal)
    assert shift_one(t, Span(months=long), cal) <= shift_one(
        t, Span(months=long, seconds=seconds), cal
    )


@settings(max_examples=200, deadline=None)
@given(TIMES, st.integers(0, 300), CALENDARS)
def test_one_more_working_day_ends_later(t: int, n: int, cal: Calendar) -> None:
    assert shift_one(t, Span(working_days=n), cal) < shift_one(t, Span(working_days=n + 1), cal)


# the whole supported range (less the longest span), so that both ways the vectorised adder
# takes (tables of the days involved, or each date computed) are compared with the scalar one
WIDE = st.integers(at("1000-01-01"), at("8990-01-01"))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(TIMES, min_size=1, max_size=40) | st.lists(WIDE, max_size=5), CALENDAR_SPANS, CALENDARS
)
def test_scalar_and_vectorised_adders_agree(times: list[int], span: Span, cal: Calendar) -> None:
    bulk = shift_span(np.array(times, dtype=np.int64), span, cal).tolist()
    assert bulk == [shift_one(t, span, cal) for t in times]


@settings(max_examples=200, deadline=None)
@given(TIMES, st.integers(0, 1200))
def test_years_are_twelve_months_and_keep_the_day(t: int, months: int) -> None:
    assert shift_one(t, Span(months=12 * (months // 12)), UTC) == shift_one(
        t, parse_span(f"P{months // 12}Y"), UTC
    )
    end = to_iso(shift_one(t, Span(months=months), UTC)) or ""
    start = to_iso(t) or ""
    if int(start[8:10]) <= 28:  # every month has that day: same day, same time of day
        assert (end[8:10], end[11:]) == (start[8:10], start[11:])


# --- the language --------------------------------------------------------------------------

CALENDAR_POLICY = (
    TEST_POLICY.replace("expires_after: P1000D", "expires_after: P3Y")
    .replace("expires_after: P100D", "expires_after: P3M")
    .replace("expires_after: P180D", "expires_after: P6M")
    .replace("expires_after: P365D", "expires_after: P1Y")
    .replace("delist_after_resolution: P3D", "delist_after_resolution: 3 working days")
    .replace("within: P365D", "within: P1Y")
    .replace("max_duration: P500D", "max_duration: P1Y4M")
    .replace("duration: {fixed: P30D}", "duration: {fixed: 20 working days}")
    .replace("appeal_window: P30D", "appeal_window: P1M")
    .replace("reinvestigation_deadline: P30D", "reinvestigation_deadline: 15wd")
    + "calendar: {holidays: prc, utc_offset: '+08:00', first_day_counted: false}\n"
)


@pytest.fixture(scope="module")
def calendar_policy() -> CompiledPolicy:
    return compile_policy(parse_policy(CALENDAR_POLICY, "calendar-policy.yaml"))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(TIMES | st.sampled_from([NEVER, -NEVER, NEVER + 5]), max_size=FEW_TIMES + 3),
    CALENDAR_SPANS,
)
def test_a_policy_adds_a_span_to_a_few_times_as_to_many(
    calendar_policy: CompiledPolicy, times: list[int], span: Span
) -> None:
    # up to FEW_TIMES times are added one by one (and working days remembered per day):
    # the same ends as the vectorised adder, asked once or again
    arr = np.array(times, dtype=np.int64)
    want = shift_span(arr, span, calendar_policy.calendar).tolist()
    assert calendar_policy.after(arr, span).tolist() == want
    assert calendar_policy.after(arr, span).tolist() == want


def test_working_days_need_a_calendar() -> None:
    text = TEST_POLICY.replace("delist_after_resolution: P3D", "delist_after_resolution: 3wd")
    with pytest.raises(PolicyError) as err:
        parse_policy(text, "p.yaml")
    (problem,) = err.value.problems
    assert problem.path == "lists.debtors.delist_after_resolution"
    assert problem.line == text.splitlines().index("    delist_after_resolution: 3wd") + 1
    assert "need a calendar" in problem.message


def test_an_unknown_holiday_calendar_is_named_with_the_shipped_ones() -> None:
    text = TEST_POLICY + "calendar: {holidays: prx}\n"
    with pytest.raises(PolicyError) as err:
        parse_policy(text, "p.yaml")
    (problem,) = err.value.problems
    assert problem.path == "calendar.holidays"
    assert "unknown holiday calendar 'prx'" in problem.message and "prc" in problem.message


def test_spans_are_described_as_written(calendar_policy: CompiledPolicy) -> None:
    from socialcredit.policy.describe import span_text

    p = calendar_policy.policy
    assert span_text(p.lists["debtors"].delist_after_resolution) == "3 working days"
    assert span_text(p.record_types["debt"].expires_after) == "3 years"
    assert span_text(p.sanctions["no_school"].max_duration) == "1 year and 4 months"
    assert span_text(p.due_process.reinvestigation_deadline) == "15 working days"
    assert span_text(parse_span("18 months")) == "18 months"
    assert span_text(parse_span("P7D")) == "7 days"
    assert span_text(None) == "never"


def test_a_policy_without_years_or_months_keeps_its_content_hash() -> None:
    from socialcredit.policy.loader import content_hash, legacy_content_hash

    plain = parse_policy(TEST_POLICY)
    # the hash a policy written only in days had before spans: durations as seconds
    assert plain.content_hash == legacy_content_hash(plain.policy)
    yearly = parse_policy(TEST_POLICY.replace("expires_after: P1000D", "expires_after: P3Y"))
    assert yearly.content_hash != legacy_content_hash(yearly.policy)
    # P3Y was 3 x 365 days: the same rules then as P1095D
    days = parse_policy(TEST_POLICY.replace("expires_after: P1000D", "expires_after: P1095D"))
    assert legacy_content_hash(yearly.policy) == days.content_hash
    assert content_hash(yearly.policy) != days.content_hash  # now they differ


# --- the engine: one subject and everyone, time travel, explanations ----------------------


@SETTINGS
@given(entries=ledgers(), day=st.integers(-5, 1300))
def test_bulk_agrees_with_single_subject_under_calendar_spans(
    calendar_policy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    prep = Prepared.build(columns_from_entries(entries), calendar_policy)
    bulk = bulk_standings(prep, t)
    for i in range(prep.columns.n_subjects):
        s = standing(prep, i, t)
        assert abs(bulk.score[i] - s.score) < 1e-9
        assert calendar_policy.grade_names[bulk.grade[i]] == s.grade
        lists = {lst.name for lst in calendar_policy.lists if bulk.lists[lst.index, i]}
        assert lists == {m.name for m in s.lists}
        measures = {x.name for x in calendar_policy.sanctions if bulk.measures[x.index, i]}
        assert measures == {m.name for m in s.measures}


@SETTINGS
@given(entries=ledgers(), day=st.integers(-5, 1000))
def test_what_is_learned_later_does_not_change_the_past_under_calendar_spans(
    calendar_policy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    known = [e for e in entries if e["recorded_at"] <= t]
    everything = Prepared.build(columns_from_entries(entries), calendar_policy)
    then = Prepared.build(columns_from_entries(known), calendar_policy) if known else None
    for i, name in enumerate(everything.columns.subjects):
        s = standing(everything, i, t)
        if then is None or name not in then.columns.subjects:
            assert not s.lists and not s.measures
            continue
        past = standing(then, then.columns.subjects.index(name), t)
        assert summary(s) == summary(past)


def _debt_resolved(resolved_at: str) -> list[dict[str, Any]]:
    return [
        {
            "id": "d1",
            "source": "court",
            "subject": "bob",
            "type": "debt",
            "occurred_at": at("2025-06-01"),
            "recorded_at": at("2025-06-01"),
        },
        {
            "kind": "resolve",
            "id": "p1",
            "source": "court",
            "target_source": "court",
            "target_id": "d1",
            "occurred_at": at(resolved_at),
            "recorded_at": at(resolved_at),
        },
    ]


def test_a_delisting_within_working_days_is_explained_with_its_last_day(
    calendar_policy: CompiledPolicy,
) -> None:
    # resolved on Thursday 2026-02-12 (10:00 in Beijing): the third working day after it is
    # Tuesday 24 February (Fri 13, the adjusted Saturday 14, then the Spring Festival)
    prep = Prepared.build(
        columns_from_entries(_debt_resolved("2026-02-12T02:00:00Z")), calendar_policy
    )
    ex = explain(prep, 0, "air_travel", at("2026-02-20"))
    assert (
        "The resolution of record court/d1 was recorded on 2026-02-12; the policy lifts the "
        "listing within 3 working days of a resolution, so you will be removed from the list "
        "debtors by 2026-02-24 at the latest."
    ) in ex.text
    assert "Monday to Friday" not in ex.text
    # the listing ends at midnight after 24 February in Beijing, 16:00 UTC on the 24th
    s = standing(prep, 0, at("2026-02-20"))
    assert to_iso(s.lists[0].until) == "2026-02-24T16:00:00Z"
    assert standing(prep, 0, at("2026-02-24T15:59:59Z")).lists
    assert not standing(prep, 0, at("2026-02-24T16:00:00Z")).lists


def test_a_delisting_beyond_the_calendar_says_how_it_was_counted(
    calendar_policy: CompiledPolicy,
) -> None:
    prep = Prepared.build(
        columns_from_entries(_debt_resolved("2026-12-30T02:00:00Z")), calendar_policy
    )
    ex = explain(prep, 0, "air_travel", at("2026-12-31"))
    assert (
        "by 2027-01-04 at the latest (counted Monday to Friday: the holiday calendar covers 2015-2026 only"
        in ex.text
    )


def test_policy_show_prints_spans_and_the_calendar(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from socialcredit.cli import app

    path = tmp_path / "calendar-policy.yaml"
    path.write_text(CALENDAR_POLICY, encoding="utf-8")
    result = CliRunner().invoke(app, ["policy", "show", str(path)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "lifted 3 working days after a resolution" in out
    assert "for 20 working days" in out
    assert "calendar: days and months in UTC+08:00" in out
    assert "public holidays of the People's Republic of China (mainland) for 2015-2026" in out


def test_a_deadline_in_working_days_is_its_last_day(calendar_policy: CompiledPolicy) -> None:
    # a dispute received on Thursday 2026-02-12 (10:00 in Beijing), 15 working days to decide:
    # Feb 13, Sat 14, 24, 25, 26, 27, Sat 28, Mar 2, 3, 4, 5, 6, 9, 10, 11
    deadline = calendar_policy.policy.due_process.reinvestigation_deadline
    assert calendar_policy.deadline_date(at("2026-02-12T02:00:00Z"), deadline) == "2026-03-11"
    # from Monday 2026-12-14: Dec 15-18, 21-25, 28-31 (13, covered), then Jan 1 and 4 2027
    # counted as weekdays
    assert calendar_policy.deadline_date(at("2026-12-14T02:00:00Z"), deadline) == (
        "2027-01-04 (counted Monday to Friday: the holiday calendar covers 2015-2026 only)"
    )
    # a calendar span: the date it ends, in Beijing: a month from 31 January runs to the end
    # of 28 February (clamped), i.e. until 1 March 00:00 local (2026-02-28T16:00:00Z), said
    # "2026-03-01" as a UTC policy says its end at 2026-03-01T00:00:00Z
    window = calendar_policy.policy.due_process.appeal_window
    assert calendar_policy.deadline_date(at("2026-01-31T02:00:00Z"), window) == "2026-03-01"


# --- terms set per case and extensions (construct 1) in calendar units ---------------------


def _terms_in_years() -> CompiledPolicy:
    from .scoring.terms_policy import TERMS_POLICY

    text = (
        TERMS_POLICY.replace("expires_after: P730D\n", "expires_after: P2Y\n", 1)
        .replace("min: P365D\n", "min: P1Y\n", 1)
        .replace("max: P1095D\n", "max: P3Y\n", 1)
        .replace("extension: {min: P365D, max: P1095D}", "extension: {min: P1Y, max: P3Y}")
    )
    assert "expires_after: P2Y" in text and "extension: {min: P1Y, max: P3Y}" in text
    return compile_policy(parse_policy(text, "terms-years.yaml"))


def _listing(occurred: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "j1",
        "source": "court",
        "subject": "ann",
        "type": "listing",
        "occurred_at": occurred,
        "recorded_at": occurred,
        **extra,
    }


def _extend(by: str, on: str) -> dict[str, Any]:
    return {
        "kind": "extend",
        "id": "x1",
        "source": "court",
        "target_source": "court",
        "target_id": "j1",
        "occurred_at": on,
        "recorded_at": on,
        "by": by,
    }


def _expires(policy: CompiledPolicy, entries: list[dict[str, Any]], at_: str) -> str | None:
    prep = Prepared.build(columns_from_entries(entries), policy)
    (line,) = [
        x for x in standing(prep, 0, at(at_)).breakdown if x.status != "annulled or rectified"
    ]
    return to_date(line.expires_at)


def test_terms_and_extensions_count_calendar_years_and_months() -> None:
    policy = _terms_in_years()
    # the type's two years from 2024-01-15: 2026-01-15 (730 days would end on 2026-01-14)
    assert _expires(policy, [_listing("2024-01-15")], "2024-06-01") == "2026-01-15"
    # extended by 18 months: 2026-01-15 + 18 calendar months = 2027-07-15
    entries = [_listing("2024-01-15"), _extend("18 months", "2025-06-01")]
    assert _expires(policy, entries, "2025-06-02") == "2027-07-15"
    entries = [_listing("2024-01-15"), _extend("P1Y6M", "2025-06-01")]
    assert _expires(policy, entries, "2025-06-02") == "2027-07-15"
    # its own term of three years from 29 February 2024: to the end of 28 February 2027
    assert _expires(policy, [_listing("2024-02-29", term="P3Y")], "2024-06-01") == "2027-03-01"
    # an own term of 40 months is beyond the bound (three years): clamped to it, on the dates
    assert _expires(policy, [_listing("2024-01-15", term="40 months")], "2024-06-01") == (
        "2027-01-15"
    )


# --- a publicity period in working days (construct 3) --------------------------------------


def test_a_publicity_period_of_seven_working_days_spans_the_spring_festival() -> None:
    from .scoring.test_publicity_period import POLICY

    text = (
        POLICY.replace("notice: P7D", "notice: 7 working days").replace(
            "appeal_window: P7D", "appeal_window: 7 working days"
        )
        + "calendar: {holidays: prc, utc_offset: '+08:00'}\n"
    )
    assert "notice: 7 working days" in text
    policy = compile_policy(parse_policy(text, "publicity-wd.yaml"))
    # published Thursday 2026-02-12 (10:00 in Beijing); the seven working days after it:
    # Fri 13, Sat 14 (declared a working day), then 15-23 February off, Tue 24, Wed 25,
    # Thu 26, Fri 27, Sat 28 (declared a working day): objections until the end of 28 February
    entries = [
        {
            "id": "r",
            "source": "rail",
            "subject": "p",
            "type": "rail_misconduct",
            "occurred_at": at("2026-02-12T02:00:00Z"),
            "recorded_at": at("2026-02-12T02:00:00Z"),
        }
    ]
    prep = Prepared.build(columns_from_entries(entries), policy)
    (upcoming,) = standing(prep, 0, at("2026-02-20")).upcoming
    assert to_iso(upcoming.objections_until) == "2026-02-28T16:00:00Z"
    assert to_iso(upcoming.starts) == "2026-02-28T16:00:00Z"
    # the ban of 180 days runs from then
    assert to_iso(upcoming.until) == to_iso(at("2026-02-28T16:00:00Z") + 180 * DAY)
    assert not standing(prep, 0, at("2026-02-28T15:59:59Z")).measures
    assert [m.name for m in standing(prep, 0, at("2026-02-28T16:00:00Z")).measures] == ["rail_ban"]


def test_a_sooner_date_beyond_the_calendar_says_how_working_days_are_counted(
    calendar_policy: CompiledPolicy,
) -> None:
    # debt recorded 2026-11-01; resolving it on Wednesday 2026-12-30 (10:00 in Beijing)
    # lifts the listing after 3 working days: Thu 31, then 2027 (not covered, counted Monday
    # to Friday): Fri 1 January, Mon 4 January: eligible again at Beijing midnight after it,
    # said as the local date that begins, 2027-01-05
    entry = _debt_resolved("2026-12-30T02:00:00Z")[0]
    entry["occurred_at"] = entry["recorded_at"] = at("2026-11-01")
    prep = Prepared.build(columns_from_entries([entry]), calendar_policy)
    text = explain(prep, 0, "air_travel", at("2026-12-30T02:00:00Z")).text
    note = (
        " (working days after 2026 are counted Monday to Friday: the holiday calendar covers "
        "2015-2026 only, so a holiday after that is not known)"
    )
    assert f"You could then use air travel again on 2027-01-05{note}." in text
    assert f"If nothing changes, you may use air travel again on 2029-11-01{note}." in text
