"""The canonical form and hash of an entry, as docs/audit.md states them for outside auditors."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from socialcredit.audit import GENESIS, AuditEvent
from socialcredit.audit.chain import canonical, chain_entry, entry_hash, event_fields

FIELDS = (
    1,
    1780000000000000,
    "k1",
    "enforcer:air",
    "POST /v1/checks",
    "P0",
    "air_travel",
    "deny",
    None,
    200,
    "c0",
    None,
)


def test_the_documented_format_by_hand() -> None:
    # written out by hand from docs/audit.md, and checked with
    #   printf '%s%s' 000…000 '[1,1780000000000000,…]' | sha256sum
    text = b'[1,1780000000000000,"k1","enforcer:air","POST /v1/checks","P0","air_travel","deny",null,200,"c0",null]'
    assert canonical(FIELDS) == text
    assert entry_hash(GENESIS, FIELDS) == hashlib.sha256(b"0" * 64 + text).hexdigest()
    assert (
        entry_hash(GENESIS, FIELDS)
        == "471c8f9b97901753de7e8de91241cb780f71a4e6d304b5515a8f1988037181d1"
    )
    # non-ASCII as itself (UTF-8), control characters escaped as JSON requires
    assert canonical((1, 2, 'ü\n\x01"\\')) == '[1,2,"ü\\n\\u0001\\"\\\\"]'.encode()


ANY_TEXT = st.text(max_size=20)


@given(
    st.lists(
        st.none()
        | ANY_TEXT.filter(lambda s: not any("\ud800" <= c <= "\udfff" for c in s))
        | st.integers(-(2**62), 2**62),
        max_size=12,
    )
)
def test_canonical_is_what_the_standard_library_writes(values: list[Any]) -> None:
    expected = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert canonical(tuple(values)) == expected


EVENTS = st.builds(
    AuditEvent,
    key_id=st.none() | ANY_TEXT,
    role=st.none() | ANY_TEXT,
    route=ANY_TEXT,
    subject=st.none() | ANY_TEXT | st.integers(),
    decision=st.none() | ANY_TEXT,
    policy_version=st.none() | ANY_TEXT,
    at=st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**70), 2**70),
    service=st.none() | ANY_TEXT,
    status=st.none() | st.integers(-(2**40), 2**40) | st.booleans(),
    check_id=st.none() | ANY_TEXT,
    details=st.none() | ANY_TEXT | st.dictionaries(ANY_TEXT, st.integers() | ANY_TEXT, max_size=3),
)


@given(EVENTS)
def test_the_fast_path_gives_what_the_careful_one_does(event: AuditEvent) -> None:
    fields, digest = chain_entry(7, GENESIS, event)
    assert fields == event_fields(7, event)
    assert digest == entry_hash(GENESIS, fields)
    canonical(fields).decode("utf-8")  # always valid UTF-8
    assert all("\x00" not in v for v in fields if isinstance(v, str))
