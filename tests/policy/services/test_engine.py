"""``Engine.check`` / ``explain`` with request attributes: validated under the policy in
force at the time asked about, before the subject is read (issue 7, construct 8)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from socialcredit.engine import Engine
from socialcredit.errors import RequestAttributeError
from socialcredit.ledger import Ledger
from socialcredit.policy import parse_policy
from socialcredit.timeutil import DAY, parse_timestamp
from tests.policy.services.policy import STRUCTURED

T0 = parse_timestamp("2025-01-01")
V2_FROM = parse_timestamp("2025-03-01")
# version 1: D-series seats are denied to debtors whatever the class
V1 = STRUCTURED.replace("    applies_to: [{attribute: class, in: [first, business]}]\n", "")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    ledger = Ledger.open(str(tmp_path / "e.db"))
    ledger.upgrade()
    for text, version, at in ((V1, "1", T0 - DAY), (STRUCTURED, "2", V2_FROM)):
        loaded = parse_policy(text.replace('version: "1"', f'version: "{version}"'))
        ledger.activate_policy(
            loaded.text, loaded.policy.policy, loaded.policy.version, loaded.content_hash, at,
            now=at,
        )  # fmt: skip
    debt = {"id": "d1", "source": "court", "subject": "debtor", "type": "debt",
            "occurred_at": "2025-01-01"}  # fmt: skip
    assert ledger.ingest_entries([debt], now=T0).accepted == 1
    yield Engine.open(ledger, lambda: parse_timestamp("2025-06-01"))
    ledger.close()


def test_each_time_under_the_policy_then_in_force(engine: Engine) -> None:
    before = T0 + 10 * DAY
    # version 1: no attribute needed, every D-series seat denied
    d = engine.check("debtor", "d_train_seats", before)
    assert (d.decision, d.reasons, d.attributes) == ("deny", ["SPC-D1"], None)
    assert d.to_json()["attributes"] is None
    # version 1 declares class too: a request may carry it, and it changes nothing then
    assert engine.check("debtor", "d_train_seats", before, {"class": "second"}).decision == "deny"
    # version 2 (from 2025-03-01) limits the measure to first class and above
    with pytest.raises(RequestAttributeError, match="needs attribute 'class'"):
        engine.check("debtor", "d_train_seats")
    assert engine.check("debtor", "d_train_seats", None, {"class": "second"}).decision == "allow"
    assert engine.check("debtor", "d_train_seats", None, {"class": "first"}).reasons == ["SPC-D1"]


def test_attributes_are_checked_before_the_subject(engine: Engine) -> None:
    with pytest.raises(RequestAttributeError, match="needs attribute 'class'"):
        engine.check("nobody-at-all", "d_train_seats")
    stranger = engine.check("nobody-at-all", "d_train_seats", None, {"class": "first"})
    assert stranger.decision == "allow" and stranger.known is False
    assert stranger.attributes == {"class": "first"}
    with pytest.raises(RequestAttributeError, match="'clas' is not declared"):
        engine.explain("nobody-at-all", "d_train_seats", None, {"clas": "first"})


def test_explain_with_a_request_at_a_past_time(engine: Engine) -> None:
    e = engine.explain("debtor", "d_train_seats", T0 + 10 * DAY, {"class": "second"})
    # under version 1 the measure was not limited: the second-class seat was denied
    assert e.decision.decision == "deny"
    assert "You cannot buy seats on D-series trains." in e.text
    now = engine.explain("debtor", "d_train_seats", None, {"class": "second"})
    assert now.decision.decision == "allow"
    assert "this request does not meet that" in now.text
