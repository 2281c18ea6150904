"""The language parts issue 11 added (``reevaluation``, ``form: rating``, ``rank_top``,
``related`` components): the examples validate, bad values are reported with file, line and
field, and older policies keep their content hash."""

from __future__ import annotations

import json

import pytest

from socialcredit.examples import example_policy
from socialcredit.policy import PolicyError, compile_policy, load_policy, parse_policy

ELECTORAL = example_policy("electoral-credit").read_text()
SESAME = example_policy("sesame-style").read_text()


@pytest.mark.parametrize("name", ["electoral-credit", "sesame-style"])
def test_the_examples_validate_and_compile(name: str) -> None:
    compiled = compile_policy(load_policy(example_policy(name)))
    assert compiled.reevaluation is not None


def test_the_examples_declare_what_they_need() -> None:
    electoral = compile_policy(parse_policy(ELECTORAL, "e.yaml"))
    assert electoral.rating_scores and len(electoral.rankings) == 1
    assert electoral.rankings[0].seats == 150 and electoral.rankings[0].ties == "more_ratings"
    sesame = compile_policy(parse_policy(SESAME, "s.yaml"))
    assert sesame.related_components and sesame.reevaluation == (1, (2015 - 1970) * 12 + 1)


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            "every: 1 year ",
            "every: 10 days ",
            "reevaluation.every",
            "expected whole months or years",
        ),
        ('starting: "2025-01"', 'starting: "2025-13"', "reevaluation.starting", "YYYY-MM"),
        (
            "prior_weight: 20 ",
            "prior_weight: 0 ",
            "scores.credit.rating.prior_weight",
            "greater than 0",
        ),
        (
            "score: credit\n",
            "score: credt\n",
            "lists.seated.when.rank_top.score",
            "did you mean 'credit'",
        ),
        (
            "ties: more_ratings ",
            "ties: coin_flip ",
            "lists.seated.when.rank_top.ties",
            "'subject_id' or 'more_ratings'",
        ),
        (
            "seats: 150 ",
            "seats: 0 ",
            "lists.seated.when.rank_top.seats",
            "greater than or equal to 1",
        ),
        (
            "types: [candidate_rating]\n",
            "types: [candidate_ratin]\n",
            "scores.credit.rating.types[0]",
            "unknown record type 'candidate_ratin' (did you mean 'candidate_rating'?)",
        ),
    ],
)
def test_bad_values_name_file_line_and_field(old: str, new: str, path: str, message: str) -> None:
    assert old in ELECTORAL
    text = ELECTORAL.replace(old, new, 1)
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "electoral.yaml")
    (problem,) = info.value.problems
    assert problem.file == "electoral.yaml" and problem.path == path
    assert message in problem.message
    assert problem.line == _line(
        text, new.strip().split(":")[0] + ":" + new.split(":", 1)[1].rstrip("\n")
    )


def test_a_ranking_or_a_rating_score_needs_reevaluation() -> None:
    lines = ELECTORAL.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("reevaluation:"))
    text = "".join(lines[:start] + lines[start + 3 :])
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "electoral.yaml")
    paths = [p.path for p in info.value.problems]
    assert paths == ["scores.credit.form", "lists.seated.when.rank_top"]
    assert "declare 'reevaluation'" in info.value.problems[1].message


def test_a_related_component_names_a_declared_relation_and_score() -> None:
    text = SESAME.replace(
        "related: {relation: friend_of, score: sesame}",
        "related: {relation: friends, score: sesam}",
    )
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "sesame.yaml")
    found = {(p.path, p.message) for p in info.value.problems}
    assert found == {
        (
            "scores.sesame.components.relationships.related.relation",
            "unknown relation 'friends' (did you mean 'friend_of'?)",
        ),
        (
            "scores.sesame.components.relationships.related.score",
            "unknown score 'sesam' (did you mean 'sesame'?)",
        ),
    }


def test_decay_is_refused_under_reevaluation() -> None:
    text = SESAME.replace(
        "    points: 4\n    expires_after: P1Y\n",
        "    points: 4\n    expires_after: P1Y\n    decay: linear\n",
    )
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "sesame.yaml")
    (problem,) = info.value.problems
    assert problem.path == "record_types.credit_card_paid_in_full.decay"
    assert "cannot decay records between them" in problem.message


def test_a_rating_score_takes_no_components_and_rating_is_for_rating_scores() -> None:
    text = ELECTORAL.replace("    form: rating\n", "    form: points\n")
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "electoral.yaml")
    assert "'rating' is for a score of form 'rating'" in info.value.problems[0].message


@pytest.mark.parametrize("name", ["china-scs", "fair-transit", "fuzhou-jasmine"])
def test_policies_without_the_new_fields_hash_as_before(name: str) -> None:
    # the content hash is of the canonical dump: a field left at its default must not
    # appear in it, or every stored policy's hash would change
    loaded = load_policy(example_policy(name))
    dumped = json.dumps(loaded.policy.model_dump(mode="json", by_alias=True))
    for key in ('"reevaluation"', '"rank_top"', '"rating"', '"related"'):
        assert key not in dumped
