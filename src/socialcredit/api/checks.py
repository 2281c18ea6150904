"""Checks: what a service point learns — allow or deny, reason codes, when the person is
eligible again, a check id and where to appeal; never the records, the score or the lists.

``POST /v1/checks`` (one subject) and ``POST /v1/checks/batch`` (many subjects, one service)
are the hot path: they are served by ``FastChecks``, a plain ASGI handler that the
application calls before any of FastAPI's own request handling (no routing, middleware,
dependency injection or pydantic: orjson in and out, the key from the key store's memory
of tokens that authenticated, the answer from the enforcement index, the audit entry put
in the log's buffer as a tuple before the answer is sent; the hash chain is computed by
the log's writer). The FastAPI routes of the same paths document them in the OpenAPI
schema and answer the same way when the fast layer is off (``create_app(fast_checks=False)``;
a test compares them).
"""

from __future__ import annotations

import itertools
import logging
import math
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from socialcredit.api.auth import CHALLENGE, NOT_A_KEY, UNAUTHENTICATED
from socialcredit.api.limits import body_too_large, respond
from socialcredit.api.metrics import CHECKS, LATENCY, REQUESTS, Receive, Scope, Send
from socialcredit.errors import SocialCreditError

if TYPE_CHECKING:
    from socialcredit.api.state import ServiceState
    from socialcredit.keys import ApiKey

SINGLE = "/v1/checks"
BATCH = "/v1/checks/batch"
PATHS = frozenset({SINGLE, BATCH})
_SINGLE_ROUTE = f"POST {SINGLE}"
_BATCH_ROUTE = f"POST {BATCH}"
MAX_BATCH = 10_000
MAX_TEXT = 500
SINGLE_FIELDS = frozenset({"subject", "service", "attributes"})
BATCH_FIELDS = frozenset({"subjects", "service", "attributes"})
log = logging.getLogger("socialcredit.api")
_ALLOW = CHECKS.labels("allow")
_DENY = CHECKS.labels("deny")


class CheckRefused(Exception):
    """A check answered with an error status and ``{"detail": message}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Checks:
    """The check routes' work, from a request's key and body to its status and JSON body."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self._ids = itertools.count(1)
        self._prefix = f"chk_{secrets.token_hex(4)}"
        self._append = state.audit_log.append_row
        self._audit_clock = state.audit_clock

    def check_id(self) -> str:
        """A new check id, unique across processes (a random prefix per process)."""
        return f"{self._prefix}{next(self._ids):x}"

    def appeal_url(self, subject: str) -> str:
        """Where the person can see why and dispute: their disputes on this service."""
        return self.state.dispute_url(subject)

    def answer(self, authorization: str | None, body: bytes, batch: bool) -> tuple[int, bytes]:
        """The status and JSON body answering a check (``batch``: a batch check) carrying
        ``authorization`` (the header's value) and ``body``. Every answer, refusals
        included, is audited before it is returned."""
        route = _BATCH_ROUTE if batch else _SINGLE_ROUTE
        key = None
        subject: str | None = None
        service: str | None = None
        try:
            key = self._authenticate(authorization)
            if key.role.kind != "enforcer":
                raise CheckRefused(
                    403,
                    f"key {key.key_id} (role {key.role}) may not check: checks need role "
                    "enforcer:<service>",
                )
            request = _parse(body, BATCH_FIELDS if batch else SINGLE_FIELDS)
            service = _text(request, "service")
            if key.role.name != service:
                raise CheckRefused(
                    403,
                    f"key {key.key_id} (role {key.role}) may check {key.role.name!r} only, "
                    f"not {service!r}",
                )
            attributes = _attributes(request)
            if batch:
                return 200, self._batch(key, route, request, service, attributes)
            subject = _text(request, "subject")
            return 200, self._single(key, route, subject, service, attributes)
        except CheckRefused as exc:
            self.state.audit(
                key, route, subject=subject, service=service, decision="refused", status=exc.status
            )
            return exc.status, orjson.dumps({"detail": exc.message})
        except SocialCreditError as exc:
            try:
                self.state.audit(
                    key,
                    route,
                    subject=subject,
                    service=service,
                    decision="refused",
                    status=exc.http_status,
                )
            except SocialCreditError as unaudited:  # the audit log cannot take it: 503
                exc = unaudited
            return exc.http_status, orjson.dumps({"detail": exc.message})

    def _authenticate(self, authorization: str | None) -> ApiKey:
        if not authorization:
            raise CheckRefused(401, UNAUTHENTICATED, CHALLENGE)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise CheckRefused(401, UNAUTHENTICATED, CHALLENGE)
        key = self.state.keys.authenticate(token.strip())
        if key is None:
            raise CheckRefused(401, NOT_A_KEY, CHALLENGE)
        return key

    def _single(
        self,
        key: ApiKey,
        route: str,
        subject: str,
        service: str,
        attributes: Mapping[str, Any] | None,
    ) -> bytes:
        at = self.state.clock()
        a = self.state.decide(subject, service, at, attributes)
        check_id = f"{self._prefix}{next(self._ids):x}"
        decision = a.decision
        self._append(
            (
                self._audit_clock(),
                key.key_id,
                str(key.role),
                route,
                subject,
                service,
                decision,
                a.policy_version,
                200,
                check_id,
                None,
            )
        )
        (_ALLOW if decision == "allow" else _DENY).inc()
        return orjson.dumps(
            {
                "check_id": check_id,
                "subject": subject,
                "service": service,
                "decision": decision,
                "reasons": a.reasons,
                "eligible_again_on": a.eligible_again_on,
                "indefinite": a.indefinite,
                "benefits": a.benefits,
                "policy_version": a.policy_version,
                "appeal_url": self.state.dispute_url(subject),
            }
        )

    def _batch(
        self,
        key: ApiKey,
        route: str,
        request: dict[str, Any],
        service: str,
        attributes: Mapping[str, Any] | None,
    ) -> bytes:
        subjects = request.get("subjects")
        if not isinstance(subjects, list) or not subjects:
            raise CheckRefused(422, "subjects: give a non-empty list of subject ids")
        if len(subjects) > MAX_BATCH:
            raise CheckRefused(
                422,
                f"subjects: at most {MAX_BATCH:,} per batch ({len(subjects):,} given): split it",
            )
        for i, s in enumerate(subjects):
            if not isinstance(s, str) or not s or len(s) > MAX_TEXT:
                raise CheckRefused(
                    422, f"subjects[{i}]: give a subject id, a string of 1 to {MAX_TEXT} characters"
                )
        at = self.state.clock()
        answers = self.state.decide_many(subjects, service, at, attributes)
        batch_id = f"{self._prefix}{next(self._ids):x}"
        url = self.state.dispute_url
        decisions = []
        results = []
        version = None
        for i, (subject, a) in enumerate(zip(subjects, answers, strict=True)):
            version = a.policy_version
            decision = a.decision
            decisions.append(decision)
            results.append(
                {
                    "check_id": f"{batch_id}.{i}",
                    "subject": subject,
                    "decision": decision,
                    "reasons": a.reasons,
                    "eligible_again_on": a.eligible_again_on,
                    "indefinite": a.indefinite,
                    "benefits": a.benefits,
                    "appeal_url": url(subject),
                }
            )
        # one audit entry for the whole batch: every subject, in order, with its decision
        # (the check ids are the entry's, then "." and the position; docs/audit.md)
        details = orjson.dumps({"decisions": decisions, "subjects": subjects}).decode()
        self._append(
            (
                self._audit_clock(),
                key.key_id,
                str(key.role),
                route,
                None,
                service,
                None,
                version,
                200,
                batch_id,
                details,
            )
        )
        allowed = decisions.count("allow")
        _ALLOW.inc(allowed)
        _DENY.inc(len(subjects) - allowed)
        return orjson.dumps({"service": service, "policy_version": version, "results": results})


def _parse(body: bytes, fields: frozenset[str]) -> dict[str, Any]:
    if not body.strip():
        raise CheckRefused(
            422,
            "the body is empty: send a JSON object, e.g. "
            '{"subject": "P1", "service": "air_travel"}',
        )
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise CheckRefused(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(request, dict):
        raise CheckRefused(422, "the body must be a JSON object with " + ", ".join(sorted(fields)))
    unknown = sorted(set(request) - fields)
    if unknown:
        raise CheckRefused(
            422,
            f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
            f"a check takes {', '.join(sorted(fields))}",
        )
    return request


def _text(request: dict[str, Any], name: str) -> str:
    value = request.get(name)
    if value is None:
        raise CheckRefused(422, f"{name}: required: give it")
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise CheckRefused(422, f"{name}: give a string of 1 to {MAX_TEXT} characters")
    return value


def _attributes(request: dict[str, Any]) -> dict[str, Any] | None:
    value = request.get("attributes")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise CheckRefused(
            422, 'attributes: give an object of request attributes, e.g. {"class": "first"}'
        )
    for name, v in value.items():
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise CheckRefused(422, f"attributes.{name}: give a string or a number")
        if isinstance(v, float) and not math.isfinite(v):
            raise CheckRefused(422, f"attributes.{name}: give a finite number")
    return value


class FastChecks:
    """Serves ``POST /v1/checks`` and ``POST /v1/checks/batch`` without FastAPI's routing,
    middleware, dependency injection and validation (see the module docstring): the
    application (``app.ServiceApp``) hands it those requests before anything else sees
    them. It refuses bodies over ``max_body`` (413), counts and times its requests itself
    and answers 500 (logged) should anything in it fail."""

    def __init__(self, app: Any, max_body: int) -> None:
        """A handler for ``app``, whose ``state.checks`` (a ``Checks``, set when the
        application starts) answers the checks."""
        self.app = app
        self.max_body = max_body
        self._metrics: dict[tuple[str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        start = time.perf_counter()
        try:
            status, body, headers = await self._serve(scope, receive, path)
        except Exception:  # a bug: answered 500, logged with its traceback
            log.exception("%s %s failed", scope["method"], path)
            status, body, headers = 500, _INTERNAL, None
        if status == 499:  # the client left before its body came: nobody to answer
            return
        await respond(send, status, body, headers)
        children = self._metrics.get((path, status))
        if children is None:
            children = (REQUESTS.labels("POST", path, str(status)), LATENCY.labels(path))
            self._metrics[(path, status)] = children
        children[0].inc()
        children[1].observe(time.perf_counter() - start)

    async def _serve(
        self, scope: Scope, receive: Receive, path: str
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]] | None]:
        authorization = None
        content_type = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                return 413, _TOO_LARGE(self.max_body), None
        if content_type != b"application/json" and (
            content_type.split(b";", 1)[0].strip().lower() != b"application/json"
        ):
            return 415, _NOT_JSON, None
        message = await receive()
        if message["type"] == "http.disconnect":
            return 499, b"", None  # nobody to answer
        body = message.get("body", b"")
        if message.get("more_body", False):
            chunks = [body]
            size = len(body)
            more = True
            while more:
                if size > self.max_body:
                    return 413, _TOO_LARGE(self.max_body), None
                message = await receive()
                if message["type"] == "http.disconnect":
                    return 499, b"", None
                chunk = message.get("body", b"")
                size += len(chunk)
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
        if len(body) > self.max_body:
            return 413, _TOO_LARGE(self.max_body), None
        checks: Checks = self.app.state.checks
        status, answer = checks.answer(authorization, body, path == BATCH)
        return status, answer, _CHALLENGE if status == 401 else None


_NOT_JSON = orjson.dumps(
    {"detail": "send the check as JSON, with 'Content-Type: application/json'"}
)
_CHALLENGE = [(b"www-authenticate", b"Bearer")]
_INTERNAL = orjson.dumps({"detail": "the service failed to answer this check: try again"})


def _TOO_LARGE(limit: int) -> bytes:
    return orjson.dumps({"detail": body_too_large(limit)})


# ---------------------------------------------------------------------- the OpenAPI side

router = APIRouter(prefix="/v1/checks", tags=["checks"])

Attribute = str | float


class CheckRequest(BaseModel):
    """One check: may ``subject`` use ``service`` now, for this request?"""

    model_config = ConfigDict(extra="forbid")
    subject: str = Field(
        min_length=1, max_length=MAX_TEXT, description="The person or organisation."
    )
    service: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description="The service asked for: the key's own (role enforcer:<service>).",
    )
    attributes: dict[str, Attribute] | None = Field(
        default=None,
        description="The request attributes the policy declares for the service (price, "
        "class, payer …); an undeclared or mistyped one is a 400.",
    )


class BatchRequest(BaseModel):
    """Many subjects, one service, one request's attributes."""

    model_config = ConfigDict(extra="forbid")
    subjects: list[str] = Field(min_length=1, max_length=MAX_BATCH)
    service: str = Field(min_length=1, max_length=MAX_TEXT)
    attributes: dict[str, Attribute] | None = None


class Outcome(BaseModel):
    """What a service point learns about one subject."""

    check_id: str = Field(description="Quote it to dispute or ask about this check.")
    subject: str
    decision: str = Field(description="allow or deny")
    reasons: list[str] = Field(description="Reason codes of the measures that deny.")
    eligible_again_on: str | None = Field(
        description="The local date the person may use the service again (null when allowed "
        "or when no end is in sight)."
    )
    indefinite: bool = Field(description="Denied with no end in sight.")
    benefits: list[str] = Field(description="Benefit measures that apply.")
    appeal_url: str = Field(description="Where the person can see why and dispute.")


class CheckAnswerModel(Outcome):
    """The answer to one check."""

    service: str
    policy_version: str


class BatchAnswer(BaseModel):
    """The answers to a batch, in the order of its subjects."""

    service: str
    policy_version: str | None
    results: list[Outcome]


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON, or attributes the policy does not declare."},
    401: {"description": "No key, or one that is unknown or revoked."},
    403: {"description": "The key's role is not enforcer:<this service>."},
    404: {"description": "A service the policy in force does not know."},
    413: {"description": "The body is too large."},
    415: {"description": "The body is not application/json."},
    422: {"description": "A field is missing, unknown or of the wrong type."},
}


async def _answer(request: Request, batch: bool) -> Response:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return Response(
            orjson.dumps(
                {"detail": "send the check as JSON, with 'Content-Type: application/json'"}
            ),
            415,
            media_type="application/json",
        )
    checks: Checks = request.app.state.checks
    status, body = checks.answer(request.headers.get("authorization"), await request.body(), batch)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(body, status, headers=headers, media_type="application/json")


def _body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a check route (parsed by ``Checks``, not by FastAPI)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


@router.post(
    "",
    response_model=CheckAnswerModel,
    responses=_ERRORS,
    summary="Check one subject",
    openapi_extra=_body(CheckRequest),
)
async def check(request: Request) -> Response:
    """Allow or deny one subject the key's service, now. Audited. Never the records, score
    or lists."""
    return await _answer(request, batch=False)


@router.post(
    "/batch",
    response_model=BatchAnswer,
    responses=_ERRORS,
    summary="Check many subjects",
    openapi_extra=_body(BatchRequest),
)
async def check_batch(request: Request) -> Response:
    """Allow or deny each of up to 10,000 subjects the key's service, now (audited as one
    entry listing every subject and its decision)."""
    return await _answer(request, batch=True)
