"""No fail-open: a service the policy does not know is an error, an unknown subject is said
to be unknown (issue 5, item 4)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from socialcredit.engine import Engine
from socialcredit.errors import NotFoundError, UnknownServiceError
from socialcredit.ledger import Ledger
from socialcredit.policy import parse_policy
from socialcredit.timeutil import parse_timestamp
from tests.conftest import TEST_POLICY

NOW = parse_timestamp("2026-06-01")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    ledger = Ledger.open(str(tmp_path / "services.db"))
    ledger.upgrade()
    loaded = parse_policy(TEST_POLICY)
    ledger.activate_policy(
        loaded.text, loaded.policy.policy, loaded.policy.version, loaded.content_hash, 0, now=0
    )
    debt = {
        "id": "d1",
        "source": "court",
        "subject": "wang",
        "type": "debt",
        "occurred_at": "2026-02-01",
    }
    assert ledger.ingest_entries([debt], now=parse_timestamp("2026-02-01")).accepted == 1
    yield Engine.open(ledger, lambda: NOW)
    ledger.close()


def test_a_misspelt_service_is_an_error_with_a_suggestion(engine: Engine) -> None:
    with pytest.raises(UnknownServiceError) as info:
        engine.check("wang", "air_travl")
    assert "'air_travl'" in info.value.message
    assert "did you mean 'air_travel'" in info.value.message
    assert isinstance(info.value, NotFoundError) and info.value.exit_code == 2
    with pytest.raises(UnknownServiceError):
        engine.explain("wang", "air_travl")
    with pytest.raises(UnknownServiceError):
        engine.explain_services("wang", ["air_travel", "air_travl"])


def test_an_unrelated_name_lists_the_known_services(engine: Engine) -> None:
    with pytest.raises(UnknownServiceError) as info:
        engine.check("wang", "zzz")
    # every service a measure of the test policy names, in order
    assert "air_travel, bike_rental, luxury_hotel, private_school, rail" in info.value.message


def test_the_service_is_checked_before_the_subject(engine: Engine) -> None:
    # an unknown subject would be allowed; an unknown service must not be
    with pytest.raises(UnknownServiceError):
        engine.check("nobody-at-all", "air_travl")
    with pytest.raises(UnknownServiceError):
        engine.explain("nobody-at-all", "air_travl")


def test_an_unknown_subject_is_allowed_but_said_to_be_unknown(engine: Engine) -> None:
    stranger = engine.check("stranger", "air_travel")
    assert stranger.decision == "allow" and stranger.known is False
    assert stranger.to_json()["known"] is False
    known = engine.check("wang", "air_travel")
    assert known.decision == "deny" and known.known is True


def test_a_known_service_without_a_measure_in_force_is_allowed(engine: Engine) -> None:
    # bike_rental is named by a reward only; wang has no reward, nothing is denied
    decision = engine.check("wang", "bike_rental")
    assert decision.decision == "allow" and decision.benefits == []


def test_check_equals_the_decision_on_the_full_standing(engine: Engine) -> None:
    from socialcredit.enforcement import decide

    # over the debt's life: before it is recorded, listed, and long after
    for day in ("2026-01-15", "2026-02-01", "2026-06-01", "2029-01-01"):
        t = parse_timestamp(day)
        st = engine.standing("wang", t)
        for service in engine.policy.services():
            got = engine.check("wang", service, t)
            # wang's first entry reached the ledger on 2026-02-01: not known before
            assert got.known is (day != "2026-01-15")
            assert got == replace(decide(st, service), known=got.known), (day, service)
