"""``explain``, ``check`` and ``score`` in an 80-column terminal: each sentence is wrapped
at spaces to the width (the terminal's own wrapping cut numbers, dates and names in two);
in a pipe each stays one line, as scripts read it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.standings_ledger import AT, build


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    return build(tmp_path, capsys)


def _run(*args: str, terminal: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env.update(COLUMNS="80", NO_COLOR="1")
    if terminal:
        env["TTY_COMPATIBLE"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "socialcredit", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # bold, as a terminal shows it


@pytest.mark.parametrize(
    "args",
    [
        ("explain", "debtor", "--at", AT),
        ("explain", "boss", "--at", AT),
        ("score", "debtor", "--at", AT),
        ("check", "debtor", "air_travel", "--at", AT),
    ],
    ids=["explain-debtor", "explain-boss", "score", "check"],
)
def test_sentences_wrap_at_spaces_in_a_terminal_and_stay_whole_in_a_pipe(
    db: str, args: tuple[str, ...]
) -> None:
    piped = _run(*args, "--db", db, terminal=False)
    shown = _run(*args, "--db", db, terminal=True)
    assert max(len(line) for line in piped.splitlines()) > 80  # something to wrap
    lines = shown.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines), shown
    # broken at spaces only: the same words in the same order (tables aside)
    assert shown.split() == piped.split()
