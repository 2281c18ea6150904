"""The policy language's ``sources:`` section: what it may say, the errors (file, line,
path), the JSON Schema, the compiled form, and old policies' hashes (issue 8, item 2)."""

from __future__ import annotations

import pytest
import yaml

from socialcredit.policy import PolicyError, compile_policy, parse_policy
from socialcredit.policy.sources import SourceGrant, grant_of, unknown_source
from tests.conftest import TEST_POLICY
from tests.policy.test_schema import _errors

SOURCES = """sources:
  court:
    display_name: the district court
    legal_basis: Civil Procedure Law
    record_types: [debt]
    relations: [child_of]
    exemptions: [air_travel, rail]
  transit-police:
    display_name: the transit police
    description: reports conduct on trains
    record_types: [fine, misconduct]
  ngo.volunteers:
    display_name: Volunteers Association
    record_types: [volunteering]
  Suspended:
    display_name: a source that may submit nothing
"""
POLICY = TEST_POLICY + SOURCES


def _problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return [str(p) for p in caught.value.problems]


def _line(text: str, snippet: str) -> int:
    assert text.count(snippet) == 1, snippet
    return text[: text.index(snippet)].count("\n") + 1


def test_the_section_parses_and_compiles() -> None:
    loaded = parse_policy(POLICY, "p.yaml")
    court = loaded.policy.sources["court"]
    assert court.display_name == "the district court"
    assert court.record_types == ["debt"] and court.exemptions == ["air_travel", "rail"]
    compiled = compile_policy(loaded)
    assert list(compiled.sources) == ["court", "transit-police", "ngo.volunteers", "Suspended"]
    assert compiled.sources["transit-police"] == SourceGrant(
        "transit-police",
        "the transit police",
        frozenset({"fine", "misconduct"}),
        policy_label="test-policy@1",
    )
    assert compiled.sources["Suspended"].record_types == frozenset()
    assert grant_of(loaded.policy, "nobody").declared is False


def test_a_policy_without_the_section_keeps_its_hash_and_declares_no_source() -> None:
    plain = parse_policy(TEST_POLICY, "p.yaml")
    assert "sources" not in plain.policy.model_dump(by_alias=True)
    explicit = parse_policy(TEST_POLICY + "sources: {}\n", "p.yaml")
    assert explicit.content_hash == plain.content_hash
    assert parse_policy(POLICY, "p.yaml").content_hash != plain.content_hash
    assert compile_policy(plain).sources == {}
    assert unknown_source(plain.policy, "court") == (
        "policy test-policy@1 declares no sources, so no source may submit entries under it: "
        "add a sources section naming it"
    )


def test_unknown_sources_get_the_closest_declared_name() -> None:
    policy = parse_policy(POLICY, "p.yaml").policy
    assert unknown_source(policy, "court") is None
    assert unknown_source(policy, "courts") == (
        "unknown source 'courts': policy test-policy@1 does not declare it (did you mean 'court'?)"
    )
    assert "its sources are court, transit-police, ngo.volunteers, Suspended" in str(
        unknown_source(policy, "xyz")
    )


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        (
            "record_types: [debt]",
            "record_types: [debts]",
            "sources.court.record_types[0]",
            "unknown record type 'debts' (did you mean 'debt'?); declare it under record_types",
        ),
        (
            "relations: [child_of]",
            "relations: [parent_of]",
            "sources.court.relations[0]",
            "unknown relation 'parent_of' (declared: child_of); declare it under relations",
        ),
        (
            "exemptions: [air_travel, rail]",
            "exemptions: [air_travel, planes]",
            "sources.court.exemptions[1]",
            "unknown service 'planes' (declared: air_travel, bike_rental, luxury_hotel, "
            "private_school, rail); declare it under services",
        ),
        (
            "record_types: [fine, misconduct]",
            "record_types: [fine, fine]",
            "sources.transit-police.record_types[1]",
            "record type 'fine' is listed twice",
        ),
        (
            "  transit-police:\n    display_name: the transit police\n",
            "  transit-police:\n    attributes: [birth_date]\n",
            "sources.transit-police.display_name",
            "this field is required",
        ),
        (
            "  Suspended:\n",
            "  bad name:\n",
            "sources.bad name.[key]",
            "String should match pattern",
        ),
        (
            "    legal_basis: Civil Procedure Law\n",
            "    legal_basis: Civil Procedure Law\n    may_annul_all: true\n",
            "sources.court.may_annul_all",
            "unknown field",
        ),
    ],
)
def test_errors_name_file_line_and_path(old: str, new: str, where: str, message: str) -> None:
    assert POLICY.count(old) == 1
    text = POLICY.replace(old, new)
    problems = _problems(text)
    wanted = [p for p in problems if f" at {where}:" in p]
    assert wanted, problems
    assert message in wanted[0]
    assert wanted[0].startswith("p.yaml:")


def test_an_attribute_must_be_declared() -> None:
    text = POLICY.replace("    record_types: [volunteering]\n", "    attributes: [birth_date]\n")
    line = _line(text, "    attributes: [birth_date]")
    assert _problems(text) == [
        f"p.yaml:{line} at sources.ngo.volunteers.attributes[0]: unknown attribute "
        "'birth_date' (declared: none); declare it under attributes"
    ]


def test_the_schema_accepts_the_section_and_refuses_what_validate_refuses() -> None:
    assert _errors(yaml.safe_load(POLICY)) == []
    for bad in (
        POLICY.replace("  Suspended:\n", "  bad name:\n"),
        POLICY.replace("    display_name: the transit police\n", ""),
        POLICY.replace("record_types: [debt]", "record_types: debt"),
        POLICY.replace(
            "legal_basis: Civil Procedure Law", "legal_basis: Civil Procedure Law\n    x: 1"
        ),
    ):
        assert _errors(yaml.safe_load(bad)), bad
        with pytest.raises(PolicyError):
            parse_policy(bad, "p.yaml")


@pytest.mark.parametrize(
    ("kind", "name", "target", "services", "field", "reason"),
    [
        ("record", "debt", None, (), None, None),
        ("record", "fine", None, (), "type", "'court' may not submit record type 'fine'"),
        ("relation", "child_of", None, (), None, None),
        ("attribute", "birth_date", None, (), "attribute", "may not submit attribute"),
        ("exemption", None, None, ("air_travel", "rail"), None, None),
        ("exemption", None, None, ("air_travel", "bike_rental"), "services", "'bike_rental'"),
        ("resolve", None, "court", (), None, None),
        ("annul", None, "court", (), None, None),
        ("extend", None, "court", (), None, None),
        ("end", None, "court", (), None, None),
        ("rectify", None, "court", (), None, None),
        ("rectify", "debt", "court", (), None, None),
        ("rectify", "fine", "court", (), "type", "may not submit record type 'fine'"),
        ("annul", None, "transit-police", (), "target_source", "may annul only its own records"),
        ("resolve", None, "x", (), "target_source", "may resolve only its own records"),
        ("dispute", None, "court", (), "kind", "a source does not file disputes"),
        ("uphold", None, "court", (), "kind", "a reviewer upholds"),
    ],
)
def test_what_a_source_may_submit(
    kind: str,
    name: str | None,
    target: str | None,
    services: tuple[str, ...],
    field: str | None,
    reason: str | None,
) -> None:
    court = compile_policy(parse_policy(POLICY, "p.yaml")).sources["court"]
    found = court.refusal(kind, "court", name, target, services)
    if field is None:
        assert found is None
        return
    assert found is not None and found[0] == field and reason in found[1], found
    # whatever it is, another source's entry is refused for its source first
    assert court.refusal(kind, "transit-police", name, target, services) == (
        "source",
        "is 'transit-police', not 'court': this submitter may submit only entries whose "
        "source is 'court'",
    )


def test_an_undeclared_source_may_submit_nothing() -> None:
    policy = parse_policy(POLICY, "p.yaml").policy
    grant = grant_of(policy, "tax")
    assert grant.refusal("record", "tax", "debt") == (
        "source",
        "'tax' is not declared under sources in policy test-policy@1, so it may submit nothing",
    )
