"""Explanations state structured services truthfully: which requests a measure stops, the
parent a measure is on, and for one request whether it applies (issue 7, construct 8)."""

from __future__ import annotations

from typing import Any

from socialcredit.explain import explain
from tests.policy.services.policy import structured
from tests.policy.services.test_checks import AT, _prep

POLICY = structured()


def _text(who: int, service: str, attributes: dict[str, Any] | None = None) -> str:
    request = POLICY.request(service, attributes) if attributes is not None else None
    return explain(_prep(), who, service, AT, attributes=request).text


def test_a_limited_measure_says_which_requests_it_stops() -> None:
    text = _text(0, "d_train_seats")
    assert (
        "You cannot buy seats on D-series trains when the seat class is first class or "
        "business class." in text
    )
    assert "It applies only when the seat class is first class or business class." in text
    # the debt (2025-01-01) expires after 1000 days: 2027-09-28
    assert (
        "If nothing changes, from 2027-09-28 you may buy seats on D-series trains when the "
        "seat class is first class or business class." in text
    )
    assert "You cannot buy seats on D-series trains." not in text  # never more than is true


def test_school_fees_paid_by_the_debtor() -> None:
    text = _text(0, "private_school")
    assert (
        "You cannot pay for a child's place at a private school when the annual fee is at "
        "least 20,000 CNY and the payer of the fees is you." in text
    )


def test_star_rated_hotels() -> None:
    assert "You cannot stay at a hotel when the hotel's star rating is at least 1." in _text(
        0, "hotels"
    )


def test_one_request_that_the_measure_does_not_match() -> None:
    text = _text(0, "d_train_seats", {"class": "second"})
    assert "This answer is about one request (the seat class: second class)." in text
    assert "You may buy seats on D-series trains: no measure in force stops you." in text
    assert (
        "A measure in force (reason code SPC-D1) stops you from doing so when the seat class "
        "is first class or business class; this request does not meet that." in text
    )
    e = explain(_prep(), 0, "d_train_seats", AT, attributes={"class": "second"})
    assert e.decision.decision == "allow"
    assert e.to_json()["explanation"]["not_applying"] == [
        {
            "measure": "no_d_first",
            "reason_code": "SPC-D1",
            "applies_to": [{"attribute": "class", "in": ["first", "business"]}],
        }
    ]


def test_one_request_that_the_measure_matches() -> None:
    e = explain(
        _prep(), 0, "private_school", AT, attributes={"annual_fee": 20000.0, "payer": "debtor"}
    )
    assert e.decision.decision == "deny" and e.decision.reasons == ["SPC-SCHOOL"]
    assert "(the annual fee: 20,000 CNY; the payer of the fees: you)" in e.text
    (reason,) = e.to_json()["explanation"]["reasons"]
    assert reason["service"] == "private_school"
    assert reason["applies_to"] == [
        {"attribute": "annual_fee", "at_least": 20000.0},
        {"attribute": "payer", "in": ["debtor"]},
    ]


def test_a_measure_on_the_parent_names_the_parent() -> None:
    text = _text(1, "g_train_seats")
    assert "You cannot buy seats on G-series high-speed trains." in text
    assert "The measure is on train tickets, which include G-series train seats." in text
    # 2025-01-01 + 180 days
    assert "you may buy seats on G-series high-speed trains again on 2025-06-30" in text
    assert "rail_tickets" not in text and "g_train_seats" not in text  # display names only


def test_an_ended_limited_measure_says_which_requests_it_stopped() -> None:
    from socialcredit.timeutil import DAY

    # the debt resolved on 2025-01-05: the listing and its measures ended then
    entries = [
        {"id": "d1", "source": "court", "subject": "debtor", "type": "debt",
         "occurred_at": AT - 10 * DAY, "recorded_at": AT - 10 * DAY},
        {"kind": "resolve", "id": "p1", "source": "court", "target_source": "court",
         "target_id": "d1", "occurred_at": AT - 6 * DAY, "recorded_at": AT - 6 * DAY},
    ]  # fmt: skip
    from socialcredit.columns import columns_from_entries
    from socialcredit.scoring import Prepared

    prep = Prepared.build(columns_from_entries(entries), POLICY)
    e = explain(prep, 0, "hotels", AT)
    assert e.decision.decision == "allow"
    assert (
        "under which you could not stay at a hotel when the hotel's star rating is at least 1 "
        "from 2025-01-01 until 2025-01-05 has ended" in e.text
    )
    (ended,) = e.to_json()["explanation"]["ended"]
    assert ended["applies_to"] == [{"attribute": "stars", "at_least": 1.0}]
