"""The policy language: the example policies, errors with file, line and path, hashing.

The tests edit one small policy, ``BASE``, written here so that every line number they
expect can be read off the text below (line 1 is ``policy: base``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.policy import (
    Policy,
    PolicyError,
    compile_policy,
    content_hash,
    load_policy,
    parse_policy,
    policy_json_schema,
)
from socialcredit.policy.model import Predicate, RecordType
from socialcredit.spans import Span, parse_span
from socialcredit.timeutil import DAY

ROOT = Path(__file__).parents[2]
POLICIES = ROOT / "examples" / "policies"
EXAMPLES = sorted(POLICIES.glob("*.yaml"))

BASE = """\
policy: base
version: "1"
meta: {title: Base policy for tests}
score: {form: points, base: 1000, min: 0, max: 2000}
grades:
  - {name: A, at_least: 1000}
  - {name: B, at_least: 900}
  - {name: C}
record_types:
  debt:
    points: -100
    expires_after: P1000D
    context: courts
    category: judicial
    evidence: court_order
    resolvable: true
  fine:
    points: -60
    expires_after: P100D
    decay: linear
    context: transit
    category: conduct
    evidence: official_record
  misconduct:
    points: 0
    expires_after: P180D
    context: transit
    category: conduct
    evidence: official_record
relations:
  child_of: {description: the subject is a child of the related person}
lists:
  debtors:
    kind: black
    when: {records: {type: debt, unresolved: true}}
    delist_after_resolution: P3D
  troublemakers:
    kind: black
    when: {records: {type: misconduct}}
sanctions:
  no_flights:
    when: {list: debtors}
    service: air_travel
    effect: deny
    reach: [{relation: child_of}]
    reason_code: DEBTOR
  rail_ban:
    when: {list: troublemakers}
    service: rail_travel
    effect: deny
    duration: {fixed: P30D}
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    """``text`` with the one occurrence of ``old`` replaced (fails loudly if not exactly one)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def problems(text: str) -> list[tuple[int | None, str, str]]:
    """(line, path, message) of every problem ``text`` has; it must have some."""
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    found = info.value.problems
    assert found and all(p.file == "p.yaml" for p in found)
    assert str(info.value).startswith("p.yaml")
    return [(p.line, p.path, p.message) for p in found]


def one_problem(text: str) -> tuple[int | None, str, str]:
    (problem,) = problems(text)
    return problem


def sources_of(policy: Policy, pred: Predicate) -> set[str]:
    """Every record type whose records can change whether ``pred`` holds.

    A records condition names its types or a category; a score or grade condition depends
    on every type with points; a list condition depends on the list's own condition.
    """
    out: set[str] = set()
    for p in pred.walk():
        if p.records is not None:
            out.update(p.records.type_names())
            if p.records.category is not None:
                out.update(
                    n for n, rt in policy.record_types.items() if rt.category == p.records.category
                )
        if p.uses_score() and p.records is None:
            out.update(n for n, rt in policy.record_types.items() if rt.points != 0)
        if p.on_list is not None:
            out |= sources_of(policy, policy.lists[p.on_list].when)
    return out


# --- the example policies ----------------------------------------------------------------


def test_the_example_policies_are_there() -> None:
    assert len(EXAMPLES) >= 3
    assert {"china-scs.yaml", "carrot-rewards.yaml", "fair-transit.yaml"} <= {
        p.name for p in EXAMPLES
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_policy_validates_and_compiles(path: Path) -> None:
    loaded = load_policy(path)
    assert loaded.policy.policy == path.stem
    assert loaded.source == str(path)
    assert loaded.content_hash == content_hash(loaded.policy)
    assert len(loaded.content_hash) == 64
    compiled = compile_policy(loaded)
    assert compiled.version_label == loaded.label
    # every policy cites what it rests on
    assert loaded.policy.meta.sources


def test_fair_transit_keeps_its_promises() -> None:
    """The published contract of the accountable operator, checked on the file itself."""
    p = load_policy(POLICIES / "fair-transit.yaml").policy
    assert p.due_process.disputed_records_count is False
    assert p.due_process.notice_before_sanction and p.due_process.human_review
    assert p.due_process.reinvestigation_deadline.nominal() <= 30 * DAY  # FCRA §611
    assert p.due_process.appeal_window.nominal() >= 30 * DAY
    # every record ends, and no later than the FCRA's 7 years (§605)
    assert all(rt.expires_after is not None for rt in p.record_types.values())
    seven_years = parse_span("P7Y").nominal()
    assert all(
        rt.expires_after.nominal() <= seven_years
        for rt in p.record_types.values()
        if rt.expires_after
    )
    assert not p.relations
    denials = {n: s for n, s in p.sanctions.items() if s.effect == "deny"}
    assert denials
    for name, sanction in denials.items():
        assert sanction.max_duration is not None, f"{name} has no upper bound"
        assert not sanction.reach, f"{name} reaches other people"
        types = sources_of(p, sanction.when)
        assert types, f"{name} is not triggered by any record"
        assert {p.record_types[t].context for t in types} == {"transit"}, name
    # repeated fare evasion means three records within a year
    repeated = p.lists["repeated_fare_evasion"].when.records
    assert repeated is not None
    assert (repeated.type, repeated.at_least, repeated.within) == (
        "fare_evasion",
        3,
        Span(months=12),
    )
    assert p.record_types["staff_assault"].evidence == "court_order"


def test_fair_transit_promise_check_catches_an_out_of_context_ban() -> None:
    """The check above is not vacuous: a ban driven by the score (any record) breaks it."""
    p = load_policy(POLICIES / "fair-transit.yaml").policy
    assert sources_of(p, Predicate.model_validate({"score_below": 50})) == set(p.record_types)
    tax = RecordType.model_validate(
        {
            "points": -5,
            "expires_after": "P1Y",
            "context": "tax",
            "category": "financial",
            "evidence": "official_record",
        }
    )
    worse = p.model_copy(update={"record_types": {**p.record_types, "tax_arrears": tax}})
    contexts = {worse.record_types[t].context for t in sources_of(worse, Predicate(score_below=50))}
    assert contexts == {"transit", "tax"}


def test_carrot_rewards_only_rewards() -> None:
    p = load_policy(POLICIES / "carrot-rewards.yaml").policy
    assert all(rt.points >= 0 for rt in p.record_types.values())
    assert all(s.effect == "benefit" for s in p.sanctions.values())
    assert all(lst.kind == "red" for lst in p.lists.values())
    assert all(rt.expires_after is not None for rt in p.record_types.values())


def test_the_seed_policy_reproduces_the_published_facts() -> None:
    # the numbers themselves are checked against hand-worked dates in test_china_scs_rules.py
    p = load_policy(POLICIES / "china-scs.yaml").policy
    assert p.score.base == 1000  # Rongcheng: everyone starts with 1,000 points
    assert [g.name for g in p.grades] == ["AAA", "AA", "A", "B", "C", "D"]
    assert p.record_types["traffic_offence"].points == -5  # Rongcheng: a ticket costs 5
    court = p.record_types["court_judgment_unfulfilled"]
    assert court.resolvable and court.points == 0 and court.evidence == "court_order"
    assert court.expires_after is None  # SPC Art. 2: no term for ground (1)
    assert p.record_types["fare_evasion"].resolvable  # banned until the fare is paid
    assert all(p.record_types[t].points > 0 for t in ("volunteering", "blood_donation"))
    debtors = p.lists["dishonest_judgment_debtors"]
    # SPC Art. 10: deleted within 3 working days of performance
    assert debtors.kind == "black" and debtors.delist_after_resolution == parse_span(
        "3 working days"
    )
    assert p.lists["redlist_volunteers"].kind == "red"
    by_service: dict[str, list[str]] = {}
    for s in p.sanctions.values():
        lists = [q.on_list for q in s.when.walk() if q.on_list]
        by_service.setdefault(s.service, []).extend(f"{s.effect}:{n}" for n in lists)
    for service in ("air_travel", "high_speed_rail", "soft_sleeper", "luxury_hotel", "holidays"):
        assert "deny:dishonest_judgment_debtors" in by_service[service]
    for service in ("bike_rental", "priority_services"):
        assert "benefit:redlist_volunteers" in by_service[service]
    reach = {s.service: {r.relation for r in s.reach} for s in p.sanctions.values() if s.reach}
    assert reach["private_school"] == {"child_of"}
    officers = {
        "legal_representative_of",
        "principal_responsible_person_of",
        "directly_responsible_person_of",
        "actual_controller_of",
    }
    assert reach["air_travel"] == officers
    assert p.due_process.human_review  # SPC Art. 12: the court reviews correction requests


# --- the test policy and its layout --------------------------------------------------------


def test_the_base_policy_is_valid_and_laid_out_as_the_tests_assume() -> None:
    loaded = parse_policy(BASE, "p.yaml")
    assert loaded.label == "base@1"
    lines = BASE.splitlines()
    assert lines[0] == "policy: base"
    assert lines[6] == "  - {name: B, at_least: 900}"  # line 7
    assert lines[16] == "  fine:"  # line 17
    assert lines[25] == "    expires_after: P180D"  # line 26, misconduct
    assert lines[34] == "    when: {records: {type: debt, unresolved: true}}"  # line 35
    assert lines[38] == "    when: {records: {type: misconduct}}"  # line 39
    assert lines[44] == "    reach: [{relation: child_of}]"  # line 45
    assert lines[47] == "    when: {list: troublemakers}"  # line 48


# --- errors: YAML ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # a second ':' in a plain value, on line 5
        ('policy: broken\nversion: "1"\nmeta:\n  title: Broken\n  description: a: b\n', 5),
        # a tab cannot indent YAML; the tab is on line 4
        ('policy: broken\nversion: "1"\nmeta:\n\ttitle: Broken\n', 4),
        # line 5 is indented less than line 4 but more than its parent on line 3
        ('policy: broken\nversion: "1"\nmeta:\n    title: Broken\n  description: x\n', 5),
        # the flow list opened on line 3 is not closed; the parser finds out at line 4
        ('policy: broken\nversion: "1"\ngrades: [{name: A}\nmeta: {title: x}\n', 4),
    ],
)
def test_malformed_yaml_names_the_file_and_line(text: str, line: int) -> None:
    got_line, path, message = one_problem(text)
    assert (got_line, path) == (line, "")
    assert message.startswith("not valid YAML")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a list\n- of things\n", "42\n"])
def test_a_policy_is_a_mapping(text: str) -> None:
    assert one_problem(text) == (1, "", "a policy is a YAML mapping (policy:, version:, ...)")


def test_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no such file"):
        load_policy(tmp_path / "nope.yaml")


# --- errors: names that must refer to something ------------------------------------------


def test_unknown_record_type_in_a_list_names_path_and_line() -> None:
    text = edit("{type: debt, unresolved: true}", "{type: dept, unresolved: true}")
    line, path, message = one_problem(text)
    assert (line, path) == (35, "lists.debtors.when.records.type")
    assert "unknown record type 'dept'" in message and "did you mean 'debt'" in message


def test_unknown_record_type_deep_in_a_condition() -> None:
    text = edit(
        "when: {records: {type: misconduct}}",
        "when: {any: [{records: {type: misconduct}}, {not: {records: {types: [fine, fien]}}}]}",
    )
    line, path, message = one_problem(text)
    assert (line, path) == (39, "lists.troublemakers.when.any[1].not.records.types[1]")
    assert "unknown record type 'fien'" in message


def test_unknown_list_in_a_sanction() -> None:
    text = edit("when: {list: troublemakers}", "when: {list: trouble_makers}")
    line, path, message = one_problem(text)
    assert (line, path) == (48, "sanctions.rail_ban.when.list")
    assert "unknown list 'trouble_makers'" in message and "'troublemakers'" in message


def test_a_list_is_not_defined_by_another_list() -> None:
    text = edit("when: {records: {type: misconduct}}", "when: {list: debtors}")
    line, path, message = one_problem(text)
    assert (line, path) == (39, "lists.troublemakers.when.list")
    assert "cannot be defined by another list" in message


def test_unknown_relation_in_a_reach() -> None:
    text = edit("reach: [{relation: child_of}]", "reach: [{relation: parent_of}]")
    line, path, message = one_problem(text)
    assert (line, path) == (45, "sanctions.no_flights.reach[0].relation")
    assert "unknown relation 'parent_of'" in message and "declare it under relations" in message


def test_unknown_grade_in_a_condition() -> None:
    text = edit("when: {list: troublemakers}", "when: {grade_in: [C, E]}")
    line, path, message = one_problem(text)
    assert (line, path) == (48, "sanctions.rail_ban.when.grade_in[1]")
    assert "unknown grade 'E'" in message


# --- errors: durations -------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["-5d", "P-3D", "banana", "5 yrs", "P", "PT", "1.5d", "3 fortnights"]
)
def test_invalid_durations_are_explained(bad: str) -> None:
    text = edit("expires_after: P180D", f"expires_after: {bad}")
    line, path, message = one_problem(text)
    assert (line, path) == (26, "record_types.misconduct.expires_after")
    assert f"{bad!r} is not a duration" in message and "'P180D'" in message


@pytest.mark.parametrize("bare", ["-5", "30", "0", "1.5"])
def test_a_bare_number_is_not_a_duration(bare: str) -> None:
    text = edit("expires_after: P180D", f"expires_after: {bare}")
    line, path, message = one_problem(text)
    assert (line, path) == (26, "record_types.misconduct.expires_after")
    assert "not a duration; write it with a unit" in message


def test_never_must_be_written_out() -> None:
    text = edit("expires_after: P180D", "expires_after:")
    line, path, message = one_problem(text)
    assert (line, path) == (26, "record_types.misconduct.expires_after")
    assert "'never'" in message
    loaded = parse_policy(edit("expires_after: P180D", "expires_after: never"))
    assert loaded.policy.record_types["misconduct"].expires_after is None


def test_invalid_durations_elsewhere_name_their_path() -> None:
    text = edit("delist_after_resolution: P3D", "delist_after_resolution: three days")
    assert one_problem(text)[:2] == (36, "lists.debtors.delist_after_resolution")
    text = edit("appeal_window: P30D", "appeal_window: 30")
    assert one_problem(text)[:2] == (53, "due_process.appeal_window")
    text = edit("duration: {fixed: P30D}", "duration: {fixed: P-30D}")
    assert any(
        line == 51 and path.startswith("sanctions.rail_ban.duration") and "not a duration" in m
        for line, path, m in problems(text)
    )


def test_a_bad_fixed_duration_is_one_problem_at_its_path() -> None:
    text = edit("duration: {fixed: P30D}", "duration: {fixed: P-30D}")
    assert one_problem(text)[:2] == (51, "sanctions.rail_ban.duration.fixed")


# --- errors: shape -------------------------------------------------------------------------


def test_a_missing_required_field() -> None:
    text = edit(
        "    points: 0\n    expires_after: P180D\n    context: transit\n",
        "    points: 0\n    expires_after: P180D\n",
    )
    line, path, message = one_problem(text)
    assert (line, path, message) == (
        24,
        "record_types.misconduct.context",
        "this field is required",
    )
    text = edit("  disputed_records_count: false\n", "")
    line, path, message = one_problem(text)
    assert (line, path, message) == (
        52,
        "due_process.disputed_records_count",
        "this field is required",
    )


def test_a_missing_section() -> None:
    text = BASE.split("due_process:")[0]
    assert one_problem(text)[1:] == ("due_process", "this field is required")


def test_an_unknown_field_and_a_missing_one_are_both_reported() -> None:
    text = edit("    context: courts\n", "    contxt: courts\n")
    found = {(line, path, message.split(" (")[0]) for line, path, message in problems(text)}
    assert found == {
        (10, "record_types.debt.context", "this field is required"),
        (13, "record_types.debt.contxt", "unknown field"),
    }


def test_an_unknown_top_level_section() -> None:
    text = BASE + "sanction:\n  x: 1\n"
    line, path, message = one_problem(text)
    assert (line, path) == (56, "sanction") and message.startswith("unknown field")


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("context: courts", "context: court", "record_types.debt.context"),
        ("effect: deny\n    reach", "effect: refuse\n    reach", "sanctions.no_flights.effect"),
        (
            "kind: black\n    when: {records: {type: mis",
            "kind: grey\n    when: {records: {type: mis",
            "lists.troublemakers.kind",
        ),
        ("policy: base", "policy: Base Policy", "policy"),
        ("  debt:\n", "  Debt:\n", "record_types.Debt"),
    ],
)
def test_values_outside_the_vocabulary(old: str, new: str, path: str) -> None:
    # a bad key is reported at "record_types.Debt.[key]" (pydantic's marker for dict keys)
    assert any(p == path or p.startswith(f"{path}.") for _, p, _ in problems(edit(old, new)))


def test_grades_must_descend() -> None:
    text = edit("{name: B, at_least: 900}", "{name: B, at_least: 1100}")
    line, path, message = one_problem(text)
    assert (line, path) == (7, "grades[1].at_least")
    assert "highest to lowest" in message and "1100" in message


def test_the_last_grade_has_no_at_least_and_the_others_do() -> None:
    line, path, message = one_problem(edit("{name: C}", "{name: C, at_least: 10}"))
    assert (line, path) == (8, "grades[2].at_least") and "no at_least" in message
    line, path, message = one_problem(edit("{name: B, at_least: 900}", "{name: B}"))
    assert (line, path) == (7, "grades[1].at_least") and "needs at_least" in message


def test_grade_names_are_unique() -> None:
    found = problems(edit("{name: C}", "{name: A}"))
    assert (8, "grades[2].name", "grade 'A' is declared twice") in found


def test_linear_decay_needs_an_expiry() -> None:
    text = edit("expires_after: P100D", "expires_after: never")
    line, path, message = one_problem(text)
    assert (line, path) == (17, "record_types.fine")
    assert "decay 'linear' needs a finite expires_after" in message


def test_a_condition_has_exactly_one_key() -> None:
    text = edit(
        "when: {records: {type: misconduct}}",
        "when: {records: {type: misconduct}, score_below: 5}",
    )
    line, path, message = one_problem(text)
    assert (line, path) == (39, "lists.troublemakers.when")
    assert "exactly one of" in message and "['records', 'score_below']" in message
    line, path, message = one_problem(edit("when: {records: {type: misconduct}}", "when: {}"))
    assert (line, path) == (39, "lists.troublemakers.when") and "got none" in message


def test_a_records_condition_has_exactly_one_filter() -> None:
    text = edit("{type: misconduct}", "{type: misconduct, category: conduct}")
    line, path, message = one_problem(text)
    assert (line, path) == (39, "lists.troublemakers.when.records")
    assert "exactly one of 'type', 'types' or 'category'" in message


def test_a_records_condition_counts_at_least_one() -> None:
    text = edit("{type: misconduct}", "{type: misconduct, at_least: 0}")
    assert one_problem(text)[:2] == (39, "lists.troublemakers.when.records.at_least")


def test_a_fixed_measure_fits_its_upper_bound() -> None:
    text = edit("duration: {fixed: P30D}", "duration: {fixed: P30D}\n    max_duration: P10D")
    line, path, message = one_problem(text)
    assert (line, path) == (52, "sanctions.rail_ban.max_duration")
    assert "shorter than the fixed duration" in message


def test_score_bounds_are_ordered() -> None:
    text = edit("min: 0, max: 2000", "min: 2000, max: 0")
    line, path, message = one_problem(text)
    assert (line, path) == (4, "score") and "must be below max" in message


# --- schema and hashing --------------------------------------------------------------------


def test_json_schema_describes_the_language() -> None:
    schema = policy_json_schema()
    again = json.loads(json.dumps(schema))
    assert again == schema
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"policy", "version", "record_types", "lists", "sanctions", "due_process"} <= set(
        schema["properties"]
    )
    assert {"policy", "version", "meta", "record_types", "due_process"} <= set(schema["required"])
    # a score is required: the unnamed one (score with grades) or named ones
    assert {"required": ["score", "grades"]} in schema["anyOf"]
    assert {"required": ["scores"], "properties": {"scores": {"minProperties": 1}}} in schema[
        "anyOf"
    ]
    assert schema["dependentRequired"] == {"score": ["grades"], "grades": ["score"]}


def test_content_hash_ignores_comments_and_layout() -> None:
    a = parse_policy(BASE)
    relaid = edit(
        "  - {name: A, at_least: 1000}\n",
        "  # the top band\n  - name: A      # comment\n    at_least: 1000.0\n",
    )
    relaid = edit("debt:\n    points: -100\n", "debt:\n    points:   -100   # adverse\n", relaid)
    # spelling out a default and moving a section are not rule changes either
    relaid = edit("    decay: linear\n", "    decay: linear\n    resolvable: false\n", relaid)
    head, due = relaid.split("due_process:\n")
    relaid = "# a published policy\ndue_process:\n" + due + head
    b = parse_policy(relaid)
    assert a.content_hash == b.content_hash == content_hash(a.policy)
    assert a.text != b.text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("points: -100", "points: -101"),
        ("expires_after: P1000D", "expires_after: P1001D"),
        ("delist_after_resolution: P3D", "delist_after_resolution: P4D"),
        ("disputed_records_count: false", "disputed_records_count: true"),
    ],
)
def test_content_hash_changes_with_the_rules(old: str, new: str) -> None:
    assert parse_policy(BASE).content_hash != parse_policy(edit(old, new)).content_hash


# --- durations -----------------------------------------------------------------------------


@given(
    st.builds(Span, months=st.integers(0, 12_000), seconds=st.integers(0, 10**10))
    | st.builds(Span, working_days=st.integers(0, 10**5))
)
def test_durations_round_trip(span: Span) -> None:
    assert parse_span(span.iso()) == span


@given(st.integers(0, 10**6))
def test_days_written_as_nd_are_n_days(days: int) -> None:
    assert parse_span(f"{days}d") == Span(seconds=days * DAY)
    assert parse_span(f"{days} days") == parse_span(f"P{days}D") == Span(seconds=days * DAY)


@given(st.integers(0, 500), st.integers(0, 11), st.integers(0, 29))
def test_iso_durations_add_up(years: int, months: int, days: int) -> None:
    # years and months are calendar months; days stay exact
    expected = Span(months=years * 12 + months, seconds=days * DAY)
    assert parse_span(f"P{years}Y{months}M{days}D") == expected


@given(st.integers(1, 10**4))  # zero: see test_schema's positive durations
def test_durations_in_a_policy_are_spans(days: int) -> None:
    loaded = parse_policy(edit("expires_after: P180D", f"expires_after: {days}d"))
    assert loaded.policy.record_types["misconduct"].expires_after == Span(seconds=days * DAY)


# --- gaps in validation (see the report; remove the mark when fixed) ----------------------


def test_a_duplicate_key_is_an_error() -> None:
    problems(edit("    points: -100\n", "    points: -100\n    points: 100\n"))


def test_not_a_number_is_an_error() -> None:
    problems(edit("{name: B, at_least: 900}", "{name: B, at_least: .nan}"))


def test_an_absurd_duration_is_an_error() -> None:
    problems(edit("expires_after: P180D", "expires_after: P999999999999Y"))


# --- the reference ---------------------------------------------------------------------


def test_the_reference_documents_every_field() -> None:
    from socialcredit.policy.model import (
        AttributeCondition,
        AttributeDef,
        CalendarDef,
        CleanYear,
        Component,
        DueProcess,
        EligibilityCondition,
        FixedDuration,
        Grade,
        GradeChoice,
        ListDef,
        Meta,
        NamedScore,
        PointsScore,
        RankCondition,
        RatingRule,
        Reach,
        RecordCondition,
        Reevaluation,
        RelatedScore,
        RelationDef,
        Sanction,
        ScoreThreshold,
        ServiceAttribute,
        ServiceDef,
        SourceDef,
    )

    reference = (ROOT / "docs" / "policy-reference.md").read_text(encoding="utf-8")
    for model in (
        Policy,
        Meta,
        PointsScore,
        Grade,
        RecordType,
        RelationDef,
        RecordCondition,
        Predicate,
        ListDef,
        Sanction,
        ServiceDef,
        ServiceAttribute,
        AttributeCondition,
        FixedDuration,
        Reach,
        DueProcess,
        AttributeDef,
        EligibilityCondition,
        NamedScore,
        Component,
        CleanYear,
        ScoreThreshold,
        GradeChoice,
        SourceDef,
        CalendarDef,
        Reevaluation,
        RatingRule,
        RelatedScore,
        RankCondition,
    ):
        for name, info in model.model_fields.items():
            documented = info.alias or name
            assert f"`{documented}" in reference, f"{model.__name__}.{documented} is not documented"


def test_yaml_aliases_are_refused() -> None:
    from socialcredit.policy import PolicyError, parse_policy

    text = "policy: x\nversion: '1'\nmeta: &m {title: t}\nother: *m\n"
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "a.yaml")
    (problem,) = info.value.problems
    # the alias reuses the anchored node, so the line is where the anchor is
    assert problem.line == 3 and "aliases are not allowed" in problem.message


# BASE with subject attributes and an eligibility condition on the debtors list
WITH_ATTRIBUTES = edit(
    "    delist_after_resolution: P3D\n",
    "    delist_after_resolution: P3D\n    eligible:\n      - {attribute: birth_date, age_at_least: 18}\n",
    edit(
        "record_types:\n",
        "attributes:\n  birth_date: {type: date, subject_kinds: [person]}\nrecord_types:\n",
    ),
)


def test_the_attributes_policy_is_valid() -> None:
    assert parse_policy(WITH_ATTRIBUTES).policy.lists["debtors"].eligible


@pytest.mark.parametrize(
    "test", ["equals: '18'", "equals: 'eighteen'", "one_of: ['2000-01-01', '2001-02-30']"]
)
def test_a_date_attribute_is_compared_with_dates_only(test: str) -> None:
    text = edit("age_at_least: 18}", test + "}", WITH_ATTRIBUTES)
    line, path, message = one_problem(text)
    key = test.split(":")[0]
    assert path == f"lists.debtors.eligible[0].{key}" and line is not None
    assert text.splitlines()[line - 1].strip().startswith("- {attribute: birth_date")
    assert f"attribute 'birth_date' is a date, so {key} takes dates (YYYY-MM-DD)" in message
    assert "age_at_least" in message and "held_for" in message


def test_a_date_attribute_compared_with_a_date_is_fine() -> None:
    text = edit("age_at_least: 18}", "one_of: ['2000-01-01', '2000-01-02']}", WITH_ATTRIBUTES)
    assert parse_policy(text).policy.lists["debtors"].eligible[0].one_of


def test_a_rejected_attribute_type_is_reported_once() -> None:
    text = edit("{type: date,", "{type: datetime,", WITH_ATTRIBUTES)
    _, path, message = one_problem(text)
    assert path == "attributes.birth_date.type" and "'date', 'number' or 'text'" in message


def test_a_delay_after_resolution_without_an_unresolved_test_is_an_error() -> None:
    text = edit(
        "    when: {records: {type: debt, unresolved: true}}\n    delist_after_resolution: P3D\n",
        "    when: {records: {type: debt}}\n    delist_after_resolution: 3 days\n",
    )
    line, path, message = one_problem(text)
    assert path == "lists.debtors.delist_after_resolution" and line == 36
    assert message.startswith("has no effect") and "add unresolved: true" in message
    # nested in all/any/not, the test is found; a zero delay (the default) is fine
    nested = "    when: {all: [{records: {type: debt}}, {not: {records: {type: debt, unresolved: true}}}]}\n"
    assert parse_policy(edit("    when: {records: {type: debt, unresolved: true}}\n", nested))
    zero = "    when: {records: {type: debt}}\n    delist_after_resolution: P0D\n"
    assert parse_policy(
        edit(
            "    when: {records: {type: debt, unresolved: true}}\n    delist_after_resolution: P3D\n",
            zero,
        )
    )


@pytest.mark.parametrize("offset", ["+8", "08:00", "+8:00", "+24:00", "+08:00\n"])
def test_a_bad_utc_offset_says_what_is_expected(offset: str) -> None:
    text = edit("relations:\n", f"calendar: {{utc_offset: {offset!r}}}\nrelations:\n")
    _, path, message = one_problem(text)
    assert path == "calendar.utc_offset"
    assert '"+HH:MM"' in message and '"+08:00"' in message and "pattern" not in message
