"""Writing records and standings to CSV, Parquet or JSON Lines for other tools."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from socialcredit.errors import SocialCreditError
from socialcredit.scoring.bulk import BulkStandings

FORMATS = ("csv", "parquet", "jsonl")


class ExportFormatError(SocialCreditError, ValueError):
    """The output format cannot be told from the file name or option."""


def format_for(path: Path, fmt: str | None) -> str:
    """The format named by ``fmt`` or by the file's extension."""
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    chosen = {"ndjson": "jsonl", "pq": "parquet"}.get(chosen, chosen)
    if chosen not in FORMATS:
        raise ExportFormatError(
            f"cannot tell the format of {str(path)!r}: use a .csv, .parquet or .jsonl name, "
            "or --format csv|parquet|jsonl"
        )
    return chosen


def standings_table(bulk: BulkStandings) -> pa.Table:
    """One row per subject: score, grade, lists and services denied or benefited."""
    policy = bulk.policy
    grades = [policy.grade_names[g] for g in bulk.grade.tolist()]
    lists = [[] for _ in bulk.subjects]  # type: list[list[str]]
    for lst in policy.lists:
        for i in bulk.lists[lst.index].nonzero()[0].tolist():
            lists[i].append(lst.name)
    denied = [set() for _ in bulk.subjects]  # type: list[set[str]]
    benefits = [set() for _ in bulk.subjects]  # type: list[set[str]]
    for s in policy.sanctions:
        target = denied if s.effect == "deny" else benefits
        for i in bulk.measures[s.index].nonzero()[0].tolist():
            target[i].add(s.service)
    return pa.table(
        {
            "subject": bulk.subjects,
            "score": bulk.score,
            "grade": grades,
            "lists": [";".join(x) for x in lists],
            "denied_services": [";".join(sorted(x)) for x in denied],
            "benefit_services": [";".join(sorted(x)) for x in benefits],
            "policy_version": [policy.version_label] * len(bulk.subjects),
        }
    )


def write_table(table: pa.Table, path: Path, fmt: str) -> None:
    """Write ``table`` to ``path`` as ``fmt``."""
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "csv":
        pacsv.write_csv(table, path)
    else:
        with path.open("wb") as fh:
            for row in table.to_pylist():
                fh.write(orjson.dumps(row) + b"\n")


def write_entries(entries: Iterable[dict[str, Any]], path: Path, fmt: str) -> int:
    """Write ledger entries (ingestion format) to ``path``; returns how many were written."""
    if fmt == "jsonl":
        count = 0
        with path.open("wb") as fh:
            for entry in entries:
                fh.write(orjson.dumps(entry) + b"\n")
                count += 1
        return count
    rows = list(entries)
    columns: dict[str, list[Any]] = {}
    for row in rows:
        for key in row:
            columns.setdefault(key, [])
    table = pa.table({k: [row.get(k) for row in rows] for k in columns})
    write_table(table, path, fmt)
    return len(rows)
