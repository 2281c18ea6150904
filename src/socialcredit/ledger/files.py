"""Reading ingestion files: JSON Lines and CSV, line by line, with line numbers.

Each line comes as ``(line number, decoded object or None, note or None)``. The note is an
error message (the line is rejected; a ``FieldError`` also names the field), or one of
two markers: ``BLANK`` (a blank line, skipped) and ``TRIMMED`` (a CSV row whose fields had
surrounding spaces, trimmed; the object is good).
"""

from __future__ import annotations

import codecs
import csv
import json
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
        if chosen not in FORMATS:
            raise FileFormatError(f"unknown format {fmt!r}: choose jsonl or csv")
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

DATE_FIELDS = (
    "occurred_at",
    "recorded_at",
    "claimed_recorded_at",
    "valid_from",
    "valid_until",
    "corrected_occurred_at",
    "approved_at",
)


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


def json_error(exc: orjson.JSONDecodeError) -> str:
    """What is wrong with one line of JSON Lines, placed within that line: the parser's
    own "line 2 column 1" counts the line's newline as a second line, which the line
    number in front of the message contradicts."""
    if exc.lineno > 1:  # past the line's end: the line stops before its value does
        return f"not valid JSON: the line ends before its JSON value does ({exc.msg})"
    return f"not valid JSON: {exc.msg} at column {exc.colno}"


def decode_jsonl(numbered: Iterable[tuple[int, bytes]]) -> Iterator[Line]:
    """Decode numbered JSON Lines; blank lines come as ``BLANK``, bad ones with their error."""
    loads = orjson.loads
    for number, raw in numbered:
        if not raw or raw.isspace():  # as ``not raw.strip()``, without a copy of the line
            yield number, None, BLANK
            continue
        try:
            obj = loads(raw)
        except orjson.JSONDecodeError as exc:
            yield number, None, json_error(exc)
            continue
        # a flat object of n members has n - 1 commas; more (a repeated key, or commas in
        # text or nested values) means looking closely, as orjson keeps the last of a key
        if type(obj) is dict and raw.count(b",") != len(obj) - 1:
            repeated = _repeated_key(raw)
            if repeated is not None:
                yield (
                    number,
                    None,
                    FieldError(
                        repeated, f"{repeated!r} is given twice on the line; give each field once"
                    ),
                )
                continue
        yield number, obj, None


class _RepeatedKey(Exception):
    pass


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen[key] = value
    return seen


def _repeated_key(raw: bytes) -> str | None:
    """The first key an object on the JSON line ``raw`` repeats, or None."""
    try:
        json.loads(raw, object_pairs_hook=_no_repeats)
    except _RepeatedKey as exc:
        return str(exc.args[0])
    except ValueError:  # orjson read it; the standard library may differ on odd input
        return None
    return None


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
        self.row: list[str] = []  # the lines handed out for the row being read
        self.again: list[str] = []  # lines to hand out again (last first), see ``rewind``
        self.ended = False  # the reader asked for a line past the end during this row

    def __iter__(self) -> _DecodedLines:
        return self

    def begin(self) -> None:
        """A new row starts with the next line."""
        self.row = []
        self.ended = False

    def rewind(self) -> None:
        """Hand out again every line of the current row after its first."""
        lines = self.row[1:]
        self.again.extend(reversed(lines))
        self.number -= len(lines)
        self.row = self.row[:1]

    def __next__(self) -> str:
        if len(self.row) >= MAX_ROW_LINES:
            raise _RowTooLong
        if self.again:
            self.number += 1
            text = self.again.pop()
            self.row.append(text)
            return text
        text = self._next()
        self.row.append(text)
        return text

    def _next(self) -> str:
        if self.pending:
            raw = self.pending.pop()
        else:
            try:
                raw = next(self.raw)
            except StopIteration:
                self.ended = True
                raise
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

_MULTILINE = ("evidence", "reason")  # the free-text fields, which may hold line breaks
MAX_ROW_LINES = 100
"""The most physical lines one CSV row may span (quoted fields may hold line breaks)."""


class _RowTooLong(Exception):
    """A CSV row would span more than ``MAX_ROW_LINES`` lines."""


def _unterminated(start: int, why: str, lines: _DecodedLines) -> str:
    """What is wrong with a row whose quoted field does not end; rewinds ``lines`` to the
    line after ``start``."""
    more = len(lines.row) > 1
    lines.rewind()
    then = f"; reading resumes at line {start + 1}" if more else ""
    return f"unterminated quoted field starting at line {start} ({why}){then}"


def _csv(stream: IO[bytes], options: CsvOptions) -> Iterator[Line]:
    lines = _DecodedLines(stream)
    reader = csv.reader(lines, delimiter=options.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except _RowTooLong:
        raise FileFormatError(
            "the CSV header (line 1) has an unterminated quoted field; no line of the file "
            "was ingested"
        ) from None
    except csv.Error as exc:
        raise FileFormatError(f"the CSV header (line 1) cannot be read: {exc}") from None
    if lines.ended:
        raise FileFormatError(
            "the CSV header (line 1) has an unterminated quoted field; no line of the file "
            "was ingested"
        )
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
        start = lines.number + 1  # the physical line the next row starts on
        lines.begin()
        try:
            row = next(reader)
        except StopIteration:
            if len(lines.row) > 0:  # the end of the file inside a quoted field
                message = _unterminated(start, "the file ends inside it", lines)
                reader = csv.reader(lines, delimiter=options.delimiter)
                yield start, None, message
                continue
            return
        except _RowTooLong:
            message = _unterminated(start, f"a row may span at most {MAX_ROW_LINES} lines", lines)
            reader = csv.reader(lines, delimiter=options.delimiter)
            yield start, None, message
            continue
        except csv.Error as exc:
            if len(lines.row) > 1:
                message = _unterminated(start, str(exc), lines)
            else:
                message = f"not valid CSV: {exc}"
            reader = csv.reader(lines, delimiter=options.delimiter)
            yield start, None, message
            continue
        if lines.ended:
            # csv.reader ends a quoted field at the end of the file without a word
            message = _unterminated(start, "the file ends inside it", lines)
            reader = csv.reader(lines, delimiter=options.delimiter)
            yield start, None, message
            continue
        end = lines.number
        bad = [lines.bad[n] for n in range(start, end + 1) if n in lines.bad]
        if bad:
            yield start, None, bad[0]
            continue
        cells = [cell.strip() for cell in row]
        if not any(cells):
            yield start, None, BLANK
            continue
        if len(row) != width:
            spans = (
                f" (the row spans lines {start}-{end}: a quoted field holds line breaks; "
                "is a quote unbalanced?)"
                if end > start
                else ""
            )
            given = f"{len(row)} cell" + "s" * (len(row) != 1)
            yield start, None, f"has {given}, the header has {width}{spans}"
            continue
        obj = {k: v for k, v in zip(header, cells, strict=True) if v != ""}
        if end > start:
            broken = [k for k, v in obj.items() if k not in _MULTILINE and ("\n" in v or "\r" in v)]
            if broken:
                yield (
                    start,
                    None,
                    FieldError(
                        broken[0],
                        f"holds a line break: the row spans lines {start}-{end} (only "
                        f"{' and '.join(_MULTILINE)} may); is a quote unbalanced?",
                    ),
                )
                continue
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
