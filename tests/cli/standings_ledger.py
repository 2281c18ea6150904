"""A small ledger under china-scs whose standings on 2026-06-01 are worked out by hand below.

Used by the ``subjects`` and ``export`` tests. china-scs: base 1,000; grades AAA ≥ 1050,
AA ≥ 1030, A ≥ 960, B ≥ 850, C ≥ 600, D below. A court_judgment_unfulfilled record is -50
and lists its subject as a dishonest judgment debtor while unresolved; the listing denies
air_travel, high_speed_rail, soft_sleeper and luxury_hotel (code SPC-DEBTOR, reaching a legal
representative) and private_school (SPC-DEBTOR-FAMILY, reaching a child). A
rail_serious_misconduct record (-20, 180 days) lists its subject as an untrustworthy passenger,
denied high_speed_rail and rail_travel (RAIL-180). Five volunteering sessions (+2 each) in a
year put a person on the volunteers' redlist: bike_rental, priority_services and
public_transit_discount (benefits).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from socialcredit.policy import load_policy
from tests.cli.conftest import CHINA, IN_FORCE_FROM, activate, call

AT = "2026-06-01"
AT_ISO = "2026-06-01T00:00:00Z"
CHINA_HASH = load_policy(CHINA).content_hash


def _record(eid: str, subject: str, typ: str, day: str, kind: str = "person") -> dict[str, Any]:
    return {
        "id": eid,
        "source": "src",
        "subject": subject,
        "subject_kind": kind,
        "type": typ,
        "occurred_at": day,
        "recorded_at": day,
    }


ENTRIES: list[dict[str, Any]] = [
    _record("j1", "debtor", "court_judgment_unfulfilled", "2026-01-10"),
    _record("j2", "acme", "court_judgment_unfulfilled", "2026-02-01", "organisation"),
    _record("r1", "rider", "rail_serious_misconduct", "2026-05-01"),
    *(_record(f"v{m}", "helper", "volunteering", f"2026-0{m}-15") for m in range(1, 6)),
    _record("t1", "boss", "traffic_offence", "2026-03-01"),
    {
        "kind": "relation",
        "id": "h1",
        "source": "registry",
        "subject": "child",
        "subject_kind": "person",
        "relation": "child_of",
        "related_subject": "debtor",
        "related_kind": "person",
        "valid_from": "2015-01-01",
        "recorded_at": "2015-01-02",
    },
    {
        "kind": "relation",
        "id": "h2",
        "source": "registry",
        "subject": "boss",
        "subject_kind": "person",
        "relation": "legal_representative_of",
        "related_subject": "acme",
        "related_kind": "organisation",
        "valid_from": "2020-01-01",
        "recorded_at": "2020-01-01",
    },
]

SPC = ["air_travel", "high_speed_rail", "luxury_hotel", "private_school", "soft_sleeper"]
DEBTORS = "dishonest_judgment_debtors"

# subject -> the standings row on AT, by hand (lists, services and codes sorted)
EXPECTED: dict[str, dict[str, Any]] = {
    "debtor": {
        "kind": "person",
        "score": 950.0,  # 1000 - 50
        "grade": "B",
        "lists": [DEBTORS],
        "denied_services": SPC,
        "benefit_services": [],
        "reason_codes": ["SPC-DEBTOR", "SPC-DEBTOR-FAMILY"],
        "reasons": [DEBTORS],
    },
    "acme": {
        "kind": "organisation",
        "score": 950.0,
        "grade": "B",
        "lists": [DEBTORS],
        "denied_services": SPC,
        "benefit_services": [],
        "reason_codes": ["SPC-DEBTOR", "SPC-DEBTOR-FAMILY"],
        "reasons": [DEBTORS],
    },
    "rider": {
        "kind": "person",
        "score": 980.0,  # 1000 - 20
        "grade": "A",
        "lists": ["rail_untrustworthy_passengers"],
        "denied_services": ["high_speed_rail", "rail_travel"],
        "benefit_services": [],
        "reason_codes": ["RAIL-180"],
        "reasons": ["rail_untrustworthy_passengers"],
    },
    "helper": {
        "kind": "person",
        "score": 1010.0,  # 1000 + 5 * 2
        "grade": "A",
        "lists": ["redlist_volunteers"],
        "denied_services": [],
        "benefit_services": ["bike_rental", "priority_services", "public_transit_discount"],
        "reason_codes": [],
        "reasons": ["redlist_volunteers"],
    },
    "boss": {
        "kind": "person",
        "score": 995.0,  # 1000 - 5; not listed, reached through acme (not private_school)
        "grade": "A",
        "lists": [],
        "denied_services": ["air_travel", "high_speed_rail", "luxury_hotel", "soft_sleeper"],
        "benefit_services": [],
        "reason_codes": ["SPC-DEBTOR"],
        "reasons": ["legal_representative_of acme"],
    },
    "child": {
        "kind": "person",
        "score": 1000.0,
        "grade": "A",
        "lists": [],
        "denied_services": ["private_school"],
        "benefit_services": [],
        "reason_codes": ["SPC-DEBTOR-FAMILY"],
        "reasons": ["child_of debtor"],
    },
}


def build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A SQLite ledger under china-scs (in force from 2026-01-01) holding ``ENTRIES``."""
    path = str(tmp_path / "standings.db")
    activate(path, CHINA, IN_FORCE_FROM)
    data = tmp_path / "standings.jsonl"
    data.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in ENTRIES))
    code, out, err = call(capsys, "ingest", str(data), "--db", path, "--backfill")
    assert code == 0, err
    assert f"accepted {len(ENTRIES)}" in out
    return path
