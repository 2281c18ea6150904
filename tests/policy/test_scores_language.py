"""Named scores in the policy language: loader errors with file, line and field, the JSON
Schema, and old policies unchanged (their content hash too)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.policy import PolicyError, content_hash, load_policy, parse_policy
from socialcredit.policy import policy_json_schema as schema_of
from tests.policy.test_policy_language import BASE, POLICIES, edit, one_problem, problems
from tests.scoring.composite_policy import composite_text

VALIDATOR = jsonschema.Draft202012Validator(schema_of())

SCORES = """\
scores:
  civic:
    base: 100
    components:
      debts: {types: [debt]}
      good: {types: [misconduct], max: 20}
      clean:
        clean_year: {types: [debt], points: 5, first_year: 2024}
    grades:
      - {name: X, at_least: 150}
      - {name: Y, at_least: unpublished}
      - {name: Z}
"""


def with_scores(scores: str = SCORES, text: str = BASE) -> str:
    return edit("record_types:\n", scores + "record_types:\n", text)


def line_of(text: str, needle: str) -> int:
    (index,) = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return index


def schema_errors(text: str) -> list[str]:
    doc: Any = yaml.safe_load(text)
    return [".".join(map(str, e.absolute_path)) for e in VALIDATOR.iter_errors(doc)]


def test_base_policy_with_named_scores_is_valid_for_validate_and_the_schema() -> None:
    text = with_scores()
    loaded = parse_policy(text, "p.yaml")
    assert list(loaded.policy.scores) == ["civic"]
    assert schema_errors(text) == []
    assert schema_errors(composite_text()) == []


def test_old_policies_keep_their_content_hash() -> None:
    # the hash of a policy without named scores is what it was before they existed
    loaded = load_policy(POLICIES / "fair-transit.yaml")
    assert loaded.content_hash == content_hash(loaded.policy)
    assert "scores" not in loaded.policy.model_dump(mode="json", by_alias=True)
    # computed before named scores existed
    base_hash = "3e53a65776aecc1745538f41afa62a8f7e2ff8930e33d2b62c3b18e3b19bdfbb"
    assert parse_policy(BASE).content_hash == base_hash


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "message"),
    [
        (
            "debts: {types: [debt]}",
            "debts: {types: [dept]}",
            "debts: {types: [dept]}",
            "scores.civic.components.debts.types[0]",
            "unknown record type 'dept' (did you mean 'debt'?)",
        ),
        (
            "good: {types: [misconduct], max: 20}",
            "good: {types: [misconduct, debt], max: 20}",
            "good: {types",
            "scores.civic.components.good.types[1]",
            "record type 'debt' is already counted by component 'debts'",
        ),
        (
            "good: {types: [misconduct], max: 20}",
            "good: {types: [misconduct], min: 20, max: 20}",
            "good: {types",
            "scores.civic.components.good",
            "min (20.0) must be below max (20.0)",
        ),
        (
            "good: {types: [misconduct], max: 20}",
            "good: {types: [misconduct], category: prosocial}",
            "good: {types",
            "scores.civic.components.good",
            "give exactly one of 'types', 'category', 'clean_year' or 'related'",
        ),
        (
            "points: 5, first_year: 2024}",
            "points: 5, first_year: 24}",
            "first_year: 24",
            "scores.civic.components.clean.clean_year.first_year",
            "greater than or equal to 1900",
        ),
        (
            "{name: Y, at_least: unpublished}",
            "{name: Y, at_least: secret}",
            "name: Y",
            "scores.civic.grades[1].at_least",
            "",
        ),
    ],
)
def test_named_score_problems_name_file_line_and_field(
    old: str, new: str, needle: str, path: str, message: str
) -> None:
    text = edit(old, new, with_scores())
    line, where, said = one_problem(text)
    assert where == path and message in said
    assert line == line_of(text, needle)


def test_a_condition_must_name_a_declared_score_and_its_grades() -> None:
    text = with_scores()
    text = edit(
        "when: {list: debtors}",
        "when: {score_below: {score: civics, value: 3}}",
        text,
    )
    line, path, message = one_problem(text)
    assert path == "sanctions.no_flights.when.score_below.score"
    assert message == "unknown score 'civics' (did you mean 'civic'?)"
    assert line == line_of(text, "civics")

    text = edit(
        "when: {list: debtors}",
        "when: {grade_in: {score: civic, grades: [X, W]}}",
        with_scores(),
    )
    line, path, message = one_problem(text)
    assert path == "sanctions.no_flights.when.grade_in.grades[1]"
    assert message.startswith("unknown grade 'W'")


def test_naming_an_unpublished_band_is_an_error() -> None:
    text = edit(
        "when: {list: debtors}",
        "when: {grade_in: {score: civic, grades: [Y]}}",
        with_scores(),
    )
    _, path, message = one_problem(text)
    assert path == "sanctions.no_flights.when.grade_in.grades[0]"
    assert "unpublished cut-off" in message and "could never hold" in message


def test_the_last_band_cannot_be_unpublished() -> None:
    text = edit("{name: Z}", "{name: Z, at_least: unpublished}", with_scores())
    _, path, message = one_problem(text)
    assert path == "scores.civic.grades[2].at_least"
    assert "last grade band" in message


def test_the_unnamed_score_needs_its_grades_and_some_score_is_needed() -> None:
    no_grades = BASE.split("grades:\n")[0] + "record_types:" + BASE.split("record_types:", 1)[1]
    found = problems(no_grades)
    assert any("'grades' is missing" in m for _, _, m in found)
    neither = edit("score: {form: points, base: 1000, min: 0, max: 2000}\n", "", no_grades)
    assert any("declare a score" in m for _, _, m in problems(neither))
    assert schema_errors(neither)  # the schema says so too


def test_unpublished_is_the_only_word_a_floor_may_be() -> None:
    text = edit("{name: A, at_least: 1000}", "{name: A, at_least: unknown}")
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    (problem,) = info.value.problems
    assert problem.path == "grades[0].at_least" and problem.line == 6
    assert schema_errors(text) and all(e.startswith("grades") for e in schema_errors(text))


def test_an_unpublished_band_in_the_unnamed_score_passes_validate_and_schema() -> None:
    text = edit("{name: A, at_least: 1000}", "{name: A, at_least: unpublished}")
    parse_policy(text)
    assert schema_errors(text) == []


def test_the_fuzhou_example_follows_the_published_figures() -> None:
    p = load_policy(POLICIES / "fuzhou-jasmine.yaml").policy
    jasmine = p.scores["jasmine"]
    assert (jasmine.min, jasmine.max) == (0, 1000)
    basic = jasmine.components["basic"]
    assert basic.base == 500 and basic.max == 500  # basic 500
    vol = jasmine.components["volunteering"]
    assert vol.max == 50  # volunteering capped at 50 of the 1,000
    assert sorted(p.record_types[t].points for t in vol.types or []) == [1, 2, 3, 4, 5]
    assert jasmine.components["clean_years"].clean_year is not None
    floors = [g.at_least for g in jasmine.grades]
    assert floors == [850, 750, 650, 550, 350, None]
    # incentives only
    assert all(s.effect == "benefit" for s in p.sanctions.values())


@settings(max_examples=300, deadline=None)
@given(
    bands=st.lists(
        st.tuples(st.integers(min_value=-50, max_value=50), st.booleans()), min_size=1, max_size=6
    ),
    scores=st.lists(st.integers(min_value=-60, max_value=60).map(float), max_size=20),
)
def test_grade_of_with_unpublished_cut_offs_agrees_with_reading_the_bands_in_order(
    bands: list[tuple[int, bool]], scores: list[float]
) -> None:
    """A score's band (cut-offs compiled once per score) is the first band whose cut-off is
    published and at most the score (else the last band); -1 when the band above it has an
    unpublished cut-off: the score may be in that band instead."""
    import numpy as np

    from socialcredit.policy.compiled_scores import CompiledScore

    floors = sorted({f for f, _ in bands}, reverse=True)
    hidden = [h for _, h in bands][: len(floors)]
    n = len(floors) + 1  # the last band has no floor
    unpublished = np.array([*hidden, False], dtype=bool)
    grade_floor = np.array([*map(float, floors), -np.inf])
    score = CompiledScore(
        0, None, "score", "points", 0.0, -np.inf, np.inf, (),
        tuple(f"g{i}" for i in range(n)), grade_floor, unpublished,
    )  # fmt: skip
    for _ in range(2):  # computed, then from what was worked out once
        got = score.grade_of(np.array(scores, dtype=np.float64)).tolist()
        expected = []
        for x in scores:
            band = next(
                (i for i in range(n - 1) if not unpublished[i] and grade_floor[i] <= x), n - 1
            )
            expected.append(-1 if band > 0 and unpublished[band - 1] else band)
        assert got == expected
