"""Electoral Credit (examples/policies/electoral-credit.yaml): credit as a Bayesian average
of one rating per citizen per candidate per term, a ranking for the seats, ties, a citizen
rating twice, explanations that reveal no rating, and properties (exactly N seated, rating
order does not matter, one subject == everyone)."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check
from socialcredit.examples import example_policy
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.timeutil import parse_timestamp
from tests.scoring.test_properties import SETTINGS

TEXT = example_policy("electoral-credit").read_text()
AFTER_TERM = parse_timestamp("2026-02-01")  # in the term seated by the ratings of 2025


def policy(seats: int = 150, ties: str = "more_ratings") -> CompiledPolicy:
    text = TEXT.replace("seats: 150 ", f"seats: {seats} ").replace(
        "ties: more_ratings", f"ties: {ties}"
    )
    return compile_policy(parse_policy(text, "electoral.yaml"))


def rating(n: int, citizen: str, candidate: str, value: float, when: str) -> dict[str, Any]:
    return {
        "id": f"r{n}",
        "source": citizen,
        "subject": candidate,
        "type": "candidate_rating",
        "occurred_at": when,
        "amount": value,
    }


def election() -> list[dict[str, Any]]:
    """Four candidates rated in 2025:
    A: c1 5, c2 5                      -> (20 x 3 + 10) / 22 = 3.1818…
    B: c1 4 in March, then 5 in June (c1 rated twice: the June rating replaces March's),
       c3 5                            -> (60 + 10) / 22 = 3.1818… (ties with A, 2 ratings each)
    C: c1 1, c2 1, c3 1                -> (60 + 3) / 23 = 2.7391…
    D: c4 4                            -> (60 + 4) / 21 = 3.0476…
    """
    out = [
        rating(1, "c1", "A", 5, "2025-03-01"),
        rating(2, "c2", "A", 5, "2025-03-01"),
        rating(3, "c1", "B", 4, "2025-03-01"),
        rating(4, "c1", "B", 5, "2025-06-01"),
        rating(5, "c3", "B", 5, "2025-03-01"),
        rating(6, "c1", "C", 1, "2025-03-01"),
        rating(7, "c2", "C", 1, "2025-03-01"),
        rating(8, "c3", "C", 1, "2025-03-01"),
        rating(9, "c4", "D", 4, "2025-03-01"),
    ]
    return out


def prepared(entries: list[dict[str, Any]], pol: CompiledPolicy) -> Prepared:
    return Prepared.build(columns_from_entries(entries), pol)


def test_credit_counts_one_rating_per_citizen_the_last_given() -> None:
    prep = prepared(election(), policy(seats=2))
    bulk = bulk_standings(prep, AFTER_TERM)
    credit = dict(zip(bulk.subjects, bulk.score.tolist(), strict=True))
    assert credit == pytest.approx({"A": 70 / 22, "B": 70 / 22, "C": 63 / 23, "D": 64 / 21})
    # had c1's second rating of B been added, B would have (60 + 14) / 23 = 3.217 > A
    b = standing(prep, 1, AFTER_TERM)
    assert b.scores[0].ratings == 2


def test_the_top_seats_are_seated_and_a_tie_is_broken_by_the_declared_rule() -> None:
    # seats 2: A and B (tied at 3.1818 with 2 ratings each) over D and C
    prep = prepared(election(), policy(seats=2))
    bulk = bulk_standings(prep, AFTER_TERM)
    seated = [s for i, s in enumerate(bulk.subjects) if bulk.lists[0, i]]
    assert seated == ["A", "B"]
    # seats 1: A and B tie on credit and on ratings: the lower identifier, A, is seated
    prep1 = prepared(election(), policy(seats=1))
    bulk1 = bulk_standings(prep1, AFTER_TERM)
    assert [s for i, s in enumerate(bulk1.subjects) if bulk1.lists[0, i]] == ["A"]
    text = explain(prep1, 1, "parliament_seat", AFTER_TERM).text
    assert "you ranked 2 of 4 candidates by electoral credit (3.182 from 2 ratings)" in text
    assert "outside the 1 seat; the last seat (rank 1) has 3.182, the same as yours" in text
    assert "the declared tie rule (more ratings first, then the lower subject identifier)" in text


def test_the_tie_rule_more_ratings_seats_the_more_rated() -> None:
    # Z and W both have credit exactly 3.0 (the prior's mean), Z from 1 rating, W from 2
    entries = [
        rating(1, "c1", "X", 4, "2025-03-01"),
        rating(2, "c2", "X", 4, "2025-03-01"),  # (60 + 8) / 22 = 3.0909
        rating(3, "c1", "Y", 4, "2025-03-01"),
        rating(4, "c2", "Y", 4, "2025-03-01"),
        rating(5, "c3", "Y", 3.2, "2025-03-01"),  # (60 + 11.2) / 23 = 3.0957 > X
        rating(6, "c1", "Z", 3, "2025-03-01"),  # 63 / 21 = 3.0 exactly
        rating(7, "c1", "W", 3, "2025-03-01"),
        rating(8, "c2", "W", 3, "2025-03-01"),  # 66 / 22 = 3.0: ties with Z, more ratings
    ]
    prep = prepared(entries, policy(seats=3, ties="more_ratings"))
    bulk = bulk_standings(prep, AFTER_TERM)
    assert [s for i, s in enumerate(bulk.subjects) if bulk.lists[0, i]] == ["X", "Y", "W"]
    prep_id = prepared(entries, policy(seats=3, ties="subject_id"))
    bulk_id = bulk_standings(prep_id, AFTER_TERM)
    assert [s for i, s in enumerate(bulk_id.subjects) if bulk_id.lists[0, i]] == ["X", "Y", "W"]
    # by identifier alone W (< Z) wins too; flip the names to see the rules differ
    flipped = [
        {**e, "subject": {"W": "Z", "Z": "W"}.get(str(e["subject"]), e["subject"])} for e in entries
    ]
    by_count = bulk_standings(prepared(flipped, policy(seats=3, ties="more_ratings")), AFTER_TERM)
    by_id = bulk_standings(prepared(flipped, policy(seats=3, ties="subject_id")), AFTER_TERM)
    assert [s for i, s in enumerate(by_count.subjects) if by_count.lists[0, i]] == ["X", "Y", "Z"]
    assert [s for i, s in enumerate(by_id.subjects) if by_id.lists[0, i]] == ["X", "Y", "W"]


def test_ratings_expire_with_the_term_and_count_only_in_the_next() -> None:
    prep = prepared(election(), policy(seats=2))
    a = 0
    assert standing(prep, a, parse_timestamp("2025-12-31")).score == pytest.approx(3.0)
    assert standing(prep, a, AFTER_TERM).score == pytest.approx(70 / 22)
    # 2027: the ratings of 2025 no longer count and nobody rated in 2026
    later = standing(prep, a, parse_timestamp("2027-02-01"))
    assert later.score == pytest.approx(3.0) and not later.lists
    seat = [m for m in standing(prep, a, AFTER_TERM).measures if m.service == "parliament_seat"]
    assert seat and seat[0].since == parse_timestamp("2026-01-01")
    assert seat[0].until == parse_timestamp("2027-01-01")


def test_explanations_give_rank_credit_and_margin_and_no_rating() -> None:
    prep = prepared(election(), policy(seats=2))
    seated = explain(prep, 0, "parliament_seat", AFTER_TERM).text
    assert (
        "At the re-evaluation of 2026-01-01 from the ratings of 2025-01-01 to 2026-01-01, you "
        "ranked 1 of 4 candidates by electoral credit (3.182 from 2 ratings): within the 2 "
        "seats; the last seat (rank 2) has 3.182, the same as yours."
    ) in seated
    not_seated = explain(prep, 3, "parliament_seat", AFTER_TERM).text
    assert "you ranked 3 of 4 candidates by electoral credit (3.048 from 1 rating)" in not_seated
    assert "outside the 2 seats; the last seat (rank 2) has 3.182, 0.134 above yours." in not_seated
    # the seat is a granted service: nobody is told "you may hold a seat" without one
    assert (
        "You may hold a seat in parliament: a measure gives it to you (reason code SEATED)."
        in seated
    )
    assert (
        "No measure gives you a seat in parliament now (the policy grants it to some): a "
        "check answers deny, reason code NOT-GRANTED."
    ) in not_seated
    assert "You may hold a seat" not in not_seated
    # and a check says so: a seat nobody gave is never an "allow"
    assert check(prep, 3, "parliament_seat", AFTER_TERM).reasons == ["NOT-GRANTED"]
    assert check(prep, 3, "parliament_seat", AFTER_TERM).decision == "deny"
    given = check(prep, 0, "parliament_seat", AFTER_TERM)
    assert (given.decision, given.reasons, given.benefits) == ("allow", [], ["SEATED"])
    for text in (seated, not_seated):
        assert "c1" not in text and "c2" not in text and "c4" not in text
    st_a = standing(prep, 0, AFTER_TERM)
    assert st_a.breakdown == []  # the raters and their ratings are never listed


def _ratings(draw: st.DrawFn) -> list[dict[str, Any]]:
    n_cand = draw(st.integers(1, 8))
    n_cit = draw(st.integers(1, 12))
    out = []
    for c in range(n_cit):
        for k in range(n_cand):
            votes = draw(st.integers(0, 2))
            for v in range(votes):  # a second vote of the same pair comes later
                value = draw(st.integers(1, 5))
                out.append(rating(len(out), f"c{c}", f"K{k}", value, f"2025-0{3 + v}-01"))
    return out


ratings = st.composite(_ratings)()


@SETTINGS
@given(ratings, st.integers(1, 6), st.randoms(use_true_random=False))
def test_exactly_n_are_seated_order_does_not_matter_and_one_equals_everyone(
    entries: list[dict[str, Any]], seats: int, rnd: random.Random
) -> None:
    pol = policy(seats=seats)
    prep = prepared(entries, pol)
    bulk = bulk_standings(prep, AFTER_TERM)
    rated = {e["subject"] for e in entries}
    seated = {s for i, s in enumerate(bulk.subjects) if bulk.lists[0, i]}
    assert len(seated) == min(seats, len(rated))
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    again = bulk_standings(prepared(shuffled, pol), AFTER_TERM)
    credit = dict(zip(bulk.subjects, bulk.score.tolist(), strict=True))
    assert dict(zip(again.subjects, again.score.tolist(), strict=True)) == pytest.approx(credit)
    assert {s for i, s in enumerate(again.subjects) if again.lists[0, i]} == seated
    for i, name in enumerate(bulk.subjects):
        single = standing(prep, i, AFTER_TERM)
        assert single.score == pytest.approx(credit[name])
        assert bool(single.lists) == (name in seated)
    assert np.all(bulk.measures[0] == bulk.lists[0])


def test_explain_json_gives_rank_score_and_margin_and_no_rating() -> None:
    prep = prepared(election(), policy(seats=2))
    out = explain(prep, 3, "parliament_seat", AFTER_TERM).to_json()
    (facts,) = out["explanation"]["rankings"]
    assert facts == {
        "score": "credit",
        "evaluated_on": "2026-01-01",
        "term": {"from": "2025-01-01", "until": "2026-01-01"},
        "rank": 3,
        "candidates": 4,
        "seats": 2,
        "seated": False,
        "value": round(64 / 21, 6),
        "ratings": 1,
        "last_seat_score": round(70 / 22, 6),
        "margin": round(64 / 21 - 70 / 22, 6),
        "ties": "more_ratings",
    }
    assert "c4" not in str(out)
