"""Plain attribute lines on the fast path: exactly what the general validator gives."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.ledger import IngestRules
from socialcredit.ledger.entries import EntryError, validate_entry
from socialcredit.ledger.fast_attributes import fast_attribute
from socialcredit.policy import parse_policy
from socialcredit.timeutil import parse_timestamp
from tests.ledger.conftest import expected_fact_row

from ..scoring.test_subject_facts import FACTS_POLICY

NOW = parse_timestamp("2026-01-01")
RULES = IngestRules.from_policy(parse_policy(FACTS_POLICY).policy)

times = st.sampled_from(
    [
        "2025-01-01",
        "2025-01-01T10:00:00Z",
        "2025-01-01T10:00:00+08:00",
        "2026-01-01T00:05:00Z",
        "2026-01-01T00:05:01Z",
        "2030-01-01",
        "0999-12-31T23:59:59Z",
        "1000-01-01T00:00:00Z",
        "9999-12-31T23:59:59-14:00",
        "bad",
        "",
        5,
        None,
    ]
)
attribute_lines = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["attribute", "attribute", "attribute", "record", "exemption"]),
        "id": st.sampled_from(["b1", "", 7, " ", "x" * 501, "b\x00"]),
        "source": st.sampled_from(["civil-registry", "", None, "\ud800", "é"]),
        "subject": st.sampled_from(["wang", "li", "   ", "\u00a0", "w\x00"]),
        "attribute": st.sampled_from(["birth_date", "residence", "staff", "height", " ", 3]),
        "value": st.sampled_from(
            ["2008-02-29", "2025-12-31", "2026-06-01", "2007-02-29", "beijing", "", " ", 40, "40"]
        ),
        "valid_from": times,
    },
    optional={
        "subject_kind": st.sampled_from(
            ["person", "organisation", "organization", "", None, 0, "robot"]
        ),
        "valid_until": times,
        "recorded_at": times,
        "claimed_recorded_at": times,
        "reason": st.just("x"),
        "extra": st.sampled_from(["x", None]),
    },
)


@settings(max_examples=500, deadline=None)
@given(obj=attribute_lines, rules=st.sampled_from([RULES, None]), backfill=st.booleans())
def test_the_fast_path_agrees_with_the_validator(
    obj: dict[str, Any], rules: IngestRules | None, backfill: bool
) -> None:
    fast = fast_attribute(obj, rules, NOW, 7, backfill)
    try:
        e = validate_entry(obj, rules, NOW, backfill)
    except EntryError:
        assert fast is None
        return
    if fast is None:
        return  # left to the general path, which accepts it
    assert fast == (
        expected_fact_row(e, NOW, 7),
        e.subject_kind,
    )


def test_plain_attribute_lines_take_the_fast_path() -> None:
    line = {
        "kind": "attribute",
        "id": "birth-1",
        "source": "civil-registry",
        "subject": "P1",
        "subject_kind": "person",
        "attribute": "birth_date",
        "value": "1972-08-12",
        "valid_from": "1972-08-12",
        "recorded_at": "1972-08-12",
    }
    found = fast_attribute(line, RULES, NOW, 3, backfill=True)
    assert found is not None
    assert found[0][4:7] == ("birth_date", 82425600, 82425600)
    assert fast_attribute({**line, "value": "2026-06-01"}, RULES, NOW, 3) is None  # born later


TIMES = [
    "2025-01-01",
    "2025-01-01T00:00:00Z",
    "2025-01-01T08:00:00+08:00",
    "2026-01-01T00:05:00Z",
    "2026-01-01T00:05:01Z",
    "0999-12-31T23:59:59Z",
    "1000-01-01T00:00:00Z",
    "",
    None,
]


def test_every_combination_of_times_as_the_validator_has_it() -> None:
    """recorded_at, valid_from and valid_until around the limits (the clock and its skew,
    the supported range, an end equal to the start), each with a value the policy checks
    against the time the line was recorded (a birth date)."""
    base = {
        "kind": "attribute",
        "id": "b1",
        "source": "civil-registry",
        "subject": "wang",
        "attribute": "birth_date",
        "value": "2025-06-01",
    }
    for recorded in TIMES:
        for start in TIMES:
            for until in TIMES:
                obj = {**base, "recorded_at": recorded, "valid_from": start, "valid_until": until}
                for backfill in (False, True):
                    try:
                        e = validate_entry(obj, RULES, NOW, backfill)
                    except EntryError:
                        assert fast_attribute(obj, RULES, NOW, 1, backfill) is None, obj
                        continue
                    found = fast_attribute(obj, RULES, NOW, 1, backfill)
                    assert found is not None, obj
                    recorded_at = None if e.recorded_at == NOW else e.recorded_at
                    assert found[0][5:7] == (e.occurred_at, recorded_at), obj
                    assert found[0][10:12] == (e.valid_until, e.claimed_recorded_at), obj
