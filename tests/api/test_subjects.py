"""A subject's standing and explanation over HTTP: the ``score --json`` and ``explain
--json`` contracts, read by the subject's own key or a reviewer's, every read audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialcredit.engine import Engine
from socialcredit.ledger import Ledger
from tests.api.conftest import DEBTOR, NOW, Keys, audit_entries


def as_json(data: object) -> object:
    return json.loads(json.dumps(data, default=str))


def test_standing_is_the_score_json_contract(client: TestClient, keys: Keys, db_url: str) -> None:
    r = client.get(f"/v1/subjects/{DEBTOR}/standing", headers=keys.auth("subject"))
    assert r.status_code == 200, r.text
    with Ledger.open(db_url) as ledger:
        expected = Engine.open(ledger, lambda: NOW).standing(DEBTOR).to_json()
    assert r.json() == as_json(expected)
    assert "dishonest_judgment_debtors" in r.json()["lists"]


def test_explanation_is_the_explain_json_contract(
    client: TestClient, keys: Keys, db_url: str
) -> None:
    with Ledger.open(db_url) as ledger:
        engine = Engine.open(ledger, lambda: NOW)
        one = engine.explain(DEBTOR, "air_travel").to_json()
        every = [e.to_json() for e in engine.explain_services(DEBTOR)]
    r = client.get(
        f"/v1/subjects/{DEBTOR}/explanation",
        params={"service": "air_travel"},
        headers=keys.auth("reviewer"),
    )
    assert r.status_code == 200, r.text
    assert r.json() == as_json(one)
    r = client.get(f"/v1/subjects/{DEBTOR}/explanation", headers=keys.auth("subject"))
    assert r.json() == as_json(every)


def test_an_answer_about_the_past_uses_the_policy_then(
    client: TestClient, keys: Keys, db_url: str
) -> None:
    r = client.get(
        f"/v1/subjects/{DEBTOR}/standing", params={"at": "2026-02-01"}, headers=keys.auth("subject")
    )
    assert r.status_code == 200
    assert r.json()["at"].startswith("2026-02-01")


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"at": "yesterday"}, 400, "ISO 8601"),
        ({"at": "99999-01-01"}, 400, "9999"),
        ({"at": "0999-12-31"}, 400, "1000"),
        ({"at": "2020-01-01"}, 400, "no policy was in force"),
        ({"service": "teleport"}, 404, "teleport"),
        ({"service": "air_travel", "attr": "class=first"}, 400, "class"),
        ({"attr": "price=5"}, 400, "service"),
    ],
)
def test_bad_questions_say_what_to_fix(
    client: TestClient, keys: Keys, params: dict[str, str], status: int, says: str
) -> None:
    r = client.get(
        f"/v1/subjects/{DEBTOR}/explanation", params=params, headers=keys.auth("subject")
    )
    assert r.status_code == status, r.text
    assert says in r.json()["detail"], r.json()["detail"]
    assert "--policy" not in r.json()["detail"]  # a flag of the command line, not of HTTP


def test_an_unknown_subject_is_404_for_a_reviewer(client: TestClient, keys: Keys) -> None:
    r = client.get("/v1/subjects/nobody%E2%80%AE/standing", headers=keys.auth("reviewer"))
    assert r.status_code == 404 and "nobody" in r.json()["detail"]


def test_reads_are_audited(client: TestClient, keys: Keys) -> None:
    client.get(f"/v1/subjects/{DEBTOR}/standing", headers=keys.auth("reviewer"))
    import time

    deadline = time.monotonic() + 5
    reads: list[Any] = []
    while not reads and time.monotonic() < deadline:
        entries = audit_entries(client, DEBTOR)
        reads = [e for e in entries if e.route == "GET /v1/subjects/{subject}/standing"]
    assert reads and reads[-1].role == "reviewer" and reads[-1].status == 200
