"""Turning decoded lines into chunks ready to write: validation, grouping, problems.

This part is pure Python and CPU-bound, so for large files it runs in a second process
(``_prepared_in_subprocess``) while the first one writes to the database.
"""

from __future__ import annotations

import gc
import marshal
import math
import multiprocessing as mp
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from socialcredit.columns import KIND_CODES, KIND_NAMES, RECORD, RELATION
from socialcredit.ledger.entries import MAX_CLOCK_SKEW, EntryError, validate_entry
from socialcredit.ledger.ingest import decode_jsonl, read_lines

CHUNK = 100_000
_ANNUL = KIND_CODES["annul"]


@dataclass(frozen=True)
class IngestProblem:
    """A rejected line: where, which field, why."""

    file: str
    line: int
    field: str
    message: str

    @property
    def reason(self) -> str:
        """Why the line was rejected (the same as ``message``)."""
        return self.message

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
    duplicates: int = 0  # repeats of an earlier line of the same chunk
    problems: list[IngestProblem] = field(default_factory=list)
    subjects: list[tuple[str, int]] = field(default_factory=list)  # first seen in this ingest
    rows: list[Row] = field(default_factory=list)  # records
    relations: list[Row] = field(default_factory=list)
    # (line, kind, target_source, target_id, values without subject and target, whether
    # the target is an earlier line of this chunk: if not, it must be in the ledger already)
    corrections: list[tuple[int, int, str, str, Row, bool]] = field(default_factory=list)


def prepare_chunks(
    lines: Iterable[tuple[int, Any, str | None]],
    origin: str,
    known_types: Collection[str] | None,
    now: int,
    seen: set[str] | None = None,
) -> Iterator[PreparedChunk]:
    """Validate lines into chunks; every line ends up as a row or a problem.

    ``seen``: subject names already listed in earlier chunks (updated here).
    """
    if seen is None:
        seen = set()
    chunk = PreparedChunk()
    # Rows are reordered for the database's sake, so a (source, id) repeated within a chunk
    # is settled here: the first line wins, as it does across chunks.
    keys: set[tuple[str, str]] = set()
    kinds = known_types if isinstance(known_types, Mapping) else None
    for number, obj, error in lines:
        chunk.lines += 1
        if error is not None:
            chunk.problems.append(IngestProblem(origin, number, "", error))
            continue
        fast = fast_record(obj, known_types, now, kinds)
        if fast is not None:
            row, kind = fast
            key = (row[0], row[1])
            if key in keys:
                chunk.duplicates += 1
            else:
                keys.add(key)
                name = row[3]
                if name not in seen:
                    seen.add(name)
                    chunk.subjects.append((name, kind))
                chunk.rows.append(row)
            if chunk.lines >= CHUNK:
                yield _finish(chunk)
                chunk = PreparedChunk()
                keys = set()
            continue
        try:
            e = validate_entry(obj, known_types, now)
        except EntryError as exc:
            chunk.problems.append(IngestProblem(origin, number, exc.field, exc.reason))
            continue
        if (e.source, e.entry_id) in keys:
            chunk.duplicates += 1
        elif e.kind == RECORD or e.kind == RELATION:
            keys.add((e.source, e.entry_id))
            for name, kind in ((e.subject, e.subject_kind), (e.related_subject, e.related_kind)):
                if name is not None and name not in seen:
                    seen.add(name)
                    chunk.subjects.append((name, kind))
            row = (
                e.source,
                e.entry_id,
                e.kind,
                e.subject,
                e.type,
                e.occurred_at,
                e.recorded_at,
                e.amount,
                e.evidence,
            )
            if e.kind == RECORD:
                chunk.rows.append(row)
            else:
                chunk.relations.append((*row, e.related_subject, e.valid_until))
        else:
            assert e.target_source is not None and e.target_id is not None
            earlier = (e.target_source, e.target_id) in keys
            keys.add((e.source, e.entry_id))
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
            chunk.corrections.append(
                (number, e.kind, e.target_source, e.target_id, values, earlier)
            )
        if chunk.lines >= CHUNK:
            yield _finish(chunk)
            chunk = PreparedChunk()
            keys = set()
    if chunk.lines:
        yield _finish(chunk)


_RECORD_KEYS = frozenset(
    {"kind", "id", "source", "subject", "subject_kind", "type", "occurred_at", "recorded_at"}
    | {"amount", "evidence"}
)
_KINDS = {"person": 0, "organisation": 1}
_KIND_NAMES = ("person", "organisation")


def _epoch(text: str) -> int:
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def fast_record(
    obj: Any,
    known_types: Collection[str] | None,
    now: int,
    kinds: Mapping[str, Collection[str]] | None = None,
) -> tuple[Row, int] | None:
    """The row for a plain, valid record, or None to leave the line to ``validate_entry``.

    The common case of bulk ingestion, without the general validator's bookkeeping. It
    accepts only what ``validate_entry`` accepts with the same result (a test checks this);
    anything unusual or wrong returns None so the general path can say precisely what.
    ``kinds``: ``known_types`` when it maps types to subject kinds (passed separately so the
    per-line check needs no isinstance).
    """
    if type(obj) is not dict or not obj.keys() <= _RECORD_KEYS:
        return None
    kind = obj.get("kind")
    if kind is not None and kind != "record":
        return None
    source = obj.get("source")
    entry_id = obj.get("id")
    subject = obj.get("subject")
    type_name = obj.get("type")
    if not (
        type(source) is str
        and type(entry_id) is str
        and type(subject) is str
        and type(type_name) is str
        and source
        and entry_id
        and subject
        and type_name
        and len(source) <= 500
        and len(entry_id) <= 500
        and len(subject) <= 500
        and len(type_name) <= 500
    ):
        return None
    if known_types is not None and type_name not in known_types:
        return None
    subject_kind = _KINDS.get(obj.get("subject_kind") or "person")
    if (
        subject_kind is not None
        and kinds is not None
        and _KIND_NAMES[subject_kind] not in kinds[type_name]
    ):
        return None
    occurred_text = obj.get("occurred_at")
    recorded_text = obj.get("recorded_at")
    amount = obj.get("amount")
    evidence = obj.get("evidence")
    if (
        subject_kind is None
        or type(occurred_text) is not str
        or not (recorded_text is None or type(recorded_text) is str)
        or not (amount is None or type(amount) is int or type(amount) is float)
        or not (evidence is None or (type(evidence) is str and 0 < len(evidence) <= 500))
    ):
        return None
    try:
        occurred = _epoch(occurred_text)
        recorded = _epoch(recorded_text) if recorded_text else now
    except ValueError:
        return None
    if occurred > recorded or recorded > now + MAX_CLOCK_SKEW:
        return None
    if amount is not None:
        if not math.isfinite(amount):
            return None
        amount = float(amount)
    row = (source, entry_id, RECORD, subject, type_name, occurred, recorded, amount, evidence)
    return row, subject_kind


def _finish(chunk: PreparedChunk) -> PreparedChunk:
    # new subjects in name order get ids in that order, and rows in subject order then keep
    # the subject index's pages warm while inserting
    chunk.subjects.sort()
    chunk.rows.sort(key=_subject_of)
    return chunk


def _subject_of(row: Row) -> Any:
    return row[3]


def _target_problem(target: Any, kind: int, source: str, entry_id: str) -> str | None:
    """Why a correction cannot apply to ``target`` (a (seq, subject_id, kind) row or None)."""
    if target is None:
        return (
            f"no entry {source}/{entry_id} in the ledger or on an earlier line to "
            f"{KIND_NAMES[kind]}"
        )
    target_kind = int(target[2])
    if target_kind == RECORD or (target_kind == RELATION and kind == _ANNUL):
        return None
    what = KIND_NAMES[kind]
    return (
        f"{source}/{entry_id} is a {KIND_NAMES[target_kind]} entry; only records can be "
        f"{what}d" + ("" if kind == _ANNUL else " (relations can be annulled)")
    )


def _to_wire(chunk: PreparedChunk) -> bytes:
    # marshal, not pickle: the rows are plain tuples of str/int/float/None, which marshal
    # writes about ten times faster than pickle (no memo of every object)
    problems = [(p.file, p.line, p.field, p.message) for p in chunk.problems]
    return marshal.dumps(
        (
            chunk.lines,
            chunk.duplicates,
            problems,
            chunk.subjects,
            chunk.rows,
            chunk.relations,
            chunk.corrections,
        ),
        2,  # version 2 keeps no table of shared objects, which makes it twice as fast here
    )


def _from_wire(data: bytes) -> PreparedChunk:
    lines, duplicates, problems, subjects, rows, relations, corrections = marshal.loads(data)
    return PreparedChunk(
        lines,
        duplicates,
        [IngestProblem(*p) for p in problems],
        subjects,
        rows,
        relations,
        corrections,
    )


def _produce(
    name: str, fmt: str | None, known_types: Any, now: int, out: Any, part: int, parts: int
) -> None:
    # Chunks are serialised here, in the main thread, and written straight to the pipe: a
    # multiprocessing.Queue would pickle in a feeder thread that competes for the GIL.
    # This forked process only builds short-lived tuples and exits: the cycle collector
    # would only rescan them.
    gc.disable()
    try:
        if parts == 1:
            for chunk in prepare_chunks(read_lines(name, fmt), name, known_types, now):
                out.send_bytes(b"C" + _to_wire(chunk))
        else:
            # JSON Lines split between processes: block b (CHUNK physical lines) is this
            # process's when b % parts == part; exactly one chunk is sent per own block
            seen: set[str] = set()
            for block in _own_blocks(name, part, parts):
                chunks = list(prepare_chunks(_decode(block), name, known_types, now, seen))
                assert len(chunks) <= 1
                out.send_bytes(b"C" + _to_wire(chunks[0] if chunks else PreparedChunk()))
        out.send_bytes(b"E")
    except BaseException as exc:  # reported by the parent
        out.send_bytes(b"X" + f"{type(exc).__name__}: {exc}".encode())
    finally:
        out.close()


def _own_blocks(name: str, part: int, parts: int) -> Iterator[list[tuple[int, bytes]]]:
    """The numbered raw lines of every ``part``-th block of ``CHUNK`` lines of a file."""
    with open(name, "rb") as stream:
        block: list[tuple[int, bytes]] = []
        for number, raw in enumerate(stream, start=1):
            index = (number - 1) // CHUNK
            if index % parts == part:
                block.append((number, raw))
                if number % CHUNK == 0:
                    yield block
                    block = []
        if block:
            yield block


def _decode(block: list[tuple[int, bytes]]) -> Iterator[tuple[int, Any, str | None]]:
    return decode_jsonl(block)


class IngestWorkerError(RuntimeError):
    """The process reading the file failed."""


def _prepared_in_subprocess(
    name: str,
    fmt: str | None,
    known_types: Collection[str] | None,
    now: int,
    parts: int = 1,
) -> Iterator[PreparedChunk]:
    """``prepare_chunks`` over a file, computed in child processes, yielded here in order.

    With ``parts`` > 1 (JSON Lines only) the file's blocks of ``CHUNK`` lines are shared
    out in turn between that many processes, and taken back in turn, so the chunks arrive
    in file order and every line gets the outcome it would get with one process.
    """
    # fork: the child needs nothing but this module and the file, and unlike spawn it does
    # not re-run the caller's main script
    ctx = mp.get_context("fork")
    receivers = []
    workers = []
    for part in range(parts):
        receiver, sender = ctx.Pipe(duplex=False)
        worker = ctx.Process(
            target=_produce, args=(name, fmt, known_types, now, sender, part, parts), daemon=True
        )
        worker.start()
        sender.close()
        receivers.append(receiver)
        workers.append(worker)
    try:
        turn = 0
        while True:
            try:
                item = receivers[turn % parts].recv_bytes()
            except EOFError:
                raise IngestWorkerError(f"the process reading {name} ended unexpectedly") from None
            turn += 1
            tag, body = item[:1], item[1:]
            if tag == b"E":
                break  # the block due next does not exist, so no later one does
            if tag == b"X":
                raise IngestWorkerError(f"reading {name} failed: {body.decode()}")
            yield _from_wire(body)
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()
