"""The application factory: ``create_app(ledger_url, clock=…)``.

The service is a thin shell: each route parses its input, authorises the caller's key and
calls the library, as the CLI's commands do. Errors a person can cause are answered with a
4xx and ``{"detail": "what is wrong and what to do"}`` (``SocialCreditError.http_status``);
a 5xx is a bug, or the database being unreachable (503).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from socialcredit.api.limits import BodyLimit
from socialcredit.api.metrics import MetricsMiddleware, exposition
from socialcredit.api.state import Clock, ServiceState, wall_clock
from socialcredit.errors import SocialCreditError

DB_ENV = "SOCIALCREDIT_DB"
PUBLIC_URL_ENV = "SOCIALCREDIT_PUBLIC_URL"


def create_app(
    ledger_url: str | None = None,
    clock: Clock = wall_clock,
    *,
    public_url: str = "",
    max_body: int = 16 * 1024 * 1024,
) -> FastAPI:
    """The HTTP service over the ledger at ``ledger_url`` (the CLI's ``--db`` rules: a
    SQLAlchemy URL or a SQLite path; None = ``SOCIALCREDIT_DB`` or ``socialcredit.db``).

    ``clock`` gives "now" in epoch seconds for every answer, deadline and audit entry (tests
    pass their own). The ledger is opened, and its schema checked, when the application
    starts (a missing database or one of a newer socialcredit stops the start with its
    message). ``public_url``: the address people reach the service at, used in the appeal
    URL a check answers ("" = a path on this service). ``max_body``: the largest request
    body accepted (413 beyond it).
    """
    from socialcredit.ledger import Ledger

    holder: dict[str, ServiceState] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = Ledger.open(ledger_url)
        try:
            ledger._check()
            state = ServiceState(ledger, clock, public_url)
            holder["state"] = state
            app.state.service = state
            yield
        finally:
            ledger.close()

    app = FastAPI(
        title="socialcredit",
        version=_version(),
        summary="The register authorities write to and service points ask: every decision "
        "explained, every read and check audited, every measure appealable.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    _errors(app)

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

    @app.get("/metrics", tags=["service"], response_class=Response)
    def metrics() -> Response:
        """Prometheus metrics: requests and latencies by route, checks by decision,
        ingested lines by outcome, the enforcement index's age."""
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    app.add_middleware(BodyLimit, max_body=max_body)
    app.add_middleware(MetricsMiddleware)
    return app


def create_app_from_env() -> FastAPI:
    """The application for ``socialcredit serve`` workers: the database from
    ``SOCIALCREDIT_DB``, the public URL from ``SOCIALCREDIT_PUBLIC_URL``, the wall clock."""
    return create_app(os.environ.get(DB_ENV), public_url=os.environ.get(PUBLIC_URL_ENV, ""))


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
