"""The application factory: ``create_app(ledger_url, clock=…)``.

The service is a thin shell: each route parses its input, authorises the caller's key and
calls the library, as the CLI's commands do. Errors a person can cause are answered with a
4xx and ``{"detail": "what is wrong and what to do"}`` (``SocialCreditError.http_status``);
a 5xx is a bug, or the database being unreachable (503).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from socialcredit.api import (
    audit,
    checks,
    disputes,
    docs_page,
    entries,
    keys,
    notices,
    policy,
    subjects,
)
from socialcredit.api.checks import PATHS, Checks, FastChecks
from socialcredit.api.limits import BodyLimit
from socialcredit.api.metrics import INDEX_AGE, MetricsMiddleware, Receive, Scope, Send, exposition
from socialcredit.api.state import Clock, ServiceState, wall_clock
from socialcredit.errors import SocialCreditError

DB_ENV = "SOCIALCREDIT_DB"
PUBLIC_URL_ENV = "SOCIALCREDIT_PUBLIC_URL"
NOTICE_INTERVAL_ENV = "SOCIALCREDIT_NOTICE_INTERVAL"


def create_app(
    ledger_url: str | None = None,
    clock: Clock = wall_clock,
    *,
    public_url: str = "",
    max_body: int = 16 * 1024 * 1024,
    fast_checks: bool = True,
    audit_interval: float = 0.005,
    notice_interval: float | None = 1.0,
) -> FastAPI:
    """The HTTP service over the ledger at ``ledger_url`` (the CLI's ``--db`` rules: a
    SQLAlchemy URL or a SQLite path; None = ``SOCIALCREDIT_DB`` or ``socialcredit.db``).

    ``clock`` gives "now" in epoch seconds for every answer, deadline and audit entry (tests
    pass their own). The ledger is opened, and its schema checked, when the application
    starts (a missing database or one of a newer socialcredit stops the start with its
    message). ``public_url``: the address people reach the service at, used in the appeal
    URL a check answers ("" = a path on this service). ``max_body``: the largest request
    body accepted (413 beyond it). ``fast_checks``: serve the check routes from the plain
    ASGI layer (``socialcredit.api.checks``); False serves them through FastAPI, with the
    same answers. ``audit_interval``: seconds between the audit log's group commits.
    ``notice_interval``: seconds between the background notifier's looks (it also looks
    when entries are stored; ``socialcredit.notifier``); None: notices are written only
    when a subject's notices are read.
    """
    from socialcredit.ledger import Ledger

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from socialcredit.audit import AuditLog
        from socialcredit.keys import KeyStore

        ledger = Ledger.open(ledger_url)
        audit_log = None
        state = None
        try:
            ledger._check()
            audit_log = AuditLog(ledger, interval=audit_interval)
            state = ServiceState(ledger, clock, KeyStore(ledger), audit_log, public_url)
            app.state.service = state
            app.state.checks = Checks(state)
            # the index's objects all live: nothing to collect while it is built, and frozen
            # after (an index built later, once a policy is activated, the same)
            with _no_collections():
                state.start_index(rebuilding=_rebuilt_objects_frozen)
            if notice_interval is not None:
                state.start_notifier(notice_interval)
            _freeze_startup_objects()
            yield
        finally:
            # prompt: a look or catch-up still running after this is a daemon thread that
            # ends with the process (what it writes is idempotent, and written again by the
            # next process); the audit buffer is written whatever it takes
            if state is not None:
                state.stop_notifier(timeout=0.5)
                state.stop_index(timeout=0.5)
            if audit_log is not None:
                audit_log.close()  # writes what the buffer holds
            ledger.close()
            gc.unfreeze()  # what this application froze can be collected again

    app = ServiceApp(
        responses=ERROR_RESPONSES,
        title="socialcredit",
        version=_version(),
        summary="The register authorities write to and service points ask: every decision "
        "explained, every read and check audited, every measure appealable.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's loads Swagger UI from a CDN: see docs_page
        redoc_url=None,
    )
    _errors(app)
    _openapi(app)

    @app.get("/healthz", tags=["service"], response_model=dict[str, Any])
    def healthz(request: Request) -> JSONResponse:
        """Whether the service can reach its database: 200 ``{"status": "ok"}``, else 503
        with what is wrong."""
        state: ServiceState = request.app.state.service
        try:
            with state.ledger.reading() as conn:
                cursor = conn.cursor()
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as exc:  # any failure to reach the database is "unhealthy"
            return JSONResponse(
                {"status": "unavailable", "detail": f"the database cannot be read: {exc}"},
                status_code=503,
            )
        return JSONResponse({"status": "ok"})

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs(request: Request) -> HTMLResponse:
        """The OpenAPI document as one HTML page, fetching nothing from elsewhere."""
        page = getattr(request.app.state, "docs_page", None)
        if page is None:
            page = request.app.state.docs_page = docs_page.render(request.app.openapi())
        return HTMLResponse(page)

    @app.get("/metrics", tags=["service"], response_class=Response)
    def metrics(request: Request) -> Response:
        """Prometheus metrics: requests and latencies by route, checks by decision,
        ingested lines by outcome, the enforcement index's age."""
        age = request.app.state.service.index_age()
        if age is not None:
            INDEX_AGE.set(age)
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    for router in (
        checks.router,
        entries.router,
        subjects.router,
        notices.router,
        disputes.router,
        policy.router,
        audit.router,
        keys.router,
    ):
        app.include_router(router)
    app.add_middleware(BodyLimit, max_body=max_body)
    app.add_middleware(MetricsMiddleware)
    if fast_checks:  # before everything: a check passes through nothing else
        app.fast = FastChecks(app, max_body=max_body)
    return app


@contextmanager
def _no_collections() -> Iterator[None]:
    """The cyclic garbage collector off for the block (then as it was). Building the
    enforcement index makes hundreds of thousands of objects that all stay alive, and set
    off full collections that walked every one of them to free nothing (starting on the
    demo database: eight, of 0.1 to 0.5 s each on a loaded machine, 51 objects freed)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _freeze_startup_objects() -> None:
    """Move every object alive now (the enforcement index, the compiled policy, the
    application) out of reach of the cyclic garbage collector's full collections
    (``gc.freeze``). The index is a few hundred thousand objects that live as long as the
    process: each full collection walked them all — 190 ms on the demo database (one came
    about every half minute of checks), a pause every request arriving meanwhile waited out,
    in the p99 of checks when it fell in a 10 s run. Reference counting still
    frees them as usual when the index is replaced; only cycles among them would stay (until
    the application stops: it unfreezes them)."""
    gc.collect()
    gc.freeze()


@contextmanager
def _rebuilt_objects_frozen() -> Iterator[None]:
    """For an index rebuilt while serving (a policy activated): the collector off during
    the build, as at the start, and the new index frozen after it, as at the start — left
    unfrozen, the new index's objects bring the full collections' pauses back. The old
    index's objects are freed by reference counting when it is replaced, frozen or not."""
    with _no_collections():
        yield
    gc.freeze()


class ServiceApp(FastAPI):
    """The service's FastAPI application, which hands the check routes' requests to its
    ``fast`` handler (``checks.FastChecks``) before FastAPI's own request handling (its
    per-request telemetry check, Starlette's middleware stack, routing) sees them; every
    other request, and the lifespan, is FastAPI's."""

    fast: FastChecks | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast
        if (
            fast is not None
            and scope["type"] == "http"
            and scope["path"] in PATHS
            and scope["method"] == "POST"
        ):
            await fast(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class ErrorBody(BaseModel):
    """What every error answers: what is wrong and what to do about it."""

    detail: str = Field(description="What is wrong and what to do about it.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "The request cannot be used (a bad time, attribute or policy): the detail says why.",
        401: "No API key, or one that is unknown, mistyped or revoked.",
        403: "The key's role may not do this.",
        404: "Something named does not exist (a subject, a service, a key).",
        409: "The request contradicts what is stored (a reused policy version, a revoked key).",
        413: "The request body is too large.",
        415: "The request body is not in a format the route reads.",
        422: "A field is missing, unknown or of the wrong type: the detail names it.",
        503: "The database or the audit log cannot take the request now: try again.",
    }.items()
}


def _openapi(app: FastAPI) -> None:
    """The OpenAPI document, with 422 answered as every other error (``ErrorBody``: FastAPI
    would document its own list of validation errors, which this service words as one
    sentence)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    answer = operation.get("responses", {}).get("422")
                    if answer is not None:
                        answer["content"] = {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorBody"}
                            }
                        }
            schemas = schema.get("components", {}).get("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app_from_env() -> FastAPI:
    """The application for ``socialcredit serve`` workers: the database from
    ``SOCIALCREDIT_DB``, the public URL from ``SOCIALCREDIT_PUBLIC_URL``, the background
    notifier's interval from ``SOCIALCREDIT_NOTICE_INTERVAL`` (seconds, 0 = none; default
    1), the wall clock."""
    interval = float(os.environ.get(NOTICE_INTERVAL_ENV) or 1.0)
    service_log = logging.getLogger("socialcredit")
    if not service_log.handlers:  # said next to uvicorn's own lines
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        service_log.addHandler(handler)
        service_log.setLevel(logging.INFO)
    return create_app(
        os.environ.get(DB_ENV),
        public_url=os.environ.get(PUBLIC_URL_ENV, ""),
        notice_interval=interval if interval > 0 else None,
    )


def _version() -> str:
    from socialcredit import __version__

    return __version__


def _errors(app: FastAPI) -> None:
    """Every error answered as ``{"detail": message}``: a person's mistake with its 4xx,
    a request the schema refuses with 422 saying which field and why."""

    @app.exception_handler(SocialCreditError)
    async def _known(request: Request, exc: SocialCreditError) -> JSONResponse:
        problems = getattr(exc, "problems", None)
        body: dict[str, Any] = {"detail": exc.message}
        if problems:
            body["problems"] = [str(p) for p in problems]
        return JSONResponse(body, status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_message(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )


def validation_message(errors: Any) -> str:
    """FastAPI's validation errors as one sentence per problem: where (``body.subject``,
    ``query.at``) and what is wrong."""
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()))
        message = error.get("msg", "invalid")
        if error.get("type") == "extra_forbidden":
            message = "unknown field: remove it (see /openapi.json for the fields this route takes)"
        elif error.get("type") == "missing":
            message = "required: give it"
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts) or "the request is not valid"
