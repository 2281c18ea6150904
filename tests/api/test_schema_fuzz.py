"""Schemathesis against /openapi.json, in-process through ASGI, with a valid key of a role
each route is for: no 5xx, no answer outside the documented statuses, content types and
schemas. Bounded: a few dozen generated requests per operation."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from socialcredit.api import create_app
from tests.api.conftest import Clock, Keys

EXAMPLES = 15

# the role whose key each path is called with (one that may use the route)
ROLE_FOR = {
    "/v1/checks": "enforcer",
    "/v1/checks/batch": "enforcer",
    "/v1/entries": "source",
    "/v1/policy/activations": "admin",
    "/v1/keys": "admin",
    "/v1/keys/{key_id}/revocation": "admin",
    "/v1/audit": "auditor",
    "/v1/audit/verification": "auditor",
}


def role_for(path: str) -> str:
    if path.startswith("/v1/subjects/"):
        return "reviewer"
    return ROLE_FOR.get(path, "auditor")


CHECKS: list[Any] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_no_5xx_and_no_schema_violation(db_url: str, clock: Clock, keys: Keys) -> None:
    app = create_app(db_url, clock)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    with asgi.get_client(app) as client:
        for operation in operations:
            run = fuzzer(operation, client, keys.auth(role_for(operation.path)))
            try:
                run()
            except Exception as exc:  # name the operation that failed
                pytest.fail(f"{operation.method.upper()} {operation.path}: {exc}")


def fuzzer(operation: Any, client: Any, headers: dict[str, str]) -> Any:
    """A Hypothesis test calling ``operation`` with generated requests and ``headers``."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(session=client, headers=headers, checks=CHECKS)

    return run
