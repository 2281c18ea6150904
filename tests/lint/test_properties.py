"""Invariants of the linter: it never raises on a valid policy, and its findings are
deterministic and sorted (by file, line, rule, path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.lint import RULES, lint_policy
from socialcredit.lint.impact import impact_sentences
from socialcredit.policy import PolicyError, parse_policy

BASE: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "base.yaml").read_text()
)
CONTEXTS = [
    "courts",
    "transit",
    "tax",
    "finance",
    "civic",
    "health",
    "commerce",
    "online",
    "education",
]
CATEGORIES = [
    "judicial",
    "financial",
    "conduct",
    "expression",
    "association",
    "prosocial",
    "health",
]
EVIDENCE = ["court_order", "official_record", "third_party_report", "self_reported"]
DURATIONS = ["P3D", "P30D", "P45D", "P1Y", "P10Y", "7 days", "never"]

record_type = st.fixed_dictionaries(
    {
        "points": st.integers(-200, 200),
        "expires_after": st.sampled_from(DURATIONS),
        "context": st.sampled_from(CONTEXTS),
        "category": st.sampled_from(CATEGORIES),
        "evidence": st.sampled_from(EVIDENCE),
        "resolvable": st.booleans(),
        "subject_kinds": st.sampled_from(
            [["person"], ["organisation"], ["person", "organisation"]]
        ),
    },
    optional={"severity": st.sampled_from(["minor", "moderate", "serious"])},
)
TYPES = ["a", "b", "c"]
condition = st.recursive(
    st.one_of(
        st.builds(
            lambda t, n, u: {"records": {"type": t, "at_least": n, "unresolved": u}},
            st.sampled_from(TYPES),
            st.integers(1, 3),
            st.booleans(),
        ),
        st.builds(lambda c: {"records": {"category": c}}, st.sampled_from(CATEGORIES)),
        st.builds(lambda v: {"score_below": v}, st.integers(-50, 150)),
        st.builds(lambda v: {"score_at_least": v}, st.integers(-50, 150)),
    ),
    lambda inner: st.one_of(
        st.builds(lambda cs: {"any": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda cs: {"all": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, inner),
    ),
    max_leaves=5,
)
measure = st.fixed_dictionaries(
    {
        "when": st.one_of(condition, st.just({"list": "violent"})),
        "service": st.sampled_from(["rail_travel", "hotel"]),
        "effect": st.sampled_from(["deny", "benefit"]),
        "reason_code": st.sampled_from(["", "X-1", "free text"]),
        "legal_basis": st.sampled_from(["", "a rule"]),
        "reach": st.lists(
            st.sampled_from([{"relation": "child_of"}, {"relation": "officer_of"}]),
            max_size=2,
            unique_by=lambda r: r["relation"],
        ),
    },
    optional={
        "max_duration": st.sampled_from(["P30D", "P1Y"]),
        "duration": st.sampled_from([{"fixed": "P90D"}, "while_triggered"]),
        "severity": st.sampled_from(["low", "medium", "high"]),
        "lint": st.just({"ignore": {"SC104": "why", "SC999": "no such"}}),
    },
)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    data = yaml.safe_load(yaml.safe_dump(BASE))
    data["record_types"] = {t: draw(record_type) for t in TYPES}
    data["lists"]["violent"]["when"] = draw(condition)
    data["services"] = {
        "rail_travel": {"context": draw(st.sampled_from(CONTEXTS))},
        "hotel": draw(st.sampled_from([{}, {"context": "commerce"}])),
    }
    data["relations"] = {
        "child_of": {"from_kind": "person", "to_kind": "person"},
        "officer_of": {"from_kind": "person", "to_kind": "organisation"},
    }
    data["sanctions"] = {f"m{i}": draw(measure) for i in range(draw(st.integers(0, 3)))}
    data["score"] = {"form": "points", "base": draw(st.integers(0, 100)), "min": 0, "max": 100}
    data["grades"] = [{"name": "good", "at_least": draw(st.integers(-10, 120))}, {"name": "low"}]
    dp = data["due_process"]
    dp["appeal_window"] = draw(st.sampled_from(DURATIONS[:-1]))
    dp["reinvestigation_deadline"] = draw(st.sampled_from(DURATIONS[:-1]))
    dp["disputed_records_count"] = draw(st.booleans())
    dp["human_review"] = draw(st.booleans())
    dp["notice_before_sanction"] = draw(st.booleans())
    return data


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies())
def test_linting_never_raises_and_is_deterministic_and_sorted(data: dict[str, Any]) -> None:
    text = yaml.dump(data, Dumper=_NoAliases, sort_keys=False)
    try:
        loaded = parse_policy(text, "p.yaml")
    except PolicyError:
        return  # not a valid policy: lint is never given one
    first = lint_policy(loaded)
    again = lint_policy(parse_policy(text, "p.yaml"))
    assert first == again
    for found in (first.findings, first.silenced):
        assert list(found) == sorted(found)
        for f in found:
            assert f.rule in RULES and f.severity == RULES[f.rule].severity
            assert f.line >= 1 and f.message
    assert all(f.justification for f in first.silenced)
    assert not set(first.findings) & set(first.silenced)
    # every measure gets one sentence
    assert [m for m, _ in impact_sentences(loaded.policy)] == list(loaded.policy.sanctions)
