"""Every route × every role: a forbidden pair is 403, a missing, malformed, unknown or
revoked key 401, and no response body names a subject the request did not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import CHINA, DEBTOR, HELPER, ROLES, SUBJECTS, Keys

Request = Callable[[TestClient, Keys], dict[str, Any]]
ALL = frozenset(ROLES)


def _new_key_id(client: TestClient, keys: Keys) -> str:
    r = client.post("/v1/keys", json={"role": "auditor"}, headers=keys.auth("admin"))
    assert r.status_code == 201, r.text
    return str(r.json()["key_id"])


# (method, route template, request builder, roles allowed)
ROUTES: list[tuple[str, str, Request, frozenset[str]]] = [
    (
        "POST",
        "/v1/checks",
        lambda c, k: {"json": {"subject": DEBTOR, "service": "air_travel"}},
        frozenset({"enforcer"}),
    ),
    (
        "POST",
        "/v1/checks/batch",
        lambda c, k: {"json": {"subjects": [DEBTOR], "service": "air_travel"}},
        frozenset({"enforcer"}),
    ),
    (
        "POST",
        "/v1/entries",
        lambda c, k: {
            "json": [
                {
                    "id": "m1",
                    "source": "court",
                    "subject": DEBTOR,
                    "type": "court_judgment_unfulfilled",
                    "occurred_at": "2026-05-01",
                }
            ]
        },
        frozenset({"source"}),
    ),
    ("GET", "/v1/subjects/{subject}/standing", lambda c, k: {}, frozenset({"subject", "reviewer"})),
    (
        "GET",
        "/v1/subjects/{subject}/explanation",
        lambda c, k: {},
        frozenset({"subject", "reviewer"}),
    ),
    (
        "GET",
        "/v1/subjects/{subject}/notices",
        lambda c, k: {},
        frozenset({"subject", "reviewer"}),
    ),
    (
        "POST",
        "/v1/subjects/{subject}/notices/read",
        lambda c, k: {"json": {"ids": [1]}},
        frozenset({"subject"}),
    ),
    (
        "GET",
        "/v1/subjects/{subject}/disputes",
        lambda c, k: {},
        frozenset({"subject", "reviewer"}),
    ),
    (
        "POST",
        "/v1/subjects/{subject}/disputes",
        lambda c, k: {"json": {"source": "court", "id": "j1", "reason": "paid in full"}},
        frozenset({"subject"}),
    ),
    ("GET", "/v1/disputes", lambda c, k: {}, frozenset({"reviewer"})),
    (
        "POST",
        "/v1/disputes/decisions",
        lambda c, k: {
            "json": {"source": "court", "id": "j1", "outcome": "uphold", "reason": "checked"}
        },
        frozenset({"reviewer"}),
    ),
    ("GET", "/v1/policy", lambda c, k: {}, ALL),
    ("GET", "/v1/policy/history", lambda c, k: {}, ALL),
    (
        "POST",
        "/v1/policy/activations",
        lambda c, k: {"json": {"body": Path(CHINA).read_text(), "override": "the seed system"}},
        frozenset({"admin"}),
    ),
    ("GET", "/v1/audit", lambda c, k: {}, frozenset({"auditor"})),
    ("GET", "/v1/audit/verification", lambda c, k: {}, frozenset({"auditor"})),
    ("POST", "/v1/keys", lambda c, k: {"json": {"role": "reviewer"}}, frozenset({"admin"})),
    ("GET", "/v1/keys", lambda c, k: {}, frozenset({"admin"})),
    (
        "POST",
        "/v1/keys/{key_id}/revocation",
        lambda c, k: {"key_id": _new_key_id(c, k)},
        frozenset({"admin"}),
    ),
]


def _call(
    client: TestClient, method: str, template: str, build: Request, keys: Keys, headers: Any
) -> Any:
    kwargs = build(client, keys)
    path = template.format(subject=DEBTOR, key_id=kwargs.pop("key_id", "none"))
    return client.request(method, path, headers=headers, **kwargs)


def test_every_v1_route_is_in_the_matrix(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    served = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1")
        for method in operations
    }
    assert served == {(m, t) for m, t, _, _ in ROUTES}


@pytest.mark.parametrize(
    ("method", "template", "build", "allowed"), ROUTES, ids=[f"{m} {t}" for m, t, _, _ in ROUTES]
)
def test_route_by_role(
    client: TestClient,
    keys: Keys,
    method: str,
    template: str,
    build: Request,
    allowed: frozenset[str],
) -> None:
    for role in ROLES:
        r = _call(client, method, template, build, keys, keys.auth(role))
        if role in allowed:
            assert r.status_code not in (401, 403) and r.status_code < 500, (role, r.text)
        else:
            assert r.status_code == 403, (role, r.status_code, r.text)
            assert "may not" in r.json()["detail"]
        leaks = _leaks(r.text, template, role)
        assert not leaks, f"{method} {template} as {role} names {leaks}: {r.text[:300]}"
    for headers, why in (
        ({}, "no key"),
        ({"Authorization": "Bearer sck_0000000000000000_nope"}, "unknown key"),
        ({"Authorization": "Bearer not-a-key"}, "malformed key"),
        ({"Authorization": f"Basic {keys['admin']}"}, "another scheme"),
        ({"Authorization": f"Bearer {keys['revoked']}"}, "revoked key"),
    ):
        r = _call(client, method, template, build, keys, headers)
        assert r.status_code == 401, (why, r.status_code, r.text)
        assert r.headers.get("www-authenticate") == "Bearer"
        assert "key" in r.json()["detail"]
        assert not _leaks(r.text, template, None), why


def _leaks(body: str, template: str, role: str | None) -> list[str]:
    """The subjects ``body`` names that the request did not (the auditor's reading of the
    log and the admin's list of keys, whose roles name subjects, are the places where
    subjects other than the request's may appear)."""
    if (role == "auditor" and template.startswith("/v1/audit")) or (
        role == "admin" and template == "/v1/keys"
    ):
        return []
    asked = (
        {DEBTOR}
        if ("{subject}" in template or "checks" in template or "entries" in template)
        else set()
    )
    if role == "other_subject":  # its own id (e.g. in its role, quoted in a 403)
        asked.add(HELPER)
    if role == "subject":
        asked.add(DEBTOR)
    return [s for s in SUBJECTS if s in body and s not in asked]


def test_a_subject_reads_its_own_file_only(client: TestClient, keys: Keys) -> None:
    own = client.get(f"/v1/subjects/{DEBTOR}/standing", headers=keys.auth("subject"))
    assert own.status_code == 200 and own.json()["subject"] == DEBTOR
    other = client.get(f"/v1/subjects/{HELPER}/standing", headers=keys.auth("subject"))
    assert other.status_code == 403 and HELPER not in other.text
    # an unknown subject is 403 too for another subject's key: no way to probe who is known
    ghost = client.get("/v1/subjects/nobody-at-all/standing", headers=keys.auth("subject"))
    assert ghost.status_code == 403


def test_an_enforcer_checks_its_own_service_only(client: TestClient, keys: Keys) -> None:
    r = client.post(
        "/v1/checks",
        json={"subject": DEBTOR, "service": "rail_travel"},
        headers=keys.auth("enforcer"),
    )
    assert r.status_code == 403 and "air_travel" in r.json()["detail"]
