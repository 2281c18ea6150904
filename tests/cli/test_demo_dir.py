"""``demo --dir`` deletes nothing it did not make (issue 6, item 8).

The demo marks the directories it makes or finds empty (``DEMO_MARKER``); only a directory
so marked is rebuilt, and then only the demo's own files are deleted. Any other non-empty
directory is refused in one line (exit 2) and left exactly as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialcredit.demo import DEMO_FILES, DEMO_MARKER
from socialcredit.examples import example_policy
from tests.cli.conftest import call


def _demo(capsys: pytest.CaptureFixture[str], where: Path, *args: str) -> tuple[int, str, str]:
    return call(capsys, "demo", "--dir", str(where), "--subjects", "12", *args)


def _tree(where: Path) -> dict[str, bytes]:
    return {str(p.relative_to(where)): p.read_bytes() for p in where.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "files",
    [
        {"thesis.tex": b"three years"},
        # a ledger of one's own that happens to have the demo's file names: not the demo's
        {"demo.db": b"my own ledger", "population.jsonl": b'{"id": "mine"}\n'},
        {"demo.db-wal": b"x"},
        {"sub/notes.txt": b"nested"},
    ],
    ids=["a-user-file", "demo-names", "a-wal", "a-subdirectory"],
)
def test_a_directory_the_demo_did_not_make_is_refused_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, bytes]
) -> None:
    where = tmp_path / "work"
    for name, content in files.items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        (where / name).write_bytes(content)
    code, out, err = _demo(capsys, where)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: --dir {where}: not empty and not a directory the demo made")
    assert _tree(where) == files  # nothing deleted, nothing added


def test_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = tmp_path / "notes.txt"
    where.write_text("words")
    code, _, err = _demo(capsys, where)
    assert code == 2 and "exists and is not a directory" in err and err.count("\n") == 1
    assert where.read_text() == "words"


@pytest.mark.parametrize("exists", [False, True], ids=["new", "empty"])
def test_a_new_or_empty_directory_is_used_and_marked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], exists: bool
) -> None:
    where = tmp_path / "a" / "demo"
    if exists:
        where.mkdir(parents=True)
    code, out, err = _demo(capsys, where)
    assert code == 0, err
    assert "subjects in the ledger" in out
    assert (where / "demo.db").is_file() and (where / DEMO_MARKER).is_file()
    assert {p.name for p in where.iterdir()} <= {DEMO_MARKER, *DEMO_FILES}


def test_a_previous_demo_is_rebuilt_and_only_its_files_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = tmp_path / "demo"
    code, _, _ = _demo(capsys, where, "--seed", "1")
    assert code == 0
    (where / "my-notes.txt").write_text("keep")
    (where / "results").mkdir()
    (where / "results" / "table.csv").write_text("a,b\n")
    before = (where / "population.jsonl").read_bytes()
    code, second, err = call(capsys, "demo", "--dir", str(where), "--subjects", "30", "--seed", "2")
    assert code == 0, err
    assert "of a synthetic population of 30" in second
    assert (where / "population.jsonl").read_bytes() != before  # rebuilt, not appended to
    assert (where / "my-notes.txt").read_text() == "keep"
    assert (where / "results" / "table.csv").read_text() == "a,b\n"
    # the rebuilt ledger holds the new population only
    shown = int(second.split()[0].replace(",", ""))  # "N subjects in the ledger …"
    code, out, _ = call(capsys, "subjects", "--db", str(where / "demo.db"), "--json")
    assert code == 0 and json.loads(out)["matching"] == shown


def test_the_demo_report_prints_policy_text_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 6, item 13: the report names the policy, whose version is free text
    text = example_policy("china-scs").read_text(encoding="utf-8")
    assert text.count('version: "2026.3"') == 1
    policy = tmp_path / "p[b].yaml"
    policy.write_text(text.replace('version: "2026.3"', 'version: "[b]1[/x]"'))
    code, out, err = _demo(capsys, tmp_path / "d", "--policy", str(policy))
    assert code == 0, err
    assert "under china-scs@[b]1[/x], as of" in " ".join(out.split())
