"""What every demo shares (``socialcredit.demo.common``): each helper's own promise, on data
small enough to check by hand — a request refused before anything is made, the ledger set up
as history, a population line the policy rejects refused naming its line, the examples each
a different person where the population allows, and a worked example printed as one line
and its text, never read as markup."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import orjson
import pytest
from rich.console import Console
from rich.progress import Progress

from socialcredit.demo import common
from socialcredit.demo.wallets import pick
from socialcredit.examples import example_policy
from socialcredit.policy import load_policy
from socialcredit.timeutil import parse_timestamp

START = parse_timestamp("2026-01-01")
END = parse_timestamp("2026-06-01")
LOADED = parse_timestamp("2026-07-01T08:00:00Z")


def test_a_request_is_refused_for_an_empty_population_and_a_future_history() -> None:
    common.check_request(1, lambda: END, END)  # one subject, a history ending now: fine
    with pytest.raises(common.DemoError, match=r"^--subjects 0: the electorate needs"):
        common.check_request(0, lambda: LOADED, END, needs="the electorate needs a citizen")
    with pytest.raises(
        common.DemoError,
        match=r"report time is 2026-06-01T00:00:00Z, after this machine's clock "
        r"\(2026-05-31T23:59:59Z\): its history would be in the ledger's future",
    ):
        common.check_request(5, lambda: END - 1, END, ends="report time is")


def test_timed_adds_up_the_steps_it_is_given() -> None:
    seconds: dict[str, float] = {"ingest": 2.0}
    with common.timed(seconds, "ingest"):
        pass
    with common.timed(seconds, "score"):
        pass
    assert list(seconds) == ["ingest", "score"]
    assert 2.0 <= seconds["ingest"] < 3.0 and 0.0 <= seconds["score"] < 1.0


def _line(n: int, subject: str, type_: str) -> dict[str, str]:
    return {
        "id": f"e{n}",
        "source": "court",
        "subject": subject,
        "type": type_,
        "occurred_at": "2026-02-01",
        "recorded_at": "2026-02-02",
    }


def test_the_ledger_is_history_and_a_rejected_line_is_refused_by_its_line(
    tmp_path: Path,
) -> None:
    path = example_policy("china-scs")
    loaded = load_policy(path)
    data = tmp_path / "population.jsonl"
    entries = [
        _line(1, "li", "court_judgment_unfulfilled"),
        {"kind": "relation", "id": "r1"},  # counted as a line with a kind
        _line(2, "wang", "no_such_type"),
    ]
    with Progress(disable=True) as progress:
        assert common.write_population(data, iter(entries), progress, "people") == (3, 1)
        assert [orjson.loads(x) for x in data.read_bytes().splitlines()] == entries
        data.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries[::2]))
        ledger = common.open_history(tmp_path, loaded, START, lambda: LOADED)
        try:
            [pv] = ledger.policy_history()
            assert (pv.activated_at, pv.recorded_at, pv.backfill) == (START, LOADED, True)
            with pytest.raises(common.DemoError) as refused:
                common.ingest_history(ledger, data, 2, loaded, path, progress, lambda: LOADED)
            message = str(refused.value)
            assert message.startswith(f"{path}: 1 line of the demo population was rejected")
            assert "line 2:" in message and "no_such_type" in message
            # a demo that shows what ingestion refuses gets the result instead
            result = common.ingest_history(
                ledger, data, 2, loaded, path, progress, lambda: LOADED, refuse_rejected=False
            )
            assert (result.rejected, result.problems[0].line) == (1, 2)
        finally:
            ledger.close()


def test_each_example_is_a_different_person_where_the_population_allows() -> None:
    names = ["ann", "bob", "cy"]
    picks: list[tuple[str, str, str]] = []
    pick(picks, "first", np.array([0, 1]), names, "bikes")
    pick(picks, "second", np.array([0, 1]), names, "bikes")  # ann is taken: bob
    pick(picks, "third", np.array([1]), names, "hotels")  # only bob fits: bob again
    pick(picks, "none", np.array([], dtype=np.intp), names, "hotels")  # nobody: no example
    assert picks == [
        ("first", "ann", "bikes"),
        ("second", "bob", "bikes"),
        ("third", "bob", "hotels"),
    ]


def test_the_heading_says_each_note_once_and_nothing_is_read_as_markup() -> None:
    console = Console(file=io.StringIO(), width=100)
    common.print_heading(
        console, "12 people [bold]as of[/bold] 2026", [None, "", "a note"], {"a": 1.0, "b": 0.25}
    )
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert printed.splitlines() == [
        "",
        "12 people [bold]as of[/bold] 2026",
        "a note",
        "time: a 1.0s, b 0.2s (total 1.2s)",
    ]


def test_blocks_of_lines_are_written_whole_and_counted(tmp_path: Path) -> None:
    data = tmp_path / "population.jsonl"
    blocks = [(b'{"id":"a"}\n{"kind":"relation"}\n', 2, 1), (b'{"id":"b"}\n', 1, 1)]
    with Progress(disable=True) as progress:
        # three lines, one of them not a record
        assert common.write_blocks(data, iter(blocks), progress, "people") == (3, 1)
    assert data.read_bytes() == b"".join(text for text, _, _ in blocks)
