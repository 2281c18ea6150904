"""An appeal window with no deadline (``appeal_window: any time``): a record may be disputed
at any time, and every sentence says so instead of naming a date a century away. Dates
worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from socialcredit.columns import columns_from_entries
from socialcredit.explain import explain
from socialcredit.notices import window_end_text
from socialcredit.policy import (
    CompiledPolicy,
    PolicyError,
    compile_policy,
    load_policy,
    parse_policy,
    policy_json_schema,
)
from socialcredit.policy.loader import content_hash
from socialcredit.scoring import Prepared, standing
from socialcredit.timeutil import DAY, NEVER, parse_timestamp
from tests.cli.conftest import call

T0 = parse_timestamp("2025-01-01")  # day 0
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"

POLICY = """
policy: any-time
version: "1"
meta: {title: No deadline to dispute a listing}
score: {form: points, base: 1000}
grades:
  - {name: A, at_least: 1000}
  - {name: B}
record_types:
  listing:
    points: -10
    expires_after: never
    context: courts
    category: judicial
    evidence: court_order
    due_process: {appeal_window: any time}
  fine:
    points: -10
    expires_after: never
    context: courts
    category: judicial
    evidence: court_order
lists:
  listed:
    kind: black
    display_name: list of debtors
    when: {records: {type: listing}}
sanctions:
  no_flights:
    when: {list: listed}
    service: air_travel
    effect: deny
    reason_code: LISTED
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
"""


@pytest.fixture(scope="module")
def policy() -> CompiledPolicy:
    return compile_policy(parse_policy(POLICY, "any-time.yaml"))


def rec(rid: str, type_: str) -> dict[str, Any]:
    return {"id": rid, "source": "court", "subject": "p", "type": type_, "occurred_at": T0}


def dispute(rid: str, target: str, day: int) -> dict[str, Any]:
    at = T0 + day * DAY
    return {
        "kind": "dispute",
        "id": rid,
        "source": "p",
        "target_source": "court",
        "target_id": target,
        "occurred_at": at,
        "recorded_at": at,
    }


def test_a_dispute_forty_years_on_is_in_time_and_suspends_the_record(
    policy: CompiledPolicy,
) -> None:
    # day 14,610 is 2065-01-01 (40 years of 365.25 days); the listing's window has no end,
    # the fine's closed on day 30: the disputed listing stops counting (disputed records do
    # not count), the disputed fine keeps its -10
    day = 14_610
    entries = [
        rec("l", "listing"),
        rec("f", "fine"),
        dispute("d1", "l", day),
        dispute("d2", "f", day),
    ]
    prep = Prepared.build(columns_from_entries(entries), policy)
    before = standing(prep, 0, T0 + (day - 1) * DAY)
    assert before.score == 980 and [m.name for m in before.lists] == ["listed"]
    after = standing(prep, 0, T0 + day * DAY)
    assert after.score == 990 and after.lists == []


def test_the_explanation_says_at_any_time_not_a_date(policy: CompiledPolicy) -> None:
    prep = Prepared.build(columns_from_entries([rec("l", "listing")]), policy)
    e = explain(prep, 0, "air_travel", T0 + 10 * 365 * DAY)
    assert "Record court/l may be disputed at any time." in e.text
    assert "disputed until" not in e.text
    (record,) = e.to_json()["explanation"]["due_process"]["records"]
    assert record["dispute_window_closes"] is None
    assert record["due_process"]["appeal_window_days"] is None
    assert record["due_process"]["appeal_window"] == "no time limit"
    # about the past, too
    past = explain(prep, 0, "air_travel", T0 + DAY, present=False)
    assert "record court/l could be disputed at any time." in past.text


def test_a_notice_says_file_a_dispute_at_any_time(policy: CompiledPolicy) -> None:
    assert window_end_text(policy, NEVER) == "at any time"


def test_the_example_court_list_has_no_deadline_a_century_away() -> None:
    # china-scs: no deadline for asking for a correction is published (SPC Arts. 9, 12);
    # it used to say "may be disputed until 2125-01-03" (P100Y)
    cp = compile_policy(load_policy(EXAMPLES / "china-scs.yaml"))
    entries = [
        {"id": "j1", "source": "court", "subject": "wang", "type": "court_judgment_unfulfilled",
         "occurred_at": "2025-01-01", "recorded_at": "2025-01-03"},
    ]  # fmt: skip
    prep = Prepared.build(columns_from_entries(entries), cp)
    text = explain(prep, 0, "air_travel", parse_timestamp("2025-06-01")).text
    assert "Record court/j1 may be disputed at any time." in text
    assert "2125" not in text


def test_any_time_is_written_in_any_case_and_spacing_and_keeps_its_hash() -> None:
    other = POLICY.replace("{appeal_window: any time}", "{appeal_window: '  Any   Time '}")
    a, b = parse_policy(POLICY, "a.yaml"), parse_policy(other, "b.yaml")
    assert a.content_hash == b.content_hash == content_hash(a.policy)
    dumped = a.policy.model_dump(mode="json")
    assert dumped["record_types"]["listing"]["due_process"]["appeal_window"] == "any time"
    # the policy-wide window may have no deadline too
    wide = POLICY.replace("appeal_window: P30D", "appeal_window: any time")
    cp = compile_policy(parse_policy(wide, "c.yaml"))
    assert cp.appeal_window.unlimited


@pytest.mark.parametrize("written", ["anytime", "forever", "never", "P0D"])
def test_other_words_are_an_error_naming_any_time(written: str) -> None:
    bad = POLICY.replace("{appeal_window: any time}", f"{{appeal_window: {written}}}")
    with pytest.raises(PolicyError) as info:
        parse_policy(bad, "bad.yaml")
    (problem,) = info.value.problems
    assert problem.path == "record_types.listing.due_process.appeal_window"
    assert "'any time' for no deadline" in problem.message


def test_the_schema_accepts_any_time_only_for_appeal_windows() -> None:
    schema = policy_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    import yaml

    data = yaml.safe_load(POLICY)
    assert list(validator.iter_errors(data)) == []
    data["record_types"]["listing"]["due_process"]["appeal_window"] = "no time"
    assert not validator.is_valid(data)
    data["record_types"]["listing"]["due_process"]["appeal_window"] = "P30D"
    data["record_types"]["listing"]["expires_after"] = "any time"
    assert not validator.is_valid(data)
    with pytest.raises(PolicyError):
        parse_policy(POLICY.replace("expires_after: never", "expires_after: any time", 1), "x")


def test_policy_show_says_there_is_no_appeal_deadline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "any-time.yaml"
    path.write_text(POLICY)
    code, out, _ = call(capsys, "policy", "show", str(path))
    assert code == 0
    assert "no appeal deadline (a record may be disputed at any time)" in " ".join(out.split())
    assert "appeal window 30 days" in " ".join(out.split())
