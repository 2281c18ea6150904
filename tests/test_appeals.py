"""Due process end to end (``socialcredit.appeals`` with ``socialcredit.notices``): a measure
starts and the subject is told; the subject disputes within the window; a reviewer upholds,
rectifies or annuls with a written reason; a dispute not decided in time stops the record
counting (under ``on_overdue: delete``) and the subject is told. Every date is worked out
by hand from tests/appeals_policy.py; each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from socialcredit.appeals import (
    DisputeError,
    DisputeInputError,
    decide,
    file_dispute,
    review_queue,
)
from socialcredit.errors import NotFoundError
from socialcredit.ledger import Ledger
from socialcredit.notices import generate_notices, notices_for
from tests.appeals_policy import engine_at, ingest, record, ts, with_debtor
from tests.ledger.conftest import ledger, pg_ledger, pg_url, sqlite_ledger  # noqa: F401

URL = "https://register.example/v1/disputes"


@pytest.fixture
def due(ledger: Ledger) -> Ledger:  # noqa: F811
    """The ledger under the test policy (in force from 2025-01-01), with a debtor P1 and
    their child C1 (received 2025-02-03) and P2's card arrears (received 2025-02-03)."""
    return with_debtor(ledger, record("a1", "bank", "P2", "card_arrears", "2025-02-01"))


def decision(led: Ledger, subject: str, service: str, at: str) -> str:
    return engine_at(led, at).check(subject, service, ts(at)).decision


def test_a_measure_starts_the_subject_disputes_the_review_upholds_reconsideration_annuls(
    due: Ledger,
) -> None:
    # 2025-02-10: P1 is on the list of debtors since the debt was received (2025-02-03);
    # the debt counts 1000 days from 2025-02-01, to 2027-10-29; C1 is denied through P1
    run = generate_notices(engine_at(due, "2025-02-10"), None, ts("2025-02-10"), dispute_url=URL)
    by_subject = {n.subject: n for n in run.written}
    assert sorted(by_subject) == ["C1", "P1", "P2"]
    p1, c1 = by_subject["P1"], by_subject["C1"]
    assert (p1.kind, p1.event_at, p1.measure, p1.until) == (
        "measure_started",
        ts("2025-02-03"),
        "no_flights",
        ts("2027-10-29"),
    )
    assert p1.title == "Since 2025-02-03, you cannot board flights (reason code DEBTOR)."
    assert "because of record court/d1 (debt, 2025-02-01)" in p1.body
    assert "If nothing changes, you may board flights again on 2027-10-29." in p1.body
    # the single action that ends it sooner: the explanation's best action
    assert p1.details["sooner"]["kind"] == "resolve"
    assert "Sooner: resolve record court/d1" in p1.body
    # the appeal window: 30 days from 2025-02-03
    assert p1.details["disputes"] == [
        {
            "record": "court/d1",
            "until": "2025-03-05",
            "closes_at": "2025-03-05T00:00:00Z",
            "url": URL,
        }
    ]
    assert f"file a dispute at {URL} before 2025-03-05." in p1.body
    assert p1.details["records"][0]["source"] == "court"
    assert c1.title == (
        "Since 2025-02-03, you cannot board flights (reason code DEBTOR): you are recorded as "
        "child of P1."
    )
    assert "Record court/d1 is about P1: only P1 may dispute it." in c1.body
    assert c1.details["disputes"] == []

    # C1 cannot dispute P1's record: the same answer as for a record that does not exist
    entries = due.count_entries()
    with pytest.raises(NotFoundError, match="'C1' has no record court/d1"):
        file_dispute(due, "C1", "court", "d1", "not my debt", ts("2025-02-20"))
    with pytest.raises(NotFoundError, match="'P1' has no record court/zzz"):
        file_dispute(due, "P1", "court", "zzz", "no such thing", ts("2025-02-20"))
    with pytest.raises(DisputeInputError, match="reason for the dispute is required"):
        file_dispute(due, "P1", "court", "d1", "  ", ts("2025-02-20"))
    assert due.count_entries() == entries

    # 2025-02-20: P1 disputes; a debt's review is due within 15 days: by 2025-03-07
    d = file_dispute(due, "P1", "court", "d1", "I paid on 2025-02-02", ts("2025-02-20"))
    assert (d.stage, d.filed_at, d.due, d.due_date, d.entry) == (
        "review",
        ts("2025-02-20"),
        ts("2025-03-07"),
        "2025-03-07",
        "subject/review:court/d1",
    )
    # a retry is answered with the same dispute and writes nothing; another is refused
    assert file_dispute(due, "P1", "court", "d1", "I paid on 2025-02-02", ts("2025-02-21")) == (
        d.__class__(**{**d.__dict__, "at": ts("2025-02-21")})
    )
    with pytest.raises(DisputeError, match=r"already disputed \(since 2025-02-20\).*by 2025-03-07"):
        file_dispute(due, "P1", "court", "d1", "another reason", ts("2025-02-21"))
    assert due.count_entries() == entries + 1
    # the debt keeps counting while disputed (disputed_records_count: true)
    assert decision(due, "P1", "air_travel", "2025-02-21") == "deny"

    queue = review_queue(engine_at(due, "2025-02-21"), ts("2025-02-21"))
    assert [(q.subject, q.record, q.stage, q.due_date, q.overdue) for q in queue] == [
        ("P1", "court/d1", "review", "2025-03-07", False)
    ]
    assert queue[0].reason == "I paid on 2025-02-02"
    assert queue[0].reconsideration == {"file_within": "10 days", "decide_within": "15 days"}

    with pytest.raises(DisputeInputError, match="reason for the decision is required"):
        decide(due, "Li Wei", queue[0], "uphold", "", ts("2025-03-01"))
    with pytest.raises(DisputeInputError, match="unknown outcome 'approve'"):
        decide(due, "Li Wei", queue[0], "approve", "fine", ts("2025-03-01"))
    assert due.count_entries() == entries + 1

    # 2025-03-01: the review upholds it, with the reviewer's written reason
    upheld = decide(due, "Li Wei", queue[0], "uphold", "no payment arrived", ts("2025-03-01"))
    assert upheld.entries == [("review/review-decision:court/d1", "uphold")]
    stored = [e for e in due.iter_entries(["uphold"])]
    assert stored[0]["reason"] == "decided by Li Wei: no payment arrived"
    assert review_queue(engine_at(due, "2025-03-02"), ts("2025-03-02")) == []
    with pytest.raises(DisputeError, match="no dispute open"):
        decide(due, "Li Wei", ("court", "d1"), "annul", "changed my mind", ts("2025-03-02"))

    # reconsideration may be applied for within 10 days of 2025-03-01 and is decided in 15
    r = file_dispute(due, "P1", "court", "d1", "here is the bank slip", ts("2025-03-05"))
    assert (r.stage, r.due_date, r.entry) == (
        "reconsideration",
        "2025-03-20",
        "subject/reconsideration:court/d1",
    )
    queue = review_queue(engine_at(due, "2025-03-06"), ts("2025-03-06"))
    assert [(q.record, q.stage, q.due_date) for q in queue] == [
        ("court/d1", "reconsideration", "2025-03-20")
    ]
    # 2025-03-10: reconsideration annuls the record; from then on nobody is denied
    annulled = decide(
        due, "Zhang Min", queue[0], "annul", "the slip proves payment", ts("2025-03-10")
    )
    assert annulled.entries == [("review/reconsideration-decision:court/d1", "annul")]
    assert decision(due, "P1", "air_travel", "2025-03-09") == "deny"  # the past is unchanged
    assert decision(due, "P1", "air_travel", "2025-03-10") == "allow"
    assert decision(due, "C1", "air_travel", "2025-03-10") == "allow"
    assert review_queue(engine_at(due, "2025-03-10"), ts("2025-03-10")) == []
    with pytest.raises(DisputeError, match="was annulled"):
        file_dispute(due, "P1", "court", "d1", "again", ts("2025-03-11"))
    # the notice written on 2025-02-10 is an event: it stays as it was written
    assert notices_for(due, "P1") == [p1]
    assert generate_notices(engine_at(due, "2025-03-11"), ["P1"], ts("2025-03-11")).written == []


def test_an_overdue_dispute_deletes_the_record_and_the_subject_is_told(due: Ledger) -> None:
    # P2's card arrears: disputed 2025-02-10; the review is due within 30 days, by
    # 2025-03-12, and a missed deadline deletes the record (on_overdue: delete)
    d = file_dispute(due, "P2", "bank", "a1", "not my card", ts("2025-02-10"))
    assert (d.due_date, d.on_overdue) == ("2025-03-12", "delete")
    assert decision(due, "P2", "rail_tickets", "2025-03-11T23:59:59") == "deny"
    assert decision(due, "P2", "g_train_seats", "2025-03-11T23:59:59") == "deny"
    assert decision(due, "P2", "rail_tickets", "2025-03-12") == "allow"
    first = generate_notices(engine_at(due, "2025-03-11"), ["P2"], ts("2025-03-11"))
    assert [n.kind for n in first.written] == ["measure_started"]
    assert first.written[0].details["blocks"] == ["train tickets", "G-series train seats"]

    queue = review_queue(engine_at(due, "2025-03-12"), ts("2025-03-12"))
    assert [(q.record, q.overdue, q.on_overdue) for q in queue] == [("bank/a1", True, "delete")]

    run = generate_notices(engine_at(due, "2025-03-13"), ["P2"], ts("2025-03-13"))
    [n] = run.written
    assert (n.kind, n.event_at, n.records) == ("dispute_overdue", ts("2025-03-12"), ["bank/a1"])
    assert n.title == "Your dispute of record bank/a1 was not decided by 2025-03-12."
    assert n.body == (
        "Record bank/a1 (card arrears, 2025-02-01) has been under dispute since 2025-02-10; it "
        "was to be decided by 2025-03-12 and has not been: under the policy the record is "
        "deleted. It does not count from 2025-03-12 on."
    )
    # an uphold now would have no effect: refused, nothing written; an annulment is taken
    entries = due.count_entries()
    with pytest.raises(DisputeError, match="record was deleted then"):
        decide(due, "Li Wei", queue[0], "uphold", "the arrears are real", ts("2025-03-13"))
    assert due.count_entries() == entries
    done = decide(due, "Li Wei", queue[0], "annul", "the bank withdrew it", ts("2025-03-13"))
    assert done.entries == [("review/review-decision:bank/a1", "annul")]
    # the overdue notice is not written again
    again = generate_notices(engine_at(due, "2025-03-14"), None, ts("2025-03-14"))
    assert [n.kind for n in again.written if n.subject == "P2"] == []


def test_a_late_review_keeps_the_record_under_keep_and_says_so(due: Ledger) -> None:
    file_dispute(due, "P1", "court", "d1", "I paid", ts("2025-02-20"))  # due by 2025-03-07
    assert decision(due, "P1", "air_travel", "2025-03-08") == "deny"
    [q] = review_queue(engine_at(due, "2025-03-08"), ts("2025-03-08"))
    assert (q.overdue, q.on_overdue) == (True, "keep")
    run = generate_notices(engine_at(due, "2025-03-08"), ["P1"], ts("2025-03-08"))
    overdue = [n for n in run.written if n.kind == "dispute_overdue"]
    assert [n.body for n in overdue] == [
        "Record court/d1 (debt, 2025-02-01) has been under dispute since 2025-02-20; it was to "
        "be decided by 2025-03-07 and has not been: under the policy the record stays until it "
        "is decided."
    ]
    # under keep a late decision still decides
    decide(due, "Li Wei", q, "uphold", "no payment arrived", ts("2025-03-09"))
    assert review_queue(engine_at(due, "2025-03-09"), ts("2025-03-09")) == []


def test_windows_close(due: Ledger) -> None:
    # the appeal window: 30 days after the ledger received the record (2025-02-03)
    with pytest.raises(
        DisputeError, match=r"window to dispute record court/d1 closed on 2025-03-05"
    ):
        file_dispute(due, "P1", "court", "d1", "too late", ts("2025-03-05T00:00:01"))
    # ... and its last instant is still in time
    assert (
        file_dispute(due, "P1", "court", "d1", "just in time", ts("2025-03-05")).stage == "review"
    )
    decide(due, "Li Wei", ("court", "d1"), "uphold", "no payment", ts("2025-03-06"))
    # reconsideration: within 10 days of the review's decision (until 2025-03-16)
    with pytest.raises(
        DisputeError, match="reconsideration of record court/d1 ended on 2025-03-16"
    ):
        file_dispute(due, "P1", "court", "d1", "late", ts("2025-03-17"))
    # card arrears have no reconsideration
    file_dispute(due, "P2", "bank", "a1", "not mine", ts("2025-02-10"))
    decide(due, "Li Wei", ("bank", "a1"), "uphold", "it is", ts("2025-02-11"))
    with pytest.raises(DisputeError, match="has no reconsideration"):
        file_dispute(due, "P2", "bank", "a1", "again", ts("2025-02-12"))
    # a relation is not a record
    with pytest.raises(DisputeError, match="registry/c1 is a relation entry, not a record"):
        decide(due, "Li Wei", ("registry", "c1"), "annul", "wrong child", ts("2025-02-12"))


def test_a_rectification_corrects_and_upholds(due: Ledger) -> None:
    file_dispute(due, "P2", "bank", "a1", "the date is wrong", ts("2025-02-10"))
    with pytest.raises(DisputeInputError, match="needs the correction"):
        decide(due, "Li Wei", ("bank", "a1"), "rectify", "date", ts("2025-02-11"))
    result = decide(
        due,
        "Li Wei",
        ("bank", "a1"),
        "rectify",
        "the arrears began in January",
        ts("2025-02-11"),
        corrected_occurred_at=ts("2025-01-15"),
    )
    assert result.entries == [
        ("review/review-rectification:bank/a1", "rectify"),
        ("review/review-decision:bank/a1", "uphold"),
    ]
    assert review_queue(engine_at(due, "2025-02-12"), ts("2025-02-12")) == []
    st = engine_at(due, "2025-02-12").standing("P2")
    [line] = [x for x in st.breakdown if x.status == "counts"]
    assert (line.rectified, line.occurred_at, line.decided_at) == (
        True,
        ts("2025-01-15"),
        ts("2025-02-11"),
    )
    # the record (2 years from 2025-01-15) still denies train tickets after the deadline
    assert decision(due, "P2", "rail_tickets", "2025-04-01") == "deny"


def test_a_published_measure_is_told_at_publication_and_at_its_start(due: Ledger) -> None:
    # rail misconduct received Monday 2025-03-03: published then; objections until
    # 2025-03-10 (the 7-day notice); in force from then for 180 days, to 2025-09-06
    ingest(
        due,
        [
            record("r1", "rail", "P3", "rail_misconduct", "2025-03-03"),
            record("r2", "rail", "P5", "rail_misconduct", "2025-03-03"),
        ],
        "2025-03-03",
    )
    run = generate_notices(engine_at(due, "2025-03-04"), ["P3", "P5"], ts("2025-03-04"))
    assert [(n.subject, n.kind, n.event_at) for n in run.written] == [
        ("P3", "measure_published", ts("2025-03-03")),
        ("P5", "measure_published", ts("2025-03-03")),
    ]
    p3 = run.written[0]
    assert p3.title == (
        "A measure (reason code RAIL-CAT1) was published on 2025-03-03: nothing is in force yet."
    )
    assert p3.details["starts"] == "2025-03-10" and p3.details["until"] == "2025-09-06"
    assert p3.details["disputes"] == [
        {
            "record": "rail/r1",
            "until": "2025-03-10",
            "closes_at": "2025-03-10T00:00:00Z",
            "url": None,
        }
    ]
    assert "file a dispute before 2025-03-10." in p3.body
    # P5 objects in time and the objection is upheld: the measure never starts
    file_dispute(due, "P5", "rail", "r2", "I was not on that train", ts("2025-03-05"))
    decide(
        due, "Li Wei", ("rail", "r2"), "annul", "the ticket was someone else's", ts("2025-03-07")
    )
    later = generate_notices(engine_at(due, "2025-03-11"), ["P3", "P5"], ts("2025-03-11"))
    assert [(n.subject, n.kind, n.event_at, n.until) for n in later.written] == [
        ("P3", "measure_started", ts("2025-03-10"), ts("2025-09-06"))
    ]
    # the publication is past (no longer an event at 2025-03-11), and was told on 2025-03-04
    assert later.already == 0
    assert [n.kind for n in notices_for(due, "P5")] == ["measure_published"]
