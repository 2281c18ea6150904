"""A misspelled service is an error at every entry point, never an "allow" (issue 5, item 4)."""

from __future__ import annotations

import pytest

import socialcredit
from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check, decide
from socialcredit.errors import UnknownServiceError
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared, standing
from socialcredit.timeutil import DAY, parse_timestamp

T0 = parse_timestamp("2025-01-01")
DEBT = {"id": "d1", "source": "court", "subject": "bob", "type": "debt", "occurred_at": T0}


def _prep(policy: CompiledPolicy) -> Prepared:
    return Prepared.build(columns_from_entries([DEBT]), policy)


def test_explain_refuses_a_misspelled_service(policy: CompiledPolicy) -> None:
    with pytest.raises(UnknownServiceError, match="did you mean 'air_travel'"):
        explain(_prep(policy), 0, "air_travl", T0 + DAY)


def test_decide_refuses_a_misspelled_service(policy: CompiledPolicy) -> None:
    st = standing(_prep(policy), 0, T0 + DAY)
    assert decide(st, "air_travel").decision == "deny"
    with pytest.raises(UnknownServiceError, match="did you mean 'air_travel'"):
        decide(st, "air_travl")
    with pytest.raises(UnknownServiceError):
        socialcredit.decide(st, "air_travl")


def test_check_refuses_a_misspelled_service(policy: CompiledPolicy) -> None:
    with pytest.raises(UnknownServiceError, match="did you mean 'air_travel'"):
        check(_prep(policy), 0, "air_travl", T0 + DAY)
    # a service no measure denies is still known, and allowed
    assert check(_prep(policy), 0, "bike_rental", T0 + DAY).decision == "allow"


def test_the_engine_name_is_the_same_error() -> None:
    from socialcredit.enforcement import UnknownServiceError as FromEnforcement
    from socialcredit.engine import UnknownServiceError as FromEngine

    assert FromEngine is UnknownServiceError is FromEnforcement
    assert socialcredit.UnknownServiceError is UnknownServiceError
