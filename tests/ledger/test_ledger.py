"""The append-only ledger on SQLite and PostgreSQL: ingestion, idempotency, reading back."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.ledger import IngestRules, Ledger, LedgerColumns
from socialcredit.ledger import parsing as prepare_module
from socialcredit.ledger import store as store_module
from socialcredit.timeutil import parse_timestamp
from tests.ledger.conftest import policy_body

NOW = parse_timestamp("2026-01-01")

ENTRIES: list[dict[str, Any]] = [
    {
        "id": "1",
        "source": "court",
        "subject": "alice",
        "type": "debt",
        "occurred_at": "2025-01-01",
        "recorded_at": "2025-01-03",
        "amount": 5000,
        "evidence": "case 7",
    },
    {
        "id": "2",
        "source": "rail",
        "subject": "bob",
        "type": "fine",
        "occurred_at": "2025-02-01T10:00:00Z",
    },
    {
        "kind": "relation",
        "id": "r1",
        "source": "registry",
        "subject": "kid",
        "relation": "child_of",
        "related_subject": "alice",
        "valid_from": "2010-01-01",
        "recorded_at": "2010-01-02",
    },
    {
        "kind": "resolve",
        "id": "p1",
        "source": "court",
        "target_source": "court",
        "target_id": "1",
        "occurred_at": "2025-06-01",
        "reason": "paid",
    },
    {
        "kind": "rectify",
        "id": "x1",
        "source": "rail",
        "target_source": "rail",
        "target_id": "2",
        "occurred_at": "2025-03-01",
        "type": "warning",
    },
    {
        "kind": "annul",
        "id": "a1",
        "source": "registry",
        "target_source": "registry",
        "target_id": "r1",
        "occurred_at": "2025-04-01",
    },
]


def write_jsonl(path: Path, entries: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))
    return path


def test_upgrade_is_idempotent(ledger: Ledger) -> None:
    ledger.upgrade()
    ledger.upgrade()
    assert ledger.count_entries() == 0


def test_ingest_and_read_back(ledger: Ledger, tmp_path: Path) -> None:
    result = ledger.ingest_file(str(write_jsonl(tmp_path / "e.jsonl", ENTRIES)), now=NOW)
    assert (result.lines, result.accepted, result.duplicates, result.rejected) == (6, 6, 0, 0)
    cols = ledger.columns()
    assert sorted(cols.subjects) == ["alice", "bob", "kid"]
    alice = cols.subjects.index("alice")
    i = list(cols.rec_id).index("1")
    assert cols.rec_subject[i] == alice
    assert cols.rec_occurred_at[i] == parse_timestamp("2025-01-01")
    # the time the ledger received it, not the line's recorded_at (the source's claim)
    assert cols.rec_recorded_at[i] == NOW
    assert cols.rec_amount[i] == 5000
    j = list(cols.rec_id).index("2")
    assert cols.rec_recorded_at[j] == NOW  # no recorded_at: the ledger's clock
    assert sorted(cols.cor_id) == ["a1", "p1", "x1"]
    k = list(cols.cor_id).index("x1")
    assert cols.cor_type[k] == "warning" and cols.cor_target[k] == cols.rec_seq[j]
    assert cols.cor_reason[list(cols.cor_id).index("p1")] == "paid"
    assert cols.cor_target[list(cols.cor_id).index("a1")] == cols.rel_seq[0]
    assert cols.subjects[cols.rel_subject[0]] == "kid"
    assert cols.subjects[cols.rel_related[0]] == "alice"


def test_reingesting_changes_nothing(ledger: Ledger, tmp_path: Path) -> None:
    path = str(write_jsonl(tmp_path / "e.jsonl", ENTRIES))
    ledger.ingest_file(path, now=NOW)
    again = ledger.ingest_file(path, now=NOW + 100)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 6, 0)
    assert ledger.count_entries() == 6


def test_bad_lines_are_reported_and_good_lines_kept(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(
            [
                orjson.dumps(ENTRIES[0]).decode(),  # line 1: good
                "{not json",  # line 2
                orjson.dumps({**ENTRIES[1], "occurred_at": "yesterday"}).decode(),  # line 3
                orjson.dumps({**ENTRIES[1], "id": "9", "subject_kind": "robot"}).decode(),  # 4
                orjson.dumps(
                    {
                        "kind": "resolve",
                        "id": "q",
                        "source": "court",
                        "target_source": "court",
                        "target_id": "nope",
                        "occurred_at": "2025-01-01",
                    }
                ).decode(),  # 5
                orjson.dumps({**ENTRIES[1], "id": "10", "ocurred_at": "2025-01-01"}).decode(),  # 6
                orjson.dumps(
                    {
                        **ENTRIES[1],
                        "id": "11",
                        "occurred_at": "2025-03-01",
                        "recorded_at": "2025-02-01",
                    }
                ).decode(),  # 7
                orjson.dumps({**ENTRIES[1], "id": "12"}).decode(),  # line 8: good
            ]
        )
        + "\n"
    )
    result = ledger.ingest_file(str(path), now=NOW)
    assert (result.lines, result.accepted, result.rejected) == (8, 2, 6)
    by_line = {p.line: p for p in result.problems}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7]
    assert "not valid JSON" in by_line[2].message
    assert by_line[3].field == "occurred_at" and "yesterday" in by_line[3].message
    assert by_line[4].field == "subject_kind"
    assert by_line[5].field == "target_id" and "court/nope" in by_line[5].message
    assert by_line[6].field == "ocurred_at" and "occurred_at" in by_line[6].message
    assert by_line[7].field == "occurred_at" and "after recorded_at" in by_line[7].message
    assert str(by_line[2]).startswith(f"{path}:2")
    assert ledger.count_entries() == 2


def test_known_types_reject_typos(ledger: Ledger) -> None:
    bad = {**ENTRIES[1], "type": "fien"}
    result = ledger.ingest_entries(
        [ENTRIES[0], bad], rules=IngestRules.for_record_types({"debt", "fine"}), now=NOW
    )
    (problem,) = result.problems
    assert (
        problem.line == 2 and problem.field == "type" and "did you mean 'fine'" in problem.message
    )


def test_record_types_apply_to_the_subject_kinds_the_policy_names(ledger: Ledger) -> None:
    kinds = {"debt": ["person", "organisation"], "fine": ["person"]}
    company_fine = {**ENTRIES[1], "subject": "acme", "subject_kind": "organisation"}
    result = ledger.ingest_entries(
        [ENTRIES[0], company_fine], rules=IngestRules.for_record_types(kinds), now=NOW
    )
    (problem,) = result.problems
    assert problem.line == 2 and problem.field == "subject_kind"
    assert "applies to person subjects only, not to an organisation" in problem.message


def test_only_records_can_be_resolved(ledger: Ledger) -> None:
    result = ledger.ingest_entries(
        [
            ENTRIES[2],
            {
                "kind": "resolve",
                "id": "z",
                "source": "x",
                "target_source": "registry",
                "target_id": "r1",
                "occurred_at": "2025-01-01",
            },
        ],
        now=NOW,
    )
    (problem,) = result.problems
    assert "relation entry" in problem.message


def test_csv(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "kind,id,source,subject,type,occurred_at,amount,target_source,target_id\n"
        "record,1,court,alice,debt,2025-01-01,100.5,,\n"
        "record,2,court,bob,debt,2025-01-02,,,\n"
        "resolve,3,court,,,2025-02-01,,court,1\n"
        "record,4,court,carol,debt,not-a-date,,,\n"
        "record,5,court\n"
    )
    result = ledger.ingest_file(str(path), now=NOW)
    assert (result.accepted, result.rejected) == (3, 2)
    assert [(p.line, p.field) for p in result.problems] == [(5, "occurred_at"), (6, "")]
    cols = ledger.columns()
    assert cols.rec_amount[list(cols.rec_id).index("1")] == 100.5
    assert np.isnan(cols.rec_amount[list(cols.rec_id).index("2")])


def _same(a: LedgerColumns, b: LedgerColumns) -> None:
    def view(c: LedgerColumns) -> dict[str, Any]:
        names = c.subjects
        recs = sorted(
            zip(
                c.rec_source,
                c.rec_id,
                [names[i] for i in c.rec_subject],
                c.rec_type,
                c.rec_occurred_at.tolist(),
                c.rec_recorded_at.tolist(),
                np.nan_to_num(c.rec_amount, nan=-1).tolist(),
                strict=True,
            )
        )
        cors = sorted(
            zip(
                c.cor_source,
                c.cor_id,
                c.cor_action.tolist(),
                c.cor_occurred_at.tolist(),
                c.cor_recorded_at.tolist(),
                c.cor_type,
                c.cor_reason,
                strict=True,
            )
        )
        rels = sorted(
            zip(
                c.rel_source,
                [names[i] for i in c.rel_subject],
                [names[i] for i in c.rel_related],
                c.rel_type,
                c.rel_valid_from.tolist(),
                c.rel_valid_until.tolist(),
                strict=True,
            )
        )
        return {"recs": recs, "cors": cors, "rels": rels}

    assert view(a) == view(b)


def test_export_then_ingest_round_trips(
    ledger: Ledger, sqlite_ledger: Ledger, tmp_path: Path
) -> None:
    ledger.ingest_entries(ENTRIES, now=NOW)
    exported = list(ledger.iter_entries())
    fresh = Ledger.open(str(tmp_path / "copy.db"))
    fresh.upgrade()
    result = fresh.ingest_entries(exported, now=NOW + 999, backfill=True)
    assert result.accepted == len(ENTRIES)
    _same(ledger.columns(), fresh.columns())
    fresh.close()


def test_one_subject_equals_the_bulk_filtered(ledger: Ledger) -> None:
    ledger.ingest_entries(ENTRIES, now=NOW)
    bulk = ledger.columns()
    for name in ("alice", "bob", "kid", "nobody"):
        one = ledger.columns([name])
        assert one.subjects[0] == name
        idx = bulk.subjects.index(name) if name in bulk.subjects else -1
        mine = bulk.rec_subject == idx
        assert sorted(one.rec_id) == sorted(bulk.rec_id[mine])
        seqs = set(bulk.rec_seq[mine]) | set(bulk.rel_seq[bulk.rel_subject == idx])
        assert sorted(one.cor_id) == sorted(bulk.cor_id[np.isin(bulk.cor_target, list(seqs))])
        assert sorted(one.rel_seq) == sorted(bulk.rel_seq[bulk.rel_subject == idx])
    kid = ledger.columns(["kid"])
    assert kid.subjects == ["kid", "alice"]  # the related subject comes along


@pytest.mark.parametrize("with_ids", [False, True])
def test_the_bulk_read_codes_record_types_and_they_are_the_names(
    ledger: Ledger, with_ids: bool
) -> None:
    ledger.ingest_entries(ENTRIES, now=NOW)
    bulk = ledger.columns(with_ids=with_ids)
    one = {name: ledger.columns([name]) for name in bulk.subjects}
    by_seq = {s: c.rec_type[c.rec_seq == s][0] for c in one.values() for s in c.rec_seq}
    assert bulk.rec_type.tolist() == [by_seq[s] for s in bulk.rec_seq.tolist()]
    if ledger.is_sqlite:  # SQLite's bulk read codes them (PostgreSQL's gives names)
        assert bulk.rec_type_codes is not None
        codes, names = bulk.rec_type_codes
        assert sorted(names) == sorted(set(bulk.rec_type.tolist()))
        assert [names[c] for c in codes.tolist()] == bulk.rec_type.tolist()


def test_policies_are_versioned(ledger: Ledger) -> None:
    assert ledger.active_policy() is None
    (b1, h1), (b2, h2) = policy_body("1"), policy_body("2")
    v1 = ledger.activate_policy(b1, "p", "1", h1, NOW, "me", now=NOW)
    same = ledger.activate_policy(b1, "p", "1", h1, NOW + 5, "me", now=NOW + 5)
    v2 = ledger.activate_policy(b2, "p", "2", h2, NOW + 10, None, now=NOW + 10)
    assert v1.version == same.version and v2.version == v1.version + 1
    active = ledger.active_policy()
    assert active is not None and active.body == b2 and active.content_hash == h2
    assert [p.declared_version for p in ledger.policy_history()] == ["1", "2"]


def test_large_files_are_parsed_in_a_subprocess_with_the_same_result(
    sqlite_ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [
        {
            "id": str(i),
            "source": "s",
            "subject": f"p{i % 37}",
            "type": "fine",
            "occurred_at": "2025-01-01",
        }
        for i in range(3000)
    ] + ["garbage"]
    path = str(write_jsonl(tmp_path / "big.jsonl", entries))
    monkeypatch.setattr(store_module, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(prepare_module, "CHUNK", 700)
    result = sqlite_ledger.ingest_file(path, now=NOW)
    assert (result.lines, result.accepted, result.rejected) == (3001, 3000, 1)
    assert result.problems[0].line == 3001
    assert sqlite_ledger.count_entries() == 3000
    assert len(sqlite_ledger.subject_names()) == 37


entry_strategy = st.fixed_dictionaries(
    {
        "id": st.integers(0, 30).map(str),
        "source": st.sampled_from(["court", "rail"]),
        "subject": st.sampled_from(["a", "b", "c", "d"]),
        "type": st.sampled_from(["debt", "fine"]),
        "occurred_at": st.integers(parse_timestamp("2020-01-01"), NOW).map(int),
        "amount": st.none() | st.floats(-1e6, 1e6, allow_nan=False),
    }
)
line_strategy = st.one_of(
    entry_strategy,
    entry_strategy.map(lambda e: {**e, "occurred_at": "bad"}),
    st.just("junk"),
    st.just(None),  # a blank line
)


def _write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"".join(b"\n" if e is None else orjson.dumps(e) + b"\n" for e in lines))
    return path


def _content(line: dict[str, Any]) -> tuple[Any, ...]:
    return (line["subject"], line["type"], line["occurred_at"], line["amount"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(line_strategy, max_size=40))
def test_every_line_is_accounted_for_and_accepted_entries_read_back(lines: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(str(Path(tmp) / "l.db"))
        ledger.upgrade()
        path = _write_lines(Path(tmp) / "in.jsonl", lines)
        result = ledger.ingest_file(str(path), now=NOW)
        assert (
            result.accepted
            + result.duplicates
            + result.conflicts
            + result.rejected
            + result.skipped
            == result.lines
            == len(lines)
        )
        first: dict[tuple[str, str], dict[str, Any]] = {}
        conflicting = []
        repeats = 0
        for number, line in enumerate(lines, start=1):
            if isinstance(line, dict) and line["occurred_at"] != "bad":
                key = (line["source"], line["id"])
                if key not in first:
                    first[key] = line
                elif _content(first[key]) != _content(line):
                    conflicting.append(number)
                else:
                    repeats += 1
        assert result.skipped == lines.count(None)
        assert result.accepted == len(first)
        assert result.duplicates == repeats
        assert [c.line for c in result.conflict_lines] == conflicting
        assert result.conflicts == len(conflicting)
        cols = ledger.columns()
        stored = {
            (s, i): (cols.subjects[sub], t, occ, None if np.isnan(a) else a)
            for s, i, sub, t, occ, a in zip(
                cols.rec_source,
                cols.rec_id,
                cols.rec_subject,
                cols.rec_type,
                cols.rec_occurred_at,
                cols.rec_amount,
                strict=True,
            )
        }
        assert stored == {k: _content(e) for k, e in first.items()}
        # again: what was accepted is now a duplicate, conflicts stay conflicts
        again = ledger.ingest_file(str(path), now=NOW + 50)
        assert (again.accepted, again.conflicts) == (0, len(conflicting))
        assert again.duplicates == len(first) + repeats
        ledger.close()


def test_within_a_file_the_first_of_two_lines_with_one_id_wins(ledger: Ledger) -> None:
    first = {**ENTRIES[1], "subject": "zed"}
    second = {**ENTRIES[1], "subject": "amy"}  # sorts before zed, same (source, id)
    result = ledger.ingest_entries([first, second, first], now=NOW)
    assert (result.accepted, result.duplicates, result.conflicts) == (1, 1, 1)
    assert [c.line for c in result.conflict_lines] == [2]
    assert (
        "first given on line 1 with different content (subject 'amy' here, 'zed' in the ledger)"
        in (result.conflict_lines[0].message)
    )
    cols = ledger.columns()
    assert [cols.subjects[i] for i in cols.rec_subject] == ["zed"]


fast_fields = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["1", "", 7, 2**64, " \t"]),
        "source": st.sampled_from(["court", "", None, "c\x00", "\ud800", " "]),
        "subject": st.sampled_from(["a", "x" * 501, "a\x00b", "é", "\udc80", "   ", "\u00a0"]),
        "type": st.sampled_from(["debt", "fine", "nope", " "]),
        "occurred_at": st.sampled_from(
            [
                "2025-01-01",
                "2025-01-01T10:00:00+08:00",
                "bad",
                5,
                "2030-01-01",
                "0001-01-01T00:00:00+01:00",
                "1000-01-01T00:00:00Z",
                "0999-12-31T23:59:59Z",
                -9000000000000000000,
            ]
        ),
    },
    optional={
        "kind": st.sampled_from(["record", "relation", None]),
        "subject_kind": st.sampled_from(
            ["person", "organisation", "organization", "robot", "", ["person"], 0, False, []]
        ),
        "recorded_at": st.sampled_from(
            ["2025-06-01", "2024-01-01", "", None, "2031-01-01", "9999-12-31T23:59:59-14:00"]
        ),
        "amount": st.sampled_from(
            [None, 3, 2.5, float("inf"), float("nan"), "4", True, 1e15, -1e15, 1e16, 2**64]
        ),
        "evidence": st.sampled_from([None, "", "case 1", "case\x00"]),
        "extra": st.sampled_from(["x", None]),
    },
)


@given(
    obj=fast_fields,
    known=st.sampled_from(
        [None, {"debt", "fine"}, {"debt": ["person"], "fine": ["person", "organisation"]}]
    ),
)
def test_fast_path_agrees_with_the_validator(obj: dict[str, Any], known: set[str] | None) -> None:
    from socialcredit.ledger.entries import EntryError, validate_entry
    from socialcredit.ledger.parsing import fast_record

    rules = IngestRules.for_record_types(known) if known is not None else None
    fast = fast_record(obj, rules.record_types if rules else None, NOW, 7)
    try:
        e = validate_entry(obj, rules, NOW)
    except EntryError:
        assert fast is None
        return
    if fast is not None:
        gives_recorded = obj.get("recorded_at") not in (None, "")
        assert fast == (
            e.source,
            e.entry_id,
            e.kind,
            e.subject,
            e.type,
            e.occurred_at,
            None,  # the writer stores `now`: the time the ledger received it
            e.amount,
            e.evidence,
            e.details,  # a record on the fast path has no term of its own
            e.claimed_recorded_at,
            7,
        )
        assert e.recorded_at == NOW
        assert (e.claimed_recorded_at is not None) == gives_recorded


@pytest.mark.parametrize("kind", [0, False, [], {}])
def test_a_subject_kind_that_is_not_text_is_an_error_on_the_fast_path_too(kind: Any) -> None:
    """0, false or [] are not "no subject_kind": the validator refuses them, so the fast
    path leaves them to it (it used to read them as person)."""
    from socialcredit.ledger.entries import EntryError, validate_entry
    from socialcredit.ledger.parsing import fast_record

    obj = {**ENTRIES[0], "subject_kind": kind}
    with pytest.raises(EntryError, match="subject_kind"):
        validate_entry(obj, None, NOW)
    assert fast_record(obj, None, NOW) is None


def test_fast_path_takes_plain_records() -> None:
    from socialcredit.ledger.parsing import fast_record

    assert fast_record(ENTRIES[0], None, NOW) is not None
    assert fast_record(ENTRIES[2], None, NOW) is None  # relations go the general way


def test_the_engine_answers_the_same_on_either_database(ledger: Ledger) -> None:
    from socialcredit.engine import Engine
    from socialcredit.policy import parse_policy

    from ..conftest import TEST_POLICY

    loaded = parse_policy(TEST_POLICY)
    ledger.activate_policy(
        loaded.text,
        loaded.policy.policy,
        loaded.policy.version,
        loaded.content_hash,
        parse_timestamp("2024-01-01"),
        now=parse_timestamp("2024-01-01"),
    )
    ledger.ingest_entries(
        [
            ENTRIES[0],  # alice's debt, recorded 2025-01-03
            ENTRIES[2],  # kid child_of alice
            {**ENTRIES[2], "id": "r2"},  # the same relation again, from another id
        ],
        now=parse_timestamp("2025-03-01"),
    )
    engine = Engine.open(ledger, lambda: parse_timestamp("2025-03-01"))
    st = engine.standing("alice")
    assert st.score == 900 and [m.name for m in st.lists] == ["debtors"]
    assert engine.check("kid", "air_travel").decision == "deny"  # through child_of
    assert engine.check("kid", "private_school").decision == "allow"
    bulk = engine.recompute()
    assert bulk.score[bulk.subjects.index("alice")] == 900


def test_a_correction_cannot_point_at_a_later_line(ledger: Ledger) -> None:
    resolve = {**ENTRIES[3], "target_id": "later"}
    record = {**ENTRIES[0], "id": "later"}
    result = ledger.ingest_entries([resolve, record], now=NOW)
    assert (result.accepted, result.rejected) == (1, 1)
    problem = result.problems[0]
    assert (problem.line, problem.field) == (1, "target_id")
    assert "earlier line" in problem.message
    # once the record is in, the same correction applies
    again = ledger.ingest_entries([resolve], now=NOW)
    assert (again.accepted, again.rejected) == (1, 0)


def test_subject_names_by_kind_and_export_by_kind(ledger: Ledger) -> None:
    company = {**ENTRIES[1], "id": "c1", "subject": "acme", "subject_kind": "organisation"}
    ledger.ingest_entries([*ENTRIES, company], now=NOW)
    assert set(ledger.subject_names()) == {"alice", "bob", "kid", "acme"}
    assert ledger.subject_names("organisation") == ["acme"]
    assert set(ledger.subject_names("person")) == {"alice", "bob", "kid"}
    corrections = list(ledger.iter_entries(kinds=["resolve", "annul"]))
    assert [(e["kind"], e["target_id"]) for e in corrections] == [("resolve", "1"), ("annul", "r1")]
    # within one chunk, records are stored grouped by subject (the order need not be the input's)
    assert sorted(e["id"] for e in ledger.iter_entries(kinds=["record"])) == ["1", "2", "c1"]
    with pytest.raises(ValueError, match="robot"):
        ledger.subject_names("robot")


def test_unknown_subjects_are_listed_without_rows(ledger: Ledger) -> None:
    ledger.ingest_entries(ENTRIES, now=NOW)
    cols = ledger.columns(["nobody", "kid"])
    assert cols.subjects == ["nobody", "kid", "alice"]  # the related subject comes last
    assert len(cols.rec_seq) == 0 and len(cols.rel_seq) == 1
    assert cols.subjects[cols.rel_related[0]] == "alice"
    assert list(cols.cor_id) == ["a1"]  # the relation's annulment


def test_two_parsing_processes_agree_with_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks shared out between two processes, with the same rules: same counts, problems,
    conflicts, notices and stored entries."""
    lines: list[Any] = [
        {**ENTRIES[1], "id": "org", "subject": "acme", "subject_kind": "organisation"}
    ]
    for i in range(2000):
        j = i % 1700  # ids 0..299 come twice: the first line wins
        lines.append(
            {
                "id": str(j),
                "source": "s",
                "subject": f"p{j % 41}",
                "type": "fine",
                "occurred_at": "2025-01-01",
                "recorded_at": "2025-01-02",
                "amount": (j if i % 3 else i) / 7,  # a third of the repeats differ
            }
        )
        if i % 250 == 3:  # a correction of a record in an earlier block, or just before
            lines.append(
                {
                    **ENTRIES[3],
                    "id": f"c{i}",
                    "target_source": "s",
                    "target_id": str((i - 3) % 1700),
                }
            )
        if i % 500 == 7:  # its target only comes later: rejected
            lines.append(
                {**ENTRIES[3], "id": f"late{i}", "target_source": "s", "target_id": "1699"}
            )
        if i % 333 == 0:
            lines.append("garbage")
        if i % 400 == 5:  # a relation to a subject the ledger knows as an organisation
            lines.append(
                {**ENTRIES[2], "id": f"r{i}", "subject": f"p{i % 41}", "related_subject": "acme"}
            )
        if i % 400 == 9:  # a record calling the organisation acme a person
            lines.append({**ENTRIES[1], "id": f"k{i}", "subject": "acme", "subject_kind": "person"})
        if i % 400 == 6:  # a relation the policy does not declare
            lines.append({**ENTRIES[2], "id": f"q{i}", "relation": "cousin_of"})
        if i % 600 == 11:  # a dispute long after the appeal window
            lines.append(
                {
                    "kind": "dispute",
                    "id": f"d{i}",
                    "source": "s",
                    "target_source": "s",
                    "target_id": str(j),
                    "occurred_at": "2025-06-01",
                    "recorded_at": "2025-06-01",
                }
            )
    path = tmp_path / "big.jsonl"
    write_jsonl(path, lines)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\n\n", 5))  # blank lines too
    rules = IngestRules.for_record_types(
        {"fine": ["person", "organisation"]},
        relations={"child_of": ("person", "person")},
        appeal_window=30 * 86400,
    )

    def run(parallel: bool) -> tuple[dict[str, Any], list[bytes]]:
        ledger = Ledger.open(str(tmp_path / f"l{parallel}.db"))
        ledger.upgrade()
        monkeypatch.setattr(store_module, "PARALLEL_FROM_BYTES", 0 if parallel else 10**12)
        monkeypatch.setattr(prepare_module, "CHUNK", 300)
        result = ledger.ingest_file(str(path), rules=rules, now=NOW, backfill=True)
        stored = sorted(orjson.dumps(e, option=orjson.OPT_SORT_KEYS) for e in ledger.iter_entries())
        ledger.close()
        return result.to_json(), stored

    one, two = run(False), run(True)
    assert one == two
    got = two[0]
    assert got["lines"] == len(lines) + 5
    assert (
        got["accepted"] + got["duplicates"] + got["conflicts"] + got["rejected"] + got["skipped"]
        == got["lines"]
    )
    assert (got["skipped"], got["duplicates"], got["conflicts"]) == (5, 200, 100)
    problems = got["problems"]
    assert sum("earlier line" in p["message"] for p in problems) == 4
    assert sum(p["message"].endswith("acme is recorded as an organisation") for p in problems) == 5
    assert [p["message"] for p in problems if p["field"] == "subject_kind"] == [
        "acme is recorded as an organisation since line 1 of this input; this line gives "
        "subject_kind person"
    ] * 5
    assert sum("unknown relation 'cousin_of'" in p["message"] for p in problems) == 5
    assert sum(p["field"] == "" for p in problems) == 7  # the garbage lines
    assert got["rejected"] == 4 + 5 + 5 + 5 + 7
    assert got["no_effect"] == 4 and all(
        "after the appeal window closed on 2025-02-01T00:00:00Z" in n["message"]
        for n in got["no_effect_lines"]
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'{"id": "a", "source": "court"\n', "the line ends before its JSON value does"),
        (b'{"id": "a",, "source": "court"}\n', "at column 12"),
    ],
)
def test_a_bad_json_line_is_placed_within_its_own_line(
    ledger: Ledger, tmp_path: Path, line: bytes, expected: str
) -> None:
    """The reason names a column of the line it is reported against, never the parser's
    "line 2" (the line's own newline counted as a second line)."""
    path = tmp_path / "bad.jsonl"
    path.write_bytes(orjson.dumps(ENTRIES[0]) + b"\n" + line)
    result = ledger.ingest_file(str(path), now=NOW)
    (problem,) = result.problems
    assert problem.line == 2 and expected in problem.message, problem.message
    assert "line 2" not in problem.message and "line 1" not in problem.message
