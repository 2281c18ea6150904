"""Due process over HTTP, end to end: a source submits a record, a check denies, the
subject reads its notice and disputes the record, a reviewer finds it in the queue and
annuls it, and the next check answers as the engine does — all on the test's clock."""

from __future__ import annotations

from fastapi.testclient import TestClient

from socialcredit.engine import Engine
from socialcredit.ledger import Ledger
from tests.api.conftest import NOW, Clock, Keys

PERSON = "subj-appellant-9"
DAY = 86_400


def engine_says(db_url: str, at: int) -> dict[str, object]:
    with Ledger.open(db_url) as ledger:
        d = Engine.open(ledger, lambda: at).check(PERSON, "air_travel", at)
    return {"decision": d.decision, "reasons": d.reasons, "eligible_again_on": d.eligible_again_on}


def checked(client: TestClient, keys: Keys) -> dict[str, object]:
    r = client.post(
        "/v1/checks",
        json={"subject": PERSON, "service": "air_travel"},
        headers=keys.auth("enforcer"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return {k: body[k] for k in ("decision", "reasons", "eligible_again_on")}


def test_submit_check_notice_dispute_decide(
    client: TestClient, keys: Keys, clock: Clock, db_url: str
) -> None:
    record = {
        "id": "case-9",
        "source": "court",
        "subject": PERSON,
        "type": "court_judgment_unfulfilled",
        "occurred_at": "2026-05-20",
        "amount": 50000,
    }
    r = client.post("/v1/entries", json=[record], headers=keys.auth("source"))
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    clock.now = NOW + 30 * DAY
    assert checked(client, keys) == engine_says(db_url, clock.now)
    assert checked(client, keys)["decision"] == "deny"

    made = client.post(
        "/v1/keys",
        json={"role": f"subject:{PERSON}", "name": "the appellant"},
        headers=keys.auth("admin"),
    )
    assert made.status_code == 201, made.text
    me = {"Authorization": f"Bearer {made.json()['token']}"}
    notices = client.get(f"/v1/subjects/{PERSON}/notices", headers=me)
    assert notices.status_code == 200, notices.text
    assert any("court/case-9" in n["records"] for n in notices.json()), notices.json()

    clock.now = NOW + 2 * DAY  # within the appeal window of the record
    filed = client.post(
        f"/v1/subjects/{PERSON}/disputes",
        json={"source": "court", "id": "case-9", "reason": "the judgment was paid"},
        headers=me,
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["stage"] == "review"
    again = client.post(
        f"/v1/subjects/{PERSON}/disputes",
        json={"source": "court", "id": "case-9", "reason": "the judgment was paid"},
        headers=me,
    )
    assert again.status_code == 201 and again.json()["entry"] == filed.json()["entry"]
    mine = client.get(f"/v1/subjects/{PERSON}/disputes", headers=me).json()
    assert [d["record"] for d in mine] == ["court/case-9"]

    queue = client.get("/v1/disputes", headers=keys.auth("reviewer"))
    assert queue.status_code == 200
    assert "court/case-9" in [d["record"] for d in queue.json()]
    decided = client.post(
        "/v1/disputes/decisions",
        json={"source": "court", "id": "case-9", "outcome": "annul", "reason": "paid in May"},
        headers=keys.auth("reviewer"),
    )
    assert decided.status_code == 201, decided.text
    twice = client.post(
        "/v1/disputes/decisions",
        json={"source": "court", "id": "case-9", "outcome": "annul", "reason": "paid in May"},
        headers=keys.auth("reviewer"),
    )
    assert twice.status_code == 409 and twice.json()["detail"]

    clock.now = NOW + 40 * DAY
    assert checked(client, keys) == engine_says(db_url, clock.now)
    assert checked(client, keys)["decision"] == "allow"


def test_a_subject_cannot_dispute_another_subjects_record(client: TestClient, keys: Keys) -> None:
    r = client.post(
        "/v1/subjects/subj-helper-2/disputes",
        json={"source": "court", "id": "j1", "reason": "not mine"},
        headers=keys.auth("other_subject"),
    )
    assert r.status_code == 404  # the helper has no record court/j1: the debtor's is not told
    assert "subj-debtor-1" not in r.text
