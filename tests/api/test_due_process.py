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
    assert "court/case-9" in [d["record"] for d in queue.json()["disputes"]]
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


def test_the_service_writes_notices_in_the_background(
    db_url: str, clock: Clock, keys: Keys
) -> None:
    """An entry that starts a measure is told to its subject without anyone reading the
    notices: the service's notifier writes it (on the service's clock)."""
    import time

    from socialcredit.api import create_app
    from socialcredit.notices import notices_for

    record = {
        "id": "case-bg",
        "source": "court",
        "subject": PERSON,
        "type": "court_judgment_unfulfilled",
        "occurred_at": "2026-05-20",
        "amount": 50000,
    }
    with TestClient(create_app(db_url, clock, notice_interval=0.05)) as client:
        r = client.post("/v1/entries", json=[record], headers=keys.auth("source"))
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
        deadline = time.monotonic() + 20
        found = []
        with Ledger.open(db_url) as ledger:
            while not found and time.monotonic() < deadline:
                found = notices_for(ledger, PERSON)
                time.sleep(0.05)
        # the look in flight writes every measure the record starts (one notice each):
        # a look of our own waits for it (one at a time) and finds nothing left to write
        assert client.app.state.service.notifier.tick() == 0  # type: ignore[attr-defined]
        with Ledger.open(db_url) as ledger:
            found = notices_for(ledger, PERSON)
        assert found, "no notice was written in the background"
        assert {(n.kind, tuple(n.records)) for n in found} == {
            ("measure_started", ("court/case-bg",))
        }
        assert len({n.measure for n in found}) == len(found)  # one notice per measure
        assert {n.written_at for n in found} == {clock.now}
        # the subject then reads it, once (no second notice for the same event)
        made = client.post(
            "/v1/keys",
            json={"role": f"subject:{PERSON}", "name": "the appellant"},
            headers=keys.auth("admin"),
        )
        me = {"Authorization": f"Bearer {made.json()['token']}"}
        read = client.get(f"/v1/subjects/{PERSON}/notices", headers=me)
        assert [n["id"] for n in read.json()] == [n.id for n in found]


def test_the_review_queue_comes_in_pages_by_cursor(
    client: TestClient, keys: Keys, clock: Clock
) -> None:
    """Five open disputes read two at a time: every one once, in the queue's order; a
    dispute decided between pages shifts nothing; a cursor not given here is a 400."""
    records = [
        {
            "id": f"case-p{i}",
            "source": "court",
            "subject": f"subj-pages-{i}",
            "type": "court_judgment_unfulfilled",
            "occurred_at": "2026-05-20",
            "amount": 50000,
        }
        for i in range(5)
    ]
    r = client.post("/v1/entries", json=records, headers=keys.auth("source"))
    assert r.status_code == 200 and r.json()["accepted"] == 5, r.text
    clock.now = NOW + 2 * DAY
    for i in range(5):
        made = client.post(
            "/v1/keys", json={"role": f"subject:subj-pages-{i}"}, headers=keys.auth("admin")
        )
        filed = client.post(
            f"/v1/subjects/subj-pages-{i}/disputes",
            json={"source": "court", "id": f"case-p{i}", "reason": "paid"},
            headers={"Authorization": f"Bearer {made.json()['token']}"},
        )
        assert filed.status_code == 201, filed.text
        clock.now += 3600  # filed an hour apart: due an hour apart
    reviewer = keys.auth("reviewer")
    whole = client.get("/v1/disputes", headers=reviewer).json()
    assert whole["next_after"] is None
    everyone = [d["record"] for d in whole["disputes"]]
    assert everyone == [f"court/case-p{i}" for i in range(5)]

    first = client.get("/v1/disputes", params={"limit": 2}, headers=reviewer).json()
    assert [d["record"] for d in first["disputes"]] == everyone[:2]
    # the first page's disputes are decided before the next page is read: nothing skipped
    decided = client.post(
        "/v1/disputes/decisions",
        json={"source": "court", "id": "case-p0", "outcome": "annul", "reason": "paid"},
        headers=reviewer,
    )
    assert decided.status_code == 201, decided.text
    seen = [d["record"] for d in first["disputes"]]
    after = first["next_after"]
    while after is not None:
        page = client.get(
            "/v1/disputes", params={"limit": 2, "after": after}, headers=reviewer
        ).json()
        assert len(page["disputes"]) <= 2
        seen += [d["record"] for d in page["disputes"]]
        after = page["next_after"]
    assert seen == everyone

    bad = client.get("/v1/disputes", params={"after": "not-a-cursor"}, headers=reviewer)
    assert bad.status_code == 400 and "next_after" in bad.json()["detail"]
    assert client.get("/v1/disputes", params={"limit": 0}, headers=reviewer).status_code == 422
