"""A subject's standing at a time: score, grade, lists, measures in force, and why.

Pure functions of (ledger columns, compiled policy, time). One implementation serves one
subject (with full detail) and everyone at once (``bulk_standings``), and tests check the
two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.ledger.columns import SUBJECT_KINDS, LedgerColumns
from socialcredit.policy.compiled import CompiledPolicy, CompiledSanction
from socialcredit.scoring.evaluate import (
    COUNTS,
    STATUS_NAMES,
    evaluate,
    evaluate_subjects_at,
)
from socialcredit.scoring.rows import RelationRows, Rows, fold
from socialcredit.scoring.timeline import (
    BEGINNING,
    SubjectTimeline,
    interval_at,
    intervals,
    measure_intervals,
    row_breakpoints,
    timelines,
)
from socialcredit.timeutil import NEVER, to_iso

I64 = npt.NDArray[np.int64]


def _opt(ts: int) -> int | None:
    return None if ts >= NEVER or ts <= BEGINNING else ts


@dataclass(frozen=True)
class RecordLine:
    """One record version and what it does to the score at the time of the standing."""

    row: int
    source: str
    id: str
    type: str
    occurred_at: int
    recorded_at: int
    points: float  # the policy's full points for this type
    contribution: float  # what it adds now (after decay; 0 unless it counts)
    status: str
    expires_at: int | None
    resolved_at: int | None
    disputed_at: int | None
    rectified: bool
    amount: float | None


@dataclass(frozen=True)
class Membership:
    """Being on a list: since when, until when (if nothing else happens), and the records behind it."""

    name: str
    kind: str
    since: int | None
    until: int | None
    records: list[str]


@dataclass(frozen=True)
class Measure:
    """A sanction or reward in force for the subject."""

    name: str
    service: str
    effect: str
    reason_code: str
    since: int | None
    until: int | None
    lists: list[str]
    via_relation: str | None = None
    via_subject: str | None = None
    legal_basis: str = ""
    description: str = ""


@dataclass(frozen=True)
class Standing:
    """Everything the policy says about one subject at ``at``, with what was known at ``at``."""

    subject: str
    kind: str
    at: int
    policy_version: str
    policy_hash: str
    score: float
    grade: str
    lists: list[Membership]
    measures: list[Measure]
    breakdown: list[RecordLine]
    base: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def sanctions(self) -> list[Measure]:
        """Measures that deny a service."""
        return [m for m in self.measures if m.effect == "deny"]

    @property
    def rewards(self) -> list[Measure]:
        """Measures that grant a benefit."""
        return [m for m in self.measures if m.effect == "benefit"]

    def to_json(self) -> dict[str, Any]:
        """The ``score --json`` contract: plain JSON types, ISO 8601 times."""

        def times(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
            for key in keys:
                if key in d:
                    d[key] = to_iso(d[key])
            return d

        return {
            "subject": self.subject,
            "kind": self.kind,
            "at": to_iso(self.at),
            "policy_version": self.policy_version,
            "policy_hash": self.policy_hash,
            "score": round(self.score, 4),
            "grade": self.grade,
            "lists": [m.name for m in self.lists],
            "memberships": [times(asdict(m), ("since", "until")) for m in self.lists],
            "sanctions": [times(asdict(m), ("since", "until")) for m in self.measures],
            "breakdown": {
                "base": self.base,
                "records": [
                    times(
                        {k: v for k, v in asdict(line).items() if k != "row"},
                        ("occurred_at", "recorded_at", "expires_at", "resolved_at", "disputed_at"),
                    )
                    for line in self.breakdown
                ],
            },
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Prepared:
    """Ledger columns folded for one policy; reuse it for many questions."""

    policy: CompiledPolicy
    columns: LedgerColumns
    rows: Rows
    relations: RelationRows

    @classmethod
    def build(cls, columns: LedgerColumns, policy: CompiledPolicy) -> Prepared:
        """Fold ``columns`` for ``policy``."""
        rows, relations = fold(columns, policy)
        return cls(policy, columns, rows, relations)

    def with_rows(self, rows: Rows) -> Prepared:
        """The same ledger with changed record versions (for counterfactuals)."""
        return Prepared(self.policy, self.columns, rows, self.relations)


_ROW_FIELDS = [f.name for f in fields(Rows)]


def _relations_at(prep: Prepared, t: int) -> npt.NDArray[np.bool_]:
    r = prep.relations
    return (
        (r.known <= t)
        & (r.hidden_from > t)
        & (r.valid_from <= t)
        & (t < r.valid_until)
        & (r.type_code >= 0)
    )


def _own_measure(
    prep: Prepared, timeline_cache: dict[int, Any], s: int, sanction: CompiledSanction, t: int
) -> tuple[int, int] | None:
    tl = timeline_cache[s]
    refine = sanction.uses_score and prep.policy.any_decay
    trig = intervals(prep.policy, prep.rows, tl, ("trigger", sanction.index), t, refine)
    return interval_at(measure_intervals(trig, sanction.fixed, sanction.max_duration), t)


def standing(prep: Prepared, subject: int, t: int) -> Standing:
    """The full standing of subject index ``subject`` at ``t``.

    Records known after ``t`` are ignored; "until" dates assume nothing else happens.
    """
    return standing_and_timelines(prep, subject, t)[0]


def standing_and_timelines(
    prep: Prepared, subject: int, t: int
) -> tuple[Standing, dict[int, SubjectTimeline]]:
    """``standing`` and the timelines it was computed from (subject and related subjects)."""
    policy = prep.policy
    rel_ok = _relations_at(prep, t)
    rel_idx = np.flatnonzero(rel_ok & (prep.relations.subject == subject))
    related = sorted({int(prep.relations.related[i]) for i in rel_idx})
    tls = timelines(policy, prep.rows, [subject, *related], t)
    tl = tls[subject]
    now = int(np.searchsorted(tl.times, t, side="right") - 1)

    rid = np.flatnonzero(prep.rows.subject == subject).astype(np.int64)
    ev = evaluate(
        policy,
        prep.rows,
        rid,
        np.zeros(len(rid), dtype=np.int64),
        np.array([t], dtype=np.int64),
        np.array([t], dtype=np.int64),
    )
    breakdown = _breakdown(prep, rid, ev.status, ev.contribution, t)
    counting = {line.row for line in breakdown if line.status == STATUS_NAMES[COUNTS]}

    memberships = []
    for lst in policy.lists:
        if not tl.lists[lst.index, now]:
            continue
        refine = lst.when.uses_score() and policy.any_decay
        period = interval_at(intervals(policy, prep.rows, tl, ("list", lst.index), t, refine), t)
        named = {
            n for p in lst.when.walk() if p.records is not None for n in p.records.type_names()
        }
        cats = {p.records.category for p in lst.when.walk() if p.records is not None}
        refs = [
            f"{line.source}/{line.id}"
            for line in breakdown
            if line.row in counting
            and (line.type in named or policy.category[policy.type_code[line.type]] in cats)
            and not (line.resolved_at is not None and line.resolved_at + lst.delist_delay <= t)
        ]
        memberships.append(
            Membership(
                lst.name,
                lst.kind,
                _opt(period[0]) if period else None,
                _opt(period[1]) if period else None,
                refs,
            )
        )

    measures = _measures(prep, subject, t, tls, rel_idx, policy.sanctions)

    kind_code = int(prep.columns.subject_kind[subject]) if len(prep.columns.subject_kind) else 0
    return Standing(
        subject=prep.columns.subjects[subject],
        kind=SUBJECT_KINDS[kind_code],
        at=t,
        policy_version=policy.version_label,
        policy_hash=policy.loaded.content_hash,
        score=float(ev.score[0]),
        grade=policy.grade_names[int(ev.grade[0])],
        lists=memberships,
        measures=measures,
        breakdown=breakdown,
        base=policy.base,
    ), tls


def _measures(
    prep: Prepared,
    subject: int,
    t: int,
    tls: dict[int, Any],
    rel_idx: npt.NDArray[np.intp],
    sanctions: Sequence[CompiledSanction],
) -> list[Measure]:
    policy = prep.policy
    measures: list[Measure] = []
    for sanction in sanctions:
        own = _own_measure(prep, tls, subject, sanction, t)
        if own is not None:
            measures.append(_measure(sanction, own))
        if not sanction.reach:
            continue
        for i in rel_idx:
            rel_name = policy.relation_names[prep.relations.type_code[i]]
            if rel_name not in sanction.reach:
                continue
            other = int(prep.relations.related[i])
            theirs = _own_measure(prep, tls, other, sanction, t)
            if theirs is None:
                continue
            start = max(theirs[0], int(prep.relations.valid_from[i]), int(prep.relations.known[i]))
            end = min(theirs[1], int(prep.relations.valid_until[i]))
            measures.append(
                _measure(
                    sanction,
                    (start, end),
                    via_relation=rel_name,
                    via_subject=prep.columns.subjects[other],
                )
            )
    return measures


def measures_for_service(prep: Prepared, subject: int, service: str, t: int) -> list[Measure]:
    """The measures in force at ``t`` on ``service`` only: what a decision needs, and less work
    than a full ``standing``."""
    sanctions = [s for s in prep.policy.sanctions if s.service == service]
    rel_idx = np.flatnonzero(_relations_at(prep, t) & (prep.relations.subject == subject))
    if not any(s.reach for s in sanctions):
        rel_idx = rel_idx[:0]
    related = sorted({int(prep.relations.related[i]) for i in rel_idx})
    tls = timelines(prep.policy, prep.rows, [subject, *related], t)
    return _measures(prep, subject, t, tls, rel_idx, sanctions)


_CHANGE_FIELDS = {"resolve": "resolved", "dispute": "disputed", "appeal": "hidden_from"}


def counterfactual_ends(
    prep: Prepared, subject: int, service: str, t: int, changes: list[tuple[str, int]]
) -> list[int | None]:
    """For each single change (resolve, dispute or annul-on-appeal of one record row, made at
    ``t``), when the last denial of ``service`` would end (None: nothing would deny it).

    All scenarios are evaluated in one batch: each gets its own copy of the subject and its
    related subjects as pseudo-subjects, so the timelines of every scenario come from one
    vectorised evaluation.
    """
    if not changes:
        return []
    policy, rows, rels = prep.policy, prep.rows, prep.relations
    sanctions = [s for s in policy.sanctions if s.service == service]
    rel_idx = np.flatnonzero(_relations_at(prep, t) & (rels.subject == subject))
    if not any(s.reach for s in sanctions):
        rel_idx = rel_idx[:0]
    involved = [subject, *sorted({int(rels.related[i]) for i in rel_idx})]
    local = np.full(max(prep.columns.n_subjects, 1), -1, dtype=np.int64)
    local[involved] = np.arange(len(involved))
    base = np.flatnonzero(np.isin(rows.subject, involved)).astype(np.int64)
    n_inv, k = len(involved), len(changes)
    take = np.tile(base, k)
    scenario = np.repeat(np.arange(k, dtype=np.int64), len(base))
    values = {name: getattr(rows, name)[take].copy() for name in _ROW_FIELDS}
    values["subject"] = (scenario * n_inv + local[rows.subject[take]]).astype(np.int32)
    for j, (kind, row) in enumerate(changes):
        hit = (scenario == j) & (rows.record[take] == rows.record[row])
        values[_CHANGE_FIELDS[kind]][hit] = t
    batch_rows = Rows(**values)
    rel_take = np.tile(rel_idx, k)
    rel_scenario = np.repeat(np.arange(k, dtype=np.int64), len(rel_idx))
    batch_rels = RelationRows(
        subject=(rel_scenario * n_inv).astype(np.int32),
        related=(rel_scenario * n_inv + local[rels.related[rel_take]]).astype(np.int32),
        type_code=rels.type_code[rel_take],
        valid_from=rels.valid_from[rel_take],
        valid_until=rels.valid_until[rel_take],
        known=rels.known[rel_take],
        hidden_from=rels.hidden_from[rel_take],
        relation=rels.relation[rel_take],
    )
    names = [prep.columns.subjects[s] for s in involved] * k
    columns = LedgerColumns(subjects=names, subject_kind=np.zeros(len(names), dtype=np.int8))
    batch = Prepared(policy, columns, batch_rows, batch_rels)
    tls = timelines(policy, batch_rows, list(range(n_inv * k)), t)
    ends: list[int | None] = []
    for j in range(k):
        mine = np.flatnonzero(batch_rels.subject == j * n_inv)
        denied = [
            m for m in _measures(batch, j * n_inv, t, tls, mine, sanctions) if m.effect == "deny"
        ]
        ends.append(
            max(m.until if m.until is not None else NEVER for m in denied) if denied else None
        )
    return ends


def past_measures(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    effect: str = "deny",
    tls: dict[int, SubjectTimeline] | None = None,
) -> list[Measure]:
    """Measures (by default denials) on ``service`` that applied before ``t`` and have ended.

    ``tls``: timelines at ``t`` already computed for the subject (from ``standing_and_timelines``).
    """
    if tls is None or subject not in tls:
        tls = timelines(prep.policy, prep.rows, [subject], t)
    out = []
    for sanction in prep.policy.sanctions:
        if sanction.service != service or sanction.effect != effect:
            continue
        refine = sanction.uses_score and prep.policy.any_decay
        trig = intervals(
            prep.policy, prep.rows, tls[subject], ("trigger", sanction.index), t, refine
        )
        for start, end in measure_intervals(trig, sanction.fixed, sanction.max_duration):
            if end <= t:
                out.append(_measure(sanction, (start, end)))
    return out


def _measure(
    sanction: CompiledSanction,
    period: tuple[int, int],
    via_relation: str | None = None,
    via_subject: str | None = None,
) -> Measure:
    return Measure(
        name=sanction.name,
        service=sanction.service,
        effect=sanction.effect,
        reason_code=sanction.reason_code,
        since=_opt(period[0]),
        until=_opt(period[1]),
        lists=list(sanction.lists),
        via_relation=via_relation,
        via_subject=via_subject,
        legal_basis=sanction.legal_basis,
        description=sanction.description,
    )


def _breakdown(
    prep: Prepared,
    rid: I64,
    status: npt.NDArray[np.int8],
    contribution: npt.NDArray[np.float64],
    t: int,
) -> list[RecordLine]:
    policy, rows, cols = prep.policy, prep.rows, prep.columns
    lines = []
    for j, r in enumerate(rid):
        st = int(status[j])
        if rows.visible_from[r] > t or rows.known[r] > t:
            continue  # nobody knew of this version at t
        rec = int(rows.record[r])
        code = int(rows.type_code[r])
        life = int(policy.lifetime[code]) if code >= 0 else NEVER
        expires = int(rows.occurred[r]) + life if life < NEVER else NEVER
        amount = float(rows.amount[r])
        lines.append(
            RecordLine(
                row=int(r),
                source=str(cols.rec_source[rec]),
                id=str(cols.rec_id[rec]),
                type=policy.type_names[code] if code >= 0 else str(cols.rec_type[rec]),
                occurred_at=int(rows.occurred[r]),
                recorded_at=int(rows.known[r]),
                points=float(policy.points[code]) if code >= 0 else 0.0,
                contribution=float(contribution[j]),
                status=STATUS_NAMES[st],
                expires_at=_opt(expires),
                resolved_at=_opt(int(rows.resolved[r])) if rows.resolved[r] <= t else None,
                disputed_at=_opt(int(rows.disputed[r])) if rows.disputed[r] <= t else None,
                rectified=bool(rows.rectification[r] >= 0),
                amount=None if np.isnan(amount) else amount,
            )
        )
    return lines


@dataclass(frozen=True)
class BulkStandings:
    """Everyone's standing at one time, as arrays indexed like ``columns.subjects``."""

    at: int
    policy: CompiledPolicy
    subjects: list[str]
    score: npt.NDArray[np.float64]
    grade: I64
    lists: npt.NDArray[np.bool_]  # [n_lists, n_subjects]
    measures: npt.NDArray[np.bool_]  # [n_sanctions, n_subjects], own and through relations


def bulk_standings(prep: Prepared, t: int) -> BulkStandings:
    """Score, grade, lists and measures in force for every subject at ``t``, vectorised."""
    policy = prep.policy
    n = prep.columns.n_subjects
    ev = evaluate_subjects_at(policy, prep.rows, n, t)
    own = ev.triggers.copy()
    bounded = [s for s in policy.sanctions if s.fixed is not None or s.max_duration is not None]
    if bounded:
        candidates = np.zeros(n, dtype=bool)
        for s in bounded:
            candidates |= ev.triggers[s.index]
        fixed = [s.fixed for s in bounded if s.fixed is not None]
        if fixed:
            # a fixed-period measure may outlast its trigger: look at anyone whose standing
            # changed within the longest period
            owners, when = row_breakpoints(
                policy, prep.rows, np.arange(len(prep.rows), dtype=np.int64), t
            )
            recent = (when > t - max(fixed)) & (when <= t)
            candidates[prep.rows.subject[owners[recent]]] = True
        cand = np.flatnonzero(candidates).tolist()
        tls = timelines(policy, prep.rows, cand, t)
        for s in bounded:
            own[s.index] = False
            for c in cand:
                if _own_measure(prep, tls, c, s, t) is not None:
                    own[s.index, c] = True
    measures = own.copy()
    rel_ok = _relations_at(prep, t)
    for s in policy.sanctions:
        for rel in s.reach:
            code = policy.relation_names.index(rel)
            sel = rel_ok & (prep.relations.type_code == code)
            subj = prep.relations.subject[sel]
            measures[s.index, subj[own[s.index, prep.relations.related[sel]]]] = True
    return BulkStandings(
        t, policy, list(prep.columns.subjects), ev.score, ev.grade, ev.lists, measures
    )
