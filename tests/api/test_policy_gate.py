"""The service's policy activation follows the lint gate: a policy with lint errors is
refused (422, naming them, audited) unless the request gives an override; the history
shows the findings and the override."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from socialcredit.examples import example_policy
from tests.api.conftest import Keys, audit_entries

FIXTURES = Path(__file__).parents[1] / "lint" / "fixtures"


def test_activation_with_lint_errors_needs_an_override(client: TestClient, keys: Keys) -> None:
    body = (FIXTURES / "SC301.yaml").read_text()
    admin = keys.auth("admin")
    refused = client.post("/v1/policy/activations", json={"body": body}, headers=admin)
    assert refused.status_code == 422
    answer = refused.json()
    assert "1 lint error" in answer["detail"] and '"override"' in answer["detail"]
    assert any("SC301" in p for p in answer["problems"])
    deadline = time.monotonic() + 10
    refusals: list[Any] = []
    while not refusals and time.monotonic() < deadline:
        refusals = [
            e
            for e in audit_entries(client)
            if e.route == "POST /v1/policy/activations" and e.decision == "refused"
        ]
    assert refusals and refusals[0].status == 422 and refusals[0].policy_version == "lint-base@1"
    blank = client.post(
        "/v1/policy/activations", json={"body": body, "override": " "}, headers=admin
    )
    assert blank.status_code == 400
    made = client.post(
        "/v1/policy/activations",
        json={"body": body, "override": "a test of the gate"},
        headers=admin,
    )
    assert made.status_code == 201
    assert made.json()["lint"]["override"] == "a test of the gate"
    assert made.json()["lint"]["errors"] == 1
    history = client.get("/v1/policy/history", headers=admin).json()
    assert history[-1]["lint"]["findings"][0]["rule"] == "SC301"


def test_a_policy_without_errors_activates_without_an_override(
    client: TestClient, keys: Keys
) -> None:
    body = Path(example_policy("fair-transit")).read_text()
    made = client.post("/v1/policy/activations", json={"body": body}, headers=keys.auth("admin"))
    assert made.status_code == 201 and made.json()["lint"]["override"] is None
