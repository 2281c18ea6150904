"""``serve``: run the HTTP service (``socialcredit.api``) on uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from socialcredit.cli.common import CliError, DbOption, app, err


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes sharing the port and the database (several need a "
            "database every process can write: PostgreSQL, or a SQLite file on a local disk).",
        ),
    ] = 1,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The address people reach the service at, e.g. https://register.example; "
            "the appeal URL in check answers starts with it.",
            show_default="a path on this service",
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (slower under load).")
    ] = False,
    notice_interval: Annotated[
        float,
        typer.Option(
            "--notice-interval",
            min=0,
            help="Seconds between the background notifier's looks (it writes subjects' "
            "notices as entries arrive and deadlines pass; one worker of all those serving "
            "the database does it, and looks at everyone when it takes the work over: "
            "seconds of CPU per 10,000 subjects). 0: no background notices (they are still "
            "written when a subject's notices are read).",
        ),
    ] = 1.0,
) -> None:
    """Run the HTTP service: routes under /v1, OpenAPI at /openapi.json, /healthz, /metrics.

    The database must exist (create it with `socialcredit init`); it is checked before the
    service starts. With --workers N, N processes share the port and the database, and
    /metrics sums every worker's figures.
    """
    from socialcredit.ledger import Ledger, LedgerError, normalise_url

    url = normalise_url(db)
    try:
        with Ledger.open(url) as ledger:
            ledger._check()
            shown = ledger.url
    except LedgerError as exc:
        raise CliError(f"{exc.message}; create it with `socialcredit init --db …` first") from None
    import tempfile

    try:
        import fastapi  # noqa: F401  (the application needs it; uvicorn alone is not enough)
        import uvicorn
    except ImportError as exc:
        raise CliError(
            f"serve needs the service extra: pip install 'socialcredit[service]' ({exc})"
        ) from None

    from socialcredit.api.app import DB_ENV, NOTICE_INTERVAL_ENV, PUBLIC_URL_ENV
    from socialcredit.api.protocol import HTTP

    os.environ[DB_ENV] = url
    os.environ[PUBLIC_URL_ENV] = public_url or ""
    os.environ[NOTICE_INTERVAL_ENV] = repr(notice_interval)
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.TemporaryDirectory(prefix="socialcredit-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir.name
    err.print(
        f"socialcredit serving {shown} on http://{host}:{port} "
        f"with {workers} worker{'s' if workers != 1 else ''}",
        highlight=False,
    )
    try:
        uvicorn.run(
            "socialcredit.api.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            log_level="info",
            proxy_headers=False,
            http=HTTP,  # a response in one write (socialcredit.api.protocol)
        )
    finally:
        if metrics_dir is not None:
            metrics_dir.cleanup()
