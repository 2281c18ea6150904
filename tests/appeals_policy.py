"""A small policy for the due-process tests (notices, disputes, decisions), with round
numbers so every date can be worked out by hand. Everything is in UTC (no calendar block).

- ``debt`` (SPC style): the policy-wide 30-day appeal window; a review within 15 days; the
  record keeps counting while disputed and stays when a review is late (``keep``);
  reconsideration may be applied for within 10 days of an upheld review, decided within 15.
- ``card_arrears`` (FCRA style): counts while disputed; a review not decided within the
  policy-wide 30 days deletes the record (``delete``).
- ``rail_misconduct``: a 7-day appeal window behind the railway's publicity period.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from socialcredit.engine import Engine
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import parse_policy
from socialcredit.timeutil import parse_timestamp

POLICY = """
policy: appeals-test
version: "1"
meta: {title: Due process test}
score: {form: points, base: 1000}
grades: [{name: A}]
services:
  air_travel: {display_name: flights, action: board flights}
  rail_tickets: {display_name: train tickets, action: buy train tickets}
  g_train_seats:
    display_name: G-series train seats
    action: buy seats on G-series trains
    parent: rail_tickets
  bikes: {display_name: public bikes, action: rent public bikes}
record_types:
  debt:
    points: -100
    expires_after: P1000D
    context: courts
    category: judicial
    evidence: court_order
    resolvable: true
    due_process:
      reinvestigation_deadline: P15D
      disputed_records_count: true
      on_overdue: keep
      reconsideration: {file_within: P10D, decide_within: P15D}
  card_arrears:
    points: -50
    expires_after: P2Y
    context: finance
    category: financial
    evidence: third_party_report
    due_process: {disputed_records_count: true}
  rail_misconduct:
    expires_after: P2Y
    context: transit
    category: conduct
    evidence: official_record
    due_process: {appeal_window: P7D, disputed_records_count: true, on_overdue: keep}
  volunteering:
    points: 10
    expires_after: P1Y
    context: civic
    category: prosocial
    evidence: official_record
relations:
  child_of: {description: the subject is a child of the related subject}
lists:
  debtors:
    kind: black
    display_name: list of debtors
    when: {records: {type: debt, unresolved: true}}
  arrears:
    kind: black
    display_name: list of card arrears
    when: {records: {type: card_arrears}}
  rail_untrustworthy:
    kind: black
    display_name: railway list of untrustworthy passengers
    when: {records: {type: rail_misconduct}}
  volunteers:
    kind: red
    when: {records: {type: volunteering}}
sanctions:
  no_flights:
    when: {list: debtors}
    service: air_travel
    effect: deny
    reach: [{relation: child_of}]
    reason_code: DEBTOR
  no_rail_arrears:
    when: {list: arrears}
    service: rail_tickets
    effect: deny
    reason_code: ARREARS
  rail_ban:
    when: {list: rail_untrustworthy}
    service: rail_tickets
    effect: deny
    duration: {fixed: P180D}
    starts_after: {notice: P7D, objection_blocks: true}
    reason_code: RAIL-CAT1
  bike_perk:
    when: {list: volunteers}
    service: bikes
    effect: benefit
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
  on_overdue: delete
"""

PARSED = parse_policy(POLICY, "appeals-test.yaml")
RULES = IngestRules.from_policy(PARSED.policy)
ACTIVATED = parse_timestamp("2025-01-01")


def ts(text: str) -> int:
    """Epoch seconds of an ISO 8601 date or time (UTC)."""
    return parse_timestamp(text)


def activate(ledger: Ledger) -> None:
    """Put the policy in force from 2025-01-01."""
    ledger.activate_policy(
        PARSED.text,
        PARSED.policy.policy,
        PARSED.policy.version,
        PARSED.content_hash,
        ACTIVATED,
        now=ACTIVATED,
    )


def record(rid: str, source: str, subject: str, type_: str, occurred: str) -> dict[str, object]:
    """A record line."""
    return {"id": rid, "source": source, "subject": subject, "type": type_, "occurred_at": occurred}


def child(rid: str, subject: str, parent: str) -> dict[str, object]:
    """``subject`` is recorded as a child of ``parent`` (since 2010)."""
    return {
        "kind": "relation",
        "id": rid,
        "source": "registry",
        "subject": subject,
        "relation": "child_of",
        "related_subject": parent,
        "valid_from": "2010-01-01",
    }


def ingest(ledger: Ledger, entries: list[dict[str, object]], at: str) -> None:
    """Ingest ``entries`` as received at ``at``; every one must be accepted."""
    result = ledger.ingest_entries(entries, rules=RULES, now=ts(at))
    assert result.accepted == len(entries), result


def engine_at(ledger: Ledger, at: str) -> Engine:
    """An engine whose clock says ``at``."""
    now = ts(at)
    return Engine.open(ledger, lambda: now)


@contextmanager
def sqlite_ledger(path: Path) -> Iterator[Ledger]:
    """A new SQLite ledger under the policy."""
    ledger = Ledger.open(str(path))
    ledger.upgrade()
    activate(ledger)
    try:
        yield ledger
    finally:
        ledger.close()


def with_debtor(ledger: Ledger, *others: dict[str, object]) -> Ledger:
    """``ledger`` under the policy (in force from 2025-01-01) with a debtor P1 (a debt of
    2025-02-01) and their child C1, and ``others``, all received 2025-02-03."""
    activate(ledger)
    ingest(
        ledger,
        [record("d1", "court", "P1", "debt", "2025-02-01"), child("c1", "C1", "P1"), *others],
        "2025-02-03",
    )
    return ledger
