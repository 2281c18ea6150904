"""Reads of a SQLite ledger do not load SQLAlchemy, nor `check` Rich (issue 5, item 14:
start-up of `check`).

Each command runs in a fresh interpreter, so ``sys.modules`` afterwards holds exactly what
the command loaded. Its output is compared with the same command run in this process.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import socialcredit
from socialcredit.cli.common import Part, print_styled, styled
from tests.cli.conftest import call

HEAVY_FOR_A_READ = {"sqlalchemy", "alembic", "pyarrow", "psycopg", "multiprocessing", "asyncio"}


def run_fresh(*args: str) -> tuple[int, str, set[str]]:
    """Run the CLI with ``args`` in a new interpreter: (exit code, stdout, modules loaded)."""
    code = (
        "import json, sys\n"
        "from socialcredit.cli import run\n"
        f"code = run({list(args)!r})\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    modules = json.loads(result.stderr.rsplit("MODULES ", 1)[1])
    return result.returncode, result.stdout, {m.split(".")[0] for m in modules} | set(modules)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "debtor", "air_travel", "--at", "2026-06-01"],
        ["check", "debtor", "air_travel", "--at", "2026-06-01", "--json"],
        ["check", "nobody-known", "air_travel", "--at", "2026-06-01", "--json"],
        ["score", "child", "--at", "2026-06-01", "--json"],
        ["explain", "debtor", "--service", "air_travel", "--at", "2026-06-01"],
    ],
)
def test_a_read_on_sqlite_loads_no_sqlalchemy(
    db: str, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, modules = run_fresh(*args, "--db", db)
    assert code == 0 and out.strip()
    assert modules & HEAVY_FOR_A_READ == set()
    # and it answers exactly what the same command answers in this process
    assert (code, out) == call(capsys, *args, "--db", db)[:2]


def test_the_answer_is_read_from_the_file(db: str) -> None:
    # debtor's unfulfilled judgment of 2026-01-10 lists them: air travel is denied while it
    # is unfulfilled (ground (1) has no term), so there is no date to give
    code, out, modules = run_fresh(
        "check", "debtor", "air_travel", "--at", "2026-06-01", "--json", "--db", db
    )
    data = json.loads(out)
    assert code == 0 and data["decision"] == "deny" and data["reasons"] == ["SPC-DEBTOR"]
    assert data["eligible_again_on"] is None and data["known"] is True
    assert "sqlalchemy" not in modules


def test_a_file_that_is_no_ledger_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plain.db"
    path.write_bytes(b"this is not a database file at all, just text" * 200)
    code, out, err = call(capsys, "check", "x", "air_travel", "--db", str(path))
    assert code == 2 and out == ""
    assert f"{path} is not a socialcredit database (not an SQLite file)" in err


def test_a_read_does_not_create_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "never-initialised.db"
    code, out, err = call(capsys, "check", "x", "air_travel", "--db", str(path))
    assert code == 2 and out == "" and f"socialcredit init --db {path}" in err
    assert not path.exists()  # a mistyped path leaves no empty database behind


@pytest.mark.parametrize(
    "args",
    [
        ["check", "debtor", "air_travel", "--at", "2026-06-01"],
        ["check", "stranger", "air_travel", "--at", "2026-06-01", "--json"],
    ],
)
def test_check_on_a_pipe_loads_no_rich(db: str, args: list[str]) -> None:
    # its one line needs no colour on a pipe: it is written as Rich would write it
    code, out, modules = run_fresh(*args, "--db", db)
    assert code == 0 and out.strip()
    assert "rich" not in modules


def rich_would_print(parts: tuple[Part, ...]) -> str:
    """What the CLI's console prints for ``styled(*parts)`` (a console of the CLI's settings)."""
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, soft_wrap=True, markup=False, emoji=False).print(styled(*parts))
    return buffer.getvalue()


def assert_printed_as_rich_would(*parts: Part) -> None:
    expected = rich_would_print(parts)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        print_styled(*parts)
    assert buffer.getvalue() == expected


@pytest.mark.parametrize(
    "subject",
    ["P00000010", "a b", "x:smile:y", "[bold]x", "a[/red]", "emoji :thumbs_up: here", "é\tz"],
)
def test_a_check_line_is_what_rich_would_print(subject: str) -> None:
    line = f" {subject} air_travel reasons: SPC-DEBTOR; eligible again on 2036-04-25"
    assert_printed_as_rich_would(("DENY", "red"), line)
    # and it is the subject as written: nothing is read as markup or an emoji code
    assert_printed_as_rich_would(subject)
    if subject.isprintable():
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            print_styled(("DENY", "red"), line)
        assert buffer.getvalue() == f"DENY{line}\n"


@given(st.text(st.characters(codec="utf-8"), max_size=20))
def test_any_subject_prints_as_rich_would(subject: str) -> None:
    assert_printed_as_rich_would(
        ("ALLOW", "green"), f" {subject} air_travel under p@1 (sha256 abc)"
    )


def test_version_reads_no_package_metadata() -> None:
    # the version is socialcredit.__version__ (the distribution's is built from it)
    code, out, modules = run_fresh("--version")
    assert code == 0 and out.split() == ["socialcredit", socialcredit.__version__]
    assert "importlib.metadata" not in modules
