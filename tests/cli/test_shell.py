"""The shell around the commands: --version, -h, defaults in --help, whole identifiers in
pipes and narrow terminals, the documented exit codes, one line for every bad input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version as dist_version
from pathlib import Path

import orjson
import pytest

import socialcredit
from socialcredit.cli import run
from socialcredit.demo.china import DEFAULT_SUBJECTS
from tests.cli.conftest import ROOT, call

LONG_ID = "court-enforcement-bureau-shanghai-2026/judgment-000000000000000012345678"


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "--version")
    assert code == 0 and out.strip() == f"socialcredit {socialcredit.__version__}"
    # one source of truth: the installed metadata says the same, and pyproject reads it
    assert dist_version("socialcredit") == socialcredit.__version__
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "socialcredit.__version__" }' in pyproject


@pytest.mark.parametrize(
    "command", [[], ["score"], ["check"], ["demo"], ["policy"], ["policy", "show"], ["ingest"]]
)
def test_h_is_help_everywhere(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, short, _ = call(capsys, *command, "-h")
    assert code == 0 and "Usage:" in short
    code, long, _ = call(capsys, *command, "--help")
    assert short == long


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["score"], ["--db", "socialcredit.db", "--at", "now", "--policy", "the policy in force"]),
        (["check"], ["socialcredit.db"]),
        (["explain"], ["every service with a measure in force"]),
        (["subjects"], ["--limit", "socialcredit.db"]),
        (
            ["demo"],
            [f"{DEFAULT_SUBJECTS:,} for china", "2026", "demo-data", "the system's example policy"],
        ),
    ],
)
def test_help_shows_every_default(
    command: list[str],
    expected: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one option per line, nothing wrapped
    code, out, _ = call(capsys, *command, "--help")
    assert code == 0
    defaults = re.findall(r"\[default: ([^\]]+)\]", out)
    for word in expected:
        assert word in out
    if command != ["explain"]:
        assert any("socialcredit.db" in d for d in defaults) or command == ["demo"]
    # every option that takes a value and has a default shows it
    for line in out.splitlines():
        if re.search(r"--(db|at|limit|subjects|seed|dir)\b", line):
            assert "[default:" in line, line


def _ledger_with_long_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    from tests.cli.conftest import CHINA, IN_FORCE_FROM, activate

    db = str(tmp_path / "long.db")
    activate(db, CHINA, IN_FORCE_FROM)
    source, entry_id = LONG_ID.split("/")
    data = tmp_path / "long.jsonl"
    data.write_bytes(
        orjson.dumps(
            {
                "id": entry_id,
                "source": source,
                "subject": "debtor",
                "type": "court_judgment_unfulfilled",
                "occurred_at": "2026-01-10",
                "recorded_at": "2026-01-12",
            }
        )
        + b"\n"
    )
    assert call(capsys, "ingest", str(data), "--db", db, "--backfill")[0] == 0
    return db


def test_tables_never_truncate_identifiers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _ledger_with_long_ids(tmp_path, capsys)
    # a pipe (not a terminal) in an 80-column environment, as `score debtor | cat` is
    env = {**os.environ, "COLUMNS": "80"}
    result = subprocess.run(
        [sys.executable, "-m", "socialcredit", "score", "debtor", "--db", db, "--at", "2026-06-01"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    # too long for a table row in 80 columns: the row is a block, the id on one line, whole
    assert LONG_ID in result.stdout.split()


# Exit codes as the README documents them: a representative command for each.
def test_exit_codes_are_as_documented(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    documented = {int(m) for m in re.findall(r"^\| `(\d+)` \|", table, re.M)}
    assert documented == {0, 1, 2, 141}  # 141: see test_a_closed_pipe_exits_141_quietly
    bad_lines = tmp_path / "bad.jsonl"
    bad_lines.write_text('{"id": "x", "source": "s", "subject": "a", "type": "no_such_type"}\n')
    bad_policy = tmp_path / "bad.yaml"
    bad_policy.write_text("policy: x\nversion: 1\n")
    cases = [
        (0, ["check", "debtor", "air_travel", "--db", db]),
        (0, ["policy", "validate", str(ROOT / "examples" / "policies" / "china-scs.yaml")]),
        (1, ["ingest", str(bad_lines), "--db", db]),
        (2, ["check", "debtor", "air_travl", "--db", db]),
        (2, ["score", "nobody", "--db", db]),
        (2, ["score", "debtor", "--at", "yesterday-ish", "--db", db]),
        (2, ["score", "debtor", "--no-such-option"]),
        (2, ["policy", "validate", str(bad_policy)]),
        (2, ["policy", "activate", str(bad_policy), "--db", db]),
        (2, ["score", "x", "--db", str(tmp_path / "never-initialised.db")]),
    ]
    for expected, args in cases:
        assert call(capsys, *args)[0] == expected, args


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score", "nobody"], "no entry about subject 'nobody'"),
        (["score", "debtor", "--at", "last tuesday"], "not a timestamp"),
        (["score", "debtor", "--policy", "missing.yaml"], "missing.yaml"),
        (["check", "debtor", "air_travl"], "did you mean 'air_travel'"),
        (["explain", "debtor", "--service", "nope"], "unknown service 'nope'"),
        (["export", "standings", "-o", "x.xlsx"], "cannot tell the format"),
        (["ingest", "missing.jsonl"], "cannot read 'missing.jsonl'"),
        (["subjects", "--grade", "Z"], "unknown grade 'Z'"),
        (["init", "--policy", "missing.yaml"], "missing.yaml"),
        (["export", "standings", "-o", "/nonexistent/dir/s.csv"], "/nonexistent/dir/s.csv"),
    ],
)
def test_errors_are_one_clear_line(
    db: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = call(capsys, *args, "--db", db)
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--subjects", "0"], "at least one subject"),
        (["--policy", "FAIR"], "does not declare"),
    ],
)
def test_demo_refuses_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    fair = str(ROOT / "examples" / "policies" / "fair-transit.yaml")
    args = [fair if a == "FAIR" else a for a in args]
    code, _, err = call(capsys, "demo", "--dir", str(tmp_path / "d"), *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_demo_never_deletes_a_directory_it_did_not_make(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep = tmp_path / "work" / "thesis.tex"
    keep.parent.mkdir()
    keep.write_text("three years")
    code, _, err = call(capsys, "demo", "--dir", str(keep.parent), "--subjects", "10")
    assert code == 2 and "thesis.tex" in err
    assert keep.read_text() == "three years"


def test_a_file_that_is_no_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database, just words\n" * 100)
    for args in (["score", "x"], ["init"], ["policy", "history"]):
        code, _, err = call(capsys, *args, "--db", str(text))
        assert code == 2 and "not a socialcredit database" in err and "Traceback" not in err, args
        assert len(err.strip().splitlines()) == 1


def test_no_active_policy_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "empty.db")
    assert call(capsys, "init", "--db", path)[0] == 0
    code, _, err = call(capsys, "score", "x", "--db", path)
    assert code == 2 and "no active policy" in err
    assert "socialcredit policy activate FILE" in err and "or pass --policy FILE" in err
    code, _, err = call(capsys, "score", "x", "--db", str(tmp_path / "never-initialised.db"))
    assert code == 2 and "socialcredit init" in err


def test_run_returns_usage_errors_as_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_top_level_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "-h")
    flat = " ".join(out.split())
    assert code == 0 and "Exit codes: 0 success; 1" in flat and "2 the input" in flat


def test_error_lines_have_a_colon(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_lines = tmp_path / "bad.jsonl"
    bad_lines.write_text('{"id": "x", "source": "s", "subject": "a", "type": "no_such_type"}\n')
    code, _, err = call(capsys, "ingest", str(bad_lines), "--db", db)
    assert code == 1 and err.startswith(f"rejected: {bad_lines}:1:"), err
    code, _, err = call(capsys, "check", "debtor", "air_travl", "--db", db)
    assert code == 2 and err.startswith("error: unknown service"), err
    bad = ROOT / "examples" / "policies" / "no-such.yaml"
    code, _, err = call(capsys, "policy", "validate", str(bad))
    assert code == 2 and err.startswith("error: "), err


def _big_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A ledger whose export is far more than a pipe's buffer (64 KiB)."""
    from tests.cli.conftest import CHINA, IN_FORCE_FROM, activate

    db = str(tmp_path / "big.db")
    activate(db, CHINA, IN_FORCE_FROM)
    data = tmp_path / "big.jsonl"
    data.write_bytes(
        b"".join(
            orjson.dumps(
                {
                    "id": f"v{i}",
                    "source": "civic",
                    "subject": f"P{i:06d}",
                    "type": "volunteering",
                    "occurred_at": "2026-03-01",
                }
            )
            + b"\n"
            for i in range(3000)
        )
    )
    assert call(capsys, "ingest", str(data), "--db", db)[0] == 0
    return db


def test_a_closed_pipe_exits_141_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _big_ledger(tmp_path, capsys)
    for args in (["export", "records", "-o", "-", "--db", db], ["policy", "show", "--db", db]):
        # `socialcredit … | head -1`: head exits after one line, the next write finds no reader
        writer = subprocess.Popen(
            [sys.executable, "-m", "socialcredit", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        head = subprocess.Popen(["head", "-1"], stdin=writer.stdout, stdout=subprocess.PIPE)
        assert writer.stdout is not None and writer.stderr is not None
        writer.stdout.close()
        first, _ = head.communicate()
        err = writer.stderr.read()
        code = writer.wait()
        assert first.strip(), args
        if code != 0:  # `policy show` may fit in the pipe and end before head closes it
            assert code == 141, (args, code, err)
        assert err == b"", (args, err)
    assert "| `141` |" in (ROOT / "README.md").read_text()


def test_boolean_flags_show_no_value_and_help_paragraphs_are_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = call(capsys, "check", "--help")
    assert code == 0
    json_line = next(x for x in out.splitlines() if "--json" in x)
    assert "<bool>" not in json_line and "Print JSON for scripts." in json_line
    assert "<bool>" not in out
    # the docstring's second paragraph is one line in a wide terminal, not broken where
    # the source broke it
    flat = [x.strip(" │") for x in out.splitlines()]
    assert any(
        x.startswith(
            "A service the policy does not know is an error (exit 2); a subject the "
            "ledger had no entry about at that time is allowed"
        )
        for x in flat
    ), out
    code, out, _ = call(capsys, "--help")
    assert "<bool>" not in out
    code, out, _ = call(capsys, "examples", "--help")
    assert code == 0 and "``" not in out
