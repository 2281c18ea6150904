"""An ingest never changes the answer to a question about a time before it (issue 6, item 6).

An entry counts from the time the ledger received it (``recorded_at`` = the ingest's ``now``);
the ``recorded_at`` a line gives is kept as the source's claim (``claimed_recorded_at``). Only
an explicit backfill keeps the line's own time, and it is recorded on the batch.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.engine import Engine
from socialcredit.examples import example_policy
from socialcredit.ledger import Ledger
from socialcredit.policy import load_policy, parse_policy
from socialcredit.timeutil import parse_timestamp, to_iso
from tests.cli.conftest import call
from tests.conftest import TEST_POLICY

DAY = 86_400
JUDGMENT = {
    "id": "j1",
    "source": "court",
    "subject": "wang",
    "type": "court_judgment_unfulfilled",
    "occurred_at": "2026-01-10",
    "recorded_at": "2026-01-12",
}
# what issue 6 ingested "today": an annul the source dates 2026-01-20
ANNUL = {
    "kind": "annul",
    "id": "a1",
    "source": "court",
    "target_source": "court",
    "target_id": "j1",
    "occurred_at": "2026-01-20",
    "recorded_at": "2026-01-20",
}


def _china(path: str) -> Ledger:
    loaded = load_policy(str(example_policy("china-scs")))
    ledger = Ledger.open(path)
    ledger.upgrade()
    ledger.activate_policy(
        loaded.text,
        loaded.policy.policy,
        loaded.policy.version,
        loaded.content_hash,
        parse_timestamp("2026-01-01"),
        now=parse_timestamp("2026-01-01"),
    )
    return ledger


def _decision(ledger: Ledger, at: str, clock: int) -> str:
    engine = Engine.open(ledger, lambda: clock)
    return engine.check("wang", "air_travel", parse_timestamp(at)).decision


def test_a_back_dated_annul_does_not_rewrite_the_past_library(tmp_path: Path) -> None:
    ledger = _china(str(tmp_path / "l.db"))
    ledger.ingest_entries([JUDGMENT], now=parse_timestamp("2026-01-12"))
    today = parse_timestamp("2026-11-25")
    assert _decision(ledger, "2026-03-01", today) == "deny"
    ledger.ingest_entries([ANNUL], now=today)
    assert _decision(ledger, "2026-03-01", today) == "deny"  # what was answered stays
    assert _decision(ledger, "2026-11-25", today + 1) == "allow"  # from its receipt on
    with ledger.reading() as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT recorded_at, claimed_recorded_at FROM entries WHERE entry_id='a1'")
        assert cursor.fetchone() == (today, parse_timestamp("2026-01-20"))
    ledger.close()


def test_a_back_dated_annul_does_not_rewrite_the_past_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cli.db")
    _china(db).close()
    history = tmp_path / "history.jsonl"
    history.write_bytes(orjson.dumps(JUDGMENT) + b"\n")
    assert call(capsys, "ingest", str(history), "--db", db, "--backfill")[0] == 0

    def check(*at: str) -> str:
        code, out, _ = call(capsys, "check", "wang", "air_travel", "--db", db, *at, "--json")
        assert code == 0
        return str(orjson.loads(out)["decision"])

    assert check("--at", "2026-03-01") == "deny"
    annul = tmp_path / "annul.jsonl"
    annul.write_bytes(orjson.dumps(ANNUL) + b"\n")
    code, out, _ = call(capsys, "ingest", str(annul), "--db", db)  # today, not a backfill
    assert code == 0 and "accepted 1" in out
    assert check("--at", "2026-03-01") == "deny"
    assert check() == "allow"  # now: the annulment counts from the time it was received
    code, out, _ = call(capsys, "export", "records", "-o", "-", "--db", db)
    exported = [orjson.loads(line) for line in out.splitlines() if line]
    [annulment] = [e for e in exported if e["id"] == "a1"]
    assert annulment["claimed_recorded_at"] == "2026-01-20T00:00:00Z"
    assert annulment["recorded_at"] != annulment["claimed_recorded_at"]


def test_a_backfill_keeps_the_claimed_time_and_is_recorded(tmp_path: Path) -> None:
    ledger = _china(str(tmp_path / "l.db"))
    now = parse_timestamp("2026-11-25")
    ledger.ingest_entries([JUDGMENT], now=now, backfill=True)
    ledger.ingest_entries([{**JUDGMENT, "id": "j2"}], now=now)
    with ledger.reading() as conn:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT e.entry_id, e.recorded_at, e.claimed_recorded_at, b.backfill "
            "FROM entries e JOIN ingest_batches b ON b.id = e.batch_id ORDER BY e.seq"
        )
        claim = parse_timestamp("2026-01-12")
        assert cursor.fetchall() == [("j1", claim, claim, 1), ("j2", now, claim, 0)]
    ledger.close()


# ---------------------------------------------------------------- the invariant, at random

SUBJECTS = ["wang", "li", "zhao"]
T0 = parse_timestamp("2026-01-01")


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int, int]:
    """Two inputs (the second may correct the first's records) and their ingest times."""
    t1 = T0 + draw(st.integers(0, 200)) * DAY
    t2 = t1 + draw(st.integers(1, 200)) * DAY

    def day(limit: int) -> str:
        return str(to_iso(T0 + draw(st.integers(-30, (limit - T0) // DAY)) * DAY))

    first: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 5))):
        occurred = day(t1)
        entry = {
            "id": f"r{i}",
            "source": "s",
            "subject": draw(st.sampled_from(SUBJECTS)),
            "type": draw(st.sampled_from(["debt", "fine", "misconduct", "volunteering"])),
            "occurred_at": occurred,
        }
        if draw(st.booleans()):
            entry["recorded_at"] = occurred
        first.append(entry)
    second: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            occurred = day(t2)
            second.append(
                {
                    "id": f"n{i}",
                    "source": "s",
                    "subject": draw(st.sampled_from(SUBJECTS)),
                    "type": draw(st.sampled_from(["debt", "fine", "misconduct"])),
                    "occurred_at": occurred,
                    "recorded_at": occurred,  # claims: often before t1, even before t0
                }
            )
        else:
            target = draw(st.sampled_from(first))
            kind = draw(st.sampled_from(["annul", "resolve", "dispute", "uphold", "rectify"]))
            when = max(target["occurred_at"], day(t2))
            fix: dict[str, Any] = {
                "kind": kind,
                "id": f"c{i}",
                "source": "s",
                "target_source": "s",
                "target_id": target["id"],
                "occurred_at": when,
                "recorded_at": when,
            }
            if kind == "rectify":
                fix["amount"] = 5
            second.append(fix)
    return first, second, t1, t2


def _answers(ledger: Ledger, subjects: list[str], times: list[int], clock: int) -> list[Any]:
    engine = Engine.open(ledger, lambda: clock)
    out: list[Any] = []
    for t in times:
        for subject in subjects:
            out.append(engine.standing(subject, t).to_json())
            out.append(engine.check(subject, "air_travel", t).to_json())
            out.append(engine.explain(subject, "air_travel", t).to_json())
    return out


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=ledgers(), offsets=st.lists(st.integers(0, 10**9), min_size=1, max_size=2))
def test_an_ingest_never_changes_an_answer_about_an_earlier_time(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]], int, int], offsets: list[int]
) -> None:
    first, second, t1, t2 = case
    loaded = parse_policy(TEST_POLICY)
    # any time before the second ingest (from the policy's activation), even before the first
    start = T0
    times = sorted({start + o % (t2 - start) for o in offsets} | {t2 - 1})
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(str(Path(tmp) / "l.db"))
        ledger.upgrade()
        ledger.activate_policy(
            loaded.text,
            loaded.policy.policy,
            loaded.policy.version,
            loaded.content_hash,
            T0,
            now=T0,
        )
        ledger.ingest_entries(first, now=t1)
        known = sorted({e["subject"] for e in first})
        before = _answers(ledger, known, times, t2 - 1)
        result = ledger.ingest_entries(second, now=t2)
        assert result.rejected == 0, result.problems
        assert _answers(ledger, known, times, t2 - 1) == before
        # subjects the second ingest introduced were not known then
        engine = Engine.open(ledger, lambda: t2)
        for subject in sorted({str(e.get("subject")) for e in second} - set(known) - {"None"}):
            for t in times:
                assert engine.check(subject, "air_travel", t).to_json()["known"] is False
        ledger.close()


# ---------------------------------------------------------------- crossing a backfill


def test_an_answer_says_when_it_counts_history_loaded_later(tmp_path: Path) -> None:
    ledger = _china(str(tmp_path / "l.db"))
    loaded = parse_timestamp("2026-06-01")
    history = [
        JUDGMENT,  # recorded 2026-01-12
        {**JUDGMENT, "id": "j2", "occurred_at": "2026-02-01", "recorded_at": "2026-04-01"},
        {**JUDGMENT, "id": "j3", "subject": "li"},
    ]
    ledger.ingest_entries(history, now=loaded, backfill=True)
    ledger.ingest_entries([{**JUDGMENT, "id": "j4", "subject": "zhao"}], now=loaded + DAY)
    engine = Engine.open(ledger, lambda: loaded + 2 * DAY)
    batch = 1

    def crossed(subject: str, at: str) -> list[dict[str, Any]]:
        t = parse_timestamp(at)
        found = [b.to_json() for b in engine.standing(subject, t).backfilled]
        assert [b.to_json() for b in engine.check(subject, "air_travel", t).backfilled] == found
        explained = engine.explain(subject, "air_travel", t).to_json()["backfilled"]
        assert explained == found
        return found

    def note(n: int) -> list[dict[str, Any]]:
        return [{"batch": batch, "loaded_at": "2026-06-01T00:00:00Z", "entries": n}]

    assert crossed("wang", "2026-01-11") == []  # nothing of it counted yet
    assert crossed("wang", "2026-03-01") == note(1)  # j1 only: j2 is recorded 2026-04-01
    assert crossed("wang", "2026-05-01") == note(2)
    assert crossed("wang", "2026-06-01") == []  # from the load on, the ledger had them
    assert crossed("li", "2026-03-01") == note(1)
    assert crossed("zhao", "2026-03-01") == []  # an ordinary ingest, counted from receipt
    bulk = engine.recompute(parse_timestamp("2026-05-01"))
    assert [b.to_json() for b in bulk.backfilled] == note(3)
    assert engine.recompute(parse_timestamp("2026-07-01")).backfilled == ()
    ledger.close()


def test_the_cli_says_when_an_answer_counts_history_loaded_later(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq

    db = str(tmp_path / "cli.db")
    _china(db).close()
    history = tmp_path / "history.jsonl"
    history.write_bytes(orjson.dumps(JUDGMENT) + b"\n")
    assert call(capsys, "ingest", str(history), "--db", db, "--backfill")[0] == 0
    expected = "Note: this answer about 2026-03-01T00:00:00Z counts history loaded later"
    for args in (
        ["score", "wang"],
        ["check", "wang", "air_travel"],
        ["explain", "wang", "--service", "air_travel"],
        ["subjects"],
    ):
        code, out, _ = call(capsys, *args, "--db", db, "--at", "2026-03-01")
        assert code == 0 and expected in " ".join(out.split()), (args, out)
        code, out, _ = call(capsys, *args, "--db", db, "--json", "--at", "2026-03-01")
        [crossed] = orjson.loads(out)["backfilled"]
        assert crossed["batch"] == 1 and crossed["entries"] == 1
        code, out, _ = call(capsys, *args, "--db", db)  # now: after the load
        assert code == 0 and "Note:" not in out
        code, out, _ = call(capsys, *args, "--db", db, "--json")
        assert orjson.loads(out)["backfilled"] == []
    path = tmp_path / "s.parquet"
    code, _, err = call(
        capsys, "export", "standings", "-o", str(path), "--db", db, "--at", "2026-03-01"
    )
    assert code == 0 and expected in " ".join(err.split())
    metadata = pq.read_schema(path).metadata
    assert orjson.loads(metadata[b"socialcredit.backfilled"])[0]["entries"] == 1


# ---------------------------------------------------------------- policies dated in the past


def test_a_policy_is_activated_in_the_past_only_as_a_recorded_backfill(tmp_path: Path) -> None:
    from socialcredit.ledger import PastActivationError

    loaded = parse_policy(TEST_POLICY)
    ledger = Ledger.open(str(tmp_path / "p.db"))
    ledger.upgrade()
    args = (loaded.text, loaded.policy.policy, loaded.policy.version, loaded.content_hash)
    now = parse_timestamp("2026-06-01")
    with pytest.raises(PastActivationError) as caught:
        ledger.activate_policy(*args, T0, now=now)
    assert "before now (2026-06-01T00:00:00Z)" in caught.value.message
    assert ledger.policy_history() == []
    with pytest.raises(PastActivationError):  # the wall clock by default
        ledger.activate_policy(*args, T0)
    pv = ledger.activate_policy(*args, T0, now=now, backfill=True)
    assert (pv.activated_at, pv.recorded_at, pv.backfill) == (T0, now, True)
    later = parse_policy(TEST_POLICY.replace('version: "1"', 'version: "2"'))
    v2 = ledger.activate_policy(
        later.text, later.policy.policy, later.policy.version, later.content_hash, now, now=now
    )
    assert (v2.recorded_at, v2.backfill) == (now, False)
    assert [p.backfill for p in ledger.policy_history()] == [True, False]
    # answers under the backfilled activation, about a time before it was made, say so
    ledger.ingest_entries([{**JUDGMENT, "type": "debt"}], now=now)
    engine = Engine.open(ledger, lambda: now + DAY)
    policy = {"policy_version": "test-policy@1", "loaded_at": "2026-06-01T00:00:00Z"}
    before = T0 + 30 * DAY
    assert [b.to_json() for b in engine.standing("wang", before).backfilled] == [policy]
    assert [b.to_json() for b in engine.check("nobody", "air_travel", before).backfilled] == [
        policy
    ]
    assert [b.to_json() for b in engine.recompute(before).backfilled] == [policy]
    assert engine.standing("wang", now).backfilled == ()  # under v2, activated then
    ledger.close()


def test_a_claimed_time_is_shown_where_the_record_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cli.db")
    ledger = _china(db)
    received = parse_timestamp("2026-02-01")
    ledger.ingest_entries([JUDGMENT], now=received)  # the court says 2026-01-12
    ledger.close()
    said = "recorded by the source on 2026-01-12T00:00:00Z"
    got = "received by the ledger on 2026-02-01T00:00:00Z"
    code, out, _ = call(capsys, "score", "wang", "--db", db, "--at", "2026-03-01")
    flat = " ".join(out.split())
    assert code == 0 and f"court/j1: {said}, {got}" in flat
    code, out, _ = call(capsys, "score", "wang", "--db", db, "--at", "2026-03-01", "--json")
    [line] = orjson.loads(out)["breakdown"]["records"]
    assert line["claimed_recorded_at"] == "2026-01-12T00:00:00Z"
    assert line["recorded_at"] == "2026-02-01T00:00:00Z"
    args = ("explain", "wang", "--service", "air_travel", "--db", db, "--at", "2026-03-01")
    code, out, _ = call(capsys, *args)
    assert code == 0 and f"court/j1 was {said} and {got}" in " ".join(out.split())
    code, out, _ = call(capsys, *args, "--json")
    assert orjson.loads(out)["explanation"]["claims"] == [
        {
            "record": "court/j1",
            "claimed_recorded_at": "2026-01-12T00:00:00Z",
            "recorded_at": "2026-02-01T00:00:00Z",
        }
    ]


def test_a_dispute_dated_inside_the_window_but_received_after_it_has_no_effect(
    tmp_path: Path,
) -> None:
    from socialcredit.ledger import IngestRules

    loaded = parse_policy(TEST_POLICY)
    ledger = Ledger.open(str(tmp_path / "d.db"))
    ledger.upgrade()
    debt = {**JUDGMENT, "type": "debt"}
    rules = IngestRules.from_policy(loaded.policy)
    ledger.ingest_entries([debt], rules=rules, now=parse_timestamp("2026-01-12"))
    dispute = {**ANNUL, "kind": "dispute", "id": "d1"}  # dated 2026-01-20: inside P30D
    result = ledger.ingest_entries([dispute], rules=rules, now=parse_timestamp("2026-03-01"))
    [note] = result.no_effect_lines
    assert note.message == (
        "the dispute of court/j1 is recorded on 2026-03-01T00:00:00Z (the source dates it "
        "2026-01-20T00:00:00Z; the window runs on the times the ledger received the record "
        "and the dispute), after the appeal window closed on 2026-02-11T00:00:00Z: it is kept "
        "in the ledger but has no effect on the record"
    )
    ledger.close()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    days=st.lists(st.one_of(st.none(), st.integers(0, 300)), min_size=1, max_size=8),
    subjects=st.lists(st.sampled_from(SUBJECTS), min_size=8, max_size=8),
    annul=st.lists(st.booleans(), min_size=8, max_size=8),
    loaded_day=st.integers(1, 400),
    asked=st.lists(st.integers(0, 450), min_size=1, max_size=3),
)
def test_the_backfill_note_appears_exactly_when_history_loaded_later_is_counted(
    days: list[int | None],
    subjects: list[str],
    annul: list[bool],
    loaded_day: int,
    asked: list[int],
) -> None:
    loaded = parse_policy(TEST_POLICY)
    history: list[dict[str, Any]] = []
    for i, day in enumerate(days):
        record: dict[str, Any] = {
            "id": f"r{i}",
            "source": "s",
            "subject": subjects[i],
            "type": "debt",
            "occurred_at": str(to_iso(T0)),
        }
        if day is not None:
            record["recorded_at"] = str(to_iso(T0 + day * DAY))
        history.append(record)
        if annul[i] and day is not None:
            history.append(
                {
                    "kind": "annul",
                    "id": f"a{i}",
                    "source": "s",
                    "target_source": "s",
                    "target_id": f"r{i}",
                    "occurred_at": str(to_iso(T0 + day * DAY)),
                    "recorded_at": str(to_iso(T0 + (day + 1) * DAY)),
                }
            )
    load = T0 + loaded_day * DAY
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(str(Path(tmp) / "l.db"))
        ledger.upgrade()
        ledger.activate_policy(
            loaded.text,
            loaded.policy.policy,
            loaded.policy.version,
            loaded.content_hash,
            T0,
            now=T0,
        )
        # claims after the load are in the future of the ledger's clock: rejected
        result = ledger.ingest_entries(history, now=load, backfill=True)
        kept = {e["id"] for e in history} - {history[p.line - 1]["id"] for p in result.problems}
        ledger.ingest_entries([{**history[0], "id": "later"}], now=load + DAY)  # not a backfill
        engine = Engine.open(ledger, lambda: load + 2 * DAY)

        def recorded(e: dict[str, Any]) -> int:
            return parse_timestamp(e["recorded_at"]) if "recorded_at" in e else load

        def subject(e: dict[str, Any]) -> str:
            return str(e.get("subject") or subjects[int(e["target_id"][1:])])

        for day in asked:
            t = T0 + day * DAY
            for name in sorted({subject(e) for e in history if e["id"] in kept}):
                expected = sum(
                    1
                    for e in history
                    if e["id"] in kept and subject(e) == name and recorded(e) <= t < load
                )
                got = engine.standing(name, t).backfilled
                assert [b.to_json() for b in got] == (
                    [{"batch": 1, "loaded_at": to_iso(load), "entries": expected}]
                    if expected
                    else []
                )
        ledger.close()


@given(
    values=st.lists(st.integers(min_value=0, max_value=2**40), min_size=6, max_size=6),
    text=st.text(max_size=5),
    claimed=st.integers(min_value=0, max_value=2**40),
)
def test_a_claimed_time_is_set_on_a_copy_equal_to_dataclasses_replace(
    values: list[int], text: str, claimed: int
) -> None:
    """The engine's fast copy of a breakdown line with its claimed time equals
    ``dataclasses.replace`` (and leaves the line as it was)."""
    import dataclasses

    from socialcredit.engine import _with_claimed
    from socialcredit.scoring.results import RecordLine

    line = RecordLine(
        values[0], text, "id", "t", values[1], values[2], 1.5, 0.5, "counts",
        values[3], None, values[4], False, None, term=text, review_due=values[5],
    )  # fmt: skip
    before = dataclasses.asdict(line)
    got = _with_claimed(line, claimed)
    expected = dataclasses.replace(line, claimed_recorded_at=claimed)
    assert got == expected and hash(got) == hash(expected) and type(got) is RecordLine
    assert dataclasses.asdict(got) == dataclasses.asdict(expected)
    assert dataclasses.asdict(line) == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.claimed_recorded_at = 0  # type: ignore[misc]


@settings(max_examples=25, deadline=None)
@given(case=ledgers(), extra=st.sampled_from(["s/r0", "s/zz", "t/r0", "nosource"]))
def test_claims_read_with_a_subjects_entries_are_the_ledgers(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]], int, int], extra: str
) -> None:
    """The claimed times read with a subject's entries (explanations use them instead of
    asking the ledger again) are those ``Ledger.claims`` gives, in its order; asked about an
    entry not read with them, they say they do not know (None)."""
    first, second, t1, t2 = case
    # a source that claims the very time the ledger receives the line claims nothing else
    same = {**first[0], "id": "same", "occurred_at": to_iso(T0), "recorded_at": to_iso(t1)}
    first = [*first, same]
    loaded = parse_policy(TEST_POLICY)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(str(Path(tmp) / "l.db"))
        ledger.upgrade()
        ledger.activate_policy(
            loaded.text,
            loaded.policy.policy,
            loaded.policy.version,
            loaded.content_hash,
            T0,
            now=T0,
        )
        ledger.ingest_entries(first, now=t1)
        ledger.ingest_entries(second, now=t2)
        every = [f"{e['source']}/{e['id']}" for e in first + second]
        for subject in sorted({e["subject"] for e in first}):
            cols = ledger.columns([subject], follow_relations=True)
            own = [f"{s}/{i}" for s, i in zip(cols.rec_source, cols.rec_id, strict=True)]
            got = cols.claims_of(own)
            assert got is not None and list(got.items()) == list(ledger.claims(own).items())
            for keys in (every, [*own, extra]):
                got = cols.claims_of(keys)
                assert got is None or list(got.items()) == list(ledger.claims(keys).items())
        ledger.close()


def test_subjects_and_export_as_of_a_time_leave_out_subjects_not_yet_known(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # wang's judgment was received on 2026-01-12, li's on 2026-03-01: as of 2026-02-01 the
    # ledger knew of wang only, so li is not one of the subjects then (it listed li too,
    # with the base score, as if the ledger had known of it)
    db = str(tmp_path / "known.db")
    ledger = _china(db)
    ledger.ingest_entries([JUDGMENT], now=parse_timestamp("2026-01-12"))
    later = {**JUDGMENT, "id": "j2", "subject": "li", "occurred_at": "2026-02-20"}
    del later["recorded_at"]
    ledger.ingest_entries([later], now=parse_timestamp("2026-03-01"))
    ledger.close()

    def subjects(at: str) -> tuple[int, list[str]]:
        code, out, err = call(capsys, "subjects", "--db", db, "--at", at, "--json")
        assert code == 0, err
        data = orjson.loads(out)
        return data["matching"], [r["subject"] for r in data["subjects"]]

    def exported(at: str) -> list[str]:
        code, out, err = call(
            capsys, "export", "standings", "-o", "-", "--format", "jsonl", "--db", db, "--at", at
        )
        assert code == 0, err
        return [orjson.loads(line)["subject"] for line in out.splitlines() if line]

    assert subjects("2026-02-01") == (1, ["wang"])
    assert exported("2026-02-01") == ["wang"]
    assert subjects("2026-01-05") == (0, [])  # the policy in force, no entry received yet
    assert exported("2026-01-05") == []
    assert sorted(subjects("2026-03-02")[1]) == ["li", "wang"]
    assert sorted(exported("2026-03-02")) == ["li", "wang"]


def test_before_a_backfilled_first_policy_the_error_says_when_it_was_activated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # activated on 2026-06-01 as in force from 2026-01-01 (as the demo does): a question
    # about 2025-12-01 was told the policy 'was activated on 2026-01-01T00:00:00Z', a date
    # on which nobody activated anything
    loaded = parse_policy(TEST_POLICY)
    db = str(tmp_path / "b.db")
    ledger = Ledger.open(db)
    ledger.upgrade()
    args = (loaded.text, loaded.policy.policy, loaded.policy.version, loaded.content_hash)
    ledger.activate_policy(
        *args, parse_timestamp("2026-01-01"), now=parse_timestamp("2026-06-01"), backfill=True
    )
    ledger.ingest_entries([{**JUDGMENT, "type": "debt"}], now=parse_timestamp("2026-06-01"))
    ledger.close()
    code, out, err = call(capsys, "score", "wang", "--db", db, "--at", "2025-12-01")
    assert code == 2 and out == ""
    assert "was activated on 2026-01-01" not in err
    assert (
        "was activated on 2026-06-01T00:00:00Z as in force from 2026-01-01T00:00:00Z "
        "(a backfill); ask about a time from 2026-01-01T00:00:00Z on"
    ) in err
