"""Services with structure (issue 7, construct 8): a measure on a parent service covers its
children, never the reverse; measures limited to requests by attributes; every attribute
problem is an error naming the attribute, never an allow. Every answer is worked out by hand
from ``tests/policy/services/policy.py``."""

from __future__ import annotations

from typing import Any

import pytest

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check, decide
from socialcredit.errors import RequestAttributeError, SocialCreditError, UnknownServiceError
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared, standing
from socialcredit.timeutil import DAY, parse_timestamp
from tests.policy.services.policy import structured

T0 = parse_timestamp("2025-01-01")
AT = T0 + 10 * DAY
ENTRIES = [
    {"id": "d1", "source": "court", "subject": "debtor", "type": "debt", "occurred_at": T0},
    {"id": "f1", "source": "rail", "subject": "fighter", "type": "seat_fight", "occurred_at": T0},
]
POLICY = structured()


def _prep(policy: CompiledPolicy = POLICY) -> Prepared:
    return Prepared.build(columns_from_entries(ENTRIES), policy)


SUBJECT = {"debtor": 0, "fighter": 1}


def _check(
    who: str, service: str, attributes: dict[str, Any] | None = None
) -> tuple[str, list[str]]:
    d = check(_prep(), SUBJECT[who], service, AT, attributes if attributes is not None else {})
    # the same answer from the full standing (one implementation)
    st = standing(_prep(), SUBJECT[who], AT)
    request = POLICY.request(service, attributes or {})
    assert decide(st, service, request) == d
    return d.decision, d.reasons


def test_a_ban_on_the_parent_covers_every_child() -> None:
    # the seat fight (2025-01-01) bans train tickets for 180 days: G and D seats too
    assert _check("fighter", "rail_tickets") == ("deny", ["RAIL-CAT1"])
    assert _check("fighter", "g_train_seats") == ("deny", ["RAIL-CAT1"])
    assert _check("fighter", "d_train_seats", {"class": "second"}) == ("deny", ["RAIL-CAT1"])
    d = check(_prep(), 1, "g_train_seats", AT, {})
    assert d.eligible_again_on == "2025-06-30"  # 2025-01-01 + 180 days


def test_a_measure_on_a_child_does_not_cover_the_parent_or_a_sibling() -> None:
    assert _check("debtor", "g_train_seats") == ("deny", ["SPC-G"])
    assert _check("debtor", "rail_tickets") == ("allow", [])
    assert _check("debtor", "d_train_seats", {"class": "second"}) == ("allow", [])


def test_first_class_or_above_on_d_trains() -> None:
    assert _check("debtor", "d_train_seats", {"class": "first"}) == ("deny", ["SPC-D1"])
    assert _check("debtor", "d_train_seats", {"class": "business"}) == ("deny", ["SPC-D1"])
    assert _check("debtor", "d_train_seats", {"class": "second"}) == ("allow", [])
    # an inherited attribute may be given too; it changes nothing here
    got = _check("debtor", "d_train_seats", {"class": "first", "price": 550})
    assert got == ("deny", ["SPC-D1"])


def test_school_fees_at_the_bound_and_who_pays() -> None:
    def school(fee: float, payer: str) -> str:
        return _check("debtor", "private_school", {"annual_fee": fee, "payer": payer})[0]

    assert school(20000, "debtor") == "deny"  # at_least is inclusive
    assert school(19999.99, "debtor") == "allow"
    assert school(20000.01, "debtor") == "deny"
    assert school(50000, "other") == "allow"  # paid by someone else
    assert school(0, "debtor") == "allow"


def test_star_rated_hotels_only() -> None:
    assert _check("debtor", "hotels", {"stars": 0})[0] == "allow"
    assert _check("debtor", "hotels", {"stars": 1})[0] == "deny"
    assert _check("debtor", "hotels", {"stars": 5})[0] == "deny"
    assert _check("fighter", "hotels", {"stars": 5})[0] == "allow"  # not a debtor


@pytest.mark.parametrize(
    ("service", "attributes", "message"),
    [
        ("d_train_seats", {}, "needs attribute 'class'"),
        ("private_school", {"annual_fee": 30000}, "needs attribute 'payer'"),
        ("private_school", {}, "needs attributes 'annual_fee', 'payer'"),
        ("hotels", {"stars": "five"}, "'stars' of service 'hotels' is a number; got 'five'"),
        ("hotels", {"stars": True}, "'stars' of service 'hotels' is a number; got True"),
        ("hotels", {"stars": float("nan")}, "'stars' of service 'hotels' is a number"),
        ("d_train_seats", {"class": "royal"}, "is one of second, first, business; got 'royal'"),
        ("d_train_seats", {"class": 1}, "'class' of service 'd_train_seats' is text; got 1"),
        ("d_train_seats", {"class": "first", "clas": "x"}, "'clas' is not declared"),
        (
            "g_train_seats",
            {"class": "first"},
            "'class' is not declared for service 'g_train_seats'",
        ),
        ("rail_tickets", {"colour": "red"}, "its attributes: price"),
    ],
)
@pytest.mark.parametrize("who", ["debtor", "fighter"])
def test_attribute_problems_are_errors_naming_the_attribute_whoever_is_asked_about(
    service: str, attributes: dict[str, Any], message: str, who: str
) -> None:
    # the same error for every subject: it tells a counter nothing about the person
    with pytest.raises(RequestAttributeError, match=message.replace("(", r"\(")) as info:
        check(_prep(), SUBJECT[who], service, AT, attributes)
    assert isinstance(info.value, SocialCreditError) and info.value.exit_code == 2
    assert info.value.http_status == 400


def test_a_child_service_is_known_and_an_unknown_one_is_an_error() -> None:
    with pytest.raises(UnknownServiceError, match="did you mean 'g_train_seats'"):
        check(_prep(), 0, "g_train_seat", AT, {})
    assert "g_train_seats" in POLICY.services()


def test_decide_without_a_request_counts_every_measure_and_a_missing_attribute_raises() -> None:
    st = standing(_prep(), 0, AT)
    # no particular request: the measure limited to first class counts
    assert decide(st, "d_train_seats").reasons == ["SPC-D1"]
    # a request that lacks the attribute the measure tests: never an allow
    with pytest.raises(RequestAttributeError, match="needs attribute 'class'"):
        decide(st, "d_train_seats", {})


def test_standing_json_says_what_a_measure_covers_and_which_requests() -> None:
    st = standing(_prep(), 0, AT).to_json()
    by_name = {m["name"]: m for m in st["sanctions"]}
    assert by_name["no_d_first"]["applies_to"] == [
        {"attribute": "class", "in": ["first", "business"]}
    ]
    assert by_name["no_g_trains"]["covers"] == ["g_train_seats"]
    fighter = standing(_prep(), 1, AT).to_json()["sanctions"][0]
    assert fighter["covers"] == ["rail_tickets", "g_train_seats", "d_train_seats"]
    assert fighter["applies_to"] == []


def test_the_check_answer_carries_the_request_and_nothing_of_the_file() -> None:
    d = check(_prep(), 0, "private_school", AT, {"annual_fee": 25000, "payer": "debtor"})
    out = d.to_json()
    assert out["attributes"] == {"annual_fee": 25000.0, "payer": "debtor"}
    assert out["reasons"] == ["SPC-SCHOOL"]
    assert set(out) == {
        "subject", "service", "at", "decision", "reasons", "eligible_again_on", "indefinite",
        "benefits", "policy_version", "policy_hash", "known", "backfilled", "attributes",
        "exemptions", "exempted_reasons",
    }  # fmt: skip


def test_a_benefit_on_the_parent_reaches_the_children_limited_by_attributes() -> None:
    from socialcredit.policy import compile_policy, parse_policy
    from tests.policy.services.policy import STRUCTURED

    reward = (
        "sanctions:\n  cheap_seats:\n    when: {list: debtors}\n    service: rail_tickets\n"
        "    effect: benefit\n    applies_to: [{attribute: price, below: 100}]\n"
        "    reason_code: CHEAP\n"
    )  # an odd reward, to test coverage: debtors get tickets under 100 CNY cheaper
    policy = compile_policy(parse_policy(STRUCTURED.replace("sanctions:\n", reward)))
    prep = _prep(policy)
    g = check(prep, 0, "g_train_seats", AT, {"price": 99.99})
    assert (g.decision, g.reasons, g.benefits) == ("deny", ["SPC-G"], ["CHEAP"])
    assert check(prep, 0, "g_train_seats", AT, {"price": 100}).benefits == []
    assert check(prep, 0, "rail_tickets", AT, {"price": 5}).benefits == ["CHEAP"]
    with pytest.raises(RequestAttributeError, match="needs attribute 'price'"):
        check(prep, 0, "g_train_seats", AT, {})
    assert check(prep, 0, "hotels", AT, {"stars": 0}).benefits == []
