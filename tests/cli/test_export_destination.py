"""``export``'s destination (issue 6, item 15): checked before anything is read or scored; a
file appears only once whole (a full disk leaves nothing behind, an existing file as it
was); an existing file is replaced only with ``--force``. Through the real CLI.

A full disk is met for real where it can be without privileges: the file size limit of the
exporting process (``RLIMIT_FSIZE``, the kernel refuses writes past it with EFBIG) and
``/dev/full`` (every write fails with ENOSPC).
"""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from socialcredit.ledger import Ledger
from tests.cli.conftest import CHINA, IN_FORCE_FROM, activate, call

SUBJECTS = 20_000
LIMIT = 100_000  # bytes: less than any of the exports below, more than SQLite's -shm file


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ledger whose every export is larger than ``LIMIT``."""
    path = str(tmp_path_factory.mktemp("big") / "big.db")
    activate(path, CHINA, IN_FORCE_FROM)
    with Ledger.open(path) as ledger:
        result = ledger.ingest_entries(
            (
                {
                    "id": f"v{i}",
                    "source": "civic",
                    "subject": f"P{i:08d}",
                    "type": "volunteering",
                    "occurred_at": "2026-03-01",
                }
                for i in range(SUBJECTS)
            ),
            now=IN_FORCE_FROM + 86400 * 90,
        )
    assert result.accepted == SUBJECTS
    return path


def _export(*args: str, cwd: Path, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """``socialcredit export ARGS`` in a new process, its files limited to ``limit`` bytes."""

    def limited() -> None:
        if limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails (EFBIG)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "socialcredit", "export", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        preexec_fn=limited,
        timeout=120,
    )


def _one_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return " ".join(result.stderr.split())


FORMATS = [("records", "jsonl"), ("records", "csv"), ("records", "parquet")]
FORMATS += [("standings", "jsonl"), ("standings", "csv"), ("standings", "parquet")]


@pytest.mark.parametrize(("what", "fmt"), FORMATS)
def test_a_full_disk_leaves_no_partial_file(
    big_db: str, tmp_path: Path, what: str, fmt: str
) -> None:
    out = tmp_path / f"out.{fmt}"
    result = _export(what, "-o", out.name, "--db", big_db, cwd=tmp_path, limit=LIMIT)
    err = _one_error(result)
    assert f"cannot write {out.name}: File too large; the file was not made" in err
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary file
    # without the limit, the same export is larger than it: the limit was met mid-way
    assert _export(what, "-o", out.name, "--db", big_db, cwd=tmp_path).returncode == 0
    assert out.stat().st_size > LIMIT


def test_a_full_disk_leaves_a_replaced_file_as_it_was(big_db: str, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("yesterday's export\n")
    result = _export(
        "records", "-o", out.name, "--force", "--db", big_db, cwd=tmp_path, limit=LIMIT
    )
    err = _one_error(result)
    assert f"cannot write {out.name}: File too large; the file is as it was" in err
    assert out.read_text() == "yesterday's export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_a_device_that_is_full_is_reported(big_db: str, tmp_path: Path) -> None:
    result = _export(
        "records", "-o", "/dev/full", "--format", "jsonl", "--db", big_db, cwd=tmp_path
    )
    assert "cannot write /dev/full: No space left on device" in _one_error(result)


def test_an_existing_file_is_replaced_only_with_force(
    big_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "standings.csv"
    out.write_text("keep me\n")
    out.chmod(0o640)
    code, stdout, err = call(capsys, "export", "standings", "-o", str(out), "--db", big_db)
    assert code == 2 and stdout == ""
    assert f"{out} already exists: give --force to replace it, or another name" in err
    assert out.read_text() == "keep me\n"
    code, stdout, err = call(
        capsys, "export", "standings", "-o", str(out), "--db", big_db, "--force"
    )
    assert code == 0 and f"wrote {SUBJECTS:,} standings" in stdout, err
    assert out.read_text().startswith('"subject",')
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # the replaced file's permissions
    assert [p.name for p in tmp_path.iterdir()] == ["standings.csv"]


def test_a_new_file_gets_the_usual_permissions(
    big_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "records.parquet"
    code, _, err = call(capsys, "export", "records", "-o", str(out), "--db", big_db)
    assert code == 0, err
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask  # not the temporary file's 0600
    assert [p.name for p in tmp_path.iterdir()] == ["records.parquet"]


def test_a_symbolic_link_is_followed(
    big_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    code, _, err = call(capsys, "export", "records", "-o", str(link), "--force", "--db", big_db)
    assert code == 0, err
    assert link.is_symlink() and target.read_text().count("\n") == SUBJECTS


@pytest.mark.parametrize("what", ["records", "standings"])
def test_a_missing_directory_is_refused_before_the_ledger_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    # the database does not exist either: the destination is what is checked first
    out = tmp_path / "no" / "such" / "out.jsonl"
    code, stdout, err = call(
        capsys, "export", what, "-o", str(out), "--db", str(tmp_path / "missing.db")
    )
    assert code == 2 and stdout == ""
    assert f"cannot write {out}: the directory {out.parent} does not exist" in err
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_directory_is_refused_before_the_ledger_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /sys refuses new files to everyone, root included
    code, stdout, err = call(
        capsys, "export", "records", "-o", "/sys/out.jsonl", "--db", str(tmp_path / "x.db")
    )
    assert code == 2 and stdout == ""
    assert "cannot write /sys/out.jsonl: cannot create a file in /sys (Permission denied)" in err


def test_a_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "out.jsonl"
    folder.mkdir()
    code, _, err = call(capsys, "export", "records", "-o", str(folder), "--db", "x.db")
    assert code == 2 and f"cannot write {folder}: it is a directory" in err
    assert list(folder.iterdir()) == []


def test_a_failed_read_leaves_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    code, _, err = call(
        capsys, "export", "standings", "-o", str(tmp_path / "s.csv"), "--db", str(notes)
    )
    assert code == 2 and "not a socialcredit database" in err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
