"""The notices outbox (``socialcredit.notices``): one notice per event, written once whatever
runs (again, or in two processes at once), true of what held at the time it is written, and
never rewritten by what the ledger learns later. Dates from tests/appeals_policy.py."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.engine import UnknownSubjectError
from socialcredit.errors import NotFoundError
from socialcredit.ledger import Ledger
from socialcredit.notices import generate_notices, mark_delivered, mark_read, notices_for
from tests.appeals_policy import RULES, activate, child, engine_at, ingest, record, ts, with_debtor
from tests.ledger.conftest import ledger, pg_ledger, pg_url, sqlite_ledger  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def told(ledger: Ledger) -> Ledger:  # noqa: F811
    """A debtor P1, their child C1 and a volunteer P9 (received 2025-02-03)."""
    return with_debtor(ledger, record("v1", "civic", "P9", "volunteering", "2025-02-01"))


def test_generating_twice_writes_once(told: Ledger) -> None:
    first = generate_notices(engine_at(told, "2025-02-10"), None, ts("2025-02-10"))
    # a reward (P9 on the volunteers list) is no measure to be told of
    assert sorted((n.subject, n.kind) for n in first.written) == [
        ("C1", "measure_started"),
        ("P1", "measure_started"),
    ]
    assert (first.already, first.subjects) == (0, 2)
    second = generate_notices(engine_at(told, "2025-02-11"), None, ts("2025-02-11"))
    assert (second.written, second.already) == ([], 2)
    # naming the subjects gives the same events
    third = generate_notices(engine_at(told, "2025-02-12"), ["P1", "C1", "P9"], ts("2025-02-12"))
    assert (third.written, third.already) == ([], 2)
    assert [n.id for n in notices_for(told, "P1")] == [
        n.id for n in first.written if n.subject == "P1"
    ]


def test_notices_are_about_what_held_at_the_time_and_are_not_rewritten(told: Ledger) -> None:
    # the court annuls the debt on 2025-02-05; a run as of 2025-02-04 (made later) still
    # finds the measure in force then, and one as of 2025-02-06 finds nothing new
    annul = {
        "kind": "annul",
        "id": "x1",
        "source": "court",
        "target_source": "court",
        "target_id": "d1",
        "occurred_at": "2025-02-05",
        "reason": "listed by mistake",
    }
    assert told.ingest_entries([annul], rules=RULES, now=ts("2025-02-05")).accepted == 1
    run = generate_notices(engine_at(told, "2025-02-04"), ["P1"], ts("2025-02-04"))
    [n] = run.written
    assert (n.event_at, n.written_at) == (ts("2025-02-03"), ts("2025-02-04"))
    assert "Under policy appeals-test@1, on 2025-02-04" in n.body
    assert generate_notices(engine_at(told, "2025-02-06"), ["P1"], ts("2025-02-06")).written == []
    assert notices_for(told, "P1") == [n]


def test_read_and_delivered_marks(told: Ledger) -> None:
    run = generate_notices(engine_at(told, "2025-02-10"), ["P1", "C1"], ts("2025-02-10"))
    p1 = next(n for n in run.written if n.subject == "P1")
    c1 = next(n for n in run.written if n.subject == "C1")
    with pytest.raises(NotFoundError, match="'P1' has no notice"):
        mark_read(told, "P1", [p1.id, c1.id], ts("2025-02-11"))
    assert notices_for(told, "P1", unread_only=True) == [p1]  # nothing was marked
    assert mark_delivered(told, "P1", [p1.id], ts("2025-02-10T01:00")) == 1
    assert mark_read(told, "P1", [p1.id], ts("2025-02-11")) == 1
    assert mark_read(told, "P1", [p1.id], ts("2025-02-12")) == 0  # read once
    [again] = notices_for(told, "P1")
    assert (again.delivered_at, again.read_at) == (ts("2025-02-10T01:00"), ts("2025-02-11"))
    assert notices_for(told, "P1", unread_only=True) == []


def test_an_unknown_subject_is_an_error(told: Ledger) -> None:
    with pytest.raises(UnknownSubjectError, match="'P404'"):
        generate_notices(engine_at(told, "2025-02-10"), ["P404"], ts("2025-02-10"))


CHILD = """
import sys, time
from socialcredit.engine import Engine
from socialcredit.ledger import Ledger
from socialcredit.notices import generate_notices
url, start, now = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
ledger = Ledger.open(url)
engine = Engine.open(ledger, lambda: now)
while time.time() < start:
    time.sleep(0.001)
run = generate_notices(engine, None, now)
print(len(run.written), run.already)
"""


def test_two_processes_at_once_write_each_notice_once(ledger: Ledger) -> None:  # noqa: F811
    activate(ledger)
    entries = []
    for i in range(40):
        entries.append(record(f"d{i}", "court", f"P{i}", "debt", "2025-02-01"))
        entries.append(child(f"c{i}", f"C{i}", f"P{i}"))
    ingest(ledger, entries, "2025-02-03")
    url = ledger.engine.url.render_as_string(hide_password=False)
    start = time.time() + 4.0
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, url, str(start), str(ts("2025-02-10"))],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for p in children:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        written, already = map(int, out.split())
        results.append((written, already))
    # 80 events (40 debtors, 40 children): each written by exactly one of the two
    assert sum(w for w, _ in results) == 80
    assert all(w + a == 80 for w, a in results)
    with ledger.engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT COUNT(*), COUNT(DISTINCT event_key) FROM notices")
        assert tuple(count.one()) == (80, 80)


# ---------------------------------------------------------------------------- property

DAYS = [f"2025-02-{d:02d}" for d in range(3, 29)] + [f"2025-03-{d:02d}" for d in range(1, 29)]
TYPES = ["debt", "card_arrears", "rail_misconduct"]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[tuple[int, dict[str, object]]], list[int]]:
    """Entries (day index received, entry) about P0..P2 (C0 a child of P0), and the days
    notices are generated on."""
    out: list[tuple[int, dict[str, object]]] = [(0, child("c0", "C0", "P0"))]
    n = draw(st.integers(1, 5))
    for i in range(n):
        day = draw(st.integers(0, 30))
        subject = f"P{draw(st.integers(0, 2))}"
        type_ = draw(st.sampled_from(TYPES))
        out.append((day, record(f"r{i}", "src", subject, type_, DAYS[max(day - 1, 0)])))
        if draw(st.booleans()):  # a dispute, perhaps a decision
            d = day + draw(st.integers(0, 10))
            out.append((d, _fix("dispute", f"d{i}", f"r{i}", d)))
            if draw(st.booleans()):
                u = d + draw(st.integers(0, 35))
                if u < len(DAYS):
                    kind = draw(st.sampled_from(["uphold", "annul"]))
                    out.append((u, _fix(kind, f"u{i}", f"r{i}", u)))
    runs = sorted(draw(st.lists(st.integers(0, len(DAYS) - 1), min_size=1, max_size=4)))
    out = [(d, e) for d, e in out if d < len(DAYS)]
    return out, runs


def _fix(kind: str, rid: str, target: str, day: int) -> dict[str, object]:
    return {
        "kind": kind,
        "id": rid,
        "source": "src",
        "target_source": "src",
        "target_id": target,
        "occurred_at": DAYS[min(day, len(DAYS) - 1)],
        "reason": "drawn",
    }


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories())
def test_every_notice_is_true_at_its_time_and_generating_again_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory,
    history: tuple[list[tuple[int, dict[str, object]]], list[int]],
) -> None:
    entries, runs = history
    led = Ledger.open(str(tmp_path_factory.mktemp("notices") / "n.db"))
    led.upgrade()
    activate(led)
    for day in sorted({d for d, _ in entries}):
        batch = [e for d, e in entries if d == day]
        led.ingest_entries(batch, rules=RULES, now=ts(DAYS[day]))
    for day in runs:
        now = ts(DAYS[day]) + 43200
        engine = engine_at(led, DAYS[day])
        run = generate_notices(engine, None, now)
        for n in run.written:
            standing = engine.standing(n.subject, now)
            if n.kind == "measure_started":
                found = [
                    m
                    for m in standing.measures
                    if m.name == n.measure and m.since == n.event_at and m.effect == "deny"
                ]
                assert found, n
                # every list the notice names, the subject (or whom it comes through) is on
                lists = {x for m in found for x in m.lists}
                named = {x for r in n.details["explanation"]["reasons"] for x in r["lists"]}
                assert named <= lists | {
                    x for m in standing.measures if m.service == n.service for x in m.lists
                }
            elif n.kind == "measure_published":
                assert any(
                    u.name == n.measure and u.published_at == n.event_at for u in standing.upcoming
                ), n
            else:
                [ref] = n.records
                [line] = [
                    x
                    for x in standing.breakdown
                    if f"{x.source}/{x.id}" == ref and x.status != "annulled or rectified"
                ]
                assert line.disputed_at is not None and n.event_at <= now
        before = [x.to_json() for s in led.subject_names() for x in notices_for(led, s)]
        again = generate_notices(engine, None, now)
        assert again.written == []
        assert again.already == len(run.written) + run.already
        assert [x.to_json() for s in led.subject_names() for x in notices_for(led, s)] == before
    led.close()


def test_the_migration_adds_the_outbox_to_an_older_ledger(tmp_path: Path) -> None:
    # the revision that creates the table is found by its script's name (renumbered when
    # other migrations land first); the ledger as the revision before left it is upgraded
    from alembic import command
    from alembic.config import Config

    from socialcredit.ledger.database import MIGRATIONS, schema_versions

    [script] = [p.name for p in (MIGRATIONS / "versions").glob("*_notices.py")]
    revision = script.split("_", 1)[0]
    before = schema_versions()[schema_versions().index(revision) - 1]
    led = Ledger.open(str(tmp_path / "old.db"))
    led.upgrade()
    activate(led)
    ingest(led, [record("d1", "court", "P1", "debt", "2025-02-01")], "2025-02-03")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with led.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, before)
    with led.engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert "notices" not in tables
    led.close()
    led = Ledger.open(str(tmp_path / "old.db"))
    with pytest.raises(Exception, match="older than this socialcredit's"):
        notices_for(led, "P1")
    led.upgrade()  # what `init` does; the entries are kept
    run = generate_notices(engine_at(led, "2025-02-10"), None, ts("2025-02-10"))
    assert [n.subject for n in run.written] == ["P1"]
    assert led.count_entries() == 1
    led.close()


def test_a_measure_waived_by_an_exemption_is_told_as_such(told: Ledger) -> None:
    exemption = {
        "kind": "exemption",
        "id": "x1",
        "source": "court",
        "subject": "P1",
        "services": ["air_travel"],
        "valid_from": "2025-02-01",
        "valid_until": "2025-03-01",
        "reason": "a parent's funeral",
        "approved_by": "Intermediate Court",
    }
    assert told.ingest_entries([exemption], rules=RULES, now=ts("2025-02-04")).accepted == 1
    [n] = generate_notices(engine_at(told, "2025-02-10"), ["P1"], ts("2025-02-10")).written
    # the measure is in force (P1 is on the list), but nobody may say "you cannot" now
    assert n.title == (
        "Since 2025-02-03, a measure (reason code DEBTOR) denies you flights; an exemption "
        "lets you board flights for now."
    )
    assert n.body.startswith("An exemption lets you board flights for now.\n")
    assert n.details["blocks"] == []


def test_a_window_closing_in_the_day_is_said_with_its_time(told: Ledger) -> None:
    # a record received at 14:30 UTC: its 30-day window closes at 14:30 on 2025-03-07
    ingest(told, [record("d2", "court", "P2", "debt", "2025-02-01")], "2025-02-05T14:30")
    [n] = generate_notices(engine_at(told, "2025-02-10"), ["P2"], ts("2025-02-10")).written
    assert "file a dispute by 2025-03-07 14:30 (UTC+00:00)." in n.body
    assert n.details["disputes"][0]["closes_at"] == "2025-03-07T14:30:00Z"
