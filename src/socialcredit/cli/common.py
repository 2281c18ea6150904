"""What every command shares: the Typer apps, consoles, options and small helpers."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from socialcredit.engine import Engine
from socialcredit.errors import SocialCreditError
from socialcredit.ledger import Ledger
from socialcredit.timeutil import parse_timestamp

app = typer.Typer(
    help="An open, accountable social credit engine: policies as data, explained decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
policy_app = typer.Typer(help="Read, check and activate policies.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class CliError(SocialCreditError):
    """A problem to report to the user as one message, with an exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = code


def now() -> int:
    """The wall clock, in epoch seconds: the only place the CLI reads the time."""
    return int(time.time())


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SOCIALCREDIT_DB",
        help="Database: a SQLAlchemy URL or a SQLite file path [default: socialcredit.db].",
    ),
]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Evaluate as of this date or time (ISO 8601) [default: now]."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
PolicyOption = Annotated[
    str | None,
    typer.Option("--policy", help="Use this policy file instead of the active one."),
]


def parse_at(value: str | None) -> int | None:
    return parse_timestamp(value) if value else None


@contextmanager
def open_ledger(db: str | None, create: bool = False) -> Iterator[Ledger]:
    ledger = Ledger.open(db)
    try:
        if create:
            ledger.upgrade()
        yield ledger
    finally:
        ledger.close()


def open_engine(ledger: Ledger, policy: str | None) -> Engine:
    return Engine.open(ledger, now, policy)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def progress_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )
