"""Appeals: a subject disputes its own record, a reviewer decides, deadlines run on a clock.

Every step is a ledger entry of the kinds the core already scores (``dispute``, ``uphold``,
``rectify``, ``annul``: docs/policy-reference.md, "Stages in the ledger"), so the effect of a
dispute, of a decision and of a missed deadline is exactly what ``Engine.standing`` computes;
this module adds who may do what, when, and a clear refusal (with nothing written) otherwise.

Entry conventions (documented in docs/appeals.md):

- a dispute filed by the subject has source ``subject`` and id ``review:SOURCE/ID`` (the
  review) or ``reconsideration:SOURCE/ID`` (the second stage), where SOURCE/ID is the
  disputed record; one id per stage makes a retried filing a duplicate, never a second
  dispute;
- a reviewer's decision has source ``review`` and id ``STAGE-decision:SOURCE/ID`` (the
  ``uphold`` or ``annul``), plus ``STAGE-rectification:SOURCE/ID`` for the ``rectify`` of a
  rectifying decision; one id per stage means two reviewers deciding at once store one
  decision (the other is refused as a conflict). Its reason reads
  ``decided by REVIEWER: REASON``.

An id longer than the ledger's 500 characters is replaced by ``STAGE:`` and a SHA-256 of it.
Every time comes from the ``now`` the caller passes (the injected clock): the entry is
received then, and the windows and deadlines are judged then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from socialcredit.columns import KIND_CODES, KIND_NAMES
from socialcredit.errors import ConflictError, NotFoundError, SocialCreditError
from socialcredit.policy.compiled import CompiledPolicy, later_one
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from socialcredit.engine import Engine
    from socialcredit.ledger import Ledger
    from socialcredit.scoring import RecordLine, Standing

SUBJECT_SOURCE = "subject"  # the source of a dispute a subject files on its own record
REVIEW_SOURCE = "review"  # the source of a reviewer's decision
STAGES = ("review", "reconsideration")
OUTCOMES = ("uphold", "rectify", "annul")
MAX_TEXT = 500  # the ledger's limit on a text field


class DisputeError(ConflictError):
    """A dispute or decision that cannot be made now (a window closed, a stage already open
    or decided); nothing was written."""


class DisputeInputError(SocialCreditError):
    """A dispute or decision request that is malformed (a blank reason, an unknown outcome)."""


@dataclass(frozen=True)
class Dispute:
    """An open stage of due process on one record, as of ``at``.

    ``stage``: ``review`` (the first dispute) or ``reconsideration`` (applied for after the
    review upheld the record). ``filed_at``: when the ledger received the dispute; ``due``:
    the instant by which it must be decided (``due_date``: the date said to people, in the
    policy's local time); ``overdue``: ``due`` has passed undecided, and ``on_overdue`` says
    what that does (``delete``: the record stopped counting at ``due``). ``entry``: the
    dispute entry (source/id) and ``reason`` its reason.
    """

    subject: str
    target_source: str
    target_id: str
    record_type: str
    stage: str
    filed_at: int
    due: int
    due_date: str
    overdue: bool
    on_overdue: str
    counts_while_disputed: bool
    entry: str
    reason: str
    policy_version: str
    at: int
    # the second stage the process offers after an upheld review: its periods in words
    reconsideration: dict[str, str] | None = None

    @property
    def record(self) -> str:
        """The disputed record as people see it named: ``source/id``."""
        return f"{self.target_source}/{self.target_id}"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: ISO 8601 instants, the due date as said to people."""
        return {
            "subject": self.subject,
            "record": self.record,
            "target_source": self.target_source,
            "target_id": self.target_id,
            "record_type": self.record_type,
            "stage": self.stage,
            "filed_at": to_iso(self.filed_at),
            "due": to_iso(self.due),
            "due_date": self.due_date,
            "overdue": self.overdue,
            "on_overdue": self.on_overdue,
            "counts_while_disputed": self.counts_while_disputed,
            "entry": self.entry,
            "reason": self.reason,
            "policy_version": self.policy_version,
            "at": to_iso(self.at),
            "reconsideration": self.reconsideration,
        }


@dataclass(frozen=True)
class DecisionResult:
    """What ``decide`` wrote: the entries (source/id, kind) and the stage it closed."""

    dispute: Dispute
    outcome: str
    reviewer: str
    reason: str
    entries: list[tuple[str, str]]
    at: int

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "dispute": self.dispute.to_json(),
            "outcome": self.outcome,
            "reviewer": self.reviewer,
            "reason": self.reason,
            "entries": [{"entry": e, "kind": k} for e, k in self.entries],
            "at": to_iso(self.at),
        }


# ---------------------------------------------------------------------------- reading


def _rows(ledger: Ledger, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """The rows of ``sql`` (``{p}`` marks each parameter) over what the ledger holds."""
    ledger._check()
    with ledger.reading() as conn:
        cursor = conn.cursor()
        cursor.execute(sql.format(p="?" if ledger.is_sqlite else "%s"), params)
        return list(cursor.fetchall())


def _find_entry(
    ledger: Ledger, source: str, entry_id: str, now: int
) -> tuple[int, str, int] | None:
    """(kind code, subject name, seq) of the entry ``source``/``entry_id`` the ledger had
    received by ``now``; None when it had not."""
    rows = _rows(
        ledger,
        "SELECT e.kind, s.name, e.seq FROM entries e JOIN subjects s ON s.id = e.subject_id "
        "WHERE e.source = {p} AND e.entry_id = {p} AND e.recorded_at <= {p}",
        (source, entry_id, now),
    )
    return None if not rows else (int(rows[0][0]), str(rows[0][1]), int(rows[0][2]))


def _dispute_entries(ledger: Ledger, seq: int, now: int) -> list[tuple[str, str, int, str]]:
    """The dispute entries of record ``seq`` received by ``now``: (source, id, recorded_at,
    reason), in the order the ledger received them."""
    rows = _rows(
        ledger,
        "SELECT source, entry_id, recorded_at, details FROM entries "
        "WHERE target_seq = {p} AND kind = {p} AND recorded_at <= {p} ORDER BY recorded_at, seq",
        (seq, KIND_CODES["dispute"], now),
    )
    out = []
    for source, entry_id, recorded_at, details in rows:
        reason = orjson.loads(details).get("reason", "") if details else ""
        out.append((str(source), str(entry_id), int(recorded_at), str(reason)))
    return out


def disputed_subjects(ledger: Ledger, now: int) -> list[str]:
    """Every subject with a record that a dispute received by ``now`` targets, sorted."""
    rows = _rows(
        ledger,
        "SELECT DISTINCT s.name FROM entries d JOIN entries r ON r.seq = d.target_seq "
        "JOIN subjects s ON s.id = r.subject_id WHERE d.kind = {p} AND d.recorded_at <= {p}",
        (KIND_CODES["dispute"], now),
    )
    return sorted(str(r[0]) for r in rows)


def current_line(st: Standing, source: str, entry_id: str) -> RecordLine | None:
    """The record's version in force in ``st`` (None: annulled, or unknown then)."""
    found = None
    for line in st.breakdown:
        if line.source == source and line.id == entry_id and line.status != "annulled or rectified":
            found = line
    return found


def original_type(st: Standing, source: str, entry_id: str) -> str | None:
    """The type the record was first submitted with: its due process is that type's."""
    for line in st.breakdown:
        if line.source == source and line.id == entry_id:
            return line.type
    return None


def open_stage(
    policy: CompiledPolicy, line: RecordLine, process_type: str
) -> tuple[str, int, int] | None:
    """The stage of due process open on ``line``: (stage, filed at, due), or None."""
    proc = policy.process_of(process_type)
    if line.disputed_at is not None and line.decided_at is None:
        return "review", line.disputed_at, later_one(policy, line.disputed_at, proc.review_deadline)
    if (
        line.reconsidered_at is not None
        and line.reconsideration_decided_at is None
        and proc.reconsider_deadline is not None
    ):
        return (
            "reconsideration",
            line.reconsidered_at,
            later_one(policy, line.reconsidered_at, proc.reconsider_deadline),
        )
    return None


def _dispute(
    engine: Engine,
    ledger: Ledger,
    st: Standing,
    line: RecordLine,
    seq: int,
    now: int,
) -> Dispute | None:
    """The open stage on ``line`` as a ``Dispute`` (None: no stage is open)."""
    policy = engine.policy_at(now)
    ptype = original_type(st, line.source, line.id) or line.type
    stage = open_stage(policy, line, ptype)
    if stage is None:
        return None
    name, filed, due = stage
    proc = policy.process_of(ptype)
    entry, reason = "", ""
    for source, entry_id, recorded_at, why in _dispute_entries(ledger, seq, now):
        if recorded_at == filed:
            entry, reason = f"{source}/{entry_id}", why
            break
    span = proc.review_deadline if name == "review" else proc.reconsider_deadline
    assert span is not None
    recon = None
    if proc.reconsider_within is not None and proc.reconsider_deadline is not None:
        recon = {
            "file_within": policy.span_text(proc.reconsider_within),
            "decide_within": policy.span_text(proc.reconsider_deadline),
        }
    return Dispute(
        subject=st.subject,
        target_source=line.source,
        target_id=line.id,
        record_type=ptype,
        stage=name,
        filed_at=filed,
        due=due,
        due_date=policy.deadline_date(filed, span),
        overdue=due <= now,
        on_overdue=proc.on_overdue,
        counts_while_disputed=proc.counts_while_disputed,
        entry=entry,
        reason=reason,
        policy_version=policy.version_label,
        at=now,
        reconsideration=recon,
    )


def review_queue(engine: Engine, now: int) -> list[Dispute]:
    """Every dispute open at ``now`` (a review or a reconsideration not yet decided), under
    the policy in force then, ordered by deadline (overdue ones first), then subject and
    record. A record annulled meanwhile has nothing open."""
    ledger = engine.ledger
    out = []
    for subject in disputed_subjects(ledger, now):
        st = engine.standing(subject, now)
        for line in st.breakdown:
            if line.status == "annulled or rectified":
                continue
            if line.disputed_at is None and line.reconsidered_at is None:
                continue
            found = _find_entry(ledger, line.source, line.id, now)
            if found is None:
                continue
            d = _dispute(engine, ledger, st, line, found[2], now)
            if d is not None:
                out.append(d)
    out.sort(key=lambda d: (d.due, d.subject, d.target_source, d.target_id))
    return out


# ---------------------------------------------------------------------------- writing


def entry_id(prefix: str, target_source: str, target_id: str) -> str:
    """``PREFIX:SOURCE/ID``, or ``PREFIX:`` and its SHA-256 when that is longer than the
    ledger's limit on a text field."""
    text = f"{prefix}:{target_source}/{target_id}"
    if len(text) <= MAX_TEXT:
        return text
    return f"{prefix}:{hashlib.sha256(text.encode()).hexdigest()}"


def _text(value: str, what: str, room: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DisputeInputError(f"{what} is required: say why, in words")
    if len(value) > room:
        raise DisputeInputError(f"{what} is {len(value)} characters long; at most {room} fit")
    if "\x00" in value:
        raise DisputeInputError(f"{what} holds a NUL character (\\u0000), which cannot be stored")
    return value.strip()


def _engine_for(ledger: Ledger, now: int, engine: Engine | None) -> Engine:
    from socialcredit.engine import Engine

    return engine if engine is not None else Engine.open(ledger, lambda: now)


def _subject_record(
    engine: Engine, subject: str | None, target_source: str, target_id: str, now: int
) -> tuple[Standing, RecordLine, int]:
    """The standing of the record's subject at ``now``, the record's current version and its
    seq; ``subject`` given: the record must be about that subject (the same message for a
    record that does not exist and one about somebody else: nothing leaks)."""
    ledger = engine.ledger
    ref = f"{target_source}/{target_id}"
    found = _find_entry(ledger, target_source, target_id, now)
    if found is None or (subject is not None and found[1] != subject):
        whose = f"{subject!r} has no" if subject is not None else "the ledger has no"
        raise NotFoundError(f"{whose} record {ref} (as of {to_iso(now)})")
    kind, owner, seq = found
    if kind != KIND_CODES["record"]:
        raise DisputeError(
            f"{ref} is {_article(KIND_NAMES.get(kind, 'other'))} entry, not a record; only "
            "records can be disputed and decided"
        )
    st = engine.standing(owner, now)
    line = current_line(st, target_source, target_id)
    if line is None:
        raise DisputeError(f"record {ref} was annulled: there is nothing to dispute or decide")
    return st, line, seq


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _ingest(
    engine: Engine, entries: list[dict[str, Any]], now: int, what: str
) -> tuple[int, int, list[str]]:
    """Write ``entries`` as received at ``now``, under the policy's ingestion rules;
    (accepted, duplicates, messages of anything refused)."""
    from socialcredit.ledger.rules import IngestRules

    policy = engine.policy_at(now)
    result = engine.ledger.ingest_entries(
        entries, origin=what, rules=IngestRules.from_policy(policy.policy), now=now
    )
    refused = [p.message for p in result.problems] + [p.message for p in result.conflict_lines]
    return result.accepted, result.duplicates, refused


def _retried(
    engine: Engine, st: Standing, line: RecordLine, seq: int, now: int, stage: str, reason: str
) -> Dispute | None:
    """The open ``stage`` on ``line`` when it is the subject's own filing with ``reason`` (a
    retry of the same request: answered with what was filed, nothing written again)."""
    d = _dispute(engine, engine.ledger, st, line, seq, now)
    mine = f"{SUBJECT_SOURCE}/{entry_id(stage, line.source, line.id)}"
    if d is not None and d.stage == stage and d.entry == mine and d.reason == reason:
        return d
    return None


def file_dispute(
    ledger: Ledger,
    subject: str,
    target_source: str,
    target_id: str,
    reason: str,
    now: int,
    *,
    engine: Engine | None = None,
) -> Dispute:
    """``subject`` disputes its own record ``target_source``/``target_id`` at ``now``, for
    ``reason``: a ``dispute`` entry (source ``subject``), received at ``now``.

    It is the review if the record's appeal window (from when the ledger received the
    record, under its due process) is still open and it was never disputed; the
    reconsideration if the review upheld it, the process has one, and its filing period is
    open. Anything else raises, with nothing written: a record that is not the subject's
    (``NotFoundError``, the same as one that does not exist), annulled, already under
    dispute, or whose window or filing period closed (``DisputeError`` saying when); a
    blank or too long reason (``DisputeInputError``). Filing the same dispute again (a
    retry) returns it without writing a second one.
    """
    reason = _text(reason, "the reason for the dispute")
    engine = _engine_for(ledger, now, engine)
    policy = engine.policy_at(now)
    st, line, seq = _subject_record(engine, subject, target_source, target_id, now)
    ref = f"{target_source}/{target_id}"
    ptype = original_type(st, target_source, target_id) or line.type
    proc = policy.process_of(ptype)
    if line.disputed_at is None:
        closes = later_one(policy, line.recorded_at, proc.appeal_window)
        if line.dispute_late_at is not None or now > closes:
            raise DisputeError(
                f"the window to dispute record {ref} closed on {policy.date_of(closes)} "
                f"({policy.span_text(proc.appeal_window)} after the ledger received it on "
                f"{policy.date_of(line.recorded_at)}); a dispute now would have no effect, "
                "so none was filed"
            )
        stage = "review"
    elif line.decided_at is None:
        due = later_one(policy, line.disputed_at, proc.review_deadline)
        again = _retried(engine, st, line, seq, now, "review", reason)
        if again is not None:
            return again
        raise DisputeError(
            f"record {ref} is already disputed (since {policy.date_of(line.disputed_at)}); the "
            f"review must decide it by {policy.date_of(due)}"
        )
    elif line.reconsidered_at is not None:
        again = _retried(engine, st, line, seq, now, "reconsideration", reason)
        if again is not None:
            return again
        raise DisputeError(
            f"reconsideration of record {ref} was already applied for on "
            f"{policy.date_of(line.reconsidered_at)}; there is no further stage"
        )
    elif proc.reconsider_within is None:
        raise DisputeError(
            f"the review upheld record {ref} on {policy.date_of(line.decided_at)}, and its due "
            "process has no reconsideration: there is no further stage to apply for"
        )
    else:
        ends = later_one(policy, line.decided_at, proc.reconsider_within)
        late = line.dispute_late_at is not None and line.dispute_late_at >= line.decided_at
        if late or now > ends:
            raise DisputeError(
                f"the period to apply for reconsideration of record {ref} ended on "
                f"{policy.date_of(ends)} ({policy.span_text(proc.reconsider_within)} after the "
                f"review upheld it on {policy.date_of(line.decided_at)}); none was filed"
            )
        stage = "reconsideration"
    entry = {
        "kind": "dispute",
        "id": entry_id(stage, target_source, target_id),
        "source": SUBJECT_SOURCE,
        "target_source": target_source,
        "target_id": target_id,
        "occurred_at": now,
        "reason": reason,
    }
    _, _, refused = _ingest(engine, [entry], now, "<dispute>")
    if refused:
        raise DisputeError(f"the dispute of record {ref} was not stored: {refused[0]}")
    st = engine.standing(subject, now)
    line2 = current_line(st, target_source, target_id)
    filed = None if line2 is None else _dispute(engine, ledger, st, line2, seq, now)
    if filed is None or filed.stage != stage:  # pragma: no cover - a race with a decision
        raise DisputeError(f"record {ref} was decided while the dispute was being filed")
    return filed


def decide(
    ledger: Ledger,
    reviewer: str,
    dispute: Dispute | tuple[str, str],
    outcome: str,
    reason: str,
    now: int,
    *,
    engine: Engine | None = None,
    corrected_type: str | None = None,
    corrected_occurred_at: int | None = None,
    amount: float | None = None,
) -> DecisionResult:
    """``reviewer`` decides the open dispute of a record (a ``Dispute`` from
    ``review_queue``, or the record's (source, id)) at ``now``, with a written ``reason``.

    ``outcome``: ``uphold`` (the record stands: an ``uphold`` entry), ``annul`` (the record
    was wrong: an ``annul`` entry, from ``now`` on it never counts again), or ``rectify``
    (the record was partly wrong: a ``rectify`` entry with ``corrected_type``,
    ``corrected_occurred_at`` and/or ``amount``, and an ``uphold`` of the corrected record,
    which closes the stage). Entries have source ``review`` and the reason
    ``decided by REVIEWER: REASON``.

    Raises with nothing written: no dispute open on the record (``DisputeError``); a blank
    reviewer or reason, an unknown outcome, a rectification without a correction
    (``DisputeInputError``); an ``uphold``/``rectify`` after a missed deadline whose
    process deletes the record (it would have no effect: the record stopped counting at the
    deadline; an ``annul`` is still accepted).
    """
    if outcome not in OUTCOMES:
        raise DisputeInputError(
            f"unknown outcome {outcome!r}; a dispute is decided with one of {', '.join(OUTCOMES)}"
        )
    reviewer = _text(reviewer, "the reviewer's name", 200)
    reason = _text(reason, "the reason for the decision", MAX_TEXT - len(reviewer) - 20)
    written_reason = f"decided by {reviewer}: {reason}"
    if outcome == "rectify" and (
        corrected_type is None and corrected_occurred_at is None and amount is None
    ):
        raise DisputeInputError(
            "a rectification needs the correction: a corrected type, occurred_at or amount"
        )
    if outcome != "rectify" and not (
        corrected_type is None and corrected_occurred_at is None and amount is None
    ):
        raise DisputeInputError(f"a correction is given with outcome {outcome!r}; use rectify")
    engine = _engine_for(ledger, now, engine)
    engine.policy_at(now)  # no policy in force then: said before anything is read
    source, target = (
        (dispute.target_source, dispute.target_id) if isinstance(dispute, Dispute) else dispute
    )
    st, line, seq = _subject_record(engine, None, source, target, now)
    ref = f"{source}/{target}"
    open_ = _dispute(engine, ledger, st, line, seq, now)
    if open_ is None:
        raise DisputeError(f"record {ref} has no dispute open to decide (as of {to_iso(now)})")
    if isinstance(dispute, Dispute) and dispute.stage != open_.stage:
        raise DisputeError(
            f"the {dispute.stage} of record {ref} is no longer open; its {open_.stage} is"
        )
    if open_.overdue and open_.on_overdue == "delete" and outcome != "annul":
        raise DisputeError(
            f"the {open_.stage} of record {ref} was due by {open_.due_date} and was not decided: "
            "under the policy the record was deleted then, so an uphold now has no effect; "
            "nothing was written"
        )
    base = {
        "source": REVIEW_SOURCE,
        "target_source": source,
        "target_id": target,
        "occurred_at": now,
        "reason": written_reason,
    }
    entries: list[dict[str, Any]] = []
    if outcome == "rectify":
        fix: dict[str, Any] = {
            **base,
            "kind": "rectify",
            "id": entry_id(f"{open_.stage}-rectification", source, target),
        }
        if corrected_type is not None:
            fix["type"] = corrected_type
        if corrected_occurred_at is not None:
            fix["corrected_occurred_at"] = corrected_occurred_at
        if amount is not None:
            fix["amount"] = amount
        entries.append(fix)
    entries.append(
        {
            **base,
            "kind": "annul" if outcome == "annul" else "uphold",
            "id": entry_id(f"{open_.stage}-decision", source, target),
        }
    )
    _, _, refused = _ingest(engine, entries, now, "<decision>")
    if refused:
        raise DisputeError(f"the decision on record {ref} was not stored: {refused[0]}")
    return DecisionResult(
        open_,
        outcome,
        reviewer,
        reason,
        [(f"{REVIEW_SOURCE}/{e['id']}", str(e["kind"])) for e in entries],
        now,
    )


def queue_json(queue: Sequence[Dispute]) -> list[dict[str, Any]]:
    """``review_queue`` as JSON (the ``disputes`` of ``disputes list --json``)."""
    return [d.to_json() for d in queue]


__all__ = [
    "OUTCOMES",
    "REVIEW_SOURCE",
    "STAGES",
    "SUBJECT_SOURCE",
    "DecisionResult",
    "Dispute",
    "DisputeError",
    "DisputeInputError",
    "decide",
    "disputed_subjects",
    "file_dispute",
    "review_queue",
]
