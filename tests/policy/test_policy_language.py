"""The policy language: example policies, error messages with line and path, hashing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.policy import (
    PolicyError,
    content_hash,
    load_policy,
    parse_policy,
    policy_json_schema,
)
from socialcredit.timeutil import DAY, format_duration, parse_duration

from ..conftest import TEST_POLICY

EXAMPLES = sorted((Path(__file__).parents[2] / "examples" / "policies").glob("*.yaml"))


def test_there_are_example_policies() -> None:
    assert {p.name for p in EXAMPLES} >= {
        "china-scs.yaml",
        "carrot-rewards.yaml",
        "fair-transit.yaml",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_policy_validates(path: Path) -> None:
    loaded = load_policy(path)
    assert loaded.policy.policy == path.stem


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    assert all(p.file == "p.yaml" for p in info.value.problems)
    return [(p.line, p.path, p.message) for p in info.value.problems]


def test_malformed_yaml_names_the_line() -> None:
    text = "policy: x\nversion: '1'\nmeta: {title: [unclosed\nscore: {}\n"
    ((line, _, message),) = problems(text)
    assert message.startswith("not valid YAML")
    assert line is not None and line >= 3


def test_unknown_record_type_in_a_list_names_path_and_line() -> None:
    text = TEST_POLICY.replace(
        "when: {records: {type: misconduct}}", "when: {records: {type: misconduc}}"
    )
    line_no = text.splitlines().index("    when: {records: {type: misconduc}}") + 1
    ((line, path, message),) = problems(text)
    assert path == "lists.troublemakers.when.records.type"
    assert line == line_no
    assert "unknown record type 'misconduc'" in message and "'misconduct'" in message


def test_unknown_list_in_a_sanction() -> None:
    text = TEST_POLICY.replace("when: {list: troublemakers}", "when: {list: trouble}")
    ((_, path, message),) = problems(text)
    assert path == "sanctions.rail_ban.when.list" and "unknown list 'trouble'" in message


@pytest.mark.parametrize("bad", ["-5d", "P-3D", "banana", "0x10"])
def test_invalid_durations_are_explained(bad: str) -> None:
    text = TEST_POLICY.replace("expires_after: P180D", f"expires_after: {bad}")
    ((line, path, message),) = problems(text)
    assert path == "record_types.misconduct.expires_after"
    assert (
        "not a duration" in message
        and line == text.splitlines().index(f"    expires_after: {bad}") + 1
    )


def test_negative_number_duration_rejected() -> None:
    text = TEST_POLICY.replace("expires_after: P180D", "expires_after: -5")
    ((_, path, message),) = problems(text)
    assert path == "record_types.misconduct.expires_after"
    assert "not a duration" in message


def test_missing_and_unknown_fields() -> None:
    text = TEST_POLICY.replace("    context: civic\n", "    contxt: civic\n")
    found = {(path, message.split(" (")[0]) for _, path, message in problems(text)}
    assert ("record_types.volunteering.context", "this field is required") in found
    assert ("record_types.volunteering.contxt", "unknown field") in found


def test_grades_must_descend_and_the_last_is_open() -> None:
    text = TEST_POLICY.replace("{name: B, at_least: 900}", "{name: B, at_least: 1100}")
    assert any(p == "grades[1].at_least" and "highest to lowest" in m for _, p, m in problems(text))
    text = TEST_POLICY.replace("{name: C}", "{name: C, at_least: 10}")
    assert any(p == "grades[2].at_least" for _, p, _ in problems(text))


def test_linear_decay_needs_an_expiry() -> None:
    text = TEST_POLICY.replace("expires_after: P100D", "expires_after: never")
    ((_, path, message),) = problems(text)
    assert path == "record_types.fine" and "decay" in message


def test_a_condition_has_exactly_one_key() -> None:
    text = TEST_POLICY.replace(
        "when: {records: {type: misconduct}}", "when: {records: {type: misconduct}, score_below: 5}"
    )
    ((_, path, message),) = problems(text)
    assert path == "lists.troublemakers.when" and "exactly one" in message


def test_json_schema_describes_the_language() -> None:
    schema = policy_json_schema()
    json.dumps(schema)
    assert {"record_types", "lists", "sanctions", "due_process"} <= set(schema["properties"])


def test_content_hash_ignores_layout_but_not_rules() -> None:
    a = parse_policy(TEST_POLICY)
    b = parse_policy("# a comment\n" + TEST_POLICY.replace("points: -100", "points:   -100"))
    c = parse_policy(TEST_POLICY.replace("points: -100", "points: -101"))
    assert a.content_hash == b.content_hash == content_hash(a.policy)
    assert a.content_hash != c.content_hash


@given(st.integers(0, 10**6).map(lambda d: d * DAY) | st.integers(0, 10**9))
def test_durations_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(0, 10**5))
def test_day_durations(days: int) -> None:
    assert parse_duration(f"{days}d") == days * DAY == parse_duration(f"P{days}D")


def test_fair_transit_keeps_its_promises() -> None:
    p = load_policy(EXAMPLES[0].parent / "fair-transit.yaml").policy
    assert not p.due_process.disputed_records_count
    assert all(rt.expires_after is not None for rt in p.record_types.values())
    for sanction in p.sanctions.values():
        if sanction.effect == "deny":
            assert sanction.max_duration is not None
            assert not sanction.reach
            for name in (q.on_list for q in sanction.when.walk() if q.on_list):
                lst = p.lists[name]
                types = {t for q in lst.when.walk() if q.records for t in q.records.type_names()}
                assert all(p.record_types[t].context == "transit" for t in types)


def test_carrot_rewards_only_rewards() -> None:
    p = load_policy(EXAMPLES[0].parent / "carrot-rewards.yaml").policy
    assert all(rt.points >= 0 for rt in p.record_types.values())
    assert all(s.effect == "benefit" for s in p.sanctions.values())
    assert all(lst.kind == "red" for lst in p.lists.values())


def test_the_reference_documents_every_field() -> None:
    from socialcredit.policy.model import (
        DueProcess,
        Grade,
        ListDef,
        PointsScore,
        Predicate,
        RecordCondition,
        RecordType,
        Sanction,
    )

    reference = (EXAMPLES[0].parents[2] / "docs" / "policy-reference.md").read_text()
    for model in (
        PointsScore,
        Grade,
        RecordType,
        RecordCondition,
        Predicate,
        ListDef,
        Sanction,
        DueProcess,
    ):
        for name, info in model.model_fields.items():
            documented = info.alias or name
            assert f"`{documented}" in reference, f"{model.__name__}.{documented} is not documented"
