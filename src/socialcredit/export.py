"""Writing ledger entries and everyone's standing as Parquet, JSON Lines or CSV for other tools.

Types are kept as far as each format can: in Parquet, times are UTC timestamps (whole
seconds, stored with a millisecond unit: Parquet has none coarser) and lists and services are
``list<string>`` columns; in JSON Lines, times are ISO 8601 text
(``2026-06-01T00:00:00Z``) and lists are arrays; CSV has no list type, so a list is written
as its items joined by ``;`` (an empty list as an empty field). Output goes to a file or, given
``-``, to standard output. This module imports pyarrow; nothing in the core does.

A file is written whole or not at all: into a temporary file beside it, renamed over the
name only once everything is written (a full disk or an error leaves no truncated file),
and an existing file is replaced only when asked (``force``). The destination is checked,
and the temporary file made, by ``Destination`` before anything is read or computed.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import IO, Any, cast

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from socialcredit.columns import SUBJECT_KINDS
from socialcredit.errors import SocialCreditError
from socialcredit.scoring.bulk import BulkStandings

FORMATS = ("csv", "parquet", "jsonl")
STDOUT = "-"
BATCH = 20_000

TIMESTAMP = pa.timestamp("s", tz="UTC")
STRINGS = pa.list_(pa.string())
ISO = "%Y-%m-%dT%H:%M:%SZ"

BACKFILLED_KEY = b"socialcredit.backfilled"
STANDINGS_SCHEMA = pa.schema(
    [
        ("subject", pa.string()),
        ("kind", pa.string()),
        ("as_of", TIMESTAMP),
        ("score", pa.float64()),
        ("grade", pa.string()),
        ("lists", STRINGS),
        ("denied_services", STRINGS),
        ("benefit_services", STRINGS),
        ("reason_codes", STRINGS),
        ("reasons", STRINGS),
        ("policy_version", pa.string()),
        ("policy_hash", pa.string()),
    ]
)
"""One row per subject; see ``standings_table`` for what each column holds."""

RECORDS_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("id", pa.string()),
        ("source", pa.string()),
        ("subject", pa.string()),
        ("subject_kind", pa.string()),
        ("type", pa.string()),
        ("occurred_at", TIMESTAMP),
        ("recorded_at", TIMESTAMP),
        ("claimed_recorded_at", TIMESTAMP),
        ("amount", pa.float64()),
        ("evidence", pa.string()),
        ("relation", pa.string()),
        ("related_subject", pa.string()),
        ("related_kind", pa.string()),
        ("valid_from", TIMESTAMP),
        ("valid_until", TIMESTAMP),
        ("target_source", pa.string()),
        ("target_id", pa.string()),
        ("reason", pa.string()),
        ("corrected_occurred_at", TIMESTAMP),
        ("term", pa.string()),
        ("by", pa.string()),
        ("services", pa.string()),
        ("approved_by", pa.string()),
        ("approved_at", TIMESTAMP),
        ("attribute", pa.string()),
        ("value", pa.string()),
    ]
)
"""Ledger entries in the ingestion format's field names, one column per field of any kind."""

Progress = Callable[[int], None]
"""Called with the number of rows just written."""


class ExportError(SocialCreditError, ValueError):
    """An export that cannot be written as asked (format, destination)."""


ExportFormatError = ExportError  # the name earlier versions raised


def format_for(path: str | Path, fmt: str | None) -> str:
    """The format named by ``fmt``, else by the file's extension; JSON Lines for ``-``."""
    if fmt is None and str(path) == STDOUT:
        return "jsonl"
    chosen = (fmt or Path(path).suffix.lstrip(".")).lower()
    chosen = {"ndjson": "jsonl", "pq": "parquet"}.get(chosen, chosen)
    if fmt is not None and chosen not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: choose csv, parquet or jsonl")
    if chosen not in FORMATS:
        raise ExportError(
            f"cannot tell the format of {str(path)!r}: use a .csv, .parquet or .jsonl name, "
            "or --format csv|parquet|jsonl"
        )
    return chosen


def check_destination(path: str | Path, fmt: str) -> None:
    """Refuse Parquet to a terminal (binary); raise ``ExportError`` saying what to do."""
    if str(path) == STDOUT and fmt == "parquet" and sys.stdout.isatty():
        raise ExportError(
            "refusing to write Parquet (binary) to a terminal: redirect it "
            "(-o - --format parquet > file.parquet), give a file name, or use --format jsonl"
        )


def standings_table(bulk: BulkStandings) -> pa.Table:
    """One row per subject the ledger knew of at ``as_of`` (``bulk.known``), with typed
    columns (``STANDINGS_SCHEMA``).

    ``as_of``: the time of the standings; ``kind``: person or organisation; ``lists``: the
    lists the subject is on; ``denied_services`` / ``benefit_services``: the services a
    denial / a benefit in force covers (own or through a relation; one on a service covers
    the services declared under it, as a check answers; a denial an exemption waives is
    left out, and so is a ``granted`` service no benefit gives), sorted; ``reason_codes``: the
    reason codes of the denials, sorted; ``reasons``: why each measure is in force (a list,
    a condition, or ``relation subject`` for one that comes through a relation), in measure
    order, once each; ``policy_version`` and ``policy_hash``: the policy that was applied
    (the one in force at ``as_of``, or the file given). When the standings count entries
    of backfill batches loaded after ``as_of`` (see ``socialcredit.ledger.backfills``), the
    table's schema metadata says so under ``BACKFILLED_KEY`` (a JSON list of
    ``{"batch", "loaded_at", "entries"}``; kept in Parquet files).
    """
    policy = bulk.policy
    n = len(bulk.subjects)
    list_names = [lst.name for lst in policy.lists]
    list_rows, list_codes = _pairs(bulk.lists, range(len(list_names)))
    services = policy.services()
    denials = [s for s in policy.sanctions if s.effect == "deny"]
    codes = sorted({s.reason_code for s in denials})

    def per_service(masks: list[npt.NDArray[np.bool_]]) -> pa.Array:
        matrix = np.asarray(masks, dtype=np.bool_).reshape(len(masks), n)
        return _list_column(n, *_pairs(matrix, range(len(masks))), services)

    # a service counts as denied when a denial on it or on a service it is part of is in
    # force and no exemption waives it (as a check answers); a ``granted`` service that no
    # benefit gives is left out (a check answers it NOT-GRANTED: it is a perk not held,
    # not a sanction — read it off ``benefit_services``)
    denied = [bulk.denied_on(x, not_granted=False) for x in services]
    reason_pairs = _pairs(
        bulk.denied(), [s.index for s in denials], [s.reason_code for s in denials], codes
    )

    columns: dict[str, Any] = {
        "subject": bulk.subjects,
        "kind": _labels(SUBJECT_KINDS, bulk.kind) if len(bulk.kind) else [None] * n,
        "as_of": pa.array(np.full(n, bulk.at, dtype=np.int64)).cast(TIMESTAMP),
        "score": bulk.score,
        "grade": _labels(policy.grade_names, bulk.grade),
        "lists": _list_column(n, list_rows, list_codes, list_names),
        "denied_services": per_service(denied),
        "benefit_services": per_service([bulk.with_measure_on(x, "benefit") for x in services]),
        "reason_codes": _list_column(n, *reason_pairs, codes),
        "reasons": pa.array(bulk.reason_texts(), STRINGS),
        "policy_version": pa.array(np.full(n, policy.version_label, dtype=object), pa.string()),
        "policy_hash": pa.array(np.full(n, policy.loaded.content_hash, dtype=object)),
    }
    table = pa.table(columns, schema=STANDINGS_SCHEMA)
    if bulk.known is not None:  # a subject the ledger learned of after ``as_of`` has no row
        table = table.filter(pa.array(bulk.known))
    if bulk.backfilled:
        backfilled = [b.to_json() for b in bulk.backfilled]
        table = table.replace_schema_metadata({BACKFILLED_KEY: orjson.dumps(backfilled)})
    return table


def _labels(names: Sequence[str], codes: npt.NDArray[Any]) -> pa.Array:
    # a code of -1 (a grade not determinable: unpublished cut-offs) is null
    labels = np.asarray([*names, None], dtype=object)
    return pa.array(labels[np.where(codes >= 0, codes, len(names))], pa.string())


def _pairs(
    matrix: npt.NDArray[np.bool_],
    rows_of: Sequence[int],
    labels: Sequence[str] | None = None,
    vocabulary: Sequence[str] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(subject, code) for every True in the rows ``rows_of`` of ``matrix``; the code of row
    ``rows_of[j]`` is ``j``, or the position of ``labels[j]`` in ``vocabulary``."""
    subjects, codes = [], []
    for j, row in enumerate(rows_of):
        hit = np.flatnonzero(matrix[row])
        code = j if labels is None or vocabulary is None else vocabulary.index(labels[j])
        subjects.append(hit)
        codes.append(np.full(len(hit), code, dtype=np.int64))
    if not subjects:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(subjects).astype(np.int64), np.concatenate(codes)


def _list_column(
    n: int, subjects: npt.NDArray[np.int64], codes: npt.NDArray[np.int64], labels: Sequence[str]
) -> pa.Array:
    """A list<string> column of ``n`` rows: row ``i`` holds ``labels[c]`` for each pair
    (i, c), once each, in the order of ``labels``."""
    width = max(len(labels), 1)
    key = np.unique(subjects * width + codes)
    rows, values = key // width, key % width
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    items = pa.array(np.asarray(labels, dtype=object)[values], pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), items, type=STRINGS)


def _for_text(batch: pa.RecordBatch, lists_as: str) -> pa.RecordBatch:
    """Times as ISO 8601 text; for CSV (``lists_as="joined"``) lists joined by ';'."""
    arrays = []
    for column, field in zip(batch.columns, batch.schema, strict=True):
        if pa.types.is_timestamp(field.type):
            column = pc.strftime(column, format=ISO)
        elif pa.types.is_list(field.type) and lists_as == "joined":
            column = pa.array(
                [";".join(x) if x is not None else None for x in column.to_pylist()], pa.string()
            )
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


class _KeepOpen(io.RawIOBase):
    """Standard output's bytes for a writer that closes what it is given (pyarrow's do)."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self.raw = raw

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.raw.write(data)
        return len(data)

    def close(self) -> None:
        self.raw.flush()
        super().close()


class Destination:
    """Where an export goes, checked before anything is computed; a context manager.

    Made from a path, ``-`` (standard output) and a format, it refuses at once what cannot
    work: Parquet to a terminal, a directory, a missing or unwritable directory, an existing
    file without ``force`` (``ExportError``, saying what to do). For a file, it makes the
    temporary file that ``open`` writes into (in the same directory, so that the rename is
    atomic); leaving the ``with`` block without a completed ``open`` removes it. A device
    or a pipe (``/dev/stdout``, ``>(gzip > f)``) is written in place.
    """

    def __init__(self, path: str | Path, fmt: str, force: bool = False) -> None:
        check_destination(path, fmt)
        self.path = str(path)
        self.fmt = fmt
        self._temp: str | None = None
        self._final: str | None = None  # the regular file the temporary file becomes
        self._mode = 0o666 & ~umask()
        if self.path == STDOUT:
            return
        target = Path(self.path)
        if target.is_dir():
            raise ExportError(f"cannot write {self.path}: it is a directory")
        if target.exists() and not target.is_file():  # a device or a pipe: written in place
            if not os.access(target, os.W_OK):
                raise ExportError(f"cannot write {self.path}: permission denied")
            return
        if target.exists():
            if not force:
                raise ExportError(
                    f"{self.path} already exists: give --force to replace it, or another name"
                )
            self._mode = stat.S_IMODE(target.stat().st_mode)
        final = Path(os.path.realpath(target))  # through a symbolic link: its target
        folder = final.parent
        if not folder.is_dir():
            raise ExportError(f"cannot write {self.path}: the directory {folder} does not exist")
        try:
            fd, self._temp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=folder)
        except OSError as exc:
            raise ExportError(
                f"cannot write {self.path}: cannot create a file in {folder} ({exc.strerror})"
            ) from None
        os.close(fd)
        self._final = str(final)

    def __enter__(self) -> Destination:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.discard()

    def discard(self) -> None:
        """Remove the temporary file, if it is still there (nothing was renamed)."""
        if self._temp is not None:
            temp, self._temp = self._temp, None
            with suppress(FileNotFoundError):
                os.unlink(temp)

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """The bytes to write, for a ``with`` block; when it ends without an error, the file
        is complete (written, synced to disk, renamed over the name). An ``OSError`` (a full
        disk) raises ``ExportError``: the file named is as it was before."""
        if self.path == STDOUT:
            with _KeepOpen(sys.stdout.buffer) as out:
                yield cast(IO[bytes], out)
            return
        try:
            if self._final is None:  # a device or a pipe
                with Path(self.path).open("wb") as fh:
                    yield fh
                return
            if self._temp is None:
                raise ExportError(f"{self.path} was written already (a bug)")
            with Path(self._temp).open("wb") as fh:
                yield fh
            _sync(self._temp)
            os.chmod(self._temp, self._mode)
            os.replace(self._temp, self._final)
            self._temp = None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if self._final is None:  # a device or a pipe: what was written is gone
                raise ExportError(f"cannot write {self.path}: {reason}") from None
            kept = "is as it was" if Path(self._final).exists() else "was not made"
            raise ExportError(f"cannot write {self.path}: {reason}; the file {kept}") from None
        finally:
            self.discard()


def umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sync(path: str) -> None:
    """Flush ``path``'s data to the disk (its writer may have closed it already)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _destination(path: str | Path | Destination, fmt: str) -> Destination:
    return path if isinstance(path, Destination) else Destination(path, fmt)


def write_batches(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    path: str | Path | Destination,
    fmt: str,
    progress: Progress | None = None,
) -> int:
    """Write ``batches`` (of ``schema``) to ``path`` (or ``-``) as ``fmt``; returns the row count.

    A path is a ``Destination`` that must not exist yet; the file appears only once whole.
    """
    count = 0
    with _destination(path, fmt) as dest, dest.open() as sink:
        if fmt == "parquet":
            with pq.ParquetWriter(sink, schema) as pw:
                for batch in batches:
                    pw.write_batch(batch)
                    count += batch.num_rows
                    if progress:
                        progress(batch.num_rows)
        elif fmt == "csv":
            writer: pacsv.CSVWriter | None = None
            for batch in batches:
                text = _for_text(batch, "joined")
                if writer is None:
                    writer = pacsv.CSVWriter(sink, text.schema)
                writer.write_batch(text)
                count += batch.num_rows
                if progress:
                    progress(batch.num_rows)
            if writer is None:  # no rows: still a header
                empty = _for_text(pa.RecordBatch.from_pylist([], schema=schema), "joined")
                writer = pacsv.CSVWriter(sink, empty.schema)
            writer.close()
        else:
            for batch in batches:
                for row in _for_text(batch, "arrays").to_pylist():
                    sink.write(orjson.dumps(row) + b"\n")
                count += batch.num_rows
                if progress:
                    progress(batch.num_rows)
    return count


def write_table(
    table: pa.Table, path: str | Path | Destination, fmt: str, progress: Progress | None = None
) -> int:
    """Write ``table`` to ``path`` (or ``-``) as ``fmt``; returns the row count (see
    ``write_batches``)."""
    return write_batches(table.to_batches(BATCH), table.schema, path, fmt, progress)


def _entry_batches(entries: Iterable[dict[str, Any]]) -> Iterator[pa.RecordBatch]:
    names = set(RECORDS_SCHEMA.names)
    chunk: list[dict[str, Any]] = []

    def flush() -> pa.RecordBatch:
        arrays = []
        for field in RECORDS_SCHEMA:
            values = [e.get(field.name) for e in chunk]
            if pa.types.is_timestamp(field.type):
                arrays.append(pa.array(values, pa.string()).cast(field.type))
            else:
                arrays.append(pa.array(values, field.type))
        return pa.RecordBatch.from_arrays(arrays, schema=RECORDS_SCHEMA)

    for entry in entries:
        extra = set(entry) - names
        if extra:
            raise ExportError(f"entry fields {sorted(extra)} have no export column (a bug)")
        chunk.append(entry)
        if len(chunk) == BATCH:
            yield flush()
            chunk = []
    if chunk:
        yield flush()


def write_entries(
    entries: Iterable[dict[str, Any]],
    path: str | Path | Destination,
    fmt: str,
    progress: Progress | None = None,
) -> int:
    """Write ledger entries (ingestion format) to ``path`` (or ``-``); returns how many.

    JSON Lines is the ingestion format itself (export → ingest round-trips, only the fields
    each entry has). Parquet and CSV have one column per field of ``RECORDS_SCHEMA`` (empty
    where an entry has no such field), times typed in Parquet. A path is a ``Destination``
    that must not exist yet; the file appears only once whole.
    """
    if fmt != "jsonl":
        return write_batches(_entry_batches(entries), RECORDS_SCHEMA, path, fmt, progress)
    count = 0
    with _destination(path, fmt) as dest, dest.open() as sink:
        for entry in entries:
            sink.write(orjson.dumps(entry) + b"\n")
            count += 1
            if progress and count % BATCH == 0:
                progress(BATCH)
        if progress:
            progress(count % BATCH)
    return count
