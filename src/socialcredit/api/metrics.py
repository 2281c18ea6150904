"""Prometheus metrics of the HTTP service: requests, latencies, checks by decision,
ingestion counts, the enforcement index's age.

With several worker processes (``socialcredit serve --workers N``) the serve command sets
``PROMETHEUS_MULTIPROC_DIR`` before any worker imports this module, and ``/metrics``
aggregates every worker's values (prometheus_client's multiprocess mode); with one worker
the process's own registry is exposed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUESTS = Counter(
    "socialcredit_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "socialcredit_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template.",
    ["route"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
CHECKS = Counter(
    "socialcredit_checks",
    "Checks answered (single and batch subjects), by decision (allow, deny).",
    ["decision"],
)
INGESTED = Counter(
    "socialcredit_ingested_lines",
    "Lines submitted over HTTP, by outcome (accepted, duplicate, conflict, rejected, skipped).",
    ["outcome"],
)
INDEX_AGE = Gauge(
    "socialcredit_index_age_seconds",
    "Seconds since the enforcement index last caught up with the ledger (per worker).",
    multiprocess_mode="max",
)


def exposition() -> tuple[bytes, str]:
    """The metrics in the Prometheus text format, with its content type (every worker's,
    summed, in multiprocess mode)."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts every HTTP request and times it, labelled by the route template that matched
    (``/v1/subjects/{subject}/standing``, never the subject itself), the path of a matched
    route without parameters, or ``unmatched``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.observe(scope, status, time.perf_counter() - start)

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        """Record one request (labels looked up once per route, method and status)."""
        route = scope.get("route")
        template = getattr(route, "path", None) or scope.get("metrics_route")
        if template is None:
            # a plain Starlette route (FastAPI's /openapi.json) matched: it sets the endpoint,
            # not the route; a path without parameters is its own template
            matched = scope.get("endpoint") is not None and not scope.get("path_params")
            template = scope["path"] if matched else "unmatched"
        key = (scope["method"], template, status)
        children = self._children.get(key)
        if children is None:
            children = (
                REQUESTS.labels(scope["method"], template, str(status)),
                LATENCY.labels(template),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
