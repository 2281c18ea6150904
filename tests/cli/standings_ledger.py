"""A small ledger under china-scs whose standings on 2026-06-01 are worked out by hand below.

Used by the ``subjects`` and ``export`` tests. china-scs: base 1,000; Rongcheng's grade
cut-offs are unpublished, so nobody's grade can be determined (``grade`` is empty). The
court list carries no points. A court_judgment_unfulfilled record lists its subject as a
dishonest judgment debtor while unresolved (no term); the listing denies the twelve kinds of
high consumption (code SPC-DEBTOR, reaching the company's four kinds of officer, here a
legal representative) and high-fee private school places paid by the debtor
(SPC-DEBTOR-FAMILY, reaching a child). A rail_serious_misconduct record (no points), received
Friday 2026-05-01, a holiday: the 7 working days of publicity are 6, 7, 8, Sat 9 (a declared
working day), 11, 12 and 13 May; the 180-day ban on train tickets (RAIL-180) runs from the end
of 13 May in Beijing. Five volunteering sessions (+2 each, no residence condition) in a year
put a person on the volunteers' redlist: bike_rental, priority_services and
public_transit_discount (benefits). A traffic ticket (-5) counts only for an adult resident
of Rongcheng for a year: the ledger knows no birth date or residence for boss, so it does
not count.
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

SPC = [
    "air_travel",
    "emu_seats",
    "high_speed_rail",
    "holidays",
    "insurance",
    "luxury_hotel",
    "office_rental",
    "private_school",
    "real_estate",
    "ship_cabins",
    "soft_sleeper",
    "vehicle_purchase",
]
DEBTORS = "dishonest_judgment_debtors"
RIDER_REASON = "1 rail_serious_misconduct record"  # the ban's own condition (no list)

# subject -> the standings row on AT, by hand (lists, services and codes sorted)
EXPECTED: dict[str, dict[str, Any]] = {
    "debtor": {
        "kind": "person",
        "score": 1000.0,  # the court list has no points
        "grade": None,
        "lists": [DEBTORS],
        "denied_services": SPC,
        "benefit_services": [],
        "reason_codes": ["SPC-DEBTOR", "SPC-DEBTOR-FAMILY"],
        "reasons": [DEBTORS],
    },
    "acme": {
        "kind": "organisation",
        "score": 1000.0,
        "grade": None,
        "lists": [DEBTORS],
        "denied_services": SPC,
        "benefit_services": [],
        "reason_codes": ["SPC-DEBTOR", "SPC-DEBTOR-FAMILY"],
        "reasons": [DEBTORS],
    },
    "rider": {
        "kind": "person",
        "score": 1000.0,
        "grade": None,
        "lists": [],
        # a ban on train tickets covers the services declared under them (by hand from
        # china-scs's services: emu_seats, high_speed_rail, soft_sleeper have parent rail_travel)
        "denied_services": ["emu_seats", "high_speed_rail", "rail_travel", "soft_sleeper"],
        "benefit_services": [],
        "reason_codes": ["RAIL-180"],
        "reasons": [RIDER_REASON],
    },
    "helper": {
        "kind": "person",
        "score": 1010.0,  # 1000 + 5 * 2
        "grade": None,
        "lists": ["redlist_volunteers"],
        "denied_services": [],
        "benefit_services": ["bike_rental", "priority_services", "public_transit_discount"],
        "reason_codes": [],
        "reasons": ["redlist_volunteers"],
    },
    "boss": {
        "kind": "person",
        "score": 1000.0,  # the ticket does not count: no age or residence known
        "grade": None,
        "lists": [],
        # reached through acme: every SPC-DEBTOR measure (not the school's SPC-DEBTOR-FAMILY)
        "denied_services": [s for s in SPC if s != "private_school"],
        "benefit_services": [],
        "reason_codes": ["SPC-DEBTOR"],
        "reasons": ["legal_representative_of acme"],
    },
    "child": {
        "kind": "person",
        "score": 1000.0,
        "grade": None,
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
