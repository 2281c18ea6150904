"""Turning decoded lines into chunks ready to write: validation, grouping, problems.

This part is pure Python and CPU-bound, so for large files it runs in a second process
(``_prepared_in_subprocess``) while the first one writes to the database.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from socialcredit.ledger.entries import EntryError, validate_entry
from socialcredit.ledger.ingest import read_lines
from socialcredit.ledger.schema import KIND_CODES, KIND_NAMES, RECORD, RELATION

CHUNK = 50_000
_ANNUL = KIND_CODES["annul"]


@dataclass(frozen=True)
class IngestProblem:
    """A rejected line: where, which field, why."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


Row = tuple[Any, ...]


@dataclass
class PreparedChunk:
    """Validated entries of up to ``CHUNK`` lines, grouped the way the writer inserts them."""

    lines: int = 0
    problems: list[IngestProblem] = field(default_factory=list)
    subjects: list[tuple[str, int]] = field(default_factory=list)  # first seen in this ingest
    rows: list[Row] = field(default_factory=list)  # records and relations
    # (line, kind, target_source, target_id, values without subject and target)
    corrections: list[tuple[int, int, str, str, Row]] = field(default_factory=list)


def prepare_chunks(
    lines: Iterable[tuple[int, Any, str | None]],
    origin: str,
    known_types: Collection[str] | None,
    now: int,
) -> Iterator[PreparedChunk]:
    """Validate lines into chunks; every line ends up as a row or a problem."""
    seen: set[str] = set()
    chunk = PreparedChunk()
    for number, obj, error in lines:
        chunk.lines += 1
        if error is not None:
            chunk.problems.append(IngestProblem(origin, number, "", error))
            continue
        try:
            e = validate_entry(obj, known_types, now)
        except EntryError as exc:
            chunk.problems.append(IngestProblem(origin, number, exc.field, exc.reason))
            continue
        if e.kind == RECORD or e.kind == RELATION:
            for name, kind in ((e.subject, e.subject_kind), (e.related_subject, e.related_kind)):
                if name is not None and name not in seen:
                    seen.add(name)
                    chunk.subjects.append((name, kind))
            chunk.rows.append(
                (
                    e.source,
                    e.entry_id,
                    e.kind,
                    e.subject,
                    e.type,
                    e.occurred_at,
                    e.recorded_at,
                    e.amount,
                    e.evidence,
                    e.related_subject,
                    e.valid_until,
                )
            )
        else:
            assert e.target_source is not None and e.target_id is not None
            values = (
                e.source,
                e.entry_id,
                e.kind,
                e.type,
                e.occurred_at,
                e.recorded_at,
                e.amount,
                e.details,
            )
            chunk.corrections.append((number, e.kind, e.target_source, e.target_id, values))
        if chunk.lines >= CHUNK:
            yield _finish(chunk)
            chunk = PreparedChunk()
    if chunk.lines:
        yield _finish(chunk)


def _finish(chunk: PreparedChunk) -> PreparedChunk:
    # new subjects in name order get ids in that order, and rows in subject order then keep
    # the subject index's pages warm while inserting
    chunk.subjects.sort()
    chunk.rows.sort(key=lambda r: r[3])
    return chunk


def _target_problem(target: Any, kind: int, source: str, entry_id: str) -> str | None:
    """Why a correction cannot apply to ``target`` (a (seq, subject_id, kind) row or None)."""
    if target is None:
        return f"no entry {source}/{entry_id} in the ledger to {KIND_NAMES[kind]}"
    target_kind = int(target[2])
    if target_kind == RECORD or (target_kind == RELATION and kind == _ANNUL):
        return None
    what = KIND_NAMES[kind]
    return (
        f"{source}/{entry_id} is a {KIND_NAMES[target_kind]} entry; only records can be "
        f"{what}d" + ("" if kind == _ANNUL else " (relations can be annulled)")
    )


def _produce(name: str, fmt: str | None, known_types: list[str] | None, now: int, out: Any) -> None:
    try:
        types = set(known_types) if known_types is not None else None
        for chunk in prepare_chunks(read_lines(name, fmt), name, types, now):
            out.put(chunk)
        out.put(None)
    except BaseException as exc:  # reported by the parent
        out.put(f"{type(exc).__name__}: {exc}")


class IngestWorkerError(RuntimeError):
    """The process reading the file failed."""


def _prepared_in_subprocess(
    name: str, fmt: str | None, known_types: Collection[str] | None, now: int
) -> Iterator[PreparedChunk]:
    """``prepare_chunks`` over a file, computed in a child process, yielded here."""
    # fork: the child needs nothing but this module and the file, and unlike spawn it does
    # not re-run the caller's main script
    ctx = mp.get_context("fork")
    queue = ctx.Queue(maxsize=4)
    types = sorted(known_types) if known_types is not None else None
    worker = ctx.Process(target=_produce, args=(name, fmt, types, now, queue), daemon=True)
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is None:
                break
            if isinstance(item, str):
                raise IngestWorkerError(f"reading {name} failed: {item}")
            yield item
        worker.join()
    finally:
        if worker.is_alive():
            worker.terminate()
            worker.join()
