"""What every command shares: the Typer apps, consoles, options and small helpers."""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from typer.core import TyperGroup, TyperOption

from socialcredit.errors import SocialCreditError
from socialcredit.timeutil import parse_timestamp

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.text import Text

    from socialcredit.engine import Engine
    from socialcredit.ledger import Ledger

# Imports are kept light here and in every command module: each command imports what only
# it needs inside its function, so that `socialcredit check` does not pay for Parquet export
# or progress bars (start-up time is measured in benchmarks/bench_startup.py).


def version() -> str:
    """socialcredit's version: ``socialcredit.__version__``, which the distribution's version
    is built from (pyproject.toml), so no package metadata needs reading."""
    from socialcredit import __version__

    return __version__


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"socialcredit {version()}\n")
        raise typer.Exit(0)


class PipeClosed(Exception):
    """stdout was closed by its reader (``socialcredit … | head -1``).

    Raised in place of the BrokenPipeError, which Typer would turn into exit code 1 ("found
    problems"); ``socialcredit.cli.run`` exits 141 (128 + SIGPIPE) for it.
    """


_BACKTICKS = re.compile(r"``([^`]+)``")


def _tidy_help(command: Any) -> None:
    """Each help paragraph on one line (Typer keeps a docstring's line breaks after the
    first paragraph, ragged in any other width) and reST ``literals`` as 'literals'."""
    from socialcredit.cli.tables import help_text

    if command.help:
        command.help = _BACKTICKS.sub(r"'\1'", help_text(command.help))
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


class _Shell(TyperGroup):
    """The top-level command group: tidy help text, and a closed stdout let past Typer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _tidy_help(self)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise PipeClosed from exc


def _display_type_rich(self: TyperOption, ctx: Any) -> str | None:
    # A flag takes no value: Typer 0.29 would show "<bool>" after it ("--json <bool>")
    return None if self.is_flag else _typer_display_type_rich(self, ctx)


_typer_display_type_rich = TyperOption.display_type_rich
TyperOption.display_type_rich = _display_type_rich  # type: ignore[method-assign]


app = typer.Typer(
    cls=_Shell,
    help="An open, accountable social credit engine: policies as data, explained decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=(
        "Exit codes: 0 success; 1 the command ran and found problems in its input (rejected "
        "or conflicting lines); 2 the input or request cannot be used (a bad option, file, "
        "date or policy; an unknown name; no database or no policy in force); 141 the output "
        "was closed before it was all written (e.g. by `head`)."
    ),
)
policy_app = typer.Typer(help="Read, check and activate policies.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


class _LazyConsole:
    """A Rich ``Console`` made on first use: importing Rich is ~30-50 ms of a command's
    start-up, which `check` (JSON, or a line on a pipe: see ``print_markup``) does without."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            class _Console(Console):
                def on_broken_pipe(self) -> None:
                    # Rich would exit 1 ("found problems"): let ``run`` exit 141 instead
                    self.quiet = True
                    raise PipeClosed

            self._console = _Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


# Nothing printed is read as Rich markup or emoji codes: the values shown come from data and
# files (a subject called "evil[/x]" or "a:smile:b"), so a plain string is printed as written
# and styles are given explicitly (``styled``).
_out = _LazyConsole(soft_wrap=True, markup=False, emoji=False)
_err = _LazyConsole(stderr=True, soft_wrap=True, markup=False, emoji=False)
out = cast("Console", _out)
err = cast("Console", _err)

Part = str | tuple[str, str]
"""A piece of a line: text printed as written, or ``(text, style)`` in a Rich style."""


def styled(*parts: Part) -> Text:
    """One Rich ``Text`` from ``parts``: no text is ever read as markup or an emoji code, and
    characters that would act on the terminal (ESC, other controls) are shown as escapes
    (``tables.visible``)."""
    from rich.text import Text

    from socialcredit.display import visible

    return Text.assemble(
        *(visible(p) if isinstance(p, str) else (visible(p[0]), p[1]) for p in parts)
    )


def print_styled(*parts: Part) -> None:
    """Print ``parts`` as one line on stdout (see ``styled``).

    Where Rich would print just the text (stdout is no terminal, no FORCE_COLOR or
    TTY_COMPATIBLE asks for colour, and the text has no control character, which Rich would
    drop), the text is written directly, without importing Rich: the output is the same (a
    test compares them), the start-up of `check` ~30 ms shorter.
    """
    plain = "".join(p if isinstance(p, str) else p[0] for p in parts)
    fast = (
        "FORCE_COLOR" not in os.environ
        and "TTY_COMPATIBLE" not in os.environ
        and plain.isprintable()
    )
    if fast:
        try:
            fast = not sys.stdout.isatty()
        except ValueError:  # a closed stream: let Rich decide
            fast = False
    if fast:
        sys.stdout.write(plain + "\n")
    else:
        out.print(styled(*parts))


def print_wrapped(*parts: Part) -> None:
    """Print ``parts`` as one paragraph on stdout (see ``styled``; it may hold line breaks).
    In a terminal each line is wrapped at spaces to the terminal's width, so that no
    number, date or name is cut by the terminal's own wrapping (as the demos' sentences
    are); elsewhere (a pipe, a file) each stays one line, as ``print_styled`` prints it."""
    plain = "".join(p if isinstance(p, str) else p[0] for p in parts)
    if "\n" not in plain:
        try:
            terminal = sys.stdout.isatty() or "TTY_COMPATIBLE" in os.environ
        except ValueError:  # a closed stream: let Rich decide
            terminal = True
        if not terminal:
            print_styled(*parts)
            return
    out.print(styled(*parts), soft_wrap=not out.is_terminal)


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print socialcredit's version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Options of the ``socialcredit`` command itself (the help text is the app's)."""


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
        help="Database: a SQLAlchemy URL or a SQLite file path.",
        show_default="socialcredit.db",
    ),
]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Evaluate as of this time (ISO 8601; a bare date is 00:00 UTC), under the policy in force then.",
        show_default="now",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
# a page of a listing (subjects, disputes): 50 rows by default, 0 for all
LimitOption = Annotated[
    int, typer.Option("--limit", min=0, help="At most this many rows; 0 for all.")
]
PolicyOption = Annotated[
    str | None,
    typer.Option(
        "--policy",
        help="Use this policy file instead of the policy in force (at --at).",
        show_default="the policy in force",
    ),
]


def parse_at(value: str | None) -> int | None:
    """``--at``: epoch seconds, or None for now."""
    return parse_timestamp(value) if value else None


@contextmanager
def open_ledger(db: str | None, create: bool = False) -> Iterator[Ledger]:
    """The ledger at ``db`` (created or upgraded with ``create``), closed afterwards."""
    from socialcredit.ledger import Ledger

    ledger = Ledger.open(db)
    try:
        if create:
            ledger.upgrade()
        yield ledger
    finally:
        ledger.close()


def open_engine(ledger: Ledger, policy: str | None) -> Engine:
    """An engine over ``ledger``: under ``policy`` (a file) or the policies in force."""
    from socialcredit.engine import Engine

    return Engine.open(ledger, now, policy)


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (not through Rich: no wrapping, no markup).

    JSON has no NaN or infinity: data holding one is an error (``CliError``, naming where)
    and nothing is printed. Policies bound every number (``MAX_POINTS``) so that scores
    stay finite; this is the last guard, never a way to print invalid JSON.
    """
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        where = _not_finite(data, "") or "a value"
        raise CliError(
            f"the answer holds a number that is not finite ({where}), which JSON cannot "
            "carry; nothing was printed"
        ) from None
    sys.stdout.write(text + "\n")


def _not_finite(data: Any, here: str) -> str | None:
    """Where in ``data`` the first NaN or infinity is, as ``field.list[0]``; None if nowhere."""
    if isinstance(data, float) and not math.isfinite(data):
        return f"{here or 'the answer'} is {data}"
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list | tuple)
        else ()
    )
    for key, value in items:
        found = _not_finite(
            value, f"{here}[{key}]" if isinstance(key, int) else f"{here}.{key}".lstrip(".")
        )
        if found:
            return found
    return None


def progress_bar() -> Progress:
    """A progress bar on stderr, shown only on a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err.console,
        transient=False,
        disable=not err.is_terminal,
    )
