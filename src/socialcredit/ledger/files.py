"""Reading ingestion files: JSON Lines and CSV, line by line, with line numbers.

Each line comes as ``(line number, decoded object or None, note or None)``. The note is an
error message (the line is rejected; a ``FieldError`` also names the field), or one of
two markers: ``BLANK`` (a blank line, skipped) and ``TRIMMED`` (a CSV row whose fields had
surrounding spaces, trimmed; the object is good).
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from socialcredit.errors import SocialCreditError

FORMATS = ("jsonl", "csv")


class FileFormatError(SocialCreditError, ValueError):
    """The file's format cannot be told or read."""


def detect_format(name: str, fmt: str | None) -> str:
    """The format named by ``fmt`` or by the file's extension."""
    if fmt:
        chosen = fmt.lower()
    elif name == "-":
        raise FileFormatError("reading standard input needs --format jsonl or --format csv")
    else:
        suffix = Path(name).suffix.lower().lstrip(".")
        chosen = {"ndjson": "jsonl", "json": "jsonl"}.get(suffix, suffix)
    if chosen not in FORMATS:
        raise FileFormatError(
            f"cannot tell the format of {name!r}: use a .jsonl or .csv file, or --format jsonl|csv"
        )
    return chosen


class _Marker(str):
    """A note that is not an error (compared by identity)."""


BLANK = _Marker("blank line")
TRIMMED = _Marker("surrounding spaces trimmed")


class FieldError(str):
    """An error message about one field of a line."""

    field: str

    def __new__(cls, field: str, message: str) -> FieldError:
        made = super().__new__(cls, message)
        made.field = field
        return made


Line = tuple[int, Any, str | None]  # line number, decoded object (or None), note (see above)

DATE_FIELDS = ("occurred_at", "recorded_at", "valid_from", "valid_until", "corrected_occurred_at")


@dataclass(frozen=True)
class CsvOptions:
    """How to read a CSV file: the cell ``delimiter`` (one character) and the
    ``date_format`` of date fields (a strftime pattern such as ``%d/%m/%Y``; None = ISO 8601).
    Dates read with a pattern are UTC (midnight when the pattern has no time)."""

    delimiter: str = ","
    date_format: str | None = None

    def __post_init__(self) -> None:
        if len(self.delimiter) != 1:
            raise FileFormatError(
                f"the CSV delimiter must be one character (e.g. ';' or tab), not {self.delimiter!r}"
            )
        if self.date_format is not None:
            _check_date_format(self.date_format)


_SAMPLE = datetime(2001, 2, 3, 4, 5, 6)  # no field of it equals strptime's default


def _check_date_format(pattern: str) -> None:
    """Raise ``FileFormatError`` unless ``pattern`` reads back a date it wrote."""
    if "%" not in pattern:
        raise FileFormatError(
            f"--date-format {pattern!r} has no strftime field; write e.g. %d/%m/%Y"
        )
    try:
        back = datetime.strptime(_SAMPLE.strftime(pattern), pattern)
    except ValueError as exc:
        raise FileFormatError(
            f"--date-format {pattern!r} is not a usable strftime pattern ({exc}); "
            "write e.g. %d/%m/%Y"
        ) from None
    if back.date() == datetime(1900, 1, 1).date():
        raise FileFormatError(
            f"--date-format {pattern!r} has no date field (day, month or year); write e.g. %d/%m/%Y"
        )


def _jsonl(stream: IO[bytes], _options: CsvOptions) -> Iterator[Line]:
    return decode_jsonl(enumerate(stream, start=1))


def decode_jsonl(numbered: Iterable[tuple[int, bytes]]) -> Iterator[Line]:
    """Decode numbered JSON Lines; blank lines come as ``BLANK``, bad ones with their error."""
    loads = orjson.loads
    for number, raw in numbered:
        if not raw.strip():
            yield number, None, BLANK
            continue
        try:
            yield number, loads(raw), None
        except orjson.JSONDecodeError as exc:
            yield number, None, f"not valid JSON: {exc}"


class _DecodedLines:
    """A binary stream's physical lines as text for ``csv.reader``, decoded one line at a
    time: an invalid UTF-8 byte spoils only its own line (``bad`` maps its number to what
    is wrong), never the lines around it. A byte order mark at the start is dropped; a
    lone carriage return ends a line, as in a text file opened with ``newline=""``."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.raw = iter(stream)
        self.number = 0  # physical lines handed out so far
        self.bad: dict[int, str] = {}
        self.pending: list[bytes] = []

    def __iter__(self) -> _DecodedLines:
        return self

    def __next__(self) -> str:
        if self.pending:
            raw = self.pending.pop()
        else:
            raw = next(self.raw)
            if self.number == 0 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if b"\r" in raw[:-2] and _LONE_CR.search(raw):
                parts = _LONE_CR.split(raw)
                self.pending = parts[:0:-1]  # handed out after the first, in order
                raw = parts[0]
        self.number += 1
        try:
            return raw.decode()
        except UnicodeDecodeError as exc:
            self.bad[self.number] = (
                f"is not valid UTF-8 (byte {raw[exc.start : exc.start + 1].hex()} at "
                f"byte {exc.start + 1} of the line; save the file as UTF-8)"
            )
            return raw.decode(errors="replace")


_LONE_CR = re.compile(rb"(?<=\r)(?!\n|$)")


def _csv(stream: IO[bytes], options: CsvOptions) -> Iterator[Line]:
    lines = _DecodedLines(stream)
    reader = csv.reader(lines, delimiter=options.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise FileFormatError(f"the CSV header (line 1) cannot be read: {exc}") from None
    if 1 in lines.bad:
        raise FileFormatError(
            f"the CSV header (line 1) {lines.bad[1]}; no line of the file was ingested"
        )
    header = [h.strip() for h in header]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise FileFormatError(
                f"the CSV header names the column {name!r} twice; no line of the file was ingested"
            )
        seen.add(name)
    if len(header) == 1:
        for sep, name in ((";", "';'"), ("\t", "tab"), ("|", "'|'")):
            if sep != options.delimiter and sep in header[0]:
                raise FileFormatError(
                    f"the header looks {name}-separated ({header[0][:60]!r}): "
                    f"use --delimiter {name}"
                )
    width = len(header)
    while True:
        start = reader.line_num + 1  # the physical line the next row starts on
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, None, f"not valid CSV: {exc}"
            continue
        bad = [lines.bad[n] for n in range(start, reader.line_num + 1) if n in lines.bad]
        if bad:
            yield start, None, bad[0]
            continue
        cells = [cell.strip() for cell in row]
        if not any(cells):
            yield start, None, BLANK
            continue
        if len(row) != width:
            yield start, None, f"has {len(row)} cells, the header has {width}"
            continue
        obj = {k: v for k, v in zip(header, cells, strict=True) if v != ""}
        if options.date_format is not None:
            problem = _dates(obj, options.date_format)
            if problem is not None:
                yield start, None, problem
                continue
        yield start, obj, TRIMMED if cells != row else None


def _dates(obj: dict[str, Any], pattern: str) -> FieldError | None:
    """Date fields of a row rewritten from ``pattern`` to ISO 8601 (UTC), or what is wrong."""
    for name in DATE_FIELDS:
        value = obj.get(name)
        if value is None:
            continue
        try:
            when = datetime.strptime(value, pattern)
        except ValueError:
            return FieldError(name, f"{value!r} does not match --date-format {pattern}")
        obj[name] = when.replace(tzinfo=UTC).isoformat()
    return None


def read_lines(
    name: str, fmt: str | None = None, csv_options: CsvOptions | None = None
) -> Iterator[Line]:
    """Decoded objects of a file (``-`` = standard input), one per line or row (see the
    module docstring for what comes with each)."""
    kind = detect_format(name, fmt)
    options = csv_options or CsvOptions()
    if name == "-":
        stream: IO[bytes] = sys.stdin.buffer
        yield from (_jsonl if kind == "jsonl" else _csv)(stream, options)
        return
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed below, generator keeps it open
    except OSError as exc:
        raise FileFormatError(f"cannot read {name!r}: {exc.strerror}") from None
    with handle:
        yield from (_jsonl if kind == "jsonl" else _csv)(handle, options)
