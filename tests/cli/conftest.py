"""A small ledger for the CLI tests, and a way to call the CLI in-process.

The ledger is built through the library so that the policy's activation time is known:
china-scs.yaml is in force from 2026-01-01 (the CLI's own ``init``/``policy activate`` use
the wall clock). Entries are ingested through the CLI, as a backfill (history: each entry
counts from its own recorded_at).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from socialcredit.cli import run
from socialcredit.examples import example_policy
from socialcredit.ledger import Ledger
from socialcredit.policy import load_policy
from socialcredit.timeutil import parse_timestamp

ROOT = Path(__file__).parents[2]
CHINA = str(example_policy("china-scs"))
IN_FORCE_FROM = parse_timestamp("2026-01-01")

ENTRIES: list[dict[str, Any]] = [
    {
        "id": "j1",
        "source": "court",
        "subject": "debtor",
        "type": "court_judgment_unfulfilled",
        "occurred_at": "2026-01-10",
        "recorded_at": "2026-01-12",
        "amount": 80000,
    },
    {
        "id": "v1",
        "source": "civic",
        "subject": "helper",
        "type": "volunteering",
        "occurred_at": "2026-03-01",
    },
    {
        "kind": "relation",
        "id": "h1",
        "source": "registry",
        "subject": "child",
        "relation": "child_of",
        "related_subject": "debtor",
        "valid_from": "2015-01-01",
        "recorded_at": "2015-01-02",
    },
]


def call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI with ``args``: (exit code, stdout, stderr)."""
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def activate(db: str, path: str, at: int) -> None:
    """Activate the policy file at ``path`` in ``db`` as of ``at`` (creating the ledger)."""
    loaded = load_policy(path)
    with Ledger.open(db) as ledger:
        ledger.upgrade()
        ledger.activate_policy(
            loaded.text,
            loaded.policy.policy,
            loaded.policy.version,
            loaded.content_hash,
            at,
            now=at,
        )


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A SQLite ledger under china-scs (in force from 2026-01-01) holding ``ENTRIES``."""
    path = str(tmp_path / "cli.db")
    activate(path, CHINA, IN_FORCE_FROM)
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in ENTRIES))
    # history: the entries count from their own recorded_at
    code, out, _ = call(capsys, "ingest", str(data), "--db", path, "--backfill")
    assert code == 0 and "accepted 3" in out
    return path


LINT_OVERRIDE = "the seed system, linted: errors expected"
"""china-scs has lint errors (it is the system studied): activating it takes an override."""


def init_china(capsys: pytest.CaptureFixture[str], db: str) -> tuple[int, str, str]:
    """``socialcredit init --db DB --policy china-scs`` with the override its lint errors
    need: (exit code, stdout, stderr)."""
    return call(capsys, "init", "--db", db, "--policy", CHINA, "--override", LINT_OVERRIDE)
