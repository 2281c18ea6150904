"""``policy schema`` accepts the policies ``policy validate`` accepts (issue 5, item 9).

The schema is checked with the ``jsonschema`` package (Draft 2020-12), as an editor or a CI
job would use it, against the example policies, the test policy and edits of it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from socialcredit.cli import run
from socialcredit.policy import PolicyError, parse_policy, policy_json_schema
from socialcredit.spans import parse_span
from socialcredit.timeutil import TimeFormatError
from tests.policy.test_all_problems import MUTATIONS
from tests.policy.test_policy_language import BASE, EXAMPLES, edit

SCHEMA = policy_json_schema()
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)

# every keyword of JSON Schema 2020-12 (core, applicator, validation, meta-data, format,
# content, unevaluated); anything else in a schema position is a mistake (pydantic's `ge`)
KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "$anchor", "$dynamicRef", "$dynamicAnchor", "$comment",
    "$vocabulary", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas",
    "prefixItems", "items", "contains", "properties", "patternProperties",
    "additionalProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties",
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired", "title", "description", "default", "deprecated", "readOnly",
    "writeOnly", "examples", "format", "contentEncoding", "contentMediaType", "contentSchema",
}  # fmt: skip
MAPS_OF_SCHEMAS = {"$defs", "properties", "patternProperties", "dependentSchemas"}
LISTS_OF_SCHEMAS = {"allOf", "anyOf", "oneOf", "prefixItems"}
VALUES = {"enum", "const", "default", "examples", "required", "dependentRequired"}


def _unknown_keywords(schema: Any, where: str = "#") -> list[str]:
    if not isinstance(schema, dict):
        return []
    found = [f"{where}/{k}" for k in schema if k not in KEYWORDS]
    for key, value in schema.items():
        if key in MAPS_OF_SCHEMAS:
            for name, sub in value.items():
                found += _unknown_keywords(sub, f"{where}/{key}/{name}")
        elif key in LISTS_OF_SCHEMAS:
            for i, sub in enumerate(value):
                found += _unknown_keywords(sub, f"{where}/{key}/{i}")
        elif key in KEYWORDS and key not in VALUES and isinstance(value, dict):
            found += _unknown_keywords(value, f"{where}/{key}")
    return found


def _errors(doc: Any) -> list[str]:
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(doc)
    ]


def _valid_by_validate(text: str) -> bool:
    try:
        parse_policy(text)
    except PolicyError:
        return False
    return True


def test_the_schema_is_a_draft_2020_12_schema_with_standard_keywords_only() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert _unknown_keywords(SCHEMA) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_policy_validates_against_the_schema(path: Path) -> None:
    assert _errors(yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_the_cli_schema_is_the_library_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == SCHEMA


def test_durations_are_strings_in_the_schema() -> None:
    duration = SCHEMA["$defs"]["RecordType"]["properties"]["expires_after"]
    assert duration["type"] == "string"
    assert all(re.search(duration["pattern"], t) for t in ("never", "NEVER", "P180D", "180d"))
    assert not re.search(duration["pattern"], "180")
    assert _errors(yaml.safe_load(BASE)) == []
    assert _errors(yaml.safe_load(edit("expires_after: P180D", "expires_after: 180d"))) == []
    assert _errors(yaml.safe_load(edit("expires_after: P180D", "expires_after: never"))) == []


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("policy: base", "policy: Base Policy", "policy"),
        ("  debt:\n", "  Debt:\n", "record_types"),
        ("    resolvable: true\n", "    resolvabel: true\n", "record_types.debt"),
        ("meta: {title: Base policy for tests}", "meta: {title: x, titel: y}", "meta"),
        ("expires_after: P180D", "expires_after: 180", "record_types.misconduct.expires_after"),
        (
            "expires_after: P180D",
            "expires_after: 180 dais",
            "record_types.misconduct.expires_after",
        ),
        ("expires_after: P180D", "expires_after:", "record_types.misconduct.expires_after"),
        ("appeal_window: P30D", "appeal_window: never", "due_process.appeal_window"),
        ("{type: misconduct}", "{type: misconduct, category: conduct}", "lists.troublemakers"),
        ("{type: misconduct}", "{type: misconduct, at_least: 0}", "lists.troublemakers"),
        ("when: {list: debtors}", "when: {list: debtors, score_below: 3}", "sanctions.no_flights"),
        ("when: {list: debtors}", "when: {}", "sanctions.no_flights"),
        ("duration: {fixed: P30D}", "duration: {fixed: 30}", "sanctions.rail_ban.duration"),
        ("duration: {fixed: P30D}", "duration: forever", "sanctions.rail_ban.duration"),
        ("points: -100", "points: '-100'", "record_types.debt.points"),
        ("resolvable: true", "resolvable: 'yes'", "record_types.debt.resolvable"),
    ],
)
def test_invalid_documents_are_rejected_by_the_schema_and_by_validate(
    old: str, new: str, where: str
) -> None:
    text = edit(old, new)
    assert not _valid_by_validate(text)
    errors = _errors(yaml.safe_load(text))
    assert errors and any(e.startswith(where) for e in errors), errors


def test_a_missing_section_is_rejected_by_the_schema() -> None:
    errors = _errors(yaml.safe_load(BASE.split("due_process:")[0]))
    assert any("'due_process' is a required property" in e for e in errors)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("when: {list: debtors}", "when: {list: debtors, score_below: null}"),
        ("{type: misconduct}", "{type: misconduct, types: null}"),
        ("at_least: 900}", "at_least: 900.5}"),
        ("    resolvable: true\n", ""),
        ("duration: {fixed: P30D}", "duration: while_triggered"),
        ("duration: {fixed: P30D}", "duration: {fixed: 2 weeks}\n    max_duration: P1Y6M"),
        ("expires_after: P180D", "expires_after: ' Never '"),
        ("{type: misconduct}", "{types: [misconduct, fine], at_least: 2, within: P1Y}"),
    ],
)
def test_unusual_but_valid_documents_pass_both(old: str, new: str) -> None:
    text = edit(old, new)
    assert _valid_by_validate(text)
    assert _errors(yaml.safe_load(text)) == []


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_schema_and_validate_agree_on_field_problems(name: str) -> None:
    # the schema cannot know which names are declared; every other problem it sees too
    old, new, _, _ = MUTATIONS[name]
    text = edit(old, new)
    assert not _valid_by_validate(text)
    reference_problem = name.startswith("unknown ") and name != "unknown field"
    field_problem = not reference_problem and name != "grades out of order"
    assert bool(_errors(yaml.safe_load(text))) == field_problem


DURATION_ALPHABET = "PpYyMmWwDdTtHhSs0123456789 .-aeorsnkvxgi\t"
WORKING_DAYS = st.sampled_from(
    ["3 working days", "1 working day", "3wd", "3 WD", "0 working days", "3working days",
     "3 working  days", "3 workingdays", "3 working dayss", "3 work days", "P3WD", "3 wds"]
)  # fmt: skip


@given(st.text(DURATION_ALPHABET, max_size=12) | WORKING_DAYS)
@example("3 working days")
def test_the_duration_pattern_accepts_exactly_what_the_parser_accepts(text: str) -> None:
    pattern = SCHEMA["$defs"]["RecordType"]["properties"]["expires_after"]["pattern"]
    try:
        parses = not parse_span(text).zero  # expires_after must be longer than zero
    except TimeFormatError:
        parses = text.strip().lower() == "never"
    assert (re.search(pattern, text) is not None) == parses


FORMS = ["P{n}D", "P{n}Y", "P{n}Y{n}M", "PT{n}H", "P{n}DT{n}H", "{n}d", "{n} days", "{n} years",
         "{n}mo", "{n} Months", "{n}w", "{n}h", "P{n}W", " {n}D ", "{n} working days",
         "{n}wd", "{n} Working Days"]  # fmt: skip


@given(st.sampled_from(FORMS), st.integers(1, 10**5))
def test_the_documented_duration_forms_pass_the_schema(form: str, n: int) -> None:
    text = form.format(n=n)
    parse_span(text)
    doc = yaml.safe_load(edit("expires_after: P180D", f"expires_after: '{text}'"))
    assert _errors(doc) == []


@pytest.mark.parametrize(
    "field, old",
    [
        ("expires_after", "expires_after: P1000D"),
        ("within", "within: P365D"),
        ("fixed", "fixed: P30D"),
        ("max_duration", "max_duration: P500D"),
        ("appeal_window", "appeal_window: P30D"),
        ("reinvestigation_deadline", "reinvestigation_deadline: P30D"),
    ],
)
@pytest.mark.parametrize("zero", ["P0D", "0d", "PT0S", "P0Y0M"])
def test_a_zero_duration_is_refused_where_a_positive_one_is_meant(
    field: str, old: str, zero: str
) -> None:
    from socialcredit.errors import SocialCreditError
    from socialcredit.policy import parse_policy

    from ..conftest import TEST_POLICY

    assert old in TEST_POLICY
    text = TEST_POLICY.replace(old, f"{field}: {zero}", 1)
    with pytest.raises(SocialCreditError, match=f"{field}.*zero duration"):
        parse_policy(text)
    assert _errors(yaml.safe_load(text))  # the published schema refuses it too


def test_a_zero_delay_before_delisting_is_allowed() -> None:
    from socialcredit.policy import parse_policy

    from ..conftest import TEST_POLICY

    text = TEST_POLICY.replace("delist_after_resolution: P3D", "delist_after_resolution: P0D")
    assert parse_policy(text).policy.lists["debtors"].delist_after_resolution.zero
