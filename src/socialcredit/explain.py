"""Explanations: why a subject is allowed or denied a service, until when, and what would end it.

Everything here is derived from a ``Standing`` and the same pure scoring functions: the
counterfactuals re-score the subject with one action applied (a record resolved, disputed or
annulled on appeal) and report when the service would be open again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from socialcredit.enforcement import Decision, decide, denials, eligible_again
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring import Measure, Prepared, RecordLine, Standing, standing
from socialcredit.scoring.counterfactual import counterfactual_ends
from socialcredit.scoring.standing import past_measures, standing_and_timelines
from socialcredit.scoring.timeline import SubjectTimeline
from socialcredit.timeutil import DAY, NEVER, to_date


@dataclass(frozen=True)
class Action:
    """One thing that could be done now, and when the service would open if it were."""

    kind: str  # resolve | dispute | appeal
    record: str  # source/id
    record_type: str
    subject: str
    description: str
    eligible_again_on: str | None
    indefinite: bool


@dataclass(frozen=True)
class Reason:
    """One measure behind a denial: record → list → measure."""

    measure: str
    reason_code: str
    lists: list[str]
    records: list[str]
    since: str | None
    until: str | None
    via_relation: str | None
    via_subject: str | None
    legal_basis: str


@dataclass(frozen=True)
class Explanation:
    """A decision with its reasons, its end date, and the actions that would end it sooner."""

    decision: Decision
    reasons: list[Reason]
    actions: list[Action]
    best_action: Action | None
    text: str
    standing: Standing
    past: list[Measure] = field(default_factory=list)  # measures on this service that ended
    due_process: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``explain --json``: the decision, reasons, counterfactuals and the plain text."""
        out = self.decision.to_json()
        out["explanation"] = {
            "reasons": [asdict(r) for r in self.reasons],
            "actions": [asdict(a) for a in self.actions],
            "best_action": asdict(self.best_action) if self.best_action else None,
            "ended": [
                {
                    "measure": m.name,
                    "reason_code": m.reason_code,
                    "since": to_date(m.since),
                    "until": to_date(m.until),
                }
                for m in self.past
            ],
            "due_process": self.due_process,
            "text": self.text,
        }
        return out


def _records_behind(policy: CompiledPolicy, st: Standing, measure: Measure) -> list[RecordLine]:
    refs = {r for m in st.lists if m.name in measure.lists for r in m.records}
    return [line for line in st.breakdown if f"{line.source}/{line.id}" in refs]


def _candidates(
    prep: Prepared, owner: Standing, measure: Measure, t: int
) -> list[tuple[str, int, RecordLine]]:
    """Actions on the records behind ``measure``, which belong to ``owner``."""
    policy = prep.policy
    lines = _records_behind(policy, owner, measure) or [
        line for line in owner.breakdown if line.status == "counts" and line.contribution < 0
    ]
    out: list[tuple[str, int, RecordLine]] = []
    for line in lines:
        code = policy.type_code.get(line.type, -1)
        if code >= 0 and policy.resolvable[code] and line.resolved_at is None:
            out.append(("resolve", line.row, line))
        window_open = line.recorded_at + policy.appeal_window >= t
        if not policy.disputed_records_count and window_open and line.disputed_at is None:
            out.append(("dispute", line.row, line))
        out.append(("appeal", line.row, line))
    return out


def _describe(kind: str, line: RecordLine, policy: CompiledPolicy) -> str:
    ref = f"{line.source}/{line.id} ({line.type}, {to_date(line.occurred_at)})"
    if kind == "resolve":
        return f"resolve record {ref}, e.g. by performing the obligation it records"
    if kind == "dispute":
        days = policy.reinvestigation_deadline // DAY
        return (
            f"dispute record {ref}: it stops counting while the dispute is open, and is deleted "
            f"if not decided within {days} days"
        )
    return f"have record {ref} annulled on appeal (if it is wrong)"


def explain(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    computed: tuple[Standing, dict[int, SubjectTimeline]] | None = None,
) -> Explanation:
    """Why ``subject`` is allowed or denied ``service`` at ``t``, and what would change it.

    ``computed``: ``standing_and_timelines`` of the subject at ``t`` from the same ``prep``.
    """
    policy = prep.policy
    st, tls = computed if computed is not None else standing_and_timelines(prep, subject, t)
    decision = decide(st, service)
    denied = denials(st, service)
    reasons = []
    owners: dict[str, Standing] = {st.subject: st}  # the subject, and whom its bans come through

    def owner_of(m: Measure) -> Standing:
        name = m.via_subject or st.subject
        if name not in owners:
            owners[name] = standing(prep, prep.columns.subjects.index(name), t)
        return owners[name]

    for m in denied:
        owner = owner_of(m)
        reasons.append(
            Reason(
                measure=m.name,
                reason_code=m.reason_code,
                lists=m.lists,
                records=[f"{r.source}/{r.id}" for r in _records_behind(policy, owner, m)],
                since=to_date(m.since),
                until=to_date(m.until),
                via_relation=m.via_relation,
                via_subject=m.via_subject,
                legal_basis=m.legal_basis,
            )
        )
    candidates: list[tuple[str, int, RecordLine]] = []
    seen: set[tuple[str, int]] = set()
    for m in denied:
        for kind, row, line in _candidates(prep, owner_of(m), m, t):
            if (kind, row) not in seen:
                seen.add((kind, row))
                candidates.append((kind, row, line))
    ends = counterfactual_ends(prep, subject, service, t, [(k, r) for k, r, _ in candidates])
    actions: list[Action] = []
    for (kind, row, line), end in zip(candidates, ends, strict=True):
        when = t if end is None else end
        actions.append(
            Action(
                kind=kind,
                record=f"{line.source}/{line.id}",
                record_type=line.type,
                subject=str(prep.columns.subjects[int(prep.rows.subject[row])]),
                description=_describe(kind, line, policy),
                eligible_again_on=to_date(when),
                indefinite=when >= NEVER,
            )
        )
    current = eligible_again(denied)
    preference = {"resolve": 0, "dispute": 1, "appeal": 2}
    better = [
        a
        for a in actions
        if not a.indefinite
        and (
            current is None
            or current >= NEVER
            or (a.eligible_again_on or "") < (to_date(current) or "")
        )
    ]
    # Prefer what the person can do themselves (pay, dispute) over an appeal, which only
    # helps when the record is wrong; among those, the earliest date wins.
    own = [a for a in better if a.kind != "appeal"]
    best = min(
        own or better, key=lambda a: (a.eligible_again_on or "", preference[a.kind]), default=None
    )
    due = {
        "notice_before_sanction": policy.policy.due_process.notice_before_sanction,
        "appeal_window_days": policy.appeal_window // DAY,
        "reinvestigation_deadline_days": policy.reinvestigation_deadline // DAY,
        "disputed_records_count": policy.disputed_records_count,
        "human_review": policy.policy.due_process.human_review,
    }
    past = past_measures(prep, subject, service, t, tls=tls)
    text = _plain_text(st, decision, reasons, best, due, past)
    return Explanation(decision, reasons, actions, best, text, st, past, due)


def _plain_text(
    st: Standing,
    decision: Decision,
    reasons: list[Reason],
    best: Action | None,
    due: dict[str, Any],
    past: list[Measure],
) -> str:
    service = decision.service.replace("_", " ")
    lines = [
        f"Under policy {st.policy_version}, on {to_date(st.at)}, your score is "
        f"{st.score:g} (grade {st.grade})."
    ]
    for m in past:
        lines.append(
            f"Earlier, measure {m.name} (reason code {m.reason_code}) refused you {service} "
            f"from {to_date(m.since) or 'before the records shown'} until {to_date(m.until)}; "
            "it has ended."
        )
    if decision.decision == "allow":
        lines.append(f"You may use {service}: no measure in force denies it.")
        if decision.benefits:
            lines.append(f"You receive these benefits there: {', '.join(decision.benefits)}.")
        return "\n".join(lines)
    lines.append(f"You are refused {service}.")
    for r in reasons:
        via = (
            f" because you are recorded as {r.via_relation.replace('_', ' ')} {r.via_subject}, who is"
            if r.via_subject and r.via_relation
            else " because you are"
        )
        listed = (
            f" on the list {', '.join(r.lists)}"
            if r.lists
            else " in the grade or score range it names"
        )
        records = f", on the strength of record(s) {', '.join(r.records)}" if r.records else ""
        lines.append(
            f"- Measure {r.measure} (reason code {r.reason_code}) applies{via}{listed}{records}, "
            f"since {r.since or 'before the records shown'}."
            + (f" Legal basis: {r.legal_basis}." if r.legal_basis else "")
        )
    if decision.indefinite:
        lines.append("If nothing changes, this has no end date.")
    elif decision.eligible_again_on:
        lines.append(
            f"If nothing changes, you may use {service} again on {decision.eligible_again_on}."
        )
    if best is not None:
        lines.append(
            f"Sooner: {best.description}; you could then use {service} again on {best.eligible_again_on}."
        )
    lines.append(
        f"You may dispute a record within {due['appeal_window_days']} days of it being recorded; "
        f"a dispute must be decided within {due['reinvestigation_deadline_days']} days."
        + ("" if due["disputed_records_count"] else " A disputed record does not count meanwhile.")
    )
    return "\n".join(lines)


__all__ = ["Action", "Explanation", "Reason", "explain"]
