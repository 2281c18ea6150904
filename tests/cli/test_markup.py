"""Output cannot be forged (issue 6, item 13): text from data and files is printed as written.

Markup-like identifiers, sources, record types, field names, file names and the free text a
policy allows (its version, grade names, list and service names, reason codes, titles) go
through every command, in a wide terminal (tables) and a narrow one (one block per row).
Each must appear exactly as written; nothing may crash, nothing may be read as Rich markup
(``evil[/x]`` raised MarkupError, ``P[b]1`` showed as ``P1``) or as an emoji code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from socialcredit.cli import common
from socialcredit.timeutil import DAY, to_iso
from tests.cli.conftest import call
from tests.policy.test_policy_language import edit

EVIL = "evil[/x]"  # a closing tag that matches nothing: Rich raised MarkupError
BOLD = "P[b]1"  # Rich showed "P1"
EMOJI = "a:smile:b"  # Rich showed "a😄b"
KID = "kid[/bold]"
SOURCE = "court[/x]"
RECORD_ID = "r[b]1[/b]"
VERSION = "[b]1[/x]"
TITLE = "[bold red]Title[/x] :thumbs_up:"
GRADE_A, GRADE_B = "[b]A", "B[/x]"
TOLD_AS = "[red]debtors[/x]"
SERVICE_NAME = "[i]flights[/i]"
ACTION = "board [blink]planes[/x]"
CODE = "DEBTOR[/x]"
BAD_TYPE = "t[/x]"
BAD_FIELD = "[b]f[/b]"
CSV_FIELD = "[/x]col"


def _policy_text() -> str:
    text = edit('version: "1"', f"version: {json.dumps(VERSION)}")
    text = edit(
        "meta: {title: Base policy for tests}", f"meta: {{title: {json.dumps(TITLE)}}}", text
    )
    text = edit(
        "{name: A, at_least: 1000}", f"{{name: {json.dumps(GRADE_A)}, at_least: 1000}}", text
    )
    text = edit("{name: B, at_least: 900}", f"{{name: {json.dumps(GRADE_B)}, at_least: 900}}", text)
    text = edit(
        "    when: {records: {type: debt, unresolved: true}}",
        f"    display_name: {json.dumps(TOLD_AS)}\n"
        "    when: {records: {type: debt, unresolved: true}}",
        text,
    )
    text = edit("reason_code: DEBTOR", f"reason_code: {json.dumps(CODE)}", text)
    return text + (
        "services:\n"
        f"  air_travel: {{display_name: {json.dumps(SERVICE_NAME)}, action: {json.dumps(ACTION)}}}\n"
        "  rail_travel: {display_name: rail}\n"
    )


POLICY_VALUES = [VERSION, TITLE, GRADE_A, GRADE_B, TOLD_AS, SERVICE_NAME, ACTION, CODE]


@pytest.fixture(params=[200, 30], ids=["table", "blocks"])
def columns(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The terminal's width: 200 prints tables, 30 one block per row (see cli/tables.py)."""
    width: int = request.param
    monkeypatch.setenv("COLUMNS", str(width))
    # the consoles are made on first use and read COLUMNS then: make new ones for this test
    monkeypatch.setattr(common._out, "_console", None)
    monkeypatch.setattr(common._err, "_console", None)
    yield width


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """A directory whose own name is markup-like: every file name below it is."""
    where = tmp_path / "dir[b]x[i]"
    where.mkdir()
    return where


def _run(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> str:
    got, out, err = call(capsys, *args)
    assert "Traceback" not in out + err
    assert got == code, (args, out, err)
    return out + err


def _has(text: str, *values: str) -> None:
    flat = " ".join(text.split())
    missing = [v for v in values if v not in text and v not in flat]
    assert not missing, f"{missing} not shown as written in:\n{text}"


def _ledger(capsys: pytest.CaptureFixture[str], place: Path) -> tuple[str, Path]:
    policy = place / "policy[b].yaml"
    policy.write_text(_policy_text())
    db = str(place / "l[b].db")
    out = _run(capsys, "init", "--db", db)
    _has(out, db)
    out = _run(
        capsys,
        "policy",
        "activate",
        str(policy),
        "--db",
        db,
        "--by",
        "[b]me[/x]",
        "--override",
        "test",
    )
    _has(out, f"base@{VERSION}")
    return db, policy


def _ingest(capsys: pytest.CaptureFixture[str], place: Path, db: str) -> None:
    day = to_iso(int(time.time()) - 10 * DAY)[:10]
    lines = [
        {"id": RECORD_ID, "source": SOURCE, "subject": EVIL, "type": "debt", "occurred_at": day},
        {"id": "m1", "source": SOURCE, "subject": BOLD, "type": "misconduct", "occurred_at": day},
        {"id": "d2", "source": "s:smile:", "subject": EMOJI, "type": "debt", "occurred_at": day},
        {
            "kind": "relation",
            "id": "k1",
            "source": SOURCE,
            "subject": KID,
            "relation": "child_of",
            "related_subject": EVIL,
            "valid_from": "2015-01-01",
        },
        {"id": "x1", "source": SOURCE, "subject": "y", "type": BAD_TYPE, "occurred_at": day},
        {
            "id": "x2",
            "source": SOURCE,
            "subject": "y",
            "type": "debt",
            "occurred_at": day,
            BAD_FIELD: 1,
        },
    ]
    data = place / "in[b]x.jsonl"
    data.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    out = _run(capsys, "ingest", str(data), "--db", db, code=1)
    _has(out, "accepted 4", f"{data}:5", BAD_TYPE, f"{data}:6", BAD_FIELD)
    csv = place / "in[b].csv"
    csv.write_text(f"id,source,subject,type,occurred_at,{CSV_FIELD}\nc1,{SOURCE},z,debt,{day},1\n")
    out = _run(capsys, "ingest", str(csv), "--db", db, code=1)
    _has(out, str(csv), CSV_FIELD)


def test_every_command_prints_data_as_written(
    columns: int, place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, policy = _ledger(capsys, place)
    _ingest(capsys, place, db)

    _has(_run(capsys, "policy", "validate", str(policy)), str(policy), f"base@{VERSION}")
    for args in (["policy", "show", str(policy)], ["policy", "show", "--db", db]):
        _has(_run(capsys, *args), *POLICY_VALUES)
    _has(_run(capsys, "policy", "history", "--db", db), f"base@{VERSION}", "[b]me[/x]")

    out = _run(capsys, "score", EVIL, "--db", db)
    _has(out, EVIL, GRADE_B, VERSION, f"{SOURCE}/{RECORD_ID}", "no_flights")
    _has(_run(capsys, "score", BOLD, "--db", db), BOLD, f"{SOURCE}/m1", "rail_ban")
    _has(_run(capsys, "score", EMOJI, "--db", db), EMOJI, "s:smile:/d2")
    _has(_run(capsys, "score", KID, "--db", db), KID, EVIL, "child_of")

    _has(_run(capsys, "check", EVIL, "air_travel", "--db", db), f"DENY {EVIL} air_travel", CODE)
    _has(_run(capsys, "check", KID, "air_travel", "--db", db), f"DENY {KID} air_travel", CODE)
    _has(_run(capsys, "check", EMOJI, "air_travel", "--db", db), f"DENY {EMOJI} air_travel")
    _has(_run(capsys, "check", "[b]nobody", "air_travel", "--db", db), "ALLOW [b]nobody")

    _has(_run(capsys, "explain", EVIL, "--db", db), EVIL, TOLD_AS, ACTION, VERSION)
    _has(_run(capsys, "explain", KID, "--db", db), KID, EVIL, ACTION)
    _has(_run(capsys, "explain", BOLD, "--db", db, "--service", "rail_travel"), BOLD)
    _has(_run(capsys, "explain", "[b]nobody", "--db", db, code=2), "'[b]nobody'")

    out = _run(capsys, "subjects", "--db", db)
    _has(out, EVIL, BOLD, EMOJI, KID, GRADE_B, "child_of " + EVIL, VERSION)
    _has(_run(capsys, "subjects", "--db", db, "--grade", GRADE_B), EVIL)
    _has(_run(capsys, "subjects", "--db", db, "--grade", "[b]Q", code=2), "'[b]Q'", repr(GRADE_A))
    _has(_run(capsys, "subjects", "--db", db, "--list", "no[/x]", code=2), "'no[/x]'")
    _has(_run(capsys, "subjects", "--db", db, "--denied", "[/x]", code=2), "'[/x]'")

    for what in ("records", "standings"):
        target = place / f"{what}[i].jsonl"
        out = _run(capsys, "export", what, "-o", str(target), "--db", db)
        _has(out, str(target))
        assert target.exists()
    _has(_run(capsys, "score", EVIL, "--db", db, "--at", "[/x]", code=2), "[/x]")
    missing = place / "no[b].yaml"
    _has(_run(capsys, "score", EVIL, "--db", db, "--policy", str(missing), code=2), str(missing))
    _has(_run(capsys, "init", "--db", db, "--policy", str(missing), code=2), str(missing))


def test_policy_problems_keep_their_text(
    columns: int, place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the message quotes the pattern '^[a-z][a-z0-9_-]*$': Rich printed '^*$'
    bad = place / "bad[b].yaml"
    bad.write_text(edit("policy: base", "policy: '[bold]Nope[/x]'"))
    for args in (["policy", "validate", str(bad)], ["policy", "show", str(bad)]):
        out = _run(capsys, *args, code=2)
        _has(out, str(bad), "'[bold]Nope[/x]'", "'^[a-z][a-z0-9_-]*$'")
    out = _run(capsys, "policy", "validate", str(bad), "--json", code=2)
    assert json.loads(out.split("\n\n")[0] if "\n\n" in out else out)[0]["file"] == str(bad)


def test_demo_refusal_names_the_directory_as_written(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (place / "mine[b].txt").write_text("keep me")
    out = _run(capsys, "demo", "--dir", str(place), "--subjects", "10", code=2)
    _has(out, str(place))
    assert (place / "mine[b].txt").read_text() == "keep me"


# characters that act on a terminal: ESC (cursor moves, erasing, colours), CR, a C1 CSI and a
# right-to-left override, which would let a subject's name rewrite the line it is printed on
FORGERS = {
    "\x1b[2K\rALLOW": "\\x1b[2K\\x0dALLOW",
    "x\x9b31m": "x\\x9b31m",
    "y\u202eWOLLA": "y\\u202eWOLLA",
    "z\x07\x08": "z\\x07\\x08",
}


def test_terminal_controls_in_data_are_shown_not_obeyed(
    columns: int, place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = _ledger(capsys, place)
    day = to_iso(int(time.time()) - 10 * DAY)[:10]
    data = place / "c\x1b[31m.jsonl"
    data.write_bytes(
        b"".join(
            orjson.dumps(
                {"id": f"c{i}", "source": SOURCE, "subject": s, "type": "debt", "occurred_at": day}
            )
            + b"\n"
            for i, s in enumerate(FORGERS)
        )
        + orjson.dumps({"id": "bad", "source": "s", "subject": "q", "type": "t\x1b[1A"})
        + b"\n"
    )
    out = _run(capsys, "ingest", str(data), "--db", db, code=1)
    _has(out, "c\\x1b[31m.jsonl", "t\\x1b[1A")
    outputs = [out]
    for subject, shown in FORGERS.items():
        for args in (["score", subject], ["check", subject, "air_travel"], ["explain", subject]):
            got = _run(capsys, *args, "--db", db)
            _has(got, shown)
            outputs.append(got)
    got = _run(capsys, "subjects", "--db", db)
    _has(got, *FORGERS.values())
    outputs.append(got)
    # no style is printed to a pipe: any control character would have come from the data
    for text in outputs:
        assert not any(c in text for c in "\x1b\r\x9b\u202e\x07\x08"), text
    for subject in FORGERS:  # --json carries the data as it is
        assert (
            json.loads(_run(capsys, "score", subject, "--db", db, "--json"))["subject"] == subject
        )
