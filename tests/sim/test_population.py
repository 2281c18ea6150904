"""The demo's synthetic population is possible: nobody has a record from before they were
old enough, parents are older than their children, relations start after birth."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.sim.population import BEHAVIOURS, PopulationSpec, generate
from socialcredit.timeutil import DAY, parse_timestamp

YEAR = 365.25 * DAY
MIN_AGE = {b.type: b.min_age for b in BEHAVIOURS}


def _check(spec: PopulationSpec) -> Counter[str]:
    born: dict[str, int] = {}
    relations: list[dict[str, object]] = []
    records: list[dict[str, object]] = []
    for entry in generate(spec):
        kind = entry.get("kind", "record")
        if kind == "attribute" and entry["attribute"] == "birth_date":
            born[str(entry["subject"])] = parse_timestamp(str(entry["value"]))
        elif kind == "relation":
            relations.append(entry)
        elif kind == "record":
            records.append(entry)
    seen: Counter[str] = Counter()
    for record in records:
        subject = str(record["subject"])
        if record["subject_kind"] == "organisation":
            assert subject not in born
            continue
        age = (parse_timestamp(str(record["occurred_at"])) - born[subject]) / YEAR
        assert age >= MIN_AGE[str(record["type"])], (record, age)
        seen["person records"] += 1
    for relation in relations:
        since = parse_timestamp(str(relation["valid_from"]))
        person = str(relation["subject"])
        assert since >= born[person], relation
        if relation["relation"] == "child_of":
            gap = (born[person] - born[str(relation["related_subject"])]) / YEAR
            assert 18 <= gap <= 45, (relation, gap)
            seen["child_of"] += 1
        else:
            assert (since - born[person]) / YEAR >= 18, relation
            seen["legal_representative_of"] += 1
    return seen


def test_the_demo_population_is_possible() -> None:
    seen = _check(PopulationSpec(subjects=20_000))
    # the checks above ran on many of each, not on an empty population
    assert seen["person records"] > 10_000
    assert seen["child_of"] > 1_000
    assert seen["legal_representative_of"] == 1_000


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), subjects=st.integers(50, 3_000))
def test_any_seed_gives_a_possible_population(seed: int, subjects: int) -> None:
    _check(PopulationSpec(subjects=subjects, seed=seed))
