"""``POST /v1/checks`` and ``/v1/checks/batch``: what a service point learns, and nothing
more; the fast ASGI layer answers as the FastAPI routes do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.engine import Engine
from socialcredit.ledger import Ledger
from tests.api.conftest import CHILD, DEBTOR, HELPER, NOW, Clock, Keys, audit_entries

CHECK_FIELDS = {
    "check_id",
    "subject",
    "service",
    "decision",
    "reasons",
    "eligible_again_on",
    "indefinite",
    "benefits",
    "policy_version",
    "appeal_url",
}


def check(client: TestClient, keys: Keys, subject: str, service: str = "air_travel") -> dict:  # type: ignore[type-arg]
    r = client.post(
        "/v1/checks", json={"subject": subject, "service": service}, headers=keys.auth("enforcer")
    )
    assert r.status_code == 200, r.text
    body: dict = r.json()  # type: ignore[type-arg]
    return body


def test_a_check_answers_as_the_engine_and_says_nothing_of_the_file(
    client: TestClient, keys: Keys, db_url: str
) -> None:
    with Ledger.open(db_url) as ledger:
        engine = Engine.open(ledger, lambda: NOW)
        expected = {s: engine.check(s, "air_travel", NOW) for s in (DEBTOR, HELPER, CHILD)}
    for subject, decision in expected.items():
        answer = check(client, keys, subject)
        assert set(answer) == CHECK_FIELDS
        assert answer["decision"] == decision.decision
        assert answer["reasons"] == decision.reasons
        assert answer["eligible_again_on"] == decision.eligible_again_on
        assert answer["indefinite"] == decision.indefinite
        assert answer["policy_version"] == decision.policy_version
        assert answer["appeal_url"] == f"/v1/subjects/{subject}/disputes"
        assert answer["check_id"].startswith("chk_")
    assert expected[DEBTOR].decision == "deny" and expected[HELPER].decision == "allow"
    # never the score, grade, lists or records
    denied = check(client, keys, DEBTOR)
    text = str(denied)
    for secret in ("score", "grade", "dishonest_judgment_debtors", "j1", "80000", "court"):
        assert secret not in text


def test_check_ids_are_unique(client: TestClient, keys: Keys) -> None:
    ids = {check(client, keys, DEBTOR)["check_id"] for _ in range(20)}
    assert len(ids) == 20


def test_an_unknown_subject_is_allowed(client: TestClient, keys: Keys) -> None:
    answer = check(client, keys, "never-heard-of")
    assert answer["decision"] == "allow" and answer["reasons"] == []


def test_an_unknown_service_is_an_error_never_an_allow(
    client: TestClient, db_url: str, clock: Clock
) -> None:
    from socialcredit.examples import example_policy
    from socialcredit.keys import KeyStore
    from socialcredit.policy import compile_policy, load_policy

    carrot = compile_policy(load_policy(example_policy("carrot-rewards")))
    with Ledger.open(db_url) as ledger:
        _, token = KeyStore(ledger).create("enforcer:loyalty_points", None, NOW, policy=carrot)
    r = client.post(
        "/v1/checks",
        json={"subject": DEBTOR, "service": "loyalty_points"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 404
    assert "loyalty_points" in r.json()["detail"]


def test_a_batch_answers_each_subject_in_order(client: TestClient, keys: Keys) -> None:
    subjects = [HELPER, DEBTOR, "nobody", CHILD]
    r = client.post(
        "/v1/checks/batch",
        json={"subjects": subjects, "service": "air_travel"},
        headers=keys.auth("enforcer"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["subject"] for x in body["results"]] == subjects
    singles = [check(client, keys, s) for s in subjects]
    for one, single in zip(body["results"], singles, strict=True):
        for field in ("decision", "reasons", "eligible_again_on", "indefinite", "benefits"):
            assert one[field] == single[field]
    assert len({x["check_id"] for x in body["results"]}) == len(subjects)


def test_a_batch_is_audited_as_one_entry_listing_every_check(
    client: TestClient, keys: Keys
) -> None:
    subjects = [HELPER, DEBTOR, "nobody"]
    r = client.post(
        "/v1/checks/batch",
        json={"subjects": subjects, "service": "air_travel"},
        headers=keys.auth("enforcer"),
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    batch_id = results[0]["check_id"].rsplit(".", 1)[0]
    assert [x["check_id"] for x in results] == [f"{batch_id}.{i}" for i in range(3)]
    # a subject whose name holds another's, quoted, is not that other subject
    tricky = f'x"{CHILD}'
    r = client.post(
        "/v1/checks/batch",
        json={"subjects": [tricky], "service": "air_travel"},
        headers=keys.auth("enforcer"),
    )
    assert r.status_code == 200, r.text
    other_id = r.json()["results"][0]["check_id"].rsplit(".", 1)[0]
    mine = [e for e in audit_entries(client) if e.check_id == batch_id]
    assert len(mine) == 1
    entry = mine[0]
    assert entry.route == "POST /v1/checks/batch" and entry.subject is None
    assert entry.service == "air_travel" and entry.role == "enforcer:air_travel"
    assert entry.policy_version == r.json()["policy_version"]
    assert orjson.loads(entry.details or "") == {
        "subjects": subjects,
        "decisions": [x["decision"] for x in results],
    }
    # a search by subject finds the batches that list it, and only those
    assert batch_id in {e.check_id for e in audit_entries(client, DEBTOR)}
    assert batch_id not in {e.check_id for e in audit_entries(client, CHILD)}
    assert other_id not in {e.check_id for e in audit_entries(client, CHILD)}
    assert other_id in {e.check_id for e in audit_entries(client, tricky)}
    assert client.app.state.service.audit_log.verify().ok  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"", 422, "empty"),
        (b"{", 400, "not valid JSON"),
        (b"[]", 422, "JSON object"),
        (b'{"subject": "x"}', 422, "service"),
        (b'{"subject": "x", "service": "air_travel", "at": "2020-01-01"}', 422, "'at'"),
        (b'{"subject": 7, "service": "air_travel"}', 422, "subject"),
        (b'{"subject": "", "service": "air_travel"}', 422, "subject"),
        (b'{"subject": "x", "service": "air_travel", "attributes": [1]}', 422, "attributes"),
        (
            b'{"subject": "x", "service": "air_travel", "attributes": {"class": "first"}}',
            400,
            "class",
        ),
    ],
)
def test_bad_check_requests_say_what_to_fix(
    client: TestClient, keys: Keys, body: bytes, status: int, says: str
) -> None:
    r = client.post(
        "/v1/checks",
        content=body,
        headers={**keys.auth("enforcer"), "Content-Type": "application/json"},
    )
    assert r.status_code == status, r.text
    assert says in r.json()["detail"]


def test_a_check_must_be_json(client: TestClient, keys: Keys) -> None:
    r = client.post(
        "/v1/checks",
        content=b"subject=x",
        headers={**keys.auth("enforcer"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415 and "application/json" in r.json()["detail"]


@pytest.fixture
def slow_client(db_url: str, clock: Clock, keys: Keys) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, clock, fast_checks=False)) as c:
        yield c


def test_the_fast_layer_answers_as_fastapi_does(
    client: TestClient, slow_client: TestClient, keys: Keys
) -> None:
    cases = [
        {"json": {"subject": DEBTOR, "service": "air_travel"}},
        {"json": {"subject": HELPER, "service": "air_travel"}},
        {"json": {"subject": DEBTOR, "service": "rail_travel"}},
        {"json": {"subject": DEBTOR}},
        {"content": b"{", "headers": {"Content-Type": "application/json"}},
        {"content": b"x", "headers": {"Content-Type": "text/plain"}},
    ]
    for case in cases:
        for who in ("enforcer", "subject"):
            headers = {**keys.auth(who), **case.get("headers", {})}  # type: ignore[dict-item]
            args = {k: v for k, v in case.items() if k != "headers"}
            fast = client.post("/v1/checks", headers=headers, **args)  # type: ignore[arg-type]
            slow = slow_client.post("/v1/checks", headers=headers, **args)  # type: ignore[arg-type]
            assert fast.status_code == slow.status_code, case
            a, b = fast.json(), slow.json()
            a.pop("check_id", None), b.pop("check_id", None)
            assert a == b, case


def test_checks_are_audited_before_the_answer(client: TestClient, keys: Keys) -> None:
    answer = check(client, keys, DEBTOR)
    import time

    deadline = time.monotonic() + 5
    mine: list[Any] = []
    while not mine and time.monotonic() < deadline:
        entries = audit_entries(client, DEBTOR)
        mine = [e for e in entries if e.check_id == answer["check_id"]]
    assert len(mine) == 1
    entry = mine[0]
    assert entry.decision == "deny" and entry.service == "air_travel"
    assert entry.route == "POST /v1/checks" and entry.role == "enforcer:air_travel"
    assert entry.policy_version == answer["policy_version"]


def test_checks_are_counted_by_decision(client: TestClient, keys: Keys) -> None:
    check(client, keys, DEBTOR)
    metrics = client.get("/metrics").text
    assert 'socialcredit_checks_total{decision="deny"}' in metrics
    assert 'route="/v1/checks",status="200"' in metrics
    assert "socialcredit_index_age_seconds " in metrics
