"""The service's own routes: /healthz, /openapi.json, /metrics, the body limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.ledger import Ledger
from tests.api.conftest import Clock


def test_healthz_says_ok(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_openapi_document_is_served(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["info"]["title"] == "socialcredit"
    assert "/healthz" in doc["paths"]


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'socialcredit_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "socialcredit_http_request_duration_seconds_bucket" in text


def test_unknown_path_is_404_with_a_message(client: TestClient) -> None:
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["detail"]


def test_a_body_over_the_limit_is_413_before_it_is_read(db_url: str, clock: Clock) -> None:
    with TestClient(create_app(db_url, clock, max_body=1000)) as c:
        r = c.post("/healthz", content=b"x" * 2000)
        assert r.status_code == 413
        assert "larger than 1,000 bytes" in r.json()["detail"]


def test_a_missing_database_stops_the_start(tmp_path: pytest.TempPathFactory) -> None:
    from socialcredit.ledger import LedgerError

    with pytest.raises(LedgerError), TestClient(create_app(str(tmp_path) + "/missing.db")):
        pass


@pytest.mark.parametrize(("setting", "interval"), [("0", None), ("0.5", 0.5), ("", 1.0)])
def test_serve_workers_take_the_notice_interval_from_the_environment(
    db_url: str, monkeypatch: pytest.MonkeyPatch, setting: str, interval: float | None
) -> None:
    from socialcredit.api.app import DB_ENV, NOTICE_INTERVAL_ENV, create_app_from_env

    monkeypatch.setenv(DB_ENV, db_url)
    monkeypatch.setenv(NOTICE_INTERVAL_ENV, setting)
    with TestClient(create_app_from_env()) as c:
        notifier = c.app.state.service.notifier  # type: ignore[attr-defined]
        assert (None if notifier is None else notifier.interval) == interval


def test_docs_is_one_page_that_fetches_nothing_from_elsewhere(client: TestClient) -> None:
    import re

    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "/v1/checks/batch" in page and "CheckAnswerModel" in page
    # no script, style sheet, image or frame from any address (Swagger UI's CDN included)
    assert not re.search(r"<(script|link|img|iframe)\b", page, re.I), page[:500]
    assert "cdn" not in page.lower()


def test_metrics_label_docs_and_openapi_by_their_route(client: TestClient) -> None:
    def unmatched() -> list[str]:  # the counters are the process's, other tests' too
        text = client.get("/metrics").text
        return [line for line in text.splitlines() if 'route="unmatched"' in line]

    before = unmatched()
    client.get("/docs")
    client.get("/openapi.json")
    text = client.get("/metrics").text
    assert 'method="GET",route="/docs",status="200"' in text
    assert 'method="GET",route="/openapi.json",status="200"' in text
    assert unmatched() == before


def test_the_started_service_is_out_of_the_full_collections_reach(
    db_url: str, clock: Clock
) -> None:
    """Once started, the index and everything else alive are frozen (``gc.freeze``): a
    full collection no longer walks them (a pause of ~190 ms on the demo database, in the
    middle of serving checks); stopped, they are collectable again."""
    import gc

    gc.unfreeze()
    with TestClient(create_app(db_url, clock)) as c:
        assert c.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 1000
    assert gc.get_freeze_count() == 0


def test_an_index_rebuilt_after_an_activation_is_frozen_as_at_the_start(
    db_url: str, clock: Clock
) -> None:
    """A policy activated while serving rebuilds the index; the new index is frozen like
    the first (left to the collector, its objects bring the full collections' pauses
    back): frozen objects are outside every generation ``gc.get_objects`` lists."""
    import gc

    from socialcredit.ledger import Ledger
    from socialcredit.policy import load_policy, parse_policy
    from tests.cli.conftest import CHINA

    body = load_policy(CHINA).text.replace('version: "2026.3"', 'version: "2026.3-b"')
    loaded = parse_policy(body, "china-b.yaml")
    gc.unfreeze()
    with TestClient(create_app(db_url, clock)) as c:
        index = c.app.state.service.index  # type: ignore[attr-defined]
        first = index._gens[-1]
        with Ledger.open(db_url) as ledger:
            ledger.activate_policy(
                loaded.text,
                loaded.policy.policy,
                loaded.policy.version,
                loaded.content_hash,
                clock.now,
                now=clock.now,
            )
        index.catch_up()
        rebuilt = index._gens[-1]
        assert rebuilt is not first and rebuilt.policy.loaded.policy.version == "2026.3-b"
        assert id(rebuilt) not in {id(o) for o in gc.get_objects()}
    assert gc.get_freeze_count() == 0


def test_a_service_started_without_a_policy_builds_its_index_once_one_is_activated(
    tmp_path: Path, clock: Clock
) -> None:
    """Started on a ledger without a policy, the service answers checks with a 400 saying
    so; once a policy is activated (here by another process) it builds the enforcement
    index by itself, without a restart, and its checks are answered from it, frozen out of
    the full collections as the index built at the start is."""
    import gc
    import time

    from socialcredit.keys import KeyStore
    from tests.api.conftest import DEBTOR, fill

    url = str(tmp_path / "late.db")
    with Ledger.open(url) as ledger:
        ledger.upgrade()
        token = KeyStore(ledger).create("enforcer:air_travel", "counter", clock.now)[1]
    auth = {"Authorization": f"Bearer {token}"}
    ask = {"subject": DEBTOR, "service": "air_travel"}
    gc.unfreeze()
    with TestClient(create_app(url, clock)) as c:
        state = c.app.state.service  # type: ignore[attr-defined]
        first = c.post("/v1/checks", json=ask, headers=auth)
        assert first.status_code == 400 and "no active policy" in first.json()["detail"]
        assert "POST /v1/policy/activations" in first.json()["detail"]
        assert "--policy" not in first.json()["detail"]  # a flag of the command line
        assert state.index is None
        with Ledger.open(url) as ledger:
            fill(ledger)  # china-scs in force from 2026-01-01; the debtor's judgment
        deadline = time.monotonic() + 30
        while state.index is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert state.index is not None, "no index 30 s after the activation"
        assert id(state.index) not in {id(o) for o in gc.get_objects()}
        # the index may have been built between the activation and the entries (``fill``
        # stores them after): entries of another process reach it at its next catch-up
        state.index.catch_up()
        answer = c.post("/v1/checks", json=ask, headers=auth).json()
        assert answer["decision"] == "deny" and answer["reasons"], answer
        assert state.index.check(DEBTOR, "air_travel", clock.now, None).decision == "deny"
    assert gc.get_freeze_count() == 0
