"""Reading ingestion files: JSON Lines and CSV, line by line, with line numbers."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Iterator
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


Line = tuple[int, Any, str | None]  # line number, decoded object (or None), error


def _jsonl(stream: IO[bytes]) -> Iterator[Line]:
    return decode_jsonl(enumerate(stream, start=1))


def decode_jsonl(numbered: Iterable[tuple[int, bytes]]) -> Iterator[Line]:
    """Decode numbered JSON Lines; blank lines are skipped, bad ones carry their error."""
    loads = orjson.loads
    for number, raw in numbered:
        if not raw.strip():
            continue
        try:
            yield number, loads(raw), None
        except orjson.JSONDecodeError as exc:
            yield number, None, f"not valid JSON: {exc}"


def _csv(stream: IO[bytes]) -> Iterator[Line]:
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        yield 1, None, f"unreadable header: {exc}"
        return
    header = [h.strip() for h in header]
    width = len(header)
    number = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            number = reader.line_num
            yield number, None, f"not valid CSV: {exc}"
            continue
        number = reader.line_num
        if not row or all(not cell for cell in row):
            continue
        if len(row) != width:
            yield number, None, f"has {len(row)} cells, the header has {width}"
            continue
        yield number, {k: v for k, v in zip(header, row, strict=True) if v != ""}, None


def read_lines(name: str, fmt: str | None = None) -> Iterator[Line]:
    """Decoded objects of a file (``-`` = standard input), one per non-blank line or row."""
    kind = detect_format(name, fmt)
    if name == "-":
        stream: IO[bytes] = sys.stdin.buffer
        yield from (_jsonl if kind == "jsonl" else _csv)(stream)
        return
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed below, generator keeps it open
    except OSError as exc:
        raise FileFormatError(f"cannot read {name!r}: {exc.strerror}") from None
    with handle:
        yield from (_jsonl if kind == "jsonl" else _csv)(handle)
