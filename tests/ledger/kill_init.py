"""Run the ``socialcredit`` CLI again and again, each time SIGKILLed right after its n-th SQL
statement, n = 1, 2, … until a run finishes; the test checks the database between runs.

Used by ``test_init_atomic.py``: the program is unchanged, the kill is the test's (a
SQLAlchemy event listener). Each run is a child process forked from this one once the
imports are done (a fresh interpreter per run would cost a second each). Protocol on
stdout/stdin: after each run this prints ``killed N`` or ``finished N CODE``; after
``killed`` it waits for a line on stdin before the next run.

    python kill_init.py ARGS...      # e.g. init --db ledger.db
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import alembic.command
import alembic.config
import alembic.runtime.migration
import psycopg
import sqlalchemy.dialects.postgresql.psycopg
import sqlalchemy.dialects.sqlite.pysqlite
from sqlalchemy import event
from sqlalchemy.engine import Engine

import socialcredit.ledger.schema
from socialcredit.cli import run

# what every run imports, imported once here (each run forks from this process)
PRELOADED = (
    alembic.command,
    alembic.config,
    alembic.runtime.migration,
    psycopg,
    sqlalchemy.dialects.postgresql.psycopg,
    sqlalchemy.dialects.sqlite.pysqlite,
    socialcredit.ledger.schema,
)

_kill_after = 0
_done = 0


@event.listens_for(Engine, "after_cursor_execute")
def _count(*_: Any) -> None:
    global _done
    _done += 1
    if _done == _kill_after:
        os.kill(os.getpid(), signal.SIGKILL)


def _child(args: list[str], n: int) -> None:
    global _kill_after
    _kill_after = n
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    code = 1
    try:
        code = run(args)
    finally:
        os._exit(code)


def main(args: list[str]) -> None:
    n = 1
    while True:
        pid = os.fork()
        if pid == 0:
            _child(args, n)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            print(f"killed {n}", flush=True)
            sys.stdin.readline()
            n += 1
            continue
        print(f"finished {n} {os.waitstatus_to_exitcode(status)}", flush=True)
        return


if __name__ == "__main__":
    main(sys.argv[1:])
