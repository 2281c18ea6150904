"""Explanations: why a subject is allowed or denied a service, until when, and what would end it.

Everything here is derived from a ``Standing`` and the same pure scoring functions: the
counterfactuals re-score the subject with sets of actions applied (records resolved,
disputed or annulled on appeal) and report the smallest set that opens the service sooner.
The plain text (``explain_text``) is for the person: every sentence is true of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from socialcredit.columns import SUBJECT_KINDS
from socialcredit.enforcement import (
    Decision,
    applies,
    decide,
    denials,
    eligible_again,
    require_service,
)
from socialcredit.explain_text import plain_text, step_description
from socialcredit.policy.compiled import CompiledPolicy, later_one
from socialcredit.scoring import Measure, Prepared, RecordLine, Standing
from socialcredit.scoring.breakdown import record_lines
from socialcredit.scoring.counterfactual import (
    FIRST_BATCH,
    MAX_RECORDS,
    MAX_SET_SIZE,
    OWN_KINDS,
    Change,
    Search,
    SetEnd,
    day,
    searches,
    smallest_sets,
)
from socialcredit.scoring.measures import ended_measures
from socialcredit.scoring.results import Condition
from socialcredit.scoring.standing import standing_and_timelines
from socialcredit.scoring.timeline import SubjectTimeline
from socialcredit.spans import Span
from socialcredit.timeutil import DAY, NEVER, to_date, to_iso


@dataclass(frozen=True)
class Step:
    """One thing that could be done now about one record."""

    kind: str  # resolve | dispute | appeal
    record: str  # source/id
    record_type: str
    subject: str  # whom the record is about
    description: str


@dataclass(frozen=True)
class Action:
    """A set of steps taken now, and when the service would open if they were all taken."""

    steps: list[Step]
    eligible_again_on: str | None
    indefinite: bool

    @property
    def kind(self) -> str:
        """The steps' kinds joined by "+" ("resolve", "resolve+resolve", …)."""
        return "+".join(s.kind for s in self.steps)

    @property
    def record(self) -> str:
        """The steps' records joined by " + "."""
        return " + ".join(s.record for s in self.steps)

    @property
    def subject(self) -> str:
        """Whom the records are about (joined by " + " when they differ)."""
        return " + ".join(dict.fromkeys(s.subject for s in self.steps))

    @property
    def description(self) -> str:
        """The steps in words, joined by "; and "."""
        return "; and ".join(s.description for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        """``kind``/``record`` (a single step's, or joined), ``steps``, the date it gives."""
        return {
            "kind": self.kind,
            "record": self.record,
            "subject": self.subject,
            "steps": [asdict(s) for s in self.steps],
            "description": self.description,
            "eligible_again_on": self.eligible_again_on,
            "indefinite": self.indefinite,
        }


@dataclass(frozen=True)
class Reason:
    """One measure behind a denial: records → list or condition → measure."""

    measure: str
    reason_code: str
    lists: list[str]  # lists that hold for whom the measure comes from
    records: list[str]  # source/id of the records behind it
    conditions: list[dict[str, Any]]  # every part of the trigger that holds (see Condition)
    since: str | None
    until: str | None
    via_relation: str | None
    via_subject: str | None
    via_kind: str | None  # person | organisation: whom the measure comes through
    legal_basis: str
    trigger_ended: str | None  # a fixed-term measure whose trigger has ended: when it did
    # it began before the policy used came into force: ``since`` is when that policy did
    since_policy_start: bool = False
    # the service the measure is on (a parent of the one asked about, when it covers it)
    service: str = ""
    # the requests it is limited to (``applies_to`` as written in the policy); empty: all
    applies_to: list[dict[str, Any]] = field(default_factory=list)
    # a measure that ends a set time after its triggering records are resolved:
    # {"after_resolution": the span as written, "resolved_on": date or None, "unresolved": [source/id]}
    ends: dict[str, Any] | None = None
    # a measure that started after a publicity period: when it was published and the
    # period to object ended
    published_at: str | None = None
    objections_until: str | None = None


@dataclass(frozen=True)
class Explanation:
    """A decision with its reasons, its end date, and the actions that would end it sooner."""

    decision: Decision
    reasons: list[Reason]
    actions: list[Action]
    best_action: Action | None
    text: str
    standing: Standing
    ended: list[Measure] = field(default_factory=list)  # measures on this service that ended
    due_process: dict[str, Any] = field(default_factory=dict)
    # records behind the reasons whose source claimed another recorded_at than the time the
    # ledger received them: source/id -> (claimed, recorded_at); set by the engine
    claims: dict[str, tuple[int, int]] = field(default_factory=dict)
    # for a request (``decision.attributes``): measures in force on the service that do not
    # apply to it, as reason code and the requests they are limited to
    not_applying: list[Reason] = field(default_factory=list)
    # the date of an instant in the policy's local time (``CompiledPolicy.date_of``)
    date_of: Callable[[int | None], str | None] = to_date
    # where the subject stands in each ranking of the policy (``explain_systems.rank_facts``)
    rankings: list[dict[str, Any]] = field(default_factory=list)
    # an allow given by benefits: each benefit in force on the service, as a reason
    benefits: list[Reason] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``explain --json``: the decision (with policy version and hash), reasons (of a
        denial; ``benefits``: of an allow a benefit gives), counterfactual sets of actions, ended measures, due process and the plain text."""
        out = self.decision.to_json()
        out["explanation"] = {
            "reasons": [asdict(r) for r in self.reasons],
            "benefits": [asdict(r) for r in self.benefits],
            "actions": [a.to_json() for a in self.actions],
            "best_action": self.best_action.to_json() if self.best_action else None,
            "ended": [
                {
                    "measure": m.name,
                    "reason_code": m.reason_code,
                    "since": self.date_of(m.since),
                    "until": self.date_of(m.until),
                    "since_policy_start": m.since_policy_start,
                    "applies_to": [
                        c.model_dump(by_alias=True, exclude_none=True) for c in m.applies_to
                    ],
                }
                for m in self.ended
            ],
            "due_process": self.due_process,
            "not_applying": [
                {"measure": r.measure, "reason_code": r.reason_code, "applies_to": r.applies_to}
                for r in self.not_applying
            ],
            "upcoming": [
                {
                    "measure": u.name,
                    "reason_code": u.reason_code,
                    "published_at": self.date_of(u.published_at),
                    "objections_until": self.date_of(u.objections_until),
                    "starts": self.date_of(u.starts),
                    "until": self.date_of(u.until),
                    "records": u.records,
                }
                for u in self.standing.upcoming
                if u.covers_service(self.decision.service)
            ],
            "claims": [
                {
                    "record": record,
                    "claimed_recorded_at": to_iso(claimed),
                    "recorded_at": to_iso(recorded),
                }
                for record, (claimed, recorded) in sorted(self.claims.items())
            ],
            "text": self.text,
        }
        if self.rankings:  # a policy with a ranking: rank, score and margin, no rating
            out["explanation"]["rankings"] = self.rankings
        return out


def records_behind(
    lines: list[RecordLine], measure: Measure, policy: CompiledPolicy | None = None
) -> list[RecordLine]:
    """The current version of each record behind ``measure`` (once each, in order); for a
    condition on the grade or score, every record that lowers the score now (for a condition
    on a named score, given ``policy``: every record that lowers that score)."""
    current = {
        f"{line.source}/{line.id}": line for line in lines if line.status != "annulled or rectified"
    }
    refs = list(measure.records)
    first_score = any(
        c.grade_or_score and (policy is None or _score_of(c) is None) for c in measure.conditions
    )
    if first_score or not refs:
        refs += [
            f"{line.source}/{line.id}"
            for line in lines
            if line.status == "counts" and line.contribution < 0
        ]
    if policy is not None:
        named = {_score_of(c) for c in measure.conditions}
        for score in sorted(n for n in named if n is not None):
            lowers = _lowering_types(policy, score)
            refs += [
                f"{line.source}/{line.id}"
                for line in lines
                if line.status == "counts" and line.type in lowers
            ]
    return [current[r] for r in dict.fromkeys(refs) if r in current]


def _score_of(c: Condition) -> str | None:
    """The named score a score or grade condition tests (None for any other condition)."""
    if c.kind in ("score_below", "score_at_least", "grade_in", "rank_top") and ":" in c.name:
        return c.name.rpartition(":")[0]
    return None


def _lowering_types(policy: CompiledPolicy, score: str) -> set[str]:
    """The record types whose records lower the named score ``score`` while they count."""
    sc = policy.scores[policy.score_index(score)]
    out = set()
    for code, name in enumerate(policy.type_names):
        points = float(policy.points[code])
        if not sc.components and points < 0:
            out.add(name)
        for c in sc.components:
            if not c.clean_year and c.counts[code] and points * c.weight < 0:
                out.add(name)
    return out


def _whole_days(span: Span) -> int | None:
    # the due-process periods in days, where they are a whole number of days (None for
    # calendar months or working days: see the spelled-out fields beside)
    return span.seconds // DAY if span.exact and span.seconds % DAY == 0 else None


def can_still_contest(policy: CompiledPolicy, line: RecordLine, t: int) -> bool:
    """Whether the person can still have ``line`` annulled under the policy at ``t``: its
    dispute window is open, a dispute or reconsideration of it is pending, or the period to
    apply for reconsideration after the review upheld it is open. Once none is, offering
    "have it annulled on appeal" would be an action the person cannot take."""
    proc = policy.process_of(line.type)
    if line.disputed_at is None:
        return later_one(policy, line.recorded_at, proc.appeal_window) >= t
    if line.decided_at is None:
        return True  # the review may still annul it
    if proc.reconsider_within is None or proc.reconsider_deadline is None:
        return False
    if line.reconsidered_at is None:
        late = line.dispute_late_at
        if late is not None and late >= line.decided_at:
            return False  # applied for too late
        return later_one(policy, line.decided_at, proc.reconsider_within) >= t
    return line.reconsideration_decided_at is None


def _steps_for(policy: CompiledPolicy, line: RecordLine, subject: str, t: int) -> list[Step]:
    code = policy.type_code.get(line.type, -1)
    kinds = []
    if code >= 0 and policy.resolvable[code] and line.resolved_at is None:
        kinds.append("resolve")
    proc = policy.process_of(line.type)
    window_open = later_one(policy, line.recorded_at, proc.appeal_window) >= t
    undisputed = line.disputed_at is None and line.dispute_late_at is None
    if not proc.counts_while_disputed and window_open and undisputed:
        kinds.append("dispute")
    if can_still_contest(policy, line, t):
        kinds.append("appeal")
    return [
        Step(k, f"{line.source}/{line.id}", line.type, subject, step_description(k, line, policy))
        for k in kinds
    ]


def explain(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    computed: tuple[Standing, dict[int, SubjectTimeline]] | None = None,
    present: bool = True,
    attributes: Mapping[str, float | str] | None = None,
    one_batch: bool = True,
) -> Explanation:
    """Why ``subject`` is allowed or denied ``service`` at ``t``, and what would change it.

    ``present``: ``t`` is the present; otherwise the text names ``t``'s date where it would
    say "now".
    ``computed``: ``standing_and_timelines`` of the subject at ``t`` from the same ``prep``.
    Reasons name only the lists and conditions that hold for whom each measure comes from;
    the actions are every single step with the date it gives, and the smallest sets of steps
    that give an earlier date. The best action is the smallest set giving the earliest date
    among the steps the person can take themselves (resolve, dispute), else among appeals.
    ``attributes``: a request's, validated (``CompiledPolicy.request``): the decision is
    about that request, and measures in force it does not match are named as such; None:
    every measure covering ``service`` counts, and the text says which requests each stops.
    ``one_batch``: when only appeals are possible, search the singles and the sets of
    appeals in one batch; when the person's own steps and several appeals are, evaluate the
    first batch of the search among sets of appeals with the search among their own steps
    (finished only if it is needed). False: the singles (and own sets) first, then the sets
    of appeals when none ends the denial sooner; the same answer, one batch more: kept for
    the equivalence test.
    Raises ``UnknownServiceError`` unless ``prep.policy`` knows ``service``.
    """
    policy = prep.policy
    require_service(policy, service)
    st, tls = computed if computed is not None else standing_and_timelines(prep, subject, t)
    decision = decide(st, service, attributes)
    # an exemption of the service waives every denial of it: nothing to explain or end
    denied = [] if decision.exemptions else denials(st, service, attributes)
    not_applying = [
        _reason(prep, m)
        for m in denials(st, service)
        if attributes is not None and not applies(m, attributes)
    ]
    lines_of: dict[str, list[RecordLine]] = {st.subject: st.breakdown}

    def lines_for(m: Measure) -> list[RecordLine]:
        name = m.via_subject or st.subject
        if name not in lines_of:
            lines_of[name] = record_lines(prep, prep.columns.subjects.index(name), t, tls)
        return lines_of[name]

    reasons = [_reason(prep, m) for m in denied]
    # steps per record behind the denials, in order, once each
    by_record: dict[tuple[str, str], tuple[RecordLine, list[Step]]] = {}
    for m in denied:
        owner = m.via_subject or st.subject
        for line in records_behind(lines_for(m), m, policy):
            key = (owner, f"{line.source}/{line.id}")
            if key not in by_record:
                by_record[key] = (line, _steps_for(policy, line, owner, t))
    step_of: dict[Change, Step] = {}
    own: list[list[Change]] = []
    appeals: list[Change] = []
    for line, steps in by_record.values():
        own.append([])
        for s in steps:
            change = (s.kind, line.row)
            step_of[change] = s
            (own[-1] if s.kind in OWN_KINDS else appeals).append(change)
    current = eligible_again(denied)
    current_end = NEVER if current is None else current
    singles: list[SetEnd] = []
    frontier: list[SetEnd] = []
    # counterfactuals rebuild the subject alone: not for answers read across subjects
    if denied and step_of and not policy.across_subjects:
        appeal_frontier: list[SetEnd] | None = None  # the search among appeals, made
        appeal_sets: Callable[[], tuple[list[SetEnd], list[SetEnd]]] | None = None  # begun
        if any(own) and one_batch and len(appeals) > 1:
            # the search among the person's own steps (the appeals as singles with it), and
            # the first batch of the search among sets of appeals that follows it when
            # neither a set of their own steps nor a single appeal ends the denial on an
            # earlier day: evaluated in one batch, the latter finished only if it is needed
            found, appeal_sets = searches(
                prep,
                subject,
                service,
                t,
                [
                    Search(own, current_end, extra=appeals),
                    Search([[a] for a in appeals], current_end),
                ],
                attributes,
            )
            singles, frontier = found()
        elif any(own) or not one_batch:
            singles, frontier = smallest_sets(
                prep, subject, service, t, own, current_end, extra=appeals, attributes=attributes
            )
        else:
            # nothing the person can do themselves: the search among appeals, which would
            # follow the singles when no single appeal ends the denial on an earlier day, is
            # made in the same batch as the singles (the same sets, the same first-batch
            # budget: the appeals past the first ``MAX_RECORDS`` are singles only)
            rest = appeals[MAX_RECORDS:]
            singles, appeal_frontier = smallest_sets(
                prep,
                subject,
                service,
                t,
                [[a] for a in appeals],
                current_end,
                extra=rest,
                first_batch=FIRST_BATCH + len(rest),
                attributes=attributes,
            )
            frontier = []
        if not frontier and appeals:
            appeal_singles = [s for s in singles if s.changes[0][0] == "appeal"]
            best_single = min((s.end for s in appeal_singles), default=NEVER)
            if day(best_single, policy.calendar.offset) < day(current_end, policy.calendar.offset):
                frontier = [next(s for s in appeal_singles if s.end == best_single)]
            elif len(appeals) > 1 and appeal_frontier is not None:
                frontier = appeal_frontier
            elif len(appeals) > 1 and appeal_sets is not None:
                frontier = appeal_sets()[1]
            elif len(appeals) > 1:
                _, frontier = smallest_sets(
                    prep,
                    subject,
                    service,
                    t,
                    [[a] for a in appeals],
                    current_end,
                    attributes=attributes,
                )

    def action(x: SetEnd) -> Action:
        return Action([step_of[c] for c in x.changes], policy.date_of(x.end), x.end >= NEVER)

    actions = [action(x) for x in singles] + [action(x) for x in frontier if len(x.changes) > 1]
    # the frontier's dates fall as sets grow: its last set is the smallest giving the earliest
    best = action(frontier[-1]) if frontier else None
    due: dict[str, Any] = {
        "notice_before_sanction": policy.policy.due_process.notice_before_sanction,
        "appeal_window_days": _whole_days(policy.appeal_window),
        "reinvestigation_deadline_days": _whole_days(policy.reinvestigation_deadline),
        "appeal_window": policy.span_text(policy.appeal_window),
        "reinvestigation_deadline": policy.span_text(policy.reinvestigation_deadline),
        "disputed_records_count": policy.disputed_records_count,
        "human_review": policy.policy.due_process.human_review,
        "records": [
            {
                "record": ref,
                "subject": owner,
                "dispute_window_closes": policy.date_of(
                    later_one(policy, line.recorded_at, policy.process_of(line.type).appeal_window)
                ),
                "disputed_at": policy.date_of(line.disputed_at),
                "late_dispute_at": policy.date_of(line.dispute_late_at),
                **_process_json(policy, line),
            }
            for (owner, ref), (line, _) in by_record.items()
        ],
    }
    ended = ended_measures(prep, subject, service, t, tls=tls, attributes=attributes)
    behind = [(owner, line) for (owner, _), (line, _) in by_record.items()]
    # no set found, and more records could change than a set may hold: the search was bounded
    changeable = sum(1 for changes in own if changes)
    beyond = changeable if denied and best is None and changeable > MAX_SET_SIZE else 0
    # a benefit says why and until when as a denial does (none when a denial stops it)
    granting = (
        [
            _reason(prep, m)
            for m in st.measures
            if m.effect == "benefit" and m.covers_service(service)
        ]
        if decision.decision == "allow" and decision.benefits
        else []
    )
    text = plain_text(
        policy,
        st,
        decision,
        reasons,
        behind,
        best,
        ended,
        t,
        present,
        not_applying,
        beyond,
        granting=granting,
    )
    rankings: list[dict[str, Any]] = []
    if policy.rankings or policy.reevaluation is not None:
        from socialcredit.explain_systems import rank_facts, systems_text

        rankings = [rank_facts(policy, prep, subject, t, cond) for cond in policy.rankings]
        extra = systems_text(prep, subject, t, st)
        if extra:
            text = text.rstrip("\n") + "\n" + extra + "\n" if "\n" in text else text + " " + extra
    return Explanation(
        decision,
        reasons,
        actions,
        best,
        text,
        st,
        ended,
        due,
        not_applying=not_applying,
        date_of=policy.date_of,
        rankings=rankings,
        benefits=granting,
    )


def _process_json(policy: CompiledPolicy, line: RecordLine) -> dict[str, Any]:
    """A record's own due process and its stages, when it is not the policy-wide one."""
    proc = policy.process_of(line.type)
    if proc.index == 0 and policy.uniform_process:
        return {}
    return {
        "due_process": {
            "from": proc.origin or "policy",
            "appeal_window_days": _whole_days(proc.appeal_window),
            "appeal_window": policy.span_text(proc.appeal_window),
            "reinvestigation_deadline_days": _whole_days(proc.review_deadline),
            "disputed_records_count": proc.counts_while_disputed,
            "on_overdue": proc.on_overdue,
            "reconsideration_within_days": None
            if proc.reconsider_within is None
            else _whole_days(proc.reconsider_within),
            "reconsideration_deadline_days": None
            if proc.reconsider_deadline is None
            else _whole_days(proc.reconsider_deadline),
        },
        "decided_at": policy.date_of(line.decided_at),
        "reconsidered_at": policy.date_of(line.reconsidered_at),
        "reconsideration_decided_at": policy.date_of(line.reconsideration_decided_at),
        "decision_due": policy.date_of(line.review_due),
        "overdue_since": policy.date_of(line.overdue_since),
    }


def _condition_json(policy: CompiledPolicy, c: Condition) -> dict[str, Any]:
    """``asdict(c)`` with ``ended`` as a date (field by field: ``asdict`` is slow)."""
    out = {f.name: getattr(c, f.name) for f in fields(c)}
    out["records"] = list(c.records)
    out["ended"] = policy.date_of(c.ended)
    return out


def _reason(prep: Prepared, m: Measure) -> Reason:
    via_kind = None
    if m.via_subject is not None:
        idx = prep.columns.subjects.index(m.via_subject)
        code = int(prep.columns.subject_kind[idx]) if len(prep.columns.subject_kind) else 0
        via_kind = SUBJECT_KINDS[code]
    return Reason(
        measure=m.name,
        reason_code=m.reason_code,
        lists=m.lists,
        records=m.records,
        conditions=[_condition_json(prep.policy, c) for c in m.conditions],
        since=prep.policy.date_of(m.since),
        until=prep.policy.date_of(m.until),
        via_relation=m.via_relation,
        via_subject=m.via_subject,
        via_kind=via_kind,
        legal_basis=m.legal_basis,
        trigger_ended=prep.policy.date_of(m.trigger_ended),
        since_policy_start=m.since_policy_start,
        service=m.service,
        applies_to=[c.model_dump(by_alias=True, exclude_none=True) for c in m.applies_to],
        ends=None
        if m.after_resolution is None
        else {
            "after_resolution": m.after_resolution,
            "resolved_on": prep.policy.date_of(m.resolved_on),
            "unresolved": list(m.unresolved),
        },
        published_at=prep.policy.date_of(m.published_at),
        objections_until=prep.policy.date_of(m.objections_until),
    )


__all__ = ["Action", "Explanation", "Reason", "Step", "explain", "records_behind"]
