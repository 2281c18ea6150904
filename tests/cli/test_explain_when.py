"""``explain --at`` speaks of that date, never of "now"; without ``--at`` it speaks of now."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.conftest import call
from tests.cli.standings_ledger import AT, build


def test_explain_at_a_past_date_names_the_date_not_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = build(tmp_path, capsys)
    code, then, err = call(
        capsys, "explain", "debtor", "--service", "air_travel", "--db", db, "--at", AT
    )
    assert code == 0, err
    assert f"That record keeps the measure in force on {AT}; it" in then
    assert not re.search(r"\b(now|today|currently)\b", then), then
    code, today, err = call(capsys, "explain", "debtor", "--service", "air_travel", "--db", db)
    assert code == 0, err
    assert "That record keeps the measure in force now; it" in today
