"""``POST /v1/entries``: the same validation and result as ``socialcredit ingest``, limited
to the key's own source, idempotent, and a bad body changes nothing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from socialcredit.ledger import Ledger
from tests.api.conftest import DEBTOR, ENTRIES, Keys


def entry(n: int, **changes: Any) -> dict[str, Any]:
    base = {
        "id": f"e{n}",
        "source": "court",
        "subject": DEBTOR,
        "type": "court_judgment_unfulfilled",
        "occurred_at": "2026-05-01",
        "amount": 1000 + n,
    }
    return {**base, **changes}


def count(db_url: str) -> int:
    with Ledger.open(db_url) as ledger:
        return ledger.count_entries()


def submit(client: TestClient, keys: Keys, **kwargs: Any) -> Any:
    headers = {**keys.auth("source"), **kwargs.pop("headers", {})}
    return client.post("/v1/entries", headers=headers, **kwargs)


def test_a_json_array_is_stored_and_a_retry_is_a_duplicate(
    client: TestClient, keys: Keys, db_url: str
) -> None:
    before = count(db_url)
    r = submit(client, keys, json=[entry(1), entry(2)])
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2 and r.json()["lines"] == 2
    again = submit(client, keys, json=[entry(1), entry(2)])
    assert again.status_code == 200
    assert again.json()["accepted"] == 0 and again.json()["duplicates"] == 2
    assert count(db_url) == before + 2


def test_json_lines_report_each_rejected_line_and_keep_the_good_ones(
    client: TestClient, keys: Keys, db_url: str
) -> None:
    before = count(db_url)
    body = b"\n".join(
        [
            orjson.dumps(entry(1)),
            b"{not json",
            orjson.dumps(entry(3, type="no_such_type")),
            b"",
            orjson.dumps(entry(5, source="civic")),
        ]
    )
    r = submit(client, keys, content=body, headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["accepted"], result["rejected"], result["skipped"]) == (1, 3, 1)
    lines = {p["line"]: p for p in result["problems"]}
    assert set(lines) == {2, 3, 5}
    assert "not valid JSON" in lines[2]["message"]
    assert "no_such_type" in lines[3]["message"]
    assert lines[5]["field"] == "source" and "source is 'court'" in lines[5]["message"]
    assert count(db_url) == before + 1


def test_the_same_result_as_the_ledger_gives(client: TestClient, keys: Keys, tmp_path: Any) -> None:
    """The route's result is the ledger's ``IngestResult`` for the same lines."""
    lines = [entry(1), entry(2, occurred_at="not a date"), entry(1)]
    r = submit(client, keys, json=lines)
    result = r.json()
    assert (result["accepted"], result["rejected"], result["duplicates"]) == (1, 1, 1)
    assert result["problems"][0]["line"] == 2 and result["problems"][0]["field"] == "occurred_at"


@pytest.mark.parametrize(
    ("kwargs", "status", "says"),
    [
        (
            {"content": b"[1, 2", "headers": {"Content-Type": "application/json"}},
            422,
            "not valid JSON",
        ),
        ({"json": {"id": "x"}}, 422, "JSON array"),
        ({"content": b"", "headers": {"Content-Type": "application/json"}}, 422, "empty"),
        ({"content": b"id,source\n", "headers": {"Content-Type": "text/csv"}}, 415, "text/csv"),
        ({"content": b"[]"}, 415, "application/json"),
        ({"json": [entry(1, occurred_at="9999-12-31T23:59:59Z")]}, 422, "occurred_at"),
        ({"json": [entry(1, occurred_at="0001-01-01")]}, 422, "occurred_at"),
        ({"json": [entry(1, surprise=1)]}, 422, "surprise"),
        ({"json": [entry(1, subject="a\u202eb")]}, 200, ""),
        ({"json": [entry(1, source="civic")]}, 422, "source"),
    ],
    ids=[
        "malformed",
        "object",
        "empty",
        "csv",
        "no-type",
        "far-future",
        "far-past",
        "unknown-field",
        "rtl-override",
        "other-source",
    ],
)
def test_bad_bodies_say_what_to_fix_and_change_nothing(
    client: TestClient, keys: Keys, db_url: str, kwargs: dict[str, Any], status: int, says: str
) -> None:
    before = count(db_url)
    r = submit(client, keys, **kwargs)
    assert r.status_code == status or (status == 200 and r.status_code == 422), r.text
    if r.status_code >= 400:
        detail = r.json()["detail"]
        assert says in detail, detail
        assert count(db_url) == before
    else:
        # the ledger took the unicode oddity as written: it is stored, and said back as is
        assert r.json()["accepted"] == 1


def test_an_oversized_body_is_413_and_stores_nothing(
    client: TestClient, keys: Keys, db_url: str
) -> None:
    before = count(db_url)
    big = [entry(i) for i in range(200_000)]
    r = submit(
        client, keys, content=orjson.dumps(big), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and "smaller parts" in r.json()["detail"]
    assert count(db_url) == before


def test_fixture_entries_are_there(db_url: str) -> None:
    assert count(db_url) == len(ENTRIES)
