"""The ``socialcredit`` command: a thin shell over the library.

Each command parses its options, calls the engine, and prints a Rich table or, with
``--json``, the documented JSON contract. Errors in the input become one clear message and
a non-zero exit code (see ``socialcredit.errors``), never a traceback.
"""

from __future__ import annotations

import copy
import os
import sys

# Scoring is element-wise NumPy and never calls BLAS; OpenBLAS would otherwise start a pool
# of threads when NumPy is imported, ~50 ms of every command's start-up on two cores. Set
# before any command module imports NumPy; an explicit setting by the caller wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from typing import TYPE_CHECKING

import typer

# importing the command modules registers their commands on ``app``
from socialcredit.cli import (  # noqa: F401
    audit,
    disputes,
    export,
    ingest,
    keys,
    lint,
    notices,
    policy,
    read,
    serve,
    setup,
    simulate,
    subjects,
)
from socialcredit.cli.common import PipeClosed, app, err, styled
from socialcredit.errors import SocialCreditError

if TYPE_CHECKING:
    from rich.text import Text


def _command_name(info: typer.models.CommandInfo) -> str:
    # the name Typer gives the command (typer.main.get_command_from_info)
    from typer.main import get_command_name

    return info.name or get_command_name(info.callback.__name__ if info.callback else "")


def app_for(args: list[str]) -> typer.Typer:
    """``app``, holding only the command that ``args`` start with when they name one.

    Typer builds a Click command, with its options, for every command an app holds before
    it parses the arguments; one command is all a run can invoke, and building the other
    thirteen is ~5 % of a short command's start-up. Anything else (no arguments, an option
    such as ``--help`` or ``--version`` first, an unknown or misspelled command) gets the
    whole app, so help and "no such command" (with its suggestions) read as before.
    """
    if not args:
        return app
    commands = [c for c in app.registered_commands if _command_name(c) == args[0]]
    groups = [g for g in app.registered_groups if g.name == args[0]]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)  # the same callback, options, help and settings
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed


def run(args: list[str] | None = None) -> int:
    """Run the CLI with ``args``; return the exit code. Known errors print one message."""
    try:
        # without standalone mode, typer returns the code of a typer.Exit instead of exiting
        code = app_for(sys.argv[1:] if args is None else args)(args, standalone_mode=False)
        sys.stdout.flush()  # a reader gone by now is found here, not at the interpreter's exit
        return code if isinstance(code, int) else 0
    except (PipeClosed, BrokenPipeError):
        return _pipe_closed()
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: typer prints them itself
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            err.print(_error(exc.format_message()))
        return int(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        return 1
    except SocialCreditError as exc:
        # a PolicyError carries every problem found, each with its file, line and field
        problems = getattr(exc, "problems", None) or [exc.message + exc.cli_hint]
        for p in problems:
            err.print(_error(str(p)))
        return exc.exit_code
    except OSError as exc:
        # a file or directory named on the command line that cannot be read or written
        err.print(_error(str(exc)))
        return 2


def _error(message: str) -> Text:
    """``error: MESSAGE``, the message printed as written (it quotes data and file names)."""
    return styled(("error:", "red"), " ", message)


def _pipe_closed() -> int:
    """stdout's reader has gone (``… | head -1``): 141, as a shell reports a SIGPIPE death.

    stdout is pointed at /dev/null so that the interpreter's flush at exit, which would
    find the pipe closed again, stays quiet.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file behind stdout (e.g. captured in tests)
        pass
    return 141


def main() -> None:
    """Console entry point."""
    sys.exit(run())
