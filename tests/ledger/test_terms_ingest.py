"""Ingesting terms set per case, extensions and early ends (issue 7, construct 1): every
line checked against the active policy's bounds (without a policy, the shape only), with
its line and field; export then ingest gives the same entries and the same standings."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from socialcredit.columns import KIND_CODES
from socialcredit.engine import Engine
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import parse_policy
from socialcredit.timeutil import parse_timestamp

from ..scoring.terms_policy import TERMS_POLICY

NOW = parse_timestamp("2026-01-01")
START = parse_timestamp("2020-01-01")
LOADED = parse_policy(TERMS_POLICY, "terms-test.yaml")
RULES = IngestRules.from_policy(LOADED.policy)


def record(eid: str, typ: str = "listing", **extra: Any) -> dict[str, Any]:
    return {
        "id": eid,
        "source": "court",
        "subject": "ann",
        "type": typ,
        "occurred_at": "2024-01-15",
        **extra,
    }


def fix(kind: str, eid: str, target: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": eid,
        "source": "court",
        "target_source": "court",
        "target_id": target,
        "occurred_at": "2025-06-01",
        **extra,
    }


def test_the_kind_codes_are_the_shared_ones() -> None:
    assert (KIND_CODES["extend"], KIND_CODES["end"]) == (7, 8)


def test_terms_and_extensions_outside_the_bounds_are_refused_line_by_line(
    ledger: Ledger,
) -> None:
    lines = [
        record("1", term="P1095D"),  # 1: the longest allowed
        record("2", term="P2000D"),  # 2: too long
        record("3", term="P100D"),  # 3: too short
        record("4", "smoking", term="P30D"),  # 4: the type takes no term
        record("5", term="banana"),  # 5: not a duration
        record("6", term=730),  # 6: a bare number
        fix("extend", "x1", "1", by="P1Y6M"),  # 7: 18 months: fine
        fix("extend", "x2", "1", by="P100D"),  # 8: shorter than an extension may be
        fix("extend", "x3", "1", by="P2000D"),  # 9: longer than all extensions together
        fix("extend", "x4", "1"),  # 10: no by
        record("7", "smoking"),  # 11
        fix("extend", "x5", "7", by="P1Y"),  # 12: the type cannot be extended
        fix("end", "e1", "1"),  # 13: fine
        fix("end", "e2", "1", by="P1Y"),  # 14: an end takes no by
        fix("extend", "x6", "1", by="18 months"),  # 15: 18 months, in words: fine
    ]
    result = ledger.ingest_entries(lines, rules=RULES, now=NOW)
    got = [(p.line, p.field, p.message) for p in result.problems]
    assert got == [
        (2, "term", "is longer than record type 'listing' allows (at most 1095 days)"),
        (3, "term", "is shorter than record type 'listing' allows (at least 365 days)"),
        (
            4,
            "term",
            "record type 'smoking' takes no term of its own under the active policy "
            "(its records last the type's expires_after)",
        ),
        (
            5,
            "term",
            "'banana' is not a duration; expected ISO 8601 like 'P180D', 'P2Y' or 'P1Y6M', "
            "or a number with a unit like '180d', '3 years', '6 months', '3 working days'",
        ),
        (
            6,
            "term",
            "expected a duration written with a unit like 'P2Y' or '18 months', got 730",
        ),
        (
            8,
            "by",
            "is shorter than an extension of record type 'listing' may be (at least 365 days)",
        ),
        (
            9,
            "by",
            "is longer than record type 'listing' may be extended (at most 1095 days in all)",
        ),
        (10, "by", "is required (a duration like 'P1Y6M' or '18 months')"),
        (
            12,
            "by",
            "record type 'smoking' cannot be extended under the active policy "
            "(it declares no term.extension)",
        ),
        (14, "by", "is not a field of an end entry"),
    ]
    assert result.accepted == 5


def test_without_a_policy_only_the_shape_is_checked(ledger: Ledger) -> None:
    lines = [
        record("1", term="P2000D"),
        fix("extend", "x1", "1", by="P9Y"),
        fix("extend", "x2", "1", by="P0D"),
        record("2", term="-3d"),
    ]
    result = ledger.ingest_entries(lines, now=NOW)
    assert [(p.line, p.field) for p in result.problems] == [(3, "by"), (4, "term")]
    assert "no time at all" in result.problems[0].message
    assert result.accepted == 2


def test_a_repeat_with_another_term_is_a_conflict(ledger: Ledger) -> None:
    ledger.ingest_entries([record("1", term="P365D")], rules=RULES, now=NOW)
    again = ledger.ingest_entries(
        [record("1", term="P365D"), record("1", term="P730D")], rules=RULES, now=NOW
    )
    assert again.duplicates == 1
    (conflict,) = again.conflict_lines
    assert "term 'P730D' here, 'P365D' in the ledger" in conflict.message


STORY = [
    record("1", term="P1095D"),
    record("2"),
    fix("extend", "x1", "2", by="P1Y6M", reason="several dishonest acts"),
    fix("end", "e1", "1", reason="performed"),
    {**record("f1", "fare_evasion"), "source": "rail"},
    {**fix("resolve", "p1", "f1"), "source": "rail", "target_source": "rail"},
    {**record("f2", "fare_evasion", occurred_at="2025-06-02"), "source": "rail"},
    {**record("f3", "fare_evasion", occurred_at="2025-06-03"), "source": "rail"},
    {**record("f4", "fare_evasion", occurred_at="2025-06-04"), "source": "rail"},
]


def test_export_then_ingest_keeps_terms_extensions_and_ends() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        times = [parse_timestamp(d) for d in ("2025-01-01", "2025-06-10", "2026-01-01")]
        stamped = [{**e, "recorded_at": e["occurred_at"]} for e in STORY]
        original = Ledger.open(str(Path(tmp) / "a.db"))
        original.upgrade()
        original.activate_policy(
            LOADED.text, "terms-test", "1", LOADED.content_hash, START, now=START
        )
        result = original.ingest_entries(stamped, rules=RULES, now=NOW, backfill=True)
        assert (result.accepted, result.rejected) == (len(STORY), 0), result.problems
        exported = [orjson.loads(orjson.dumps(e)) for e in original.iter_entries()]
        by_id = {e["id"]: e for e in exported}
        assert by_id["1"]["term"] == "P1095D" and "term" not in by_id["2"]
        assert by_id["x1"]["by"] == "P1Y6M" and by_id["x1"]["kind"] == "extend"
        assert by_id["e1"]["kind"] == "end" and by_id["e1"]["reason"] == "performed"
        copy = Ledger.open(str(Path(tmp) / "b.db"))
        copy.upgrade()
        copy.activate_policy(LOADED.text, "terms-test", "1", LOADED.content_hash, START, now=START)
        again = copy.ingest_entries(exported, rules=RULES, now=NOW, backfill=True)
        assert (again.accepted, again.rejected) == (len(exported), 0), again.problems
        assert [orjson.loads(orjson.dumps(e)) for e in copy.iter_entries()] == exported
        for at in times:
            one = Engine.open(original, lambda: NOW).standing("ann", at).to_json()
            two = Engine.open(copy, lambda: NOW).standing("ann", at).to_json()
            assert one == two
            bulk_one = Engine.open(original, lambda: NOW).recompute(at)
            bulk_two = Engine.open(copy, lambda: NOW).recompute(at)
            assert bulk_one.measures.tolist() == bulk_two.measures.tolist()
        original.close()
        copy.close()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_files_carry_term_and_by(tmp_path: Path, fmt: str) -> None:
    from socialcredit.export import write_entries

    ledger = Ledger.open(str(tmp_path / "a.db"))
    ledger.upgrade()
    ledger.ingest_entries(STORY[:4], rules=RULES, now=NOW)
    out = tmp_path / f"out.{fmt}"
    write_entries(ledger.iter_entries(), str(out), fmt)
    copy = Ledger.open(str(tmp_path / "b.db"))
    copy.upgrade()
    result = copy.ingest_file(str(out), rules=RULES, now=NOW, backfill=True)
    assert (result.accepted, result.rejected) == (4, 0), result.problems
    by_id = {e["id"]: e for e in copy.iter_entries()}
    assert by_id["1"]["term"] == "P1095D" and by_id["x1"]["by"] == "P1Y6M"
    assert by_id["e1"]["kind"] == "end"
    ledger.close()
    copy.close()


def test_the_ingestion_guide_names_record_types_the_policy_reference_declares() -> None:
    """docs/ingestion.md's examples (the terms example and its errors) use record types that
    a policy shown in docs/policy-reference.md declares, so a reader can run them."""
    docs = Path(__file__).parents[2] / "docs"
    declared: set[str] = set()
    reference = (docs / "policy-reference.md").read_text(encoding="utf-8")
    for block in re.findall(r"```yaml\n(.*?)```", reference, re.DOTALL):
        data = yaml.safe_load(block)
        if isinstance(data, dict) and isinstance(data.get("record_types"), dict):
            declared |= set(data["record_types"])
    guide = (docs / "ingestion.md").read_text(encoding="utf-8")
    named = set(re.findall(r'"type": "(\w+)"', guide)) | set(
        re.findall(r"record type '(\w+)'", guide)
    )
    assert "spc_obstruction" in named
    assert named <= declared, sorted(named - declared)
