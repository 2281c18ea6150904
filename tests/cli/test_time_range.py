"""The supported time range (years 1000 to 9999, UTC) from the command line: ``--at``
outside it is refused like a bad date, and a ledger holding times at both ends of the
range works with every reading command (issue 6, item 3)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.cli.conftest import CHINA, activate, call


@pytest.mark.parametrize("at", ["0001-01-01", "0999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00"])
@pytest.mark.parametrize(
    "command",
    [
        ["score", "debtor"],
        ["check", "debtor", "air_travel"],
        ["explain", "debtor", "--service", "air_travel"],
    ],
)
def test_at_outside_the_supported_range_is_refused(
    db: str, capsys: pytest.CaptureFixture[str], command: list[str], at: str
) -> None:
    code, out, err = call(capsys, *command, "--at", at, "--db", db)
    assert code == 2 and not out
    assert "outside the supported range (1000-01-01T00:00:00Z to 9999-12-31T23:59:59Z)" in err
    assert "Traceback" not in err


def test_the_ends_of_the_range_work_with_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "ends.db")
    activate(path, CHINA, -30_610_224_000)  # in force from 1000-01-01
    entries = [
        {
            "id": "old",
            "source": "court",
            "subject": "ancient",
            "type": "court_judgment_unfulfilled",
            "occurred_at": "1000-01-01T00:00:00Z",
            "recorded_at": "1000-01-01T01:00:00+01:00",
            "amount": 1e15,
        },
        {
            "kind": "relation",
            "id": "rel",
            "source": "registry",
            "subject": "heir",
            "relation": "child_of",
            "related_subject": "ancient",
            "valid_from": "1000-01-01",
            "valid_until": "9999-12-31T23:59:59Z",
        },
    ]
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))
    code, out, err = call(capsys, "ingest", str(data), "--db", path)
    assert code == 0 and "accepted 2" in out, out + err
    for at in ("1000-01-01", "2026-01-01", "9999-12-31T23:59:59Z"):
        for command in (
            ["score", "ancient"],
            ["score", "heir", "--json"],
            ["check", "heir", "air_travel"],
            ["explain", "heir", "--service", "air_travel"],
            ["explain", "ancient"],
            ["subjects"],
        ):
            code, out, err = call(capsys, *command, "--at", at, "--db", path)
            assert code == 0, (command, at, err)
            assert "Traceback" not in err
        for fmt in ("jsonl", "csv", "parquet"):
            target = tmp_path / f"s{at[:4]}.{fmt}"
            code, out, err = call(
                capsys, "export", "standings", "-o", str(target), "--at", at, "--db", path
            )
            assert code == 0, (fmt, at, err)
    records = tmp_path / "records.jsonl"
    code, out, err = call(capsys, "export", "records", "-o", str(records), "--db", path)
    assert code == 0, err
    lines = [orjson.loads(line) for line in records.read_bytes().splitlines()]
    assert lines[0]["occurred_at"] == "1000-01-01T00:00:00Z"
    assert lines[1]["valid_until"] == "9999-12-31T23:59:59Z"
