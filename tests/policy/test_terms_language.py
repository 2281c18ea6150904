"""The policy language for terms set per case (construct 1) and anchored windows with
measures ending after resolution (construct 6): loader errors, the JSON Schema, the
reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from socialcredit.policy import PolicyError, parse_policy, policy_json_schema
from socialcredit.spans import Span

from ..scoring.terms_policy import TERMS_POLICY

ROOT = Path(__file__).parents[2]
SCHEMA = Draft202012Validator(policy_json_schema())


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    return [(p.line, p.path, p.message) for p in info.value.problems]


def edit(old: str, new: str) -> str:
    assert TERMS_POLICY.count(old) == 1, old
    return TERMS_POLICY.replace(old, new)


def test_the_terms_policy_is_valid_for_the_loader_and_the_schema() -> None:
    loaded = parse_policy(TERMS_POLICY, "p.yaml")
    listing = loaded.policy.record_types["listing"]
    year, three = Span(seconds=365 * 86400), Span(seconds=1095 * 86400)  # written in days
    assert listing.term_bounds() == (year, three, year, three)
    assert not list(SCHEMA.iter_errors(yaml.safe_load(TERMS_POLICY)))


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            "      min: P365D\n      max: P1095D\n",
            "      min: P1095D\n      max: P365D\n",
            "record_types.listing.term.min",
            "is longer than term.max",
        ),
        (
            "    expires_after: P730D\n    term:",
            "    expires_after: P2000D\n    term:",
            "record_types.listing.term.max",
            "is shorter than expires_after (the default term)",
        ),
        (
            "extension: {min: P365D, max: P1095D}",
            "extension: {min: P1095D, max: P365D}",
            "record_types.listing.term.extension",
            "extension min is longer than extension max",
        ),
        (
            "extension: {min: P365D, max: P1095D}",
            "extension: {min: P0D, max: P1095D}",
            "record_types.listing.term.extension.min",
            "'P0D' is a zero duration",
        ),
        (
            "after: {resolution_of: fare_evasion}",
            "after: {resolution_of: smoking}",
            "sanctions.repeated_fare_evasion.when.records.after.resolution_of",
            "record type 'smoking' is not resolvable",
        ),
        (
            "after: {resolution_of: fare_evasion}",
            "after: {resolution_of: fare_evasoin}",
            "sanctions.repeated_fare_evasion.when.records.after.resolution_of",
            "unknown record type 'fare_evasoin' (did you mean 'fare_evasion'?)",
        ),
        (
            "after: {resolution_of: fare_evasion}",
            "after: {resolution_of: fare_evasion, record_of: smoking}",
            "sanctions.repeated_fare_evasion.when.records.after",
            "give exactly one of 'resolution_of' or 'record_of'",
        ),
        (
            "duration: {after_resolution: P90D}",
            "duration: {after_resolution: 90}",
            "sanctions.repeated_fare_evasion.duration.after_resolution",
            "90 is not a duration; write it with a unit",
        ),
    ],
)
def test_bad_terms_and_anchors_are_reported_with_line_and_path(
    old: str, new: str, path: str, message: str
) -> None:
    found = problems(edit(old, new))
    assert any(p == path and message in m and line is not None for line, p, m in found), found


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "      min: P365D\n      max: P1095D\n",
            "      min: P1095D\n      max: P365D\n",
            "min",
            "is longer than term.max",
        ),
        ("      min: P365D\n", "      min: P1000D\n", "min", "is longer than expires_after"),
        (
            "    expires_after: P730D\n    term:",
            "    expires_after: P2000D\n    term:",
            "max",
            "is shorter than",
        ),
        (
            "      min: P365D\n      max: P1095D\n",
            "",
            "extension",
            "a record that never expires cannot be extended",
        ),
    ],
)
def test_a_term_bound_error_is_reported_at_the_bound_not_at_the_record_type(
    old: str, new: str, field: str, message: str
) -> None:
    text = edit(old, new)
    if field == "extension":
        text = text.replace(
            "    expires_after: P730D\n    term:", "    expires_after: never\n    term:"
        )
    ((line, path, said),) = problems(text)
    assert path == f"record_types.listing.term.{field}" and said.startswith(message), said
    assert line is not None
    assert text.splitlines()[line - 1].strip().startswith(f"{field}:")


def test_the_schema_refuses_what_the_loader_refuses_in_shape() -> None:
    for old, new in [
        ("duration: {after_resolution: P90D}", "duration: {after_resolution: 90}"),
        (
            "after: {resolution_of: fare_evasion}",
            "after: {resolution_of: fare_evasion, record_of: smoking}",
        ),
        ("extension: {min: P365D, max: P1095D}", "extension: {min: P365D}"),
    ]:
        assert list(SCHEMA.iter_errors(yaml.safe_load(edit(old, new)))), new


def test_the_reference_documents_every_new_field() -> None:
    from socialcredit.policy.model import AfterResolution, Anchor, TermBounds, TermExtension

    reference = (ROOT / "docs" / "policy-reference.md").read_text(encoding="utf-8")
    for model in (TermBounds, TermExtension, Anchor, AfterResolution):
        for name, info in model.model_fields.items():
            assert f"`{info.alias or name}" in reference, f"{model.__name__}.{name}"
    for construct in ("term:", "extension: {min: P1Y, max: P3Y}", "after: {resolution_of:"):
        assert construct in reference
    assert "after_resolution: P90D" in reference


def test_the_new_fields_leave_old_policies_hash_unchanged() -> None:
    # a policy that uses neither dumps (and so hashes) as before the fields existed
    loaded = parse_policy(TERMS_POLICY, "p.yaml")
    dumped = loaded.policy.model_dump(by_alias=True)
    assert "term" not in dumped["record_types"]["smoking"]
    assert "term" in dumped["record_types"]["listing"]
    when = dumped["sanctions"]["unpaid_fare"]["when"]["records"]
    assert "after" not in when
    assert "after" in dumped["sanctions"]["repeated_fare_evasion"]["when"]["records"]
    without = parse_policy(
        edit(
            "    term:\n      min: P365D\n      max: P1095D\n      extension: {min: P365D, max: P1095D}\n",
            "",
        ),
        "p.yaml",
    )
    assert without.content_hash != loaded.content_hash
