"""The ingest's fast paths read times, dates and blank lines exactly as the general path
does: generated ISO 8601 texts (offsets, fractions of a second, leap days, days that do not
exist, years outside the supported range, times around the clock's skew) give a plain
record or attribute line the same outcome on either path."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.ledger import IngestRules
from socialcredit.ledger.entries import EntryError, validate_entry
from socialcredit.ledger.fast_attributes import _epoch, _value_details, fast_attribute
from socialcredit.ledger.files import BLANK, decode_jsonl
from socialcredit.ledger.parsing import fast_record
from socialcredit.policy import parse_policy
from socialcredit.timeutil import MAX_TIME, MIN_TIME, parse_timestamp
from tests.ledger.conftest import expected_fact_row

from ..scoring.test_subject_facts import FACTS_POLICY

NOW = parse_timestamp("2026-01-01")
FACT_RULES = IngestRules.from_policy(parse_policy(FACTS_POLICY).policy)
RECORD_RULES = IngestRules.for_record_types({"debt": ["person"], "fine": ["person"]})
AMOUNT_RULES = replace(RECORD_RULES, amounts={"fine": "the fine's amount"})


@st.composite
def iso_texts(draw: st.DrawFn) -> str:
    """A date or date-time as a source might write it, valid or not."""
    year, month, day = draw(
        st.sampled_from(
            [
                (2024, 2, 29),  # a leap day
                (2023, 2, 29),  # no such day
                (2000, 2, 29),
                (1900, 2, 29),
                (1969, 12, 31),  # just before the epoch: negative seconds
                (1970, 1, 1),
                (2025, 12, 31),  # the day before NOW
                (2026, 1, 1),  # NOW's day
                (2026, 1, 2),
                (1000, 1, 1),  # the first supported day
                (999, 12, 31),
                (9999, 12, 31),  # the last
                (2025, 4, 31),
                (2025, 13, 1),
                (2025, 0, 10),
            ]
        )
        | st.tuples(st.integers(1, 9999), st.integers(1, 12), st.integers(1, 28))
    )
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if draw(st.booleans()):
        return text
    hour = draw(st.sampled_from([0, 23, 24]) | st.integers(0, 23))
    minute = draw(st.sampled_from([0, 5, 59, 60]))
    second = draw(st.sampled_from([0, 1, 59, 60]))
    fraction = draw(st.sampled_from(["", ".5", ".000001", ".999999", ".123", ".1234567"]))
    offset = draw(
        st.sampled_from(["", "Z", "+00:00", "+08:00", "-14:00", "+14:00", "+05:30", "-00:30"])
    )
    separator = draw(st.sampled_from(["T", "T", "T", " ", "t"]))
    return f"{text}{separator}{hour:02d}:{minute:02d}:{second:02d}{fraction}{offset}"


def _slow_epoch(text: str) -> int | None:
    """The fast path's reading of a time before it was made faster: ``timestamp()``."""
    try:
        when = datetime.fromisoformat(text)
        ts = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
    except (ValueError, OverflowError):
        return None
    return ts if MIN_TIME <= ts <= MAX_TIME else None


@settings(max_examples=1000, deadline=None)
@given(text=iso_texts())
def test_an_attribute_time_is_read_as_timestamp_reads_it(text: str) -> None:
    assert _epoch(text) == _slow_epoch(text)
    assert _epoch(text) == _epoch(text)  # remembered, not changed


record_lines = st.fixed_dictionaries(
    {
        "id": st.just("r1"),
        "source": st.just("court"),
        "subject": st.sampled_from(["a", "b" * 500, "b" * 501]),
        "type": st.sampled_from(["debt", "fine"]),
        "occurred_at": iso_texts(),
    },
    optional={
        "subject_kind": st.sampled_from(["person", "organisation", ""]),
        "recorded_at": iso_texts() | st.sampled_from(["", "2026-01-01T00:05:00Z"]),
        "amount": st.sampled_from([None, 3, 0, -2.5, 1e15]),
        "evidence": st.sampled_from([None, "", "case 1", "e" * 500, "e" * 501]),
    },
)


@settings(max_examples=1500, deadline=None)
@given(
    obj=record_lines,
    rules=st.sampled_from([None, RECORD_RULES, AMOUNT_RULES]),
    backfill=st.booleans(),
)
def test_a_record_line_s_times_agree_with_the_validator(
    obj: dict[str, Any], rules: IngestRules | None, backfill: bool
) -> None:
    types = rules.record_types if rules is not None else None
    amounts = rules.amounts if rules is not None else None
    fast = fast_record(obj, types, NOW, 7, backfill, amounts)
    try:
        e = validate_entry(obj, rules, NOW, backfill)
    except EntryError:
        assert fast is None
        return
    if fast is None:
        return  # left to the general path, which accepts it
    stored = NOW if fast[6] is None else fast[6]  # None: the ingest time
    assert (fast[5], stored, fast[10]) == (e.occurred_at, e.recorded_at, e.claimed_recorded_at)
    assert fast[:5] == (e.source, e.entry_id, e.kind, e.subject, e.type)
    assert fast[7:10] == (e.amount, e.evidence, e.details)


attribute_lines = st.fixed_dictionaries(
    {
        "kind": st.just("attribute"),
        "id": st.just("b1"),
        "source": st.just("civil-registry"),
        "subject": st.just("wang"),
        "attribute": st.sampled_from(["birth_date", "residence"]),
        "value": iso_texts() | st.sampled_from(["beijing", "2008-02-29", "2025-12-31"]),
        "valid_from": iso_texts(),
    },
    optional={"valid_until": iso_texts(), "recorded_at": iso_texts() | st.just("")},
)


@settings(max_examples=1500, deadline=None)
@given(obj=attribute_lines, backfill=st.booleans())
def test_an_attribute_line_s_times_agree_with_the_validator(
    obj: dict[str, Any], backfill: bool
) -> None:
    fast = fast_attribute(obj, FACT_RULES, NOW, 7, backfill)
    try:
        e = validate_entry(obj, FACT_RULES, NOW, backfill)
    except EntryError:
        assert fast is None
        return
    if fast is None:
        return
    row, kind = fast
    assert kind == e.subject_kind
    assert row == expected_fact_row(e, NOW, 7)


@given(value=st.text())
def test_an_attribute_s_details_are_its_value_as_json(value: str) -> None:
    try:
        expected = orjson.dumps({"value": value}).decode()
    except orjson.JSONEncodeError:  # a lone surrogate: never a valid line's value
        return
    assert _value_details(value) == expected


@given(
    raw=st.binary(max_size=6)
    | st.lists(st.sampled_from(list(b" \t\r\n\x0b\x0c\x1c\x85\xa0"))).map(bytes)
)
def test_a_blank_line_is_one_of_nothing_but_ascii_white_space(raw: bytes) -> None:
    ((_, _, note),) = decode_jsonl([(1, raw)])
    assert (note is BLANK) == (not raw.strip())


def test_records_share_their_source_and_type_texts_within_bounds() -> None:
    """Rows hold one object per source and type name (equal text, as decoded), and the
    texts remembered for that are let go at the end of a chunk once there are many."""
    from socialcredit.ledger import parsing, shared_text

    lines = [
        (
            n,
            {
                "id": f"r{n}",
                "source": f"s{n}",
                "subject": "a",
                "type": "".join(("de", "bt")),  # an object of its own per line
                "occurred_at": "2025-01-01",
            },
            None,
        )
        for n in range(1, shared_text.SHARED_MAX + 10)
    ]
    (chunk,) = parsing.prepare_chunks(lines, "f", None, NOW)
    assert [row[:2] for row in chunk.rows] == [(f"s{n}", f"r{n}") for n in range(1, len(lines) + 1)]
    assert len({id(row[4]) for row in chunk.rows}) == 1
    assert len(shared_text.SHARED) <= shared_text.SHARED_MAX


def test_attribute_rows_share_their_source_and_name_texts() -> None:
    from socialcredit.ledger.parsing import prepare_chunks

    lines = [
        (
            n,
            {
                "kind": "attribute",
                "id": f"b{n}",
                "source": "".join(("civil-", "registry")),  # an object of its own per line
                "subject": f"p{n}",
                "attribute": "".join(("resi", "dence")),
                "value": "beijing",
                "valid_from": "2025-01-01",
            },
            None,
        )
        for n in range(1, 50)
    ]
    (chunk,) = prepare_chunks(lines, "f", FACT_RULES, NOW)
    assert len(chunk.relations) == 49 and not chunk.problems
    assert len({id(row[0]) for row in chunk.relations}) == 1
    assert len({id(row[4]) for row in chunk.relations}) == 1
    assert {row[4] for row in chunk.relations} == {"residence"}
