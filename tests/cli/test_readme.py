"""The README's commands run as written: the quickstart, the CLI tour, the library example."""

from __future__ import annotations

import glob
import json
import re
import shlex
from pathlib import Path

import orjson
import pytest

from tests.cli.conftest import ROOT, call

README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    return README.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_readme_quickstart_is_two_commands_and_ci_runs_the_test_one() -> None:
    block = section("Quickstart").split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["./dev demo", "./dev test"]
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()


def test_readme_cli_tour_runs_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every tour line, in order, in a fresh directory with `records.jsonl` about P00000042."""
    block = section("CLI tour").split("```bash", 1)[1].split("```", 1)[0]
    lines = [line.split("  #")[0].strip() for line in block.strip().splitlines()]
    lines = [line for line in lines if line.startswith("socialcredit ")]
    assert len(lines) >= 10
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOCIALCREDIT_DB", raising=False)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    debt = {
        "id": "court-42",
        "source": "court",
        "subject": "P00000042",
        "type": "court_judgment_unfulfilled",
        "occurred_at": "2026-01-10",
        "recorded_at": "2026-01-12",
    }
    (tmp_path / "records.jsonl").write_bytes(orjson.dumps(debt) + b"\n")
    outputs: dict[str, str] = {}
    for line in lines:
        words = shlex.split(line)[1:]
        redirect = None
        if ">" in words:
            redirect = words[words.index(">") + 1]
            words = words[: words.index(">")]
        args = [m for w in words for m in (sorted(glob.glob(w)) if "*" in w else [w])]
        code, out, err = call(capsys, *args)
        assert code == 0, f"{line}: {err}"
        if redirect:
            (tmp_path / redirect).write_text(out)
        outputs[" ".join(words[:2])] = out
    assert json.loads((tmp_path / "policy.schema.json").read_text())["properties"]
    assert json.loads(outputs["score P00000042"])["lists"] == ["dishonest_judgment_debtors"]
    assert outputs["check P00000042"].startswith("DENY P00000042 air_travel")
    assert (tmp_path / "standings.parquet").stat().st_size > 0


def test_readme_documents_the_installed_use() -> None:
    text = section("CLI tour")
    assert "socialcredit examples" in text and "pip install dist/socialcredit-" in text


def test_readme_library_example_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = section("As a library").split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "['dishonest_judgment_debtors']" in out
    # the explanation names the policy and the record behind the measure
    assert re.search(r"china-scs@2026\.3.*court/j1", out, re.S)


def test_readme_simulate_commands_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command of "Simulate a policy", as written but on a smaller population and
    fewer days (the options are the README's; only their sizes change)."""
    block = section("Simulate a policy").split("```bash", 1)[1].split("```", 1)[0]
    block = block.replace("\\\n", " ")
    lines = [line.split("  #")[0].strip() for line in block.strip().splitlines()]
    assert len(lines) == 3
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    for line in lines:
        words = shlex.split(line)[1:]
        if ">" in words:
            words = words[: words.index(">")]
        for option, small in (("--population", "1100"), ("--days", "5")):
            if option in words:
                words[words.index(option) + 1] = small
        code, _, err = call(capsys, *words)
        assert code == 0, f"{line}: {err}"
    assert (tmp_path / "sim-out/report.html").exists()
    assert (tmp_path / "sim-compare/days.parquet").exists()


def test_every_picture_the_readme_shows_is_in_the_repository() -> None:
    import re

    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert pictures  # the simulator's report, at least
    for path in pictures:
        assert (ROOT / path).is_file(), path
