"""Notices: an outbox of what each subject is told, written once per event.

``generate_notices`` looks at subjects as of ``now`` (what the ledger had received by then,
under the policy then in force: ``Engine.standing``) and writes a notice for each event it
finds that has none yet:

- ``measure_started``: a denial in force (the subject's own, or through a relation), keyed
  by subject, measure, whom and which relation it comes through, and when it started;
- ``measure_published``: a denial published but not yet in force (a publicity period,
  ``starts_after``), keyed by subject, measure and publication time;
- ``dispute_overdue``: a stage of due process (review or reconsideration) on the subject's
  own record that was not decided by its deadline, keyed by record, stage and deadline.

A notice's text is the explanation of the service (``Engine.explain``: which records from
which sources, the lists, until when, the single action that would end it sooner and the
dispute windows) and a few sentences built from the same facts (what it blocks, by display
name; where and until when to dispute). Notices are events: a later-learned entry never
rewrites one already written (an event whose key changes, e.g. a start moved by a
correction, gets a notice of its own). The unique ``event_key`` makes generation
idempotent, also between processes running at once.

A measure in force when a new policy version is activated starts again under it (``since``
is the version's start, as the engine computes it), so its subject is told again, once,
under that version. The HTTP service generates notices in
the background (``socialcredit.notifier``): after entries arrive, when a publicity period
ends or a dispute deadline passes, and when a policy version is activated.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from socialcredit.errors import NotFoundError
from socialcredit.explain_text import requests_text
from socialcredit.explain_words import words
from socialcredit.scoring.results import Measure
from socialcredit.timeutil import DAY, NEVER, to_iso

if TYPE_CHECKING:
    from socialcredit.engine import Engine
    from socialcredit.explain import Explanation
    from socialcredit.ledger import Ledger
    from socialcredit.policy.compiled import CompiledPolicy
    from socialcredit.scoring import RecordLine, Standing
    from socialcredit.scoring.results import Upcoming

KINDS = ("measure_started", "measure_published", "dispute_overdue")


@dataclass(frozen=True)
class Notice:
    """One notice to a subject (a row of the outbox)."""

    id: int
    subject: str
    kind: str
    event_at: int
    written_at: int
    policy_version: str
    policy_hash: str
    service: str | None
    measure: str | None
    reason_code: str | None
    records: list[str]
    until: int | None
    title: str
    body: str
    details: dict[str, Any]
    delivered_at: int | None = None
    read_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, ISO 8601 instants (``notices --json``)."""
        return {
            "id": self.id,
            "subject": self.subject,
            "kind": self.kind,
            "event_at": to_iso(self.event_at),
            "written_at": to_iso(self.written_at),
            "policy_version": self.policy_version,
            "policy_hash": self.policy_hash,
            "service": self.service,
            "measure": self.measure,
            "reason_code": self.reason_code,
            "records": self.records,
            "until": to_iso(self.until),
            "title": self.title,
            "body": self.body,
            "details": self.details,
            "delivered_at": to_iso(self.delivered_at),
            "read_at": to_iso(self.read_at),
        }


@dataclass(frozen=True)
class Event:
    """Something a subject must be told about, found in a standing (before it is written)."""

    key: str
    subject: str
    kind: str
    event_at: int
    service: str | None = None
    measure: str | None = None
    reason_code: str | None = None
    records: list[str] = field(default_factory=list)
    until: int | None = None
    line: RecordLine | None = None  # dispute_overdue: the record
    stage: str = ""  # dispute_overdue: review | reconsideration
    record_type: str = ""  # dispute_overdue: the type it was submitted with (its process's)
    source: Measure | Upcoming | None = None


@dataclass(frozen=True)
class NoticeRun:
    """What one ``generate_notices`` run did: the notices it wrote, how many events it found
    already told (written before, or by another process at the same time), and how many
    subjects it looked at."""

    written: list[Notice]
    already: int
    subjects: int
    at: int
    next_at: dict[str, int] = field(default_factory=dict)
    """For each subject looked at that has one: the next time after ``at`` an event may
    come without a new entry (a publicity period ends, a dispute's deadline passes)."""
    stopped: bool = False
    """Whether the run was asked to stop before it looked at every subject."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "at": to_iso(self.at),
            "subjects": self.subjects,
            "written": [n.to_json() for n in self.written],
            "already": self.already,
        }


def event_key(*parts: str) -> str:
    """The unique key of an event: a SHA-256 of its identifying parts."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _t(ts: int | None) -> str:
    return "" if ts is None else str(ts)


def events_of(policy: CompiledPolicy, st: Standing, now: int) -> list[Event]:
    """The events in ``st`` (a standing at ``now``) a subject must be told about."""
    out: list[Event] = []
    subject = st.subject
    for m in st.measures:
        if m.effect != "deny":
            continue
        key = event_key(
            "measure_started",
            subject,
            m.name,
            m.via_relation or "",
            m.via_subject or "",
            _t(m.since),
        )
        out.append(
            Event(
                key,
                subject,
                "measure_started",
                m.since if m.since is not None else now,
                m.service,
                m.name,
                m.reason_code,
                m.records,
                m.until,
                source=m,
            )
        )
    for u in st.upcoming:
        if u.effect != "deny":
            continue
        key = event_key("measure_published", subject, u.name, _t(u.published_at))
        out.append(
            Event(
                key,
                subject,
                "measure_published",
                u.published_at,
                u.service,
                u.name,
                u.reason_code,
                list(u.records),
                u.until,
                source=u,
            )
        )
    out.extend(_overdue_events(policy, st, now))
    return out


def _overdue_events(policy: CompiledPolicy, st: Standing, now: int) -> list[Event]:
    """Stages on the subject's own records whose deadline passed by ``now`` undecided (or
    decided only after it)."""
    from socialcredit.appeals import original_type
    from socialcredit.policy.compiled import later_one

    out = []
    for line in st.breakdown:
        if line.status == "annulled or rectified" or line.disputed_at is None:
            continue
        ptype = original_type(st, line.source, line.id) or line.type
        proc = policy.process_of(ptype)
        stages = [("review", line.disputed_at, proc.review_deadline, line.decided_at)]
        if line.reconsidered_at is not None and proc.reconsider_deadline is not None:
            stages.append(
                (
                    "reconsideration",
                    line.reconsidered_at,
                    proc.reconsider_deadline,
                    line.reconsideration_decided_at,
                )
            )
        for stage, filed, span, decided in stages:
            due = later_one(policy, filed, span)
            if due > now or (decided is not None and decided <= due):
                continue
            ref = f"{line.source}/{line.id}"
            key = event_key("dispute_overdue", st.subject, ref, stage, str(due))
            out.append(
                Event(
                    key,
                    st.subject,
                    "dispute_overdue",
                    due,
                    records=[ref],
                    line=line,
                    stage=stage,
                    record_type=ptype,
                )
            )
    return out


def next_event_at(policy: CompiledPolicy, st: Standing, now: int) -> int | None:
    """The first time after ``now`` at which ``st``'s subject may have an event although
    the ledger receives nothing new: a published measure starting (its publicity period
    over) or an undecided dispute stage reaching its deadline. None: no such time."""
    from socialcredit.appeals import original_type
    from socialcredit.policy.compiled import later_one

    times = [u.starts for u in st.upcoming if u.effect == "deny" and u.starts is not None]
    for line in st.breakdown:
        if line.status == "annulled or rectified" or line.disputed_at is None:
            continue
        proc = policy.process_of(original_type(st, line.source, line.id) or line.type)
        if line.decided_at is None:
            times.append(later_one(policy, line.disputed_at, proc.review_deadline))
        if (
            line.reconsidered_at is not None
            and proc.reconsider_deadline is not None
            and line.reconsideration_decided_at is None
        ):
            times.append(later_one(policy, line.reconsidered_at, proc.reconsider_deadline))
    later = [t for t in times if t > now]
    return min(later) if later else None


# ---------------------------------------------------------------------------- the words


def _joined(texts: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    texts = list(texts)
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]


def _dispute_sentences(
    policy: CompiledPolicy,
    subject: str,
    e: Explanation,
    records: Sequence[str],
    dispute_url: str | None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Where and until when the subject may dispute each record behind the notice that is
    its own and still open to dispute (the explanation's own windows); records about
    another subject are named as theirs to dispute."""
    from socialcredit.appeals import original_type
    from socialcredit.explain import can_still_contest
    from socialcredit.policy.compiled import later_one

    sentences, out = [], []
    by_record = {r["record"]: r for r in e.due_process.get("records", [])}
    st = e.standing
    lines = {f"{line.source}/{line.id}": line for line in st.breakdown}
    for ref in records:
        info = by_record.get(ref)
        owner = info["subject"] if info is not None else subject
        if owner != subject:
            sentences.append(f"Record {ref} is about {owner}: only {owner} may dispute it.")
            continue
        line = lines.get(ref)
        if line is None or line.disputed_at is not None or line.dispute_late_at is not None:
            continue
        if not can_still_contest(policy, line, e.decision.at):
            continue
        proc = policy.process_of(original_type(st, line.source, line.id) or line.type)
        end = later_one(policy, line.recorded_at, proc.appeal_window)
        source, _, rid = ref.partition("/")
        where = f" at {dispute_url}" if dispute_url else ""
        sentences.append(
            f"To dispute record {ref} (id {rid} from source {source}), file a dispute{where} "
            f"{window_end_text(policy, end)}."
        )
        out.append(
            {
                "record": ref,
                "until": policy.date_of(end),
                "closes_at": to_iso(end),
                "url": dispute_url,
            }
        )
    return sentences, out


def window_end_text(policy: CompiledPolicy, end: int) -> str:
    """When a window that closes at the instant ``end`` (a dispute received then still
    counts) must be used, in the policy's local time: ``at any time`` when it never closes,
    ``before 2025-03-05`` when it closes at
    local midnight (the date the explanations name), else ``by 2025-03-05 14:30 (UTC+08:00)``
    (a date alone would suggest the whole day)."""
    if end >= NEVER:  # ``appeal_window: any time``
        return "at any time"
    offset = policy.calendar.offset
    if (end + offset) % DAY == 0:
        return f"before {policy.date_of(end)}"
    local = to_iso(end + offset) or ""
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"by {local[:10]} {local[11:16]} (UTC{sign}{hours:02d}:{minutes:02d})"


def _measure_notice(
    policy: CompiledPolicy,
    ev: Event,
    e: Explanation,
    dispute_url: str | None,
) -> tuple[str, str, dict[str, Any]]:
    """Title, body and details of a measure_started / measure_published notice."""
    assert ev.service is not None
    src = ev.source
    assert src is not None
    covers = list(src.covers) or [ev.service]
    blocks = [policy.service_name(s) for s in covers]
    action = policy.service_action(ev.service)
    when = requests_text(
        policy,
        ev.service,
        [c.model_dump(by_alias=True, exclude_none=True) for c in src.applies_to]
        if isinstance(src, Measure)
        else [],
    )
    via = src.via_subject if isinstance(src, Measure) else None
    relation = src.via_relation if isinstance(src, Measure) else None
    who = f": you are recorded as {words(relation or '')} {via}" if via else ""
    if ev.kind == "measure_started":
        since = policy.date_of(ev.event_at) or ""
        if isinstance(src, Measure) and src.since_policy_start:
            since += f", when policy {policy.version_label} came into force"
        if e.decision.exemptions:
            title = (
                f"Since {since}, a measure (reason code {ev.reason_code}) denies you "
                f"{policy.service_name(ev.service)}{when}{who}; an exemption lets you "
                f"{action} for now."
            )
        else:
            title = f"Since {since}, you cannot {action}{when} (reason code {ev.reason_code}){who}."
        verb = "blocks"
    else:
        title = (
            f"A measure (reason code {ev.reason_code}) was published on "
            f"{policy.date_of(ev.event_at)}: nothing is in force yet."
        )
        verb = "would block"
    blocks_sentence = f"The measure ({ev.reason_code}) {verb} {_joined(blocks)}{when}."
    if ev.kind == "measure_started":
        # what it blocks now: an exemption may allow some of the services it covers
        from socialcredit.enforcement import NOT_GRANTED, decide

        answers = {s: decide(e.standing, s, None) for s in covers}
        allowed = [s for s, d in answers.items() if d.decision != "deny"]
        # a perk no benefit gives is denied as NOT-GRANTED: not this measure's doing
        blocked = [s for s, d in answers.items() if set(d.reasons) - {NOT_GRANTED}]
        blocks = [policy.service_name(s) for s in blocked]
        blocks_sentence = " ".join(
            ([f"The measure ({ev.reason_code}) blocks {_joined(blocks)}{when}."] if blocks else [])
            + [f"An exemption lets you {policy.service_action(s)} for now." for s in allowed]
        )
    disputes, dispute_json = _dispute_sentences(policy, ev.subject, e, ev.records, dispute_url)
    body = "\n".join([blocks_sentence, e.text, *disputes])
    best = e.best_action
    details = {
        "measure": ev.measure,
        "service": ev.service,
        "reason_code": ev.reason_code,
        "blocks": blocks,
        "covers": covers,
        "via_subject": via,
        "via_relation": relation,
        "since": policy.date_of(ev.event_at) if ev.kind == "measure_started" else None,
        "published_at": policy.date_of(ev.event_at) if ev.kind == "measure_published" else None,
        "starts": policy.date_of(getattr(src, "starts", None)),
        "until": policy.date_of(ev.until),
        "records": _records_json(e, ev.records),
        "sooner": best.to_json() if best is not None else None,
        "disputes": dispute_json,
        "explanation": e.to_json()["explanation"],
    }
    return title, body, details


def _records_json(e: Explanation, refs: Iterable[str]) -> list[dict[str, Any]]:
    lines = {f"{line.source}/{line.id}": line for line in e.standing.breakdown}
    owners = {r["record"]: r["subject"] for r in e.due_process.get("records", [])}
    out = []
    for ref in refs:
        source, _, rid = ref.partition("/")
        line = lines.get(ref)
        out.append(
            {
                "record": ref,
                "source": source,
                "id": rid,
                "subject": owners.get(ref, e.standing.subject),
                "type": line.type if line is not None else None,
            }
        )
    return out


def _overdue_notice(policy: CompiledPolicy, ev: Event) -> tuple[str, str, dict[str, Any]]:
    """Title, body and details of a dispute_overdue notice."""
    from socialcredit.explain_process import overdue_words
    from socialcredit.explain_text import record_text

    line = ev.line
    assert line is not None
    proc = policy.process_of(ev.record_type)
    ref = ev.records[0]
    filed = line.disputed_at if ev.stage == "review" else line.reconsidered_at
    decided = line.decided_at if ev.stage == "review" else line.reconsideration_decided_at
    what = "dispute" if ev.stage == "review" else "reconsideration"
    due = policy.date_of(ev.event_at)
    title = f"Your {what} of record {ref} was not decided by {due}."
    late = (
        f" and was decided only on {policy.date_of(decided)}"
        if decided is not None
        else " and has not been"
    )
    sentences = [
        f"Record {record_text(policy, line)} has been under {what} since "
        f"{policy.date_of(filed)}; it was to be decided by {due}{late}: under the policy "
        f"{overdue_words(proc.on_overdue)}.",
    ]
    if proc.on_overdue == "delete":
        sentences.append(f"It does not count from {due} on.")
    details = {
        "record": ref,
        "record_type": ev.record_type,
        "stage": ev.stage,
        "filed_at": policy.date_of(filed),
        "due": due,
        "decided_at": policy.date_of(decided),
        "on_overdue": proc.on_overdue,
        "status": line.status,
    }
    return title, " ".join(sentences), details


# ---------------------------------------------------------------------------- generation


def _present(engine: Engine, now: int) -> Engine:
    """``engine`` with its clock at ``now``: explanations then speak of ``now`` as the present
    (the compiled policies are shared)."""
    twin = copy.copy(engine)
    twin.clock = lambda: now
    return twin


def candidates(engine: Engine, now: int) -> list[str]:
    """Everyone who may have an event at ``now``: a denial in force or published (bulk
    evaluation), or a record under dispute. Sorted."""
    import numpy as np

    from socialcredit.appeals import disputed_subjects

    bulk = engine.recompute(now)
    policy = bulk.policy
    deny = [s.index for s in policy.sanctions if s.effect == "deny"]
    found: set[str] = set()
    if deny:
        rows = np.asarray(bulk.measures)[deny].any(axis=0)
        if bulk.triggers is not None:
            rows |= np.asarray(bulk.triggers)[deny].any(axis=0)
        found.update(bulk.subjects[i] for i in np.flatnonzero(rows).tolist())
    found.update(disputed_subjects(engine.ledger, now))
    return sorted(found)


def generate_notices(
    engine: Engine,
    subjects: Sequence[str] | None,
    now: int,
    *,
    dispute_url: str | Callable[[str], str] | None = None,
    stop: Callable[[], bool] | None = None,
) -> NoticeRun:
    """Write a notice for every event at ``now`` of ``subjects`` (None: everyone) that has
    none yet, and return what was written. ``stop``: asked before each subject; when it
    answers True the run ends there (``NoticeRun.stopped``; what was written stays written,
    and the rest is found again by the next run).

    Events (see the module's docstring) are found in ``Engine.standing(subject, now)``: what
    the ledger had received by ``now``, under the policy in force then. Each is written once
    whatever runs (a unique key per event: a second run, or another process at the same
    time, finds it and writes nothing). ``dispute_url``: where a subject files a dispute
    (the HTTP service passes its own, or a function of the subject); None: the notice says
    when, not where. An unknown subject raises ``UnknownSubjectError``. The run's
    ``next_at`` says when each subject may next have an event without a new entry.
    """
    from socialcredit.engine import UnknownSubjectError

    engine = _present(engine, now)
    ledger = engine.ledger
    if subjects is None:
        names = candidates(engine, now)
    else:
        names = list(dict.fromkeys(subjects))
        for s in names:
            if not ledger.has_subject(s):
                raise UnknownSubjectError(f"the ledger has no entry about subject {s!r}")
    policy = engine.policy_at(now)
    written: list[Notice] = []
    already = 0
    next_at: dict[str, int] = {}
    for looked, subject in enumerate(names):
        if stop is not None and stop():
            return NoticeRun(written, already, looked, now, next_at, stopped=True)
        st = engine.standing(subject, now)
        upcoming = next_event_at(policy, st, now)
        if upcoming is not None:
            next_at[subject] = upcoming
        events = events_of(policy, st, now)
        if not events:
            continue
        known = _known_keys(ledger, subject)
        new = [ev for ev in events if ev.key not in known]
        already += len(events) - len(new)
        url = dispute_url(subject) if callable(dispute_url) else dispute_url
        explained: dict[str, Explanation] = {}
        for ev in new:
            if ev.kind == "dispute_overdue":
                title, body, details = _overdue_notice(policy, ev)
            else:
                assert ev.service is not None
                e = explained.get(ev.service)
                if e is None:
                    e = explained[ev.service] = engine.explain(subject, ev.service)
                title, body, details = _measure_notice(policy, ev, e, url)
            notice = _insert(ledger, ev, now, st, title, body, details)
            if notice is None:
                already += 1
            else:
                written.append(notice)
    return NoticeRun(written, already, len(names), now, next_at)


# ---------------------------------------------------------------------------- storage


def _known_keys(ledger: Ledger, subject: str) -> set[str]:
    from sqlalchemy import select

    from socialcredit.ledger.schema import notices

    ledger._check()
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(notices.c.event_key).where(notices.c.subject == subject))
        return {str(r[0]) for r in rows}


def _insert(
    ledger: Ledger,
    ev: Event,
    now: int,
    st: Standing,
    title: str,
    body: str,
    details: dict[str, Any],
) -> Notice | None:
    """Store one notice unless its event has one already (None then: another run wrote it)."""
    from socialcredit.ledger.schema import notices

    if ledger.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    values = {
        "event_key": ev.key,
        "subject": ev.subject,
        "kind": ev.kind,
        "event_at": ev.event_at,
        "written_at": now,
        "policy_version": st.policy_version,
        "policy_hash": st.policy_hash,
        "service": ev.service,
        "measure": ev.measure,
        "reason_code": ev.reason_code,
        "records": orjson.dumps(ev.records).decode(),
        "until": ev.until,
        "title": title,
        "body": body,
        "details": orjson.dumps(details).decode(),
    }
    stmt = (
        insert(notices)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(notices.c.id)
    )
    with ledger.engine.begin() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    return _notice({**values, "id": int(row[0]), "delivered_at": None, "read_at": None})


def _notice(row: Any) -> Notice:
    return Notice(
        id=int(row["id"]),
        subject=str(row["subject"]),
        kind=str(row["kind"]),
        event_at=int(row["event_at"]),
        written_at=int(row["written_at"]),
        policy_version=str(row["policy_version"]),
        policy_hash=str(row["policy_hash"]),
        service=row["service"],
        measure=row["measure"],
        reason_code=row["reason_code"],
        records=list(orjson.loads(row["records"])),
        until=None if row["until"] is None else int(row["until"]),
        title=str(row["title"]),
        body=str(row["body"]),
        details=dict(orjson.loads(row["details"])),
        delivered_at=None if row["delivered_at"] is None else int(row["delivered_at"]),
        read_at=None if row["read_at"] is None else int(row["read_at"]),
    )


def notices_for(
    ledger: Ledger, subject: str, *, unread_only: bool = False, after_id: int = 0
) -> list[Notice]:
    """The notices written to ``subject``, oldest first (``unread_only``: those not marked
    read; ``after_id``: only those with a larger id, for paging)."""
    from sqlalchemy import select

    from socialcredit.ledger.schema import notices

    ledger._check()
    q = select(notices).where(notices.c.subject == subject, notices.c.id > after_id)
    if unread_only:
        q = q.where(notices.c.read_at.is_(None))
    with ledger.engine.connect() as conn:
        return [_notice(r._mapping) for r in conn.execute(q.order_by(notices.c.id))]


def _mark(ledger: Ledger, column: str, subject: str, ids: Iterable[int], now: int) -> int:
    from sqlalchemy import update

    from socialcredit.ledger.schema import notices

    wanted = sorted(set(ids))
    if not wanted:
        return 0
    ledger._check()
    col = notices.c[column]
    with ledger.engine.begin() as conn:
        found = conn.execute(
            notices.select()
            .with_only_columns(notices.c.id)
            .where(notices.c.subject == subject, notices.c.id.in_(wanted))
        ).fetchall()
        missing = set(wanted) - {int(r[0]) for r in found}
        if missing:
            raise NotFoundError(f"{subject!r} has no notice {min(missing)}; nothing was marked")
        result = conn.execute(
            update(notices)
            .where(notices.c.subject == subject, notices.c.id.in_(wanted), col.is_(None))
            .values({column: now})
        )
        return int(result.rowcount or 0)


def mark_read(ledger: Ledger, subject: str, ids: Iterable[int], now: int) -> int:
    """Mark ``subject``'s notices ``ids`` read at ``now`` (those already read keep their
    time); returns how many changed. A notice that is not the subject's raises
    ``NotFoundError`` and nothing is marked."""
    return _mark(ledger, "read_at", subject, ids, now)


def mark_delivered(ledger: Ledger, subject: str, ids: Iterable[int], now: int) -> int:
    """Mark ``subject``'s notices ``ids`` delivered at ``now`` (as ``mark_read``)."""
    return _mark(ledger, "delivered_at", subject, ids, now)


__all__ = [
    "KINDS",
    "Notice",
    "NoticeRun",
    "events_of",
    "generate_notices",
    "mark_delivered",
    "mark_read",
    "notices_for",
]
