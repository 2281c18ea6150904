"""The Sesame-style example (examples/policies/sesame-style.yaml): a score from five weighted
dimensions worked out by hand, monthly re-evaluation, the interpersonal dimension through
relations, the explanation of what moved it, and properties (weights sum to 1, the score
stays within 350-950, one subject == everyone)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.examples import example_policy
from socialcredit.explain import explain
from socialcredit.policy import compile_policy, load_policy, parse_policy
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.timeutil import parse_timestamp
from tests.scoring.test_properties import SETTINGS

LOADED = load_policy(example_policy("sesame-style"))
SESAME = compile_policy(LOADED)
DIMENSIONS = {
    "credit_history": ["loan_repaid_on_time", "credit_card_paid_in_full", "loan_overdue"],
    "behaviour": ["utility_bill_paid_on_time", "purchase_completed", "order_abandoned"],
    "fulfilment": ["assets_declared", "income_verified"],
    "identity": ["identity_verified", "address_verified"],
}


def ts(text: str) -> int:
    return parse_timestamp(text)


def rec(n: int, subject: str, type_: str, when: str = "2025-03-10") -> dict[str, Any]:
    return {"id": f"r{n}", "source": "ant", "subject": subject, "type": type_, "occurred_at": when}


def friend(n: int, subject: str, other: str, when: str = "2025-03-10") -> dict[str, Any]:
    return {
        "kind": "relation",
        "id": f"f{n}",
        "source": "ant",
        "subject": subject,
        "relation": "friend_of",
        "related_subject": other,
        "valid_from": when,
    }


def p1_entries() -> list[dict[str, Any]]:
    kinds = [
        ("loan_repaid_on_time", 3),
        ("utility_bill_paid_on_time", 2),
        ("income_verified", 1),
        ("identity_verified", 1),
    ]
    out = []
    for type_, k in kinds:
        out += [rec(len(out) + i, "P1", type_) for i in range(k)]
    return out


def test_the_reported_weights_are_declared_and_sum_to_one() -> None:
    comps = LOADED.policy.scores["sesame"].components
    weights = {name: c.weight for name, c in comps.items()}
    assert weights == {
        "credit_history": 0.35,
        "behaviour": 0.20,
        "fulfilment": 0.25,
        "identity": 0.15,
        "relationships": 0.05,
    }
    assert sum(weights.values()) == pytest.approx(1.0)


def test_a_score_from_known_dimension_values_worked_out_by_hand() -> None:
    # dimensions start at 200: credit history 200 + 3 x 10 = 230; behaviour 200 + 2 x 3 =
    # 206; fulfilment 200 + 60 = 260; identity 200 + 150 = 350; no friend: 200.
    # 350 + .35 x 230 + .20 x 206 + .25 x 260 + .15 x 350 + .05 x 200
    #   = 350 + 80.5 + 41.2 + 65 + 52.5 + 10 = 599.2 (fair: 550-599)
    prep = Prepared.build(columns_from_entries(p1_entries()), SESAME)
    s = standing(prep, 0, ts("2025-04-02"))
    assert s.score == pytest.approx(599.2)
    assert s.scores[0].grade == "fair"
    by_name = {c.name: c for c in s.scores[0].components}
    assert [by_name[n].value for n in DIMENSIONS] == [230, 206, 260, 350]
    assert by_name["relationships"].value == 200
    perks = {m.service for m in s.measures}
    assert perks == {"shared_bike_deposit_free", "hotel_deposit_free"}  # 500 and 550, not 600


def test_records_count_from_the_next_monthly_re_evaluation() -> None:
    prep = Prepared.build(columns_from_entries(p1_entries()), SESAME)
    # recorded on 10 March: the March score (of 1 March) is a newcomer's 550, until the
    # re-evaluation of 1 April 00:00 in Beijing (31 March 16:00 UTC)
    assert standing(prep, 0, ts("2025-03-31T15:59:59Z")).score == pytest.approx(550)
    assert standing(prep, 0, ts("2025-03-31T16:00:00Z")).score == pytest.approx(599.2)
    assert standing(prep, 0, ts("2025-04-30")).score == pytest.approx(599.2)
    # the hotel perk (550) held from the start; none is lost or gained mid-month
    car = [
        m for m in standing(prep, 0, ts("2025-04-02")).measures if m.service == "hotel_deposit_free"
    ]
    assert car


def test_a_friend_s_score_moves_yours_through_the_relation() -> None:
    # P2 (friend of P1) has an identity check: own score 350 + 70 + 40 + 50 + 52.5 + 10 =
    # 572.5; P1's relationships dimension = 572.5 - 350 = 222.5: +0.05 x 22.5 = +1.125
    entries = [*p1_entries(), rec(99, "P2", "identity_verified"), friend(1, "P1", "P2")]
    prep = Prepared.build(columns_from_entries(entries), SESAME)
    t = ts("2025-04-02")
    p1 = standing(prep, 0, t)
    assert p1.score == pytest.approx(600.325)
    assert standing(prep, 1, t).score == pytest.approx(572.5)
    # 600.325 crosses the car-rental threshold (600): the friend opened a perk
    assert "car_rental_deposit_free" in {m.service for m in p1.measures}
    bulk = bulk_standings(prep, t)
    assert list(bulk.score) == pytest.approx([600.325, 572.5])


def test_the_explanation_says_which_dimension_moved_the_score_and_by_how_much() -> None:
    entries = [*p1_entries(), rec(99, "P2", "identity_verified"), friend(1, "P1", "P2")]
    prep = Prepared.build(columns_from_entries(entries), SESAME)
    text = explain(prep, 0, "car_rental_deposit_free", ts("2025-04-02")).text
    assert (
        "At the re-evaluation of 2025-04-01 your Sesame-style score moved from 550 "
        "(re-evaluation of 2025-03-01) to 600.325, +50.325 (credit history +10.5; behaviour "
        "and preferences +1.2; fulfilment capacity +15; identity characteristics +22.5; "
        "interpersonal relationships +1.125)."
    ) in text
    assert "from the scores of the people you are related to" in text
    later = explain(prep, 0, "car_rental_deposit_free", ts("2025-05-02")).text
    assert "At the re-evaluation of 2025-05-01 nothing moved your scores" in later


counts = st.lists(st.integers(0, 40), min_size=11, max_size=11)


@SETTINGS
@given(counts, st.booleans())
def test_the_score_stays_within_350_and_950_and_one_subject_equals_everyone(
    numbers: list[int], befriend: bool
) -> None:
    types = list(LOADED.policy.record_types)
    entries: list[dict[str, Any]] = []
    for who, offset in (("A", 0), ("B", 5)):
        for i, type_ in enumerate(types):
            k = numbers[(i + offset) % len(numbers)]
            entries += [rec(len(entries), who, type_) for _ in range(k)]
    if befriend:
        entries += [friend(1, "A", "B"), friend(2, "B", "A")]
    prep = Prepared.build(columns_from_entries(entries), SESAME)
    t = ts("2025-06-15")
    bulk = bulk_standings(prep, t)
    for i in range(len(bulk.subjects)):
        single = standing(prep, i, t)
        assert 350 <= single.score <= 950
        assert single.score == pytest.approx(float(bulk.score[i]))
        assert {m.service for m in single.measures} == {
            s.service for s in SESAME.sanctions if bulk.measures[s.index, i]
        }


@SETTINGS
@given(
    st.lists(st.integers(1, 100), min_size=5, max_size=5),
    st.lists(st.integers(0, 60), min_size=11, max_size=11),
)
def test_any_weights_summing_to_one_keep_the_score_in_350_950_without_a_clamp(
    parts: list[int], numbers: list[int]
) -> None:
    # the score's own min/max removed: the bounds then come from the weights alone (each
    # dimension held within 0-600, weights summing to 1)
    total = sum(parts)
    weights = [p / total for p in parts[:-1]]
    weights.append(1 - sum(weights))
    assert sum(weights) == pytest.approx(1.0)
    text = example_policy("sesame-style").read_text()
    text = text.replace("    min: 350   # [S1]\n", "").replace("    max: 950   # [S1]\n", "")
    for i, old in enumerate(("0.35", "0.20", "0.25", "0.15", "0.05")):
        text = text.replace(f"weight: {old}   # [S2]", f"weight: <W{i}>   # [S2]")
    for i, new in enumerate(weights):
        text = text.replace(f"<W{i}>", repr(new))
    policy = compile_policy(parse_policy(text, "weights.yaml"))
    assert [c.weight for c in policy.scores[0].components] == pytest.approx(weights)
    types = list(LOADED.policy.record_types)
    entries = [rec(0, "A", "identity_verified")] + [
        rec(1 + j * 100 + k, "A", type_) for j, type_ in enumerate(types) for k in range(numbers[j])
    ]
    prep = Prepared.build(columns_from_entries(entries), policy)
    score = standing(prep, 0, ts("2025-06-15")).score
    assert 350 - 1e-9 <= score <= 950 + 1e-9


def test_a_denial_on_a_score_friends_move_is_explained_without_counterfactuals() -> None:
    # "what would end it sooner" rebuilds the subject alone, which a score read across
    # subjects cannot be: the explanation gives the denial and its record, no action set
    text = example_policy("sesame-style").read_text()
    text = text.replace(
        "  bikes_without_deposit:\n",
        "  no_bikes_below_560:\n"
        "    when: {score_below: {score: sesame, value: 560}}\n"
        "    service: shared_bike_deposit_free\n"
        "    effect: deny\n"
        "  bikes_without_deposit:\n",
    )
    policy = compile_policy(parse_policy(text, "deny.yaml"))
    entries = [
        rec(1, "P1", "loan_overdue"),
        rec(2, "P2", "identity_verified"),
        friend(1, "P1", "P2"),
    ]
    ex = explain(
        Prepared.build(columns_from_entries(entries), policy),
        0,
        "shared_bike_deposit_free",
        ts("2025-05-02"),
    )
    assert ex.decision.decision == "deny" and ex.best_action is None
    assert "You cannot ride shared bikes without a deposit." in ex.text
