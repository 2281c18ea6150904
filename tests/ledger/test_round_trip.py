"""Export and ingest round-trip (issue 6, item 4): a subject's kind is fixed when it is
first seen, and for every valid ledger, ``export records`` ingested into an empty database
gives every subject the same standing at every time."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.engine import Engine
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import parse_policy
from socialcredit.timeutil import DAY, parse_timestamp, to_iso

from ..scoring.test_subject_facts import FACTS_POLICY

NOW = parse_timestamp("2026-01-01")
START = parse_timestamp("2023-01-01")
# the test policy with attributes, eligibility and a relation to an organisation
LOADED = parse_policy(FACTS_POLICY)
RULES = IngestRules.from_policy(LOADED.policy)
KIND_RULES = IngestRules.for_record_types(
    {"debt": ["person", "organisation"], "pers": ["person"], "org": ["organisation"]}
)


def activate(ledger: Ledger) -> None:
    ledger.activate_policy(
        LOADED.text,
        LOADED.policy.policy,
        LOADED.policy.version,
        LOADED.content_hash,
        START,
        now=START,
    )


def record(entry_id: str, subject: str, kind: str | None, typ: str = "debt") -> dict[str, Any]:
    line = {
        "id": entry_id,
        "source": "court",
        "subject": subject,
        "type": typ,
        "occurred_at": "2025-01-01",
    }
    return {**line, "subject_kind": kind} if kind else line


# ---------------------------------------------------------------------- kinds


@pytest.mark.parametrize("apart", [False, True], ids=["one input", "two ingests"])
@pytest.mark.parametrize("rules", [KIND_RULES, None], ids=["rules", "no rules"])
def test_a_subject_first_seen_as_an_organisation_stays_one(
    ledger: Ledger, apart: bool, rules: IngestRules | None
) -> None:
    first = record("1", "acme", "organisation")
    later = [record("2", "acme", "person", "pers" if rules else "debt")]
    if rules is not None:
        later.append(record("3", "acme", None, "pers"))  # a type only for persons
    if apart:
        ledger.ingest_entries([first], rules=rules, now=NOW)
        result = ledger.ingest_entries(later, rules=rules, now=NOW)
    else:
        result = ledger.ingest_entries([first, *later], rules=rules, now=NOW)
    assert result.rejected == len(later)
    for problem in result.problems:
        assert "acme is recorded as an organisation since" in problem.message
        assert problem.field == "subject_kind"
    assert ledger.subject_names("organisation") == ["acme"]
    exported = list(ledger.iter_entries())
    assert [e["subject_kind"] for e in exported] == ["organisation"]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Ledger.open(str(Path(tmp) / "copy.db"))
        copy.upgrade()
        again = copy.ingest_entries(exported, rules=rules, now=NOW, backfill=True)
        assert (again.accepted, again.rejected) == (1, 0)
        copy.close()


# ---------------------------------------------------------------------- the property

TYPES = sorted(LOADED.policy.record_types)


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Valid input for the test policy: records, relations and corrections in an order
    that ingests without a rejection (kinds fixed per subject, corrections after their
    targets and dated after them)."""
    n_subjects = draw(st.integers(1, 5))
    kinds = [draw(st.sampled_from(["person", "organisation"])) for _ in range(n_subjects)]
    named: set[int] = set()
    lines: list[dict[str, Any]] = []
    targets: list[tuple[str, int, str]] = []  # (id, occurred, kind)

    def when(low: int) -> int:
        return draw(st.integers(low, NOW - DAY))

    for i in range(draw(st.integers(1, 14))):
        choice = draw(
            st.sampled_from(
                ["record"] * 5 + ["relation", "correction"] * 2 + ["exemption", "attribute"]
            )
        )
        if choice == "exemption":
            s = draw(st.integers(0, n_subjects - 1))
            start = when(START - 400 * DAY)
            line = {
                "kind": "exemption",
                "id": f"x{i}",
                "source": "court",
                "subject": f"s{s}",
                "subject_kind": kinds[s],
                "services": draw(
                    st.lists(
                        st.sampled_from(["air_travel", "rail", "private_school"]),
                        min_size=1,
                        max_size=3,
                        unique=True,
                    )
                ),
                "valid_from": to_iso(start),
                "reason": draw(st.sampled_from(["a funeral", "medical treatment, abroad"])),
                "approved_by": "court, chamber 2",
            }
            if draw(st.booleans()):
                line["valid_until"] = to_iso(start + draw(st.integers(1, 400)) * DAY)
            if draw(st.booleans()):
                line["approved_at"] = to_iso(when(START - 400 * DAY))
            named.add(s)
            targets.append((f"x{i}", start, "exemption"))
        elif choice == "attribute":
            s = draw(st.integers(0, n_subjects - 1))
            start = when(START - 400 * DAY)
            if kinds[s] == "person" and draw(st.booleans()):
                name, value = "birth_date", f"{draw(st.integers(1990, 2012))}-02-28"
            elif kinds[s] == "organisation" and draw(st.booleans()):
                name, value = "staff", draw(st.sampled_from([12, 3.5, "40"]))
            else:
                name, value = "residence", draw(st.sampled_from(["rongcheng", "weihai"]))
            line = {
                "kind": "attribute",
                "id": f"a{i}",
                "source": "registry",
                "subject": f"s{s}",
                "subject_kind": kinds[s],
                "attribute": name,
                "value": value,
                "valid_from": to_iso(start),
            }
            if draw(st.booleans()):
                line["valid_until"] = to_iso(start + draw(st.integers(1, 800)) * DAY)
            named.add(s)
            targets.append((f"a{i}", start, "attribute"))
        elif choice == "relation":
            persons = [s for s in range(n_subjects) if kinds[s] == "person"]
            if len(persons) < 2:
                continue
            a, b = draw(st.permutations(persons))[:2]
            start = when(START - 400 * DAY)
            line: dict[str, Any] = {
                "kind": "relation",
                "id": f"r{i}",
                "source": "registry",
                "subject": f"s{a}",
                "relation": "child_of",
                "related_subject": f"s{b}",
                "valid_from": to_iso(start),
            }
            if draw(st.booleans()):
                line["valid_until"] = to_iso(start + draw(st.integers(1, 800)) * DAY)
            named |= {a, b}
            targets.append((f"r{i}", start, "relation"))
        elif choice == "correction" and targets:
            target, occurred, target_kind = draw(st.sampled_from(targets))
            action = (
                draw(st.sampled_from(["resolve", "annul", "dispute", "uphold", "rectify", "end"]))
                if target_kind == "record"
                else "annul"
            )
            at = when(max(occurred, START))
            line = {
                "kind": action,
                "id": f"c{i}",
                "source": "court",
                "target_source": "registry"
                if target_kind in ("relation", "attribute")
                else "court",
                "target_id": target,
                "occurred_at": to_iso(at),
            }
            if action == "rectify":
                line[draw(st.sampled_from(["type", "amount", "corrected_occurred_at"]))] = None
                if "type" in line:
                    line["type"] = draw(st.sampled_from(TYPES))
                elif "amount" in line:
                    line["amount"] = draw(st.integers(0, 10_000))
                else:
                    line["corrected_occurred_at"] = to_iso(when(START - 300 * DAY))
        else:
            s = draw(st.integers(0, n_subjects - 1))
            occurred = when(START - 300 * DAY)
            line = {
                "id": f"e{i}",
                "source": "court",
                "subject": f"s{s}",
                "type": draw(st.sampled_from(TYPES)),
                "occurred_at": to_iso(occurred),
            }
            if s not in named or kinds[s] == "organisation" or draw(st.booleans()):
                line["subject_kind"] = kinds[s]
            if draw(st.booleans()):
                line["amount"] = draw(st.integers(1, 100_000))
            named.add(s)
            targets.append((f"e{i}", occurred, "record"))
        if draw(st.booleans()):  # when the source says it recorded it
            # not before the event (a rectified one's corrected time too: ingest refuses it)
            floor = max(
                parse_timestamp(line[k])
                for k in ("occurred_at", "valid_from", "corrected_occurred_at", "approved_at")
                if line.get(k)
            )
            line["recorded_at"] = to_iso(draw(st.integers(floor, NOW)))
        lines.append(line)
    return lines


def _standings(ledger: Ledger, times: list[int]) -> dict[tuple[str, int], Any]:
    engine = Engine.open(ledger, lambda: NOW)
    out: dict[tuple[str, int], Any] = {}
    for at in times:
        bulk = engine.recompute(at)
        for name in ledger.subject_names():
            one = engine.standing(name, at).to_json()
            # which backfills an answer crosses is about the copy's loading, not the subject
            one.pop("backfilled", None)
            i = bulk.subjects.index(name)
            out[(name, at)] = (one, float(bulk.score[i]))
    return out


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(lines=ledgers())
def test_export_then_ingest_gives_everyone_the_same_standing(lines: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        original = Ledger.open(str(Path(tmp) / "a.db"))
        original.upgrade()
        activate(original)
        # history, as the demo loads it: entries count from the recorded_at they give, so
        # the standings at earlier times differ and the comparison covers time travel
        result = original.ingest_entries(lines, rules=RULES, now=NOW, backfill=True)
        assert (result.rejected, result.conflicts) == (0, 0), result.problems
        exported = [orjson.loads(orjson.dumps(e)) for e in original.iter_entries()]
        copy = Ledger.open(str(Path(tmp) / "b.db"))
        copy.upgrade()
        activate(copy)
        # backfill: loading history keeps each entry's recorded_at (when the original
        # ledger learned it); the clock of this ingest is later than all of them
        again = copy.ingest_entries(exported, rules=RULES, now=NOW + 50 * DAY, backfill=True)
        assert (again.accepted, again.rejected) == (len(exported), 0), again.problems
        assert sorted(copy.subject_names()) == sorted(original.subject_names())
        for kind in ("person", "organisation"):
            assert sorted(copy.subject_names(kind)) == sorted(original.subject_names(kind))
        times = [START, NOW - 400 * DAY, NOW - 30 * DAY, NOW, NOW + 700 * DAY]
        assert _standings(copy, times) == _standings(original, times)
        original.close()
        copy.close()


# ---------------------------------------------------------------------- rejected lines


EMPLOYS = IngestRules.for_record_types(
    {"debt": ["person", "organisation"], "pers": ["person"]},
    {"employs": ("organisation", "person")},
)


def employs(entry_id: str, subject: str, related: str, **kinds: str) -> dict[str, Any]:
    return {
        "kind": "relation",
        "id": entry_id,
        "source": "registry",
        "subject": subject,
        "relation": "employs",
        "related_subject": related,
        "valid_from": "2020-01-01",
        **kinds,
    }


@pytest.mark.parametrize("apart", [False, True], ids=["one input", "two ingests"])
def test_a_rejected_line_does_not_fix_a_subjects_kind(ledger: Ledger, apart: bool) -> None:
    ledger.ingest_entries([record("0", "bob", "organisation")], rules=EMPLOYS, now=NOW)
    # line 1 would make acme an organisation, but is rejected (bob is no person)
    rejected = employs("r1", "acme", "bob")
    person = record("1", "acme", "person", "pers")
    organisation = record("2", "acme", "organisation")
    if apart:
        first = ledger.ingest_entries([rejected], rules=EMPLOYS, now=NOW)
        result = ledger.ingest_entries([person, organisation], rules=EMPLOYS, now=NOW)
        problems = first.problems + result.problems
        person_line = 1
    else:
        result = ledger.ingest_entries([rejected, person, organisation], rules=EMPLOYS, now=NOW)
        problems = result.problems
        person_line = 2
    assert [(p.line, p.field) for p in problems] == [
        (1, "related_subject"),
        (person_line + 1, "subject_kind"),
    ]
    assert problems[1].message == (
        f"acme is recorded as a person since line {person_line} of this input; "
        "this line gives subject_kind organisation"
    )
    assert result.accepted == 1
    assert ledger.subject_names("person") == ["acme"]
    exported = list(ledger.iter_entries())
    with tempfile.TemporaryDirectory() as tmp:
        copy = Ledger.open(str(Path(tmp) / "copy.db"))
        copy.upgrade()
        again = copy.ingest_entries(exported, rules=EMPLOYS, now=NOW, backfill=True)
        assert (again.accepted, again.rejected) == (2, 0)
        copy.close()


def test_the_first_kept_line_fixes_the_kind_even_after_disagreeing_lines(
    ledger: Ledger,
) -> None:
    ledger.ingest_entries([record("0", "bob", "organisation")], rules=EMPLOYS, now=NOW)
    lines = [
        employs("r1", "acme", "bob"),  # rejected: acme would be an organisation
        record("1", "acme", "person", "pers"),  # the first kept line: a person
        record("2", "acme", "organisation"),  # rejected: not a person
        record("3", "acme", None, "pers"),  # a person's record, kept
    ]
    result = ledger.ingest_entries(lines, rules=EMPLOYS, now=NOW)
    assert [p.line for p in result.problems] == [1, 3]
    assert result.accepted == 2
    assert ledger.subject_names("person") == ["acme"]
