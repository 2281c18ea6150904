"""Every date said to a person or a counter is the date in the policy's local time
(``calendar.utc_offset``; UTC without a calendar block): ``CompiledPolicy.date_of``.

Instants in JSON (``...T16:00:00Z``) stay UTC instants; only dates move. Under ``+08:00``
a listing that ends at Beijing midnight (16:00 UTC the day before) ends on the local date,
and an instant at 23:30 UTC is said as the next day.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check, decide
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy
from socialcredit.scoring import Prepared, standing
from socialcredit.timeutil import DAY, MAX_TIME, MIN_TIME, NEVER, local_date, to_date, to_iso
from tests.cli.conftest import activate, call
from tests.conftest import TEST_POLICY
from tests.test_calendar import CALENDAR_POLICY, _debt_resolved, at

UTC_POLICY = compile_policy(parse_policy(TEST_POLICY, "test-policy.yaml"))


@pytest.fixture(scope="module")
def beijing() -> CompiledPolicy:
    return compile_policy(parse_policy(CALENDAR_POLICY, "calendar-policy.yaml"))


def _prep(policy: CompiledPolicy) -> Prepared:
    # a debt that occurred at 23:30 UTC on 31 May 2025 (07:30 on 1 June in Beijing),
    # resolved Thursday 2026-02-12 10:00 in Beijing: the listing is lifted within 3 working
    # days, when Tuesday 24 February ends in Beijing (2026-02-24T16:00:00Z)
    entries = _debt_resolved("2026-02-12T02:00:00Z")
    entries[0]["occurred_at"] = entries[0]["recorded_at"] = at("2025-05-31T23:30:00Z")
    return Prepared.build(columns_from_entries(entries), policy)


def test_date_of_by_hand(beijing: CompiledPolicy) -> None:
    assert beijing.date_of(at("2026-02-24T16:00:00Z")) == "2026-02-25"  # local midnight
    assert beijing.date_of(at("2026-02-24T15:59:59Z")) == "2026-02-24"
    assert beijing.date_of(at("2025-05-31T23:30:00Z")) == "2025-06-01"
    assert UTC_POLICY.date_of(at("2025-05-31T23:30:00Z")) == "2025-05-31"
    assert beijing.date_of(None) is None and beijing.date_of(NEVER) is None


def test_a_ban_ending_at_local_midnight_is_eligible_again_on_the_local_date(
    beijing: CompiledPolicy,
) -> None:
    prep = _prep(beijing)
    t = at("2026-02-20")
    assert to_iso(standing(prep, 0, t).lists[0].until) == "2026-02-24T16:00:00Z"
    decision = check(prep, 0, "air_travel", t)
    # refused all day on the 24th in Beijing: eligible again on the 25th
    assert decision.eligible_again_on == "2026-02-25"
    assert decision.to_json()["eligible_again_on"] == "2026-02-25"
    assert decide(standing(prep, 0, t), "air_travel") == decision
    ex = explain(prep, 0, "air_travel", t)
    assert ex.to_json()["eligible_again_on"] == "2026-02-25"
    # the working-day deadline and the date of eligibility agree (both local)
    assert "removed from the list debtors by 2026-02-24 at the latest." in ex.text
    assert "If nothing changes, you may use air travel again on 2026-02-25." in ex.text
    # the record of 23:30 UTC is said on its Beijing date
    assert "record court/d1 (debt, 2025-06-01)" in ex.text
    assert "2025-05-31" not in ex.text
    (reason,) = ex.to_json()["explanation"]["reasons"]
    assert reason["since"] == "2025-06-01" and reason["until"] == "2026-02-25"
    # still refused at 23:59 on the 24th in Beijing, allowed from local midnight
    assert check(prep, 0, "air_travel", at("2026-02-24T15:59:59Z")).decision == "deny"
    assert check(prep, 0, "air_travel", at("2026-02-24T16:00:00Z")).decision == "allow"


def test_a_utc_policy_says_utc_dates() -> None:
    prep = _prep(UTC_POLICY)
    ex = explain(prep, 0, "air_travel", at("2026-02-13"))
    assert "record court/d1 (debt, 2025-05-31)" in ex.text


def test_a_publicity_period_says_the_local_start_of_the_ban() -> None:
    from tests.scoring.test_publicity_period import POLICY

    text = (
        POLICY.replace("notice: P7D", "notice: 7 working days").replace(
            "appeal_window: P7D", "appeal_window: 7 working days"
        )
        + "calendar: {holidays: prc, utc_offset: '+08:00'}\n"
    )
    policy = compile_policy(parse_policy(text, "publicity-wd.yaml"))
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
    # objections until the end of Saturday 28 February in Beijing: the ban starts 1 March
    (upcoming,) = standing(prep, 0, at("2026-02-20")).upcoming
    assert to_iso(upcoming.starts) == "2026-02-28T16:00:00Z"
    until = policy.date_of(upcoming.until)
    assert until == to_date(at("2026-02-28T16:00:00Z") + 180 * DAY + 8 * 3600)
    service = standing(prep, 0, at("2026-02-20")).upcoming[0].service
    ex = explain(prep, 0, service, at("2026-02-20"))
    assert f"from 2026-03-01 until {until}" in ex.text
    assert "2026-02-28 until" not in ex.text
    upcoming_json = ex.to_json()["explanation"]["upcoming"][0]
    assert upcoming_json["starts"] == "2026-03-01" and upcoming_json["published_at"] == "2026-02-12"


def test_the_cli_says_local_dates(
    beijing: CompiledPolicy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy_file = tmp_path / "calendar-policy.yaml"
    policy_file.write_text(CALENDAR_POLICY)
    db = str(tmp_path / "l.db")
    activate(db, str(policy_file), at("2025-01-01"))
    data = tmp_path / "in.jsonl"
    entries = _debt_resolved("2026-02-12T02:00:00Z")
    entries[0]["occurred_at"] = entries[0]["recorded_at"] = "2025-05-31T23:30:00Z"
    entries[1]["occurred_at"] = entries[1]["recorded_at"] = "2026-02-12T02:00:00Z"
    data.write_text("".join(json.dumps(e) + "\n" for e in entries))
    code, out, err = call(capsys, "ingest", str(data), "--db", db, "--backfill")
    assert code == 0, err
    when = ("--db", db, "--at", "2026-02-20T04:00:00Z")
    code, out, err = call(capsys, "check", "bob", "air_travel", *when, "--json")
    assert code == 0, err
    assert json.loads(out)["eligible_again_on"] == "2026-02-25"
    code, out, err = call(capsys, "check", "bob", "air_travel", *when)
    assert code == 0, err
    assert "2026-02-25" in out and "2026-02-24" not in out
    code, out, err = call(capsys, "score", "bob", *when)
    assert code == 0, err
    assert "since 2025-06-01 until 2026-02-25" in out
    assert "2025-05-31" not in out
    # full instants stay UTC instants
    code, out, err = call(capsys, "score", "bob", *when, "--json")
    assert code == 0, err
    assert json.loads(out)["memberships"][0]["until"] == "2026-02-24T16:00:00Z"


OFFSETS = st.integers(-12 * 60, 14 * 60).map(lambda minutes: minutes * 60)
TIMES = st.integers(MIN_TIME + 14 * 3600, MAX_TIME - 14 * 3600)


@given(TIMES)
def test_a_utc_policy_says_the_utc_date(t: int) -> None:
    assert UTC_POLICY.date_of(t) == to_date(t)


@given(TIMES, OFFSETS)
def test_the_local_date_is_the_utc_date_of_the_shifted_instant(t: int, offset: int) -> None:
    assert local_date(t, offset) == to_date(t + offset)
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    text = TEST_POLICY + f"calendar: {{utc_offset: '{sign}{hours:02d}:{minutes:02d}'}}\n"
    assert compile_policy(parse_policy(text, "offset.yaml")).date_of(t) == to_date(t + offset)
