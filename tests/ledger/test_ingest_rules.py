"""Ingestion under the active policy's rules, repeats, spreadsheets and policy versions."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import DISPUTE
from socialcredit.errors import ConflictError
from socialcredit.ledger import (
    CsvOptions,
    IngestRules,
    Ledger,
    LedgerColumns,
    PolicyVersionConflict,
)
from socialcredit.policy import compile_policy, parse_policy
from socialcredit.scoring.rows import fold
from socialcredit.spans import Span
from socialcredit.timeutil import DAY, NEVER, parse_timestamp
from tests.ledger.conftest import policy_body

from ..conftest import TEST_POLICY

NOW = parse_timestamp("2026-01-01")
RULES = IngestRules.from_policy(parse_policy(TEST_POLICY).policy)

DEBT = {
    "id": "1",
    "source": "court",
    "subject": "alice",
    "type": "debt",
    "occurred_at": "2025-01-01",
    "recorded_at": "2025-01-03",
    "amount": 5000,
}
ACME = {
    "id": "2",
    "source": "rail",
    "subject": "acme",
    "subject_kind": "organisation",
    "type": "fine",
    "occurred_at": "2025-02-01",
}


def relation(rid: str, subject: str, related: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "relation",
        "id": rid,
        "source": "registry",
        "subject": subject,
        "relation": "child_of",
        "related_subject": related,
        "valid_from": "2010-01-01",
        **extra,
    }


def dispute(did: str, recorded_at: str | None, target: str = "1") -> dict[str, Any]:
    entry = {
        "kind": "dispute",
        "id": did,
        "source": "court",
        "target_source": "court",
        "target_id": target,
        "occurred_at": "2025-01-04",
    }
    if recorded_at is not None:
        entry["recorded_at"] = recorded_at
    return entry


# ---------------------------------------------------------------- item 3: relations


def test_relations_obey_their_declaration(ledger: Ledger) -> None:
    # TEST_POLICY declares child_of from a person to a person (the defaults)
    result = ledger.ingest_entries(
        [
            DEBT,
            ACME,
            relation("r1", "kid", "alice"),  # fine
            relation("r2", "kim", "acme", related_kind="organisation"),  # says so itself
            relation("r3", "kim", "acme"),  # the ledger knows acme as an organisation
            {**relation("r4", "kim", "alice"), "relation": "child_off"},  # a typo
            {**relation("r5", "kim", "alice"), "relation": "cousin_of"},  # not declared
            relation("r6", "acme", "alice", subject_kind="organisation"),
        ],
        rules=RULES,
        now=NOW,
    )
    assert result.accepted == 3
    got = {p.line: (p.field, p.message) for p in result.problems}
    assert sorted(got) == [4, 5, 6, 7, 8]
    assert got[4] == (
        "related_kind",
        "child_of must point to a person; the line gives the related subject as an organisation",
    )
    assert got[5][0] == "related_subject"
    assert got[5][1] == "child_of must point to a person; acme is recorded as an organisation"
    assert got[6] == (
        "relation",
        "unknown relation 'child_off' for the active policy; did you mean 'child_of'?",
    )
    assert got[7][0] == "relation" and "unknown relation 'cousin_of'" in got[7][1]
    # acme is an organisation since line 2: the line says so too, but child_of starts
    # from a person
    assert got[8] == (
        "subject_kind",
        "child_of must start from a person; the line gives the subject as an organisation",
    )
    cols = ledger.columns()
    assert [cols.subjects[i] for i in cols.rel_subject] == ["kid"]
    # kim is named only by rejected lines: the ledger has not heard of kim
    assert not ledger.has_subject("kim")
    assert sorted(ledger.subject_names()) == ["acme", "alice", "kid"]
    later = ledger.ingest_entries([{**DEBT, "id": "k", "subject": "kim"}], rules=RULES, now=NOW)
    assert later.accepted == 1 and ledger.has_subject("kim")


def test_a_subject_named_first_by_a_rejected_relation_is_stored_with_a_later_line(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialcredit.ledger import parsing

    monkeypatch.setattr(parsing, "CHUNK", 2)  # the record about kim comes in a later chunk
    result = ledger.ingest_entries(
        [ACME, relation("r3", "kim", "acme"), DEBT, {**DEBT, "id": "k", "subject": "kim"}],
        rules=RULES,
        now=NOW,
    )
    assert (result.accepted, result.rejected) == (3, 1)
    assert ledger.has_subject("kim")
    cols = ledger.columns(["kim"])
    assert list(cols.rec_id) == ["k"]


def test_subject_kinds_hold_in_every_chunk_of_a_long_ingest(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The writer remembers the kinds it read or stored (``ChunkChecks.known_kinds``): a
    # subject an earlier ingest stored as an organisation, named again here as new without
    # a kind (so this ingest's insert leaves it alone), keeps its kind in a later chunk.
    from socialcredit.ledger import parsing

    assert ledger.ingest_entries([ACME], now=NOW).accepted == 1  # acme: an organisation
    monkeypatch.setattr(parsing, "CHUNK", 2)
    result = ledger.ingest_entries(
        [
            relation("r1", "kid", "bob"),  # chunk 1: every subject new, stored as persons
            relation("r2", "kid", "carol"),
            relation("r3", "dan", "acme"),  # chunk 2: acme is not new to the ledger
            {**DEBT, "id": "k", "subject": "kid", "subject_kind": "organisation"},
            {**ACME, "id": "p", "subject_kind": "person"},  # chunk 3
            {**DEBT, "id": "b", "subject": "bob"},
        ],
        now=NOW,
    )
    assert (result.accepted, result.rejected) == (4, 2)
    first, second = result.problems
    assert (first.line, first.field) == (4, "subject_kind")
    assert first.message == (
        "kid is recorded as a person since line 1 of this input; "
        "this line gives subject_kind organisation"
    )
    assert (second.line, second.field) == (5, "subject_kind")
    assert second.message.startswith("acme is recorded as an organisation since ")
    assert "(ingest batch 1, line 1)" in second.message


def test_without_a_policy_relations_are_not_checked(ledger: Ledger) -> None:
    result = ledger.ingest_entries(
        [ACME, {**relation("r1", "kim", "acme"), "relation": "cousin_of"}], now=NOW
    )
    assert (result.accepted, result.rejected) == (2, 0)


def test_a_policy_without_relations_rejects_every_relation(ledger: Ledger) -> None:
    rules = IngestRules.for_record_types({"debt"})
    result = ledger.ingest_entries([DEBT, relation("r1", "kid", "alice")], rules=rules, now=NOW)
    assert result.problems[0].message == (
        "unknown relation 'child_of': the active policy declares no relations"
    )


# ---------------------------------------------------------------- item 6: late disputes


def test_disputes_without_effect_are_accepted_and_reported(ledger: Ledger) -> None:
    # the debt is recorded 2025-01-03T00:00Z; the window (P30D) closes 2025-02-02T00:00Z
    result = ledger.ingest_entries(
        [
            DEBT,
            dispute("d1", "2025-02-02T00:00:01Z"),  # one second late
            dispute("d2", "2025-02-02T00:00:00Z"),  # exactly at the close: in time
            dispute("d3", "2025-02-01T00:00:00Z"),  # in time, but d2 came first... no: later
            dispute("d4", None),  # recorded when ingested (2026-01-01): late
        ],
        rules=RULES,
        now=NOW,
        backfill=True,  # history: the disputes count from their own recorded_at
    )
    assert (result.accepted, result.rejected, result.conflicts) == (5, 0, 0)
    notes = {n.line: n.message for n in result.no_effect_lines}
    assert sorted(notes) == [2, 5]
    assert notes[2] == (
        "the dispute of court/1 is recorded on 2025-02-02T00:00:01Z, after the appeal window "
        "closed on 2025-02-02T00:00:00Z: it is kept in the ledger but has no effect on the record"
    )
    assert "recorded on 2026-01-01T00:00:00Z" in notes[5]
    # scoring agrees: the first in-time dispute is d3's time, d1 and d4 are late
    cols = ledger.columns()
    rows, _ = fold(cols, compile_policy(parse_policy(TEST_POLICY)))
    assert rows.disputed[0] == parse_timestamp("2025-02-01")
    assert rows.dispute_late[0] == parse_timestamp("2025-02-02T00:00:01Z")
    assert result.to_json()["no_effect"] == 2


def test_a_second_dispute_of_a_disputed_record_is_reported(ledger: Ledger) -> None:
    ledger.ingest_entries([DEBT, dispute("d1", "2025-01-10")], rules=RULES, now=NOW, backfill=True)
    again = ledger.ingest_entries(
        [dispute("d1", "2025-01-10"), dispute("d2", "2025-01-20")],
        rules=RULES,
        now=NOW,
        backfill=True,
    )
    assert (again.accepted, again.duplicates) == (1, 1)
    assert [(n.line, n.message) for n in again.no_effect_lines] == [
        (
            2,
            "court/1 is already disputed (by court/d1, recorded on 2025-01-10T00:00:00Z): "
            "another dispute is kept in the ledger but has no effect",
        )
    ]
    # re-ingesting the late one is a duplicate, not a new notice
    third = ledger.ingest_entries(
        [dispute("d2", "2025-01-20")], rules=RULES, now=NOW, backfill=True
    )
    assert (third.duplicates, third.no_effect) == (1, 0)


# ---------------------------------------------------------------- item 7: conflicts


def test_a_repeat_with_other_content_is_a_conflict(ledger: Ledger) -> None:
    bob = {
        "id": "b",
        "source": "rail",
        "subject": "bob",
        "type": "fine",
        "occurred_at": "2025-02-01",
    }
    first = ledger.ingest_entries([DEBT, bob], now=NOW)
    assert first.accepted == 2
    result = ledger.ingest_entries(
        [
            {**DEBT, "amount": 6000},  # conflict
            {**DEBT, "occurred_at": "2025-01-01T00:00:00+00:00", "amount": 5000.0},  # same
            bob,  # no recorded_at: the ingest time is no content, so a duplicate
            {**bob, "recorded_at": "2025-02-03"},  # bob's is 2026-01-01 (when first ingested)
        ],
        now=NOW + 10 * DAY,
    )
    assert (result.accepted, result.duplicates, result.conflicts, result.rejected) == (0, 2, 2, 0)
    assert [(c.line, c.message) for c in result.conflict_lines] == [
        (
            1,
            "court/1 was first given in an earlier ingest (batch 1, line 1) with different "
            "content (amount 6000 here, 5000 in the ledger); the ledger keeps the first and "
            "ignores this line",
        ),
        (
            4,
            "rail/b was first given in an earlier ingest (batch 1, line 2) with different "
            "content (recorded_at 2025-02-03T00:00:00Z here, 2026-01-01T00:00:00Z in the "
            "ledger); the ledger keeps the first and ignores this line",
        ),
    ]
    cols = ledger.columns()
    assert list(cols.rec_amount) == [5000.0, pytest.approx(np.nan, nan_ok=True)]
    json = result.to_json()
    assert json["conflicts"] == 2 and json["conflict_lines"][0]["line"] == 1


def test_conflicting_corrections_and_relations(ledger: Ledger) -> None:
    resolve = {
        "kind": "resolve",
        "id": "p1",
        "source": "court",
        "target_source": "court",
        "target_id": "1",
        "occurred_at": "2025-06-01",
        "reason": "paid",
    }
    ledger.ingest_entries([DEBT, resolve, relation("r1", "kid", "alice")], now=NOW)
    result = ledger.ingest_entries(
        [
            {**resolve, "reason": "paid in part"},
            resolve,
            relation("r1", "kid", "bob"),
            relation("r1", "kid", "alice"),
        ],
        now=NOW,
    )
    assert (result.duplicates, result.conflicts) == (2, 2)
    assert [c.line for c in result.conflict_lines] == [1, 3]
    assert "related_subject 'bob' here, 'alice' in the ledger" in result.conflict_lines[1].message
    assert "(reason 'paid in part' here, 'paid' in the ledger)" in result.conflict_lines[0].message


def test_blank_lines_are_skipped_and_counted(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '\n{"id":"1","source":"s","subject":"a","type":"t","occurred_at":"2025-01-01"}\n  \n\n'
    )
    result = ledger.ingest_file(str(path), now=NOW)
    assert (result.lines, result.accepted, result.skipped) == (4, 1, 3)
    assert result.to_json()["skipped"] == 3


# ---------------------------------------------------------------- item 10: spreadsheets


def test_spreadsheet_csv(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(
        "\ufeffid;source;subject;type;occurred_at;amount\n"
        "1;court; alice ;debt ;03/02/2025;5000\n"
        "2;court;bob;debt;13/02/2025;\n"
        "3;court;carl;debt;2025-02-13;\n"
        "\n".encode()
    )
    result = ledger.ingest_file(
        str(path),
        rules=RULES,
        now=NOW,
        csv_options=CsvOptions(delimiter=";", date_format="%d/%m/%Y"),
    )
    assert (result.accepted, result.rejected, result.skipped) == (2, 1, 1)
    assert result.trimmed_lines == [2]
    assert (result.problems[0].line, result.problems[0].field) == (4, "occurred_at")
    assert result.problems[0].message == "'2025-02-13' does not match --date-format %d/%m/%Y"
    cols = ledger.columns()
    assert cols.subjects == ["alice", "bob"]  # trimmed, and no BOM in the first header
    assert list(cols.rec_occurred_at) == [
        parse_timestamp("2025-02-03"),
        parse_timestamp("2025-02-13"),
    ]


def test_unknown_type_with_spaces_suggests_the_trimmed_name(ledger: Ledger) -> None:
    result = ledger.ingest_entries([{**DEBT, "type": "debt "}], rules=RULES, now=NOW)
    assert result.problems[0].message == (
        "unknown record type 'debt ' for the active policy; did you mean 'debt' "
        "(without the surrounding spaces)?"
    )


def test_csv_options_are_checked() -> None:
    from socialcredit.ledger import FileFormatError

    with pytest.raises(FileFormatError, match="one character"):
        CsvOptions(delimiter=";;")
    with pytest.raises(FileFormatError, match="no strftime field"):
        CsvOptions(date_format="dd/mm/yyyy")


# ---------------------------------------------------------------- item 1: policy versions


def test_a_different_body_under_a_used_version_is_refused(ledger: Ledger) -> None:
    (b1, h1), (b2, h2) = policy_body("1"), policy_body("1.1")
    ledger.activate_policy(b1, "p", "1", h1, NOW, "me", now=NOW)
    with pytest.raises(PolicyVersionConflict) as caught:
        ledger.activate_policy(b2, "p", "1", h2, NOW + DAY, "me", now=NOW + DAY)
    assert isinstance(caught.value, ConflictError) and caught.value.exit_code == 2
    assert caught.value.message == (
        "policy 'p' version '1' was first activated on 2026-01-01T00:00:00Z with a different "
        f"body (content hash {h1[:12]}…), and this file declares '1' again with other "
        "content: a changed policy needs a new version — bump `version:` in the file "
        "(e.g. '2') and activate it again"
    )
    assert len(ledger.policy_history()) == 1


def test_an_earlier_body_may_be_activated_again(ledger: Ledger) -> None:
    (b1, h1), (b2, h2) = policy_body("1"), policy_body("2")
    ledger.activate_policy(b1, "p", "1", h1, NOW, now=NOW)
    ledger.activate_policy(b2, "p", "2", h2, NOW + DAY, now=NOW + DAY)
    back = ledger.activate_policy(b1, "p", "1", h1, NOW + 2 * DAY, now=NOW + 2 * DAY)
    assert back.activated_at == NOW + 2 * DAY
    history = ledger.policy_history()
    assert [(p.declared_version, p.activated_at) for p in history] == [
        ("1", NOW),
        ("2", NOW + DAY),
        ("1", NOW + 2 * DAY),
    ]


# ---------------------------------------------------------------- item 17: columns, logging


def test_columns_are_built_from_named_columns_and_checked() -> None:
    cols = LedgerColumns.from_named(
        ["a"],
        [0],
        {
            "rec_seq": [1],
            "rec_subject": [0],
            "rec_type": ["debt"],
            "rec_occurred_at": [5],
            "rec_recorded_at": [6],
            "rec_amount": [np.nan],
        },
    )
    assert cols.rec_seq.dtype == np.int64 and cols.rec_subject.dtype == np.int32
    assert list(cols.rec_source) == [""] and len(cols.cor_seq) == 0
    assert cols.rel_valid_until.dtype == np.int64 and NEVER > 0
    with pytest.raises(ValueError, match="rec_\\* columns differ in length"):
        LedgerColumns.from_named(["a"], [0], {"rec_seq": [1, 2], "rec_subject": [0]})
    with pytest.raises(ValueError, match="unknown ledger columns: rec_nope"):
        LedgerColumns.from_named(["a"], [0], {"rec_nope": [1]})


def test_ingestion_logs_a_summary(ledger: Ledger, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="socialcredit.ledger"):
        ledger.ingest_entries([DEBT, DEBT], origin="x.jsonl", now=NOW)
    summary = [r.getMessage() for r in caplog.records if r.name == "socialcredit.ledger"]
    assert any(
        m.startswith("ingested x.jsonl: 2 lines in ") and "1 accepted, 1 duplicates" in m
        for m in summary
    )


# ---------------------------------------------------------------- properties

_TIMES = ["2025-01-03", "2025-01-20", "2025-02-02", "2025-02-02T00:00:01Z", "2025-03-01"]
_SUBJECTS = {"a": "person", "b": "person", "acme": "organisation"}

record_lines = st.fixed_dictionaries(
    {
        "id": st.sampled_from("0123"),
        "source": st.just("s"),
        "subject": st.sampled_from(sorted(_SUBJECTS)),
        "type": st.just("debt"),
        "occurred_at": st.just("2025-01-01"),
        "recorded_at": st.sampled_from(_TIMES[:3]),
    }
).map(lambda e: {**e, "subject_kind": _SUBJECTS[e["subject"]]})
relation_lines = st.fixed_dictionaries(
    {
        "kind": st.just("relation"),
        "id": st.sampled_from(["r0", "r1", "r2"]),
        "source": st.just("s"),
        "subject": st.sampled_from(sorted(_SUBJECTS)),
        "relation": st.sampled_from(["child_of", "cousin_of"]),
        "related_subject": st.sampled_from(sorted(_SUBJECTS)),
        "valid_from": st.just("2010-01-01"),
    },
    optional={"related_kind": st.sampled_from(["person", "organisation"])},
)
dispute_lines = st.fixed_dictionaries(
    {
        "kind": st.just("dispute"),
        "id": st.sampled_from(["d0", "d1", "d2", "d3"]),
        "source": st.just("s"),
        "target_source": st.just("s"),
        "target_id": st.sampled_from("0123"),
        "occurred_at": st.just("2025-01-01"),
        "recorded_at": st.sampled_from(_TIMES),
    }
)
mixed_lines = st.lists(
    st.one_of(record_lines, relation_lines, dispute_lines, st.none()), max_size=30
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(mixed_lines, min_size=1, max_size=2))
def test_every_line_is_accounted_for_and_notices_follow_the_scoring_rule(
    batches: list[list[Any]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(str(Path(tmp) / "l.db"))
        ledger.upgrade()
        noted: set[str] = set()
        for lines in batches:
            path = Path(tmp) / "in.jsonl"
            path.write_bytes(
                b"".join(b"\n" if e is None else orjson.dumps(e) + b"\n" for e in lines)
            )
            result = ledger.ingest_file(str(path), rules=RULES, now=NOW)
            assert result.lines == len(lines)
            assert (
                result.accepted
                + result.duplicates
                + result.conflicts
                + result.rejected
                + result.skipped
                == result.lines
            )
            assert result.skipped == lines.count(None)
            for note in result.no_effect_lines:
                noted.add(lines[note.line - 1]["id"])
        cols = ledger.columns()
        # every relation stored fits the declaration, as stored
        for s, r, t in zip(cols.rel_subject, cols.rel_related, cols.rel_type, strict=True):
            assert t == "child_of"
            assert cols.subject_kind[s] == 0 and cols.subject_kind[r] == 0
        # the scoring rule: a dispute counts iff recorded by the target's recorded_at plus
        # the appeal window; only the earliest such one matters
        assert RULES.appeal_window == Span(seconds=30 * DAY)
        window = 30 * DAY
        seq_to_record = {int(q): i for i, q in enumerate(cols.rec_seq)}
        in_time: dict[int, int] = {}
        late = set()
        for action, target, rec, cid in zip(
            cols.cor_action, cols.cor_target, cols.cor_recorded_at, cols.cor_id, strict=True
        ):
            if action != DISPUTE:
                continue
            known = cols.rec_recorded_at[seq_to_record[int(target)]]
            if rec > known + window:
                late.add(cid)
                assert cid in noted  # every late dispute is reported
            else:
                in_time[int(target)] = min(in_time.get(int(target), rec), int(rec))
        for action, target, rec, cid in zip(
            cols.cor_action, cols.cor_target, cols.cor_recorded_at, cols.cor_id, strict=True
        ):
            if action == DISPUTE and cid in noted and cid not in late:
                # reported as a second dispute: an in-time one at or before it exists
                assert in_time[int(target)] <= rec
        rows, _ = fold(cols, compile_policy(parse_policy(TEST_POLICY)))
        for i, q in enumerate(cols.rec_seq):
            assert rows.disputed[i] == in_time.get(int(q), NEVER)
        ledger.close()


# ------------------------------------------- subject kinds: the line's and the ledger's

KIND_RULES = IngestRules.for_record_types(
    {"volunteering": ["person"], "fine": ["person", "organisation"], "tax": ["organisation"]},
    relations={"legal_representative_of": ("person", "organisation")},
)


def _rec(rid: str, subject: str, type_name: str, kind: str | None = None) -> dict[str, Any]:
    entry = {"id": rid, "source": "s", "subject": subject, "type": type_name}
    entry["occurred_at"] = "2025-02-01"
    if kind is not None:
        entry["subject_kind"] = kind
    return entry


def _rep(rid: str, subject: str, related: str, **kinds: str) -> dict[str, Any]:
    return {
        "kind": "relation",
        "id": rid,
        "source": "registry",
        "subject": subject,
        "relation": "legal_representative_of",
        "related_subject": related,
        "valid_from": "2020-01-01",
        **kinds,
    }


def test_a_line_cannot_change_the_kind_the_ledger_records(ledger: Ledger) -> None:
    first = ledger.ingest_entries(
        [_rec("o1", "acme", "fine", "organisation")], rules=KIND_RULES, now=NOW - 30 * DAY
    )
    assert first.accepted == 1
    result = ledger.ingest_entries(
        [
            _rec("v1", "acme", "volunteering", "person"),  # 1: says person
            _rec("v2", "acme", "volunteering"),  # 2: no kind: acme's is organisation
            _rec("t1", "acme", "tax"),  # 3: no kind, fits the stored organisation
            _rec("t2", "newco", "tax"),  # 4: a new subject without kind is a person
            _rec("f1", "firm", "fine", "organisation"),  # 5: creates firm
            _rec("t3", "firm", "tax"),  # 6: fits what line 5 created
            _rec("f2", "firm", "fine", "person"),  # 7: contradicts line 5
            _rec("f3", "pat", "fine"),  # 8: a new subject without kind: a person
            _rec("f4", "acme", "fine", "organization"),  # 9: the same kind, other spelling
        ],
        rules=KIND_RULES,
        now=NOW,
    )
    got = {p.line: (p.field, p.message) for p in result.problems}
    assert sorted(got) == [1, 2, 4, 7]
    assert result.accepted == 5
    assert {field for field, _ in got.values()} == {"subject_kind"}
    since = "since 2025-12-02T00:00:00Z (ingest batch "  # NOW - 30 days: the first ingest
    assert got[1][1].startswith(f"acme is recorded as an organisation {since}")
    assert got[1][1].endswith(", line 1); this line gives subject_kind person")
    assert got[2][1].startswith(
        f"record type 'volunteering' applies to person subjects only; acme is recorded as "
        f"an organisation {since}"
    )
    assert got[4][1] == (
        "record type 'tax' applies to organisation subjects only; the ledger does not know "
        "newco, and without subject_kind a new subject is a person: give subject_kind"
    )
    assert got[7][1] == (
        "firm is recorded as an organisation since line 5 of this input; this line gives "
        "subject_kind person"
    )
    assert not ledger.has_subject("newco")
    assert sorted(ledger.subject_names("organisation")) == ["acme", "firm"]
    assert ledger.subject_names("person") == ["pat"]
    stored = {e["id"] for e in ledger.iter_entries(kinds=["record"])}
    assert stored == {"o1", "t1", "f1", "t3", "f3", "f4"}


def test_without_a_policy_a_stated_kind_still_must_match(ledger: Ledger) -> None:
    result = ledger.ingest_entries(
        [
            _rec("o1", "acme", "fine", "organisation"),
            _rec("o2", "acme", "fine", "person"),
            _rec("o3", "acme", "fine"),  # no kind stated: nothing to contradict
            _rep("r1", "acme", "boss", subject_kind="person"),
            _rep("r2", "boss", "acme", related_kind="organisation"),
        ],
        now=NOW,
    )
    got = {p.line: (p.field, p.message) for p in result.problems}
    assert got == {
        2: (
            "subject_kind",
            "acme is recorded as an organisation since line 1 of this input; this line gives "
            "subject_kind person",
        ),
        4: (
            "subject_kind",
            "acme is recorded as an organisation since line 1 of this input; this line gives "
            "subject_kind person",
        ),
    }
    assert result.accepted == 3
    assert ledger.subject_names("organisation") == ["acme"]


def test_relations_without_kinds_take_the_ledgers_or_the_declared_ones(ledger: Ledger) -> None:
    ledger.ingest_entries(
        [_rec("o1", "acme", "fine", "organisation"), _rec("p1", "solo", "fine")],
        rules=KIND_RULES,
        now=NOW,
    )
    result = ledger.ingest_entries(
        [
            _rep("r6b", "boss", "acme"),  # acme is an organisation, boss new: a person
            _rep("r7", "boss", "newfirm"),  # newfirm is new: an organisation, as declared
            _rep("r8", "boss", "solo"),  # solo is recorded as a person
            _rep("r9", "acme", "newfirm"),  # acme cannot be a representative
        ],
        rules=KIND_RULES,
        now=NOW,
    )
    got = {p.line: (p.field, p.message) for p in result.problems}
    assert got == {
        3: (
            "related_subject",
            "legal_representative_of must point to an organisation; solo is recorded as a person",
        ),
        4: (
            "subject",
            "legal_representative_of must start from a person; acme is recorded as an organisation",
        ),
    }
    assert result.accepted == 2
    assert sorted(ledger.subject_names("organisation")) == ["acme", "newfirm"]
    assert sorted(ledger.subject_names("person")) == ["boss", "solo"]
