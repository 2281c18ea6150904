"""The language of per-type due process: loader errors with file, line and field; the JSON
Schema; and policies that do not use it keep their content hash."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from socialcredit.policy import PolicyError, parse_policy, policy_json_schema
from tests.cli.conftest import call
from tests.conftest import TEST_POLICY
from tests.scoring.test_due_process_per_type import LIST_POLICY, POLICY
from tests.scoring.test_publicity_period import POLICY as PUBLICITY

VALIDATOR = jsonschema.Draft202012Validator(policy_json_schema())


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    return [(p.line, p.path, p.message) for p in info.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_example_validates_against_the_schema() -> None:
    assert list(VALIDATOR.iter_errors(yaml.safe_load(POLICY))) == []
    assert list(VALIDATOR.iter_errors(yaml.safe_load(LIST_POLICY))) == []


def test_an_unknown_on_overdue_is_an_error_at_its_line() -> None:
    bad = POLICY.replace("on_overdue: keep", "on_overdue: ignore")
    ((line, path, message),) = problems(bad)
    assert line == line_of(bad, "on_overdue: ignore")
    assert path == "record_types.court_listing.due_process.on_overdue"
    assert "'delete', 'keep' or 'flag'" in message
    assert not VALIDATOR.is_valid(yaml.safe_load(bad))


def test_a_reconsideration_needs_both_deadlines() -> None:
    bad = POLICY.replace("reconsideration: {file_within: P10D, decide_within: P15D}\n  flagged",
                         "reconsideration: {file_within: P10D}\n  flagged")  # fmt: skip
    ((line, path, message),) = problems(bad)
    assert path == "record_types.court_listing.due_process.reconsideration.decide_within"
    assert line == line_of(bad, "reconsideration: {file_within: P10D}")
    assert "required" in message.lower() or "missing" in message.lower()
    assert not VALIDATOR.is_valid(yaml.safe_load(bad))


def test_a_zero_review_deadline_is_an_error() -> None:
    bad = POLICY.replace("reinvestigation_deadline: P15D, on_overdue: flag",
                         "reinvestigation_deadline: P0D, on_overdue: flag")  # fmt: skip
    ((line, path, _),) = problems(bad)
    assert path == "record_types.flagged_item.due_process.reinvestigation_deadline"
    assert line == line_of(bad, "P0D")


def test_a_list_whose_condition_names_no_record_type_cannot_have_a_due_process() -> None:
    bad = LIST_POLICY.replace("when: {records: {type: listing}}", "when: {score_below: 0}")
    ((line, path, message),) = problems(bad)
    assert path == "lists.debtors.due_process"
    assert line == line_of(bad, "due_process: {disputed_records_count: true")
    assert "names no record type" in message


def test_two_lists_with_different_due_processes_for_one_type_are_refused() -> None:
    bad = LIST_POLICY.replace(
        "due_process:\n  appeal_window",
        "  others:\n    kind: black\n    when: {records: {category: judicial}}\n"
        "    due_process: {on_overdue: flag}\ndue_process:\n  appeal_window",
    )
    ((line, path, message),) = problems(bad)
    assert path == "lists.others.due_process"
    assert line == line_of(bad, "due_process: {on_overdue: flag}")
    assert "record type 'listing' is also counted by list 'debtors'" in message
    # the record type's own block settles it
    settled = bad.replace(
        "listing: {expires_after: never,",
        "listing: {due_process: {on_overdue: keep}, expires_after: never,",
    )
    assert parse_policy(settled).policy.lists["others"].due_process is not None


def test_policies_without_the_new_fields_keep_their_canonical_form() -> None:
    loaded = parse_policy(TEST_POLICY)
    dumped = json.dumps(loaded.policy.model_dump(mode="json", by_alias=True))
    for field in ("on_overdue", "reconsideration", "starts_after"):
        assert field not in dumped
    assert all(
        "due_process" not in rt for rt in loaded.policy.model_dump()["record_types"].values()
    )
    # spelling out the default is the same rule
    spelled = TEST_POLICY.replace(
        "  disputed_records_count: false\n",
        "  disputed_records_count: false\n  on_overdue: delete\n",
    )
    assert spelled != TEST_POLICY
    assert parse_policy(spelled).content_hash == loaded.content_hash


def test_the_publicity_example_validates_against_the_schema() -> None:
    assert list(VALIDATOR.iter_errors(yaml.safe_load(PUBLICITY))) == []


def test_a_publicity_period_on_a_score_condition_is_refused() -> None:
    bad = PUBLICITY.replace("when: {records: {type: fare_dodging}}", "when: {score_below: 0}")
    ((line, path, message),) = problems(bad)
    assert path == "sanctions.sleeper_ban.starts_after"
    assert line == line_of(bad, "starts_after: {notice: P7D, objection_blocks: false}")
    assert "depends on the score or grade" in message


def test_a_publicity_period_needs_a_notice_with_a_unit() -> None:
    bad = PUBLICITY.replace("starts_after: {notice: P7D, objection_blocks: false}",
                            "starts_after: {notice: 7, objection_blocks: false}")  # fmt: skip
    ((line, path, message),) = problems(bad)
    assert path == "sanctions.sleeper_ban.starts_after.notice"
    assert line == line_of(bad, "starts_after: {notice: 7,")
    assert "with a unit" in message
    assert not VALIDATOR.is_valid(yaml.safe_load(bad))
    unknown = PUBLICITY.replace("objection_blocks: false", "objections_block: false")
    ((_, path, _),) = problems(unknown)
    assert path == "sanctions.sleeper_ban.starts_after.objections_block"


def test_policy_show_names_each_record_types_due_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "process.yaml"
    path.write_text(POLICY, encoding="utf-8")
    code, out, _ = call(capsys, "policy", "show", str(path))
    flat = " ".join(out.split())
    assert code == 0
    assert ("due process of court_listing (from record type court_listing): appeal window ") in flat
    assert "(a late decision keeps the record); reconsideration applied for within" in flat
    assert "due process of fcra_item (from record type fcra_item)" in flat
    assert "due process of plain" not in flat


def test_policy_show_names_the_publicity_period(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "publicity.yaml"
    path.write_text(PUBLICITY, encoding="utf-8")
    code, out, _ = call(capsys, "policy", "show", str(path))
    flat = " ".join(out.split())
    assert code == 0
    assert "starts after a publicity period of" in flat
    assert "holds it back" in flat


def test_a_publicity_period_with_an_end_after_resolution_is_refused() -> None:
    bad = PUBLICITY.replace(
        "    starts_after: {notice: P7D, objection_blocks: false}",
        "    duration: {after_resolution: P90D}\n    starts_after: {notice: P7D, objection_blocks: false}",
    )
    ((line, path, message),) = problems(bad)
    assert path == "sanctions.sleeper_ban.starts_after"
    assert line == line_of(bad, "starts_after: {notice: P7D, objection_blocks: false}")
    assert "after resolution" in message


def test_a_notice_longer_than_the_appeal_window_of_a_record_behind_it_is_refused() -> None:
    # rail misconduct may be disputed for 7 days; 7 working days are at least 9 days
    bad = (
        PUBLICITY.replace(
            "starts_after: {notice: P7D, objection_blocks: true}",
            "starts_after: {notice: 7 working days, objection_blocks: true}",
        )
        + "calendar: {holidays: prc, utc_offset: '+08:00'}\n"
    )
    ((line, path, message),) = problems(bad)
    assert path == "sanctions.rail_ban.starts_after.notice"
    assert line == line_of(bad, "notice: 7 working days")
    assert "longer than the appeal window (P7D) of record type 'rail_misconduct'" in message
    # fare dodging has the policy-wide 30-day window: a 14-day notice is within it
    fine = PUBLICITY.replace(
        "starts_after: {notice: P7D, objection_blocks: false}",
        "starts_after: {notice: P14D, objection_blocks: false}",
    )
    parse_policy(fine, "p.yaml")
    longer = fine.replace("notice: P14D", "notice: P31D")
    ((_, path, message),) = problems(longer)
    assert path == "sanctions.sleeper_ban.starts_after.notice" and "(P30D)" in message
