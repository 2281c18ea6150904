"""The library under ``export``: why each measure is in force, for everyone at once.

``BulkStandings.reasons`` must agree with the one-subject ``standing`` on random ledgers
(which measures come through which relation and related subject), and the reason words
must only name lists the subject is on.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from hypothesis import given

from socialcredit.columns import columns_from_entries
from socialcredit.export import STANDINGS_SCHEMA, standings_table
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.timeutil import DAY, parse_timestamp
from tests.scoring.test_properties import SETTINGS, T0, days, ledgers

AT = parse_timestamp("2026-06-01")


def _entries() -> list[dict[str, Any]]:
    # test policy (tests/conftest.py): a debt lists a debtor (no_flights reaching child_of,
    # no_school); misconduct a troublemaker (rail_ban, fixed 30 days); grade C (below 900)
    # denies luxury_hotel
    return [
        {"id": "d1", "source": "s", "subject": "dad", "type": "debt", "occurred_at": "2026-01-01"},
        {"id": "d2", "source": "s", "subject": "poor", "type": "debt", "occurred_at": "2026-01-01"},
        {"id": "d3", "source": "s", "subject": "poor", "type": "debt", "occurred_at": "2026-01-02"},
        {
            "id": "m1",
            "source": "s",
            "subject": "rowdy",
            "type": "misconduct",
            "occurred_at": "2026-05-20",
        },
        {
            "kind": "relation",
            "id": "k1",
            "source": "s",
            "subject": "kid",
            "relation": "child_of",
            "related_subject": "dad",
            "valid_from": "2020-01-01",
        },
    ]


def test_reasons_by_hand(policy: CompiledPolicy) -> None:
    bulk = bulk_standings(Prepared.build(columns_from_entries(_entries()), policy), AT)
    index = {name: i for i, name in enumerate(bulk.subjects)}
    found = bulk.reasons([index[n] for n in ("dad", "poor", "rowdy", "kid")])
    words = [[(m.sanction.name, m.reason) for m in f] for f in found]
    assert words[0] == [("no_flights", "debtors"), ("no_school", "debtors")]
    # poor: 1000 - 200 = 800, grade C: the hotel ban holds through the grade
    assert words[1] == [
        ("no_flights", "debtors"),
        ("no_school", "debtors"),
        ("low_grade_no_hotels", "grade C"),
    ]
    assert words[2] == [("rail_ban", "troublemakers")]
    assert words[3] == [("no_flights", "child_of dad")]
    assert (found[3][0].via_relation, found[3][0].via_subject) == ("child_of", "dad")
    # only some measures: the kid's school is not denied (no_school does not reach)
    assert bulk.reasons([index["kid"]], [policy.sanctions[1].index]) == [[]]


def test_a_fixed_term_ban_that_outlives_its_list_says_so(policy: CompiledPolicy) -> None:
    # rowdy's misconduct (2026-05-20) lists a troublemaker and starts a 30-day rail ban (to
    # 2026-06-19); disputed on 2026-05-25, the record stops counting (disputed records do
    # not count here), so the listing ends while the fixed-term ban runs on
    entries = [
        *_entries(),
        {
            "kind": "dispute",
            "id": "x1",
            "source": "s",
            "target_source": "s",
            "target_id": "m1",
            "occurred_at": "2026-05-25",
        },
    ]
    prep = Prepared.build(columns_from_entries(entries), policy)
    bulk = bulk_standings(prep, AT)
    rowdy = bulk.subjects.index("rowdy")
    assert [m.name for m in standing(prep, rowdy, AT).lists] == []
    assert [m.name for m in standing(prep, rowdy, AT).measures] == ["rail_ban"]
    ((ban,),) = bulk.reasons([rowdy])
    assert ban.reason == "troublemakers (ended; a fixed-term measure)"


def test_the_standings_table_has_the_documented_types(policy: CompiledPolicy) -> None:
    bulk = bulk_standings(Prepared.build(columns_from_entries(_entries()), policy), AT)
    table = standings_table(bulk)
    assert table.schema == STANDINGS_SCHEMA
    assert table.schema.field("as_of").type == pa.timestamp("s", tz="UTC")
    rows = {r["subject"]: r for r in table.to_pylist()}
    assert rows["kid"]["denied_services"] == ["air_travel"]
    assert rows["kid"]["reason_codes"] == ["DEBTOR"]
    # no_school and low_grade_no_hotels have no reason_code: their names in capitals
    assert rows["poor"]["reason_codes"] == ["DEBTOR", "LOW_GRADE_NO_HOTELS", "NO_SCHOOL"]
    assert rows["poor"]["denied_services"] == ["air_travel", "luxury_hotel", "private_school"]
    assert rows["poor"]["grade"] == "C" and rows["poor"]["score"] == 800.0


@SETTINGS
@given(entries=ledgers(), day=days)
def test_bulk_reasons_agree_with_single_subject_standing(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    bulk = bulk_standings(prep, t)
    everyone = list(range(prep.columns.n_subjects))
    texts = bulk.reason_texts()
    for i, found in zip(everyone, bulk.reasons(everyone), strict=True):
        assert texts[i] == list(dict.fromkeys(m.reason for m in found))
        s = standing(prep, i, t)
        assert sorted(
            (m.sanction.name, m.via_relation or "", m.via_subject or "") for m in found
        ) == sorted((m.name, m.via_relation or "", m.via_subject or "") for m in s.measures)
        on = {m.name for m in s.lists}
        for m in found:
            if m.via_subject is None and "ended" not in m.reason:
                named = set(m.sanction.lists)
                # a reason names a list of the trigger only if the subject is on it
                assert not (named - on) & set(m.reason.replace(",", " ").split())
