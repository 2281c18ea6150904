"""Exemption and attribute entries in the ledger: line-by-line checks with clear reasons,
duplicates and conflicts, annulment, loading (everyone and one subject), export and ingest
in every format, append-only, and migration 0007."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from socialcredit.columns import ATTRIBUTE, EXEMPTION, KIND_CODES, KIND_NAMES, is_correction
from socialcredit.export import write_entries
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.ledger.database import MIGRATIONS
from socialcredit.ledger.loading import FACTS_WHERE
from socialcredit.policy import parse_policy
from socialcredit.timeutil import parse_timestamp

from ..scoring.test_subject_facts import FACTS_POLICY

NOW = parse_timestamp("2026-01-01")
RULES = IngestRules.from_policy(parse_policy(FACTS_POLICY).policy)


def exemption(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "exemption",
        "id": "x1",
        "source": "court",
        "subject": "wang",
        "services": ["air_travel"],
        "valid_from": "2025-03-01",
        "valid_until": "2025-03-10",
        "reason": "a funeral",
        "approved_by": "Intermediate Court",
        "approved_at": "2025-02-20",
        **fields,
    }


def attribute(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "attribute",
        "id": "b1",
        "source": "registry",
        "subject": "wang",
        "attribute": "birth_date",
        "value": "2008-02-29",
        "valid_from": "2008-02-29",
        **fields,
    }


def test_kind_codes_are_fixed_and_facts_are_not_corrections() -> None:
    assert (KIND_CODES["exemption"], KIND_CODES["attribute"]) == (EXEMPTION, ATTRIBUTE) == (9, 10)
    assert KIND_NAMES[9] == "exemption" and KIND_NAMES[10] == "attribute"
    assert [k for k in KIND_NAMES if is_correction(k)] == [
        KIND_CODES[n] for n in ("resolve", "annul", "dispute", "uphold", "rectify")
    ] + [k for k in (7, 8) if k in KIND_NAMES]
    assert not is_correction(EXEMPTION) and not is_correction(ATTRIBUTE)


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        (
            exemption(services=["air_travle"]),
            "services",
            "unknown service 'air_travle' for the active policy; did you mean 'air_travel'?",
        ),
        (
            exemption(services="air_travel, hotels"),
            "services",
            "unknown service 'hotels' for the active policy; known: air_travel, bike_rental, "
            "luxury_hotel, private_school, rail",
        ),
        (exemption(services=[]), "services", "is required (the services the exemption allows)"),
        (exemption(services=[3]), "services", "expected service ids as text, got [3]"),
        (
            exemption(valid_until="2025-02-10"),
            "valid_until",
            "2025-02-10T00:00:00Z is not after valid_from 2025-03-01T00:00:00Z",
        ),
        (exemption(reason=""), "reason", "is required"),
        (exemption(approved_by=None), "approved_by", "is required"),
        (
            exemption(approved_at="2027-01-01"),
            "approved_at",
            "2027-01-01T00:00:00Z is in the future (the ledger's clock is 2026-01-01T00:00:00Z)",
        ),
        (
            exemption(occurred_at="2025-01-01"),
            "occurred_at",
            "is not a field of an exemption entry; did you mean 'valid_from'?",
        ),
        (
            attribute(value="2008-02-30"),
            "value",
            "'2008-02-30' is not a date like 2008-02-29 (attribute 'birth_date')",
        ),
        (
            attribute(value="29/02/2008"),
            "value",
            "'29/02/2008' is not a date like 2008-02-29 (attribute 'birth_date')",
        ),
        (
            attribute(attribute="birthdate"),
            "attribute",
            "unknown attribute 'birthdate' for the active policy; did you mean 'birth_date'?",
        ),
        (
            attribute(subject_kind="organisation"),
            "subject_kind",
            "attribute 'birth_date' applies to person subjects only, not to an organisation",
        ),
        (
            attribute(attribute="staff", value="many", subject_kind="organisation"),
            "value",
            "expected a number, got 'many'",
        ),
        (
            attribute(attribute="residence", value="  "),
            "value",
            "is required; got only blank space '  '",
        ),
        (attribute(value=None), "value", "is required"),
        (
            attribute(attribute="residence", value=42),
            "value",
            "expected text (attribute 'residence' is of type text), got int 42; quote it if "
            "it is meant as text",
        ),
        (
            attribute(value="2026-01-02", valid_from="2025-01-01"),
            "value",
            "2026-01-02 is after this line was recorded (2026-01-01T00:00:00Z): attribute "
            "'birth_date' is a date the policy counts an age from, which cannot lie in the future",
        ),
        (
            attribute(value="2025-12-20", valid_from="2025-01-01", recorded_at="2025-12-01"),
            "value",
            "2025-12-20 is after this line was recorded (2025-12-01T00:00:00Z): attribute "
            "'birth_date' is a date the policy counts an age from, which cannot lie in the future",
        ),
        # two faults: the first in the order of the line's fields is reported, as for records
        (
            exemption(services=["air_travle"], valid_until="2025-02-10"),
            "services",
            "unknown service 'air_travle' for the active policy; did you mean 'air_travel'?",
        ),
        (
            attribute(attribute="birthdate", valid_until="2008-02-29"),
            "attribute",
            "unknown attribute 'birthdate' for the active policy; did you mean 'birth_date'?",
        ),
        (
            attribute(attribute="birthdate", value=None),
            "attribute",
            "unknown attribute 'birthdate' for the active policy; did you mean 'birth_date'?",
        ),
        (
            attribute(valid_until="2008-02-29"),
            "valid_until",
            "2008-02-29T00:00:00Z is not after valid_from 2008-02-29T00:00:00Z",
        ),
    ],
)
def test_bad_lines_are_rejected_with_their_field_and_reason(
    sqlite_ledger: Ledger, line: dict[str, Any], field: str, reason: str
) -> None:
    result = sqlite_ledger.ingest_entries([line, attribute(id="ok")], rules=RULES, now=NOW)
    assert result.accepted == 1
    assert [(p.line, p.field, p.reason) for p in result.problems] == [(1, field, reason)]


def test_a_birth_date_of_today_and_a_quoted_number_as_text_are_accepted(
    sqlite_ledger: Ledger,
) -> None:
    lines = [
        attribute(value="2026-01-01", valid_from="2026-01-01"),
        attribute(id="r1", attribute="residence", value="42"),
    ]
    assert sqlite_ledger.ingest_entries(lines, rules=RULES, now=NOW).accepted == 2


def test_without_a_policy_any_attribute_is_kept_as_text(sqlite_ledger: Ledger) -> None:
    line = attribute(attribute="favourite_colour", value="blue")
    assert sqlite_ledger.ingest_entries([line], now=NOW).accepted == 1
    assert [e["value"] for e in sqlite_ledger.iter_entries()] == ["blue"]


def test_a_policy_without_attributes_refuses_attribute_lines(sqlite_ledger: Ledger) -> None:
    from ..conftest import TEST_POLICY

    rules = IngestRules.from_policy(parse_policy(TEST_POLICY).policy)
    result = sqlite_ledger.ingest_entries([attribute()], rules=rules, now=NOW)
    assert [(p.field, p.reason) for p in result.problems] == [
        ("attribute", "unknown attribute 'birth_date': the active policy declares no attributes")
    ]


def test_repeats_are_duplicates_or_conflicts_naming_what_differs(sqlite_ledger: Ledger) -> None:
    lines = [exemption(), attribute()]
    sqlite_ledger.ingest_entries(lines, rules=RULES, now=NOW)
    again = sqlite_ledger.ingest_entries(
        [
            exemption(services="air_travel"),  # the same services, written as text
            attribute(value="2008-03-01"),
        ],
        rules=RULES,
        now=NOW,
    )
    assert (again.duplicates, again.conflicts) == (1, 1)
    assert "value '2008-03-01' here, '2008-02-29' in the ledger" in again.conflict_lines[0].message


def test_only_an_annul_can_correct_a_fact(sqlite_ledger: Ledger) -> None:
    def correction(kind: str, cid: str) -> dict[str, Any]:
        return {
            "kind": kind,
            "id": cid,
            "source": "court",
            "target_source": "court",
            "target_id": "x1",
            "occurred_at": "2025-03-02",
        }

    result = sqlite_ledger.ingest_entries(
        [exemption(), correction("annul", "c1"), correction("resolve", "c2")],
        rules=RULES,
        now=NOW,
    )
    assert result.accepted == 2
    assert [(p.line, p.reason) for p in result.problems] == [
        (3, "court/x1 is an exemption entry; an exemption can be annulled, not resolved")
    ]


def test_facts_load_alike_for_everyone_and_for_one_subject(ledger: Ledger) -> None:
    lines = [
        {
            "id": "d",
            "source": "court",
            "subject": "wang",
            "type": "debt",
            "occurred_at": "2025-01-01",
        },
        exemption(),
        exemption(id="x2", subject="li", services="rail,private_school", valid_until=None),
        attribute(),
        attribute(id="r1", attribute="residence", value="rongcheng", valid_from="2024-01-01"),
        attribute(
            id="s1", subject="acme", subject_kind="organisation", attribute="staff", value=12
        ),
    ]
    result = ledger.ingest_entries(lines, rules=RULES, now=NOW)
    assert result.accepted == len(lines), result.problems
    everyone = ledger.columns()
    one = ledger.columns(["wang"])
    assert sorted(everyone.exm_services.tolist()) == ["air_travel", "rail,private_school"]
    assert sorted(everyone.att_value.tolist()) == ["12", "2008-02-29", "rongcheng"]
    w = everyone.subjects.index("wang")
    mine = everyone.exm_subject == w
    assert one.exm_id.tolist() == everyone.exm_id[mine].tolist() == ["x1"]
    assert one.exm_approved_by.tolist() == ["Intermediate Court"]
    assert one.exm_approved_at.tolist() == [parse_timestamp("2025-02-20")]
    assert int(everyone.exm_valid_until[everyone.exm_id == "x2"][0]) > parse_timestamp("9999-01-01")
    assert sorted(one.att_name.tolist()) == ["birth_date", "residence"]
    assert one.att_recorded_at.tolist() == [NOW, NOW]


@pytest.mark.parametrize("separator", [False, True])
def test_fact_columns_of_everyone_are_those_of_each_subject(
    ledger: Ledger, separator: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # the bulk read takes attribute values out of the stored details in SQL and joins
    # columns with a separator: text with quotes, backslashes, escapes and other scripts
    # comes back exactly as ingested, and so does text holding the separator (read by rows)
    texts = ['say "hi"', "back\\slash", "tab\tand\nnewline", "荣成 \u00e9", '{"value": 1}']
    texts += ["record\x1eseparator"] if separator else []
    lines = [
        exemption(),
        exemption(id="x2", subject="li", services="rail,private_school", valid_until=None),
        attribute(),
        *(
            attribute(id=f"r{i}", subject=f"p{i % 2}", attribute="residence", value=text)
            for i, text in enumerate(texts)
        ),
        attribute(
            id="s1", subject="acme", subject_kind="organisation", attribute="staff", value=3.5
        ),
    ]
    result = ledger.ingest_entries(lines, rules=RULES, now=NOW)
    assert result.accepted == len(lines), result.problems
    with caplog.at_level("DEBUG", logger="socialcredit.ledger"):
        everyone = ledger.columns()
    by_rows = "reading facts row by row" in caplog.text
    assert by_rows == (separator and ledger.is_sqlite)  # PostgreSQL always reads rows
    assert sorted(everyone.att_value.tolist()) == sorted([*texts, "2008-02-29", "3.5"])
    for name in ("wang", "li", "p0", "p1", "acme"):
        one = ledger.columns([name])
        me = everyone.subjects.index(name)
        for prefix, subject in (("att_", everyone.att_subject), ("exm_", everyone.exm_subject)):
            mine = subject == me
            for column in (c for c in vars(one) if c.startswith(prefix)):
                got, want = getattr(one, column), getattr(everyone, column)[mine]
                if column.endswith("_subject"):
                    got, want = [one.subjects[i] for i in got], [name] * int(mine.sum())
                assert list(got) == list(want), (name, column)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_facts_round_trip_through_export_in_every_format(
    sqlite_ledger: Ledger, tmp_path: Path, fmt: str
) -> None:
    lines = [
        exemption(services=["air_travel", "rail"], reason="medical treatment, abroad"),
        exemption(id="x2", valid_until=None, approved_at=None),
        attribute(),
        attribute(
            id="s1", subject="acme", subject_kind="organisation", attribute="staff", value=3.5
        ),
        {
            "kind": "annul",
            "id": "c1",
            "source": "court",
            "target_source": "court",
            "target_id": "x2",
            "occurred_at": "2025-04-01",
        },
    ]
    assert sqlite_ledger.ingest_entries(lines, rules=RULES, now=NOW).accepted == len(lines)
    exported = list(sqlite_ledger.iter_entries())
    path = tmp_path / f"out.{fmt}"
    write_entries(iter(exported), path, fmt)
    if fmt == "parquet":  # ingest reads JSON lines and CSV: the rows as JSON lines
        import orjson

        rows = pq.read_table(path).to_pylist()
        path = tmp_path / "out.jsonl"
        path.write_bytes(
            b"".join(
                orjson.dumps(
                    {
                        k: v.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(v, "strftime") else v
                        for k, v in row.items()
                        if v is not None
                    }
                )
                + b"\n"
                for row in rows
            )
        )
    copy = Ledger.open(str(tmp_path / "copy.db"))
    copy.upgrade()
    result = copy.ingest_file(str(path), rules=RULES, now=NOW + 10, backfill=True)
    assert (result.accepted, result.rejected) == (len(lines), 0), result.problems
    assert list(copy.iter_entries()) == exported
    copy.close()


def test_facts_are_append_only(sqlite_ledger: Ledger) -> None:
    sqlite_ledger.ingest_entries([exemption()], rules=RULES, now=NOW)
    refused = pytest.raises(sa.exc.DatabaseError, match="append-only")
    with refused, sqlite_ledger.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE entries SET valid_until = NULL WHERE kind = 9")


def test_migration_0007_indexes_the_facts_of_an_older_ledger(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path / "old.db"))
    ledger.upgrade()
    record = {"id": "d", "source": "court", "subject": "p", "type": "debt"}
    ledger.ingest_entries([{**record, "occurred_at": "2025-01-01"}], now=NOW)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:  # the ledger as 0006 left it
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    with ledger.engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert "ix_entries_facts" not in names
    ledger.upgrade()  # what `init` does: 0006 -> 0007, everything kept
    ledger.ingest_entries([exemption(subject="p")], rules=RULES, now=NOW)
    with ledger.engine.connect() as conn:
        plan = " ".join(
            str(r[-1])
            for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT seq, details FROM entries "
                f"WHERE {FACTS_WHERE} AND seq <= 1000000 ORDER BY seq"
            )
        )
    assert "ix_entries_facts" in plan
    columns = ledger.columns()
    assert columns.exm_id.tolist() == ["x1"] and columns.rec_id.tolist() == ["d"]
    assert np.array_equal(columns.exm_subject, [columns.subjects.index("p")])
    ledger.close()
