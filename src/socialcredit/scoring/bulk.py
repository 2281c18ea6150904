"""Everyone's standing at once: score, grade, lists and measures as arrays (vectorised).

Besides which measures are in force for whom, it keeps why, in a form that costs nothing
to build for a nation: each subject's own measures (their own trigger), and each measure
that reaches a subject through a relation, with the relation and the related subject.
``reasons`` turns that into words for the few rows a command prints or exports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from socialcredit.columns import SUBJECT_KINDS
from socialcredit.ledger.backfills import Backfill
from socialcredit.policy.compiled import CompiledPolicy, CompiledSanction, span_bound
from socialcredit.policy.describe import condition_text
from socialcredit.scoring.evaluate import evaluate_subjects_at
from socialcredit.scoring.facts import SubjectFacts, exemption_in_force
from socialcredit.scoring.measures import (
    counted_types,
    own_measure,
    relations_at,
    types_counted,
)
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.timeline import row_breakpoints, timelines, triggered_ever, year_ends
from socialcredit.scoring.wallets import WalletTotals

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


def _none() -> I64:
    return np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Inherited:
    """Measures that reach subjects through relations, one entry per (measure, relation row).

    Entry ``j``: measure ``sanction[j]`` reaches subject ``subject[j]`` because that subject
    stands in relation ``relation[j]`` (index into ``policy.relation_names``) to
    ``related[j]``, on whom the measure is in force.
    """

    sanction: I64 = field(default_factory=_none)
    subject: I64 = field(default_factory=_none)
    relation: I64 = field(default_factory=_none)
    related: I64 = field(default_factory=_none)


@dataclass(frozen=True)
class MeasureReason:
    """One measure in force for a subject and why, in words.

    ``reason``: the lists of its trigger the subject is on (comma-separated), or the
    condition that holds, or, for a measure that comes through a relation, the relation and
    the related subject (``child_of P123``).
    """

    sanction: CompiledSanction
    reason: str
    via_relation: str | None = None
    via_subject: str | None = None


@dataclass(frozen=True)
class BulkStandings:
    """Everyone's standing at one time, as arrays indexed like ``columns.subjects``."""

    at: int
    policy: CompiledPolicy
    subjects: list[str]
    score: npt.NDArray[np.float64]  # the first score
    grade: I64  # its grade band (index into ``policy.grade_names``); -1: not determinable
    lists: Mask  # [n_lists, n_subjects]
    measures: Mask  # [n_sanctions, n_subjects], own and through relations
    kind: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    own: Mask | None = None  # [n_sanctions, n_subjects]: in force through the subject's own trigger
    triggers: Mask | None = None  # [n_sanctions, n_subjects]: the trigger holds at ``at``
    inherited: Inherited = field(default_factory=Inherited)
    # backfill batches loaded after ``at`` with entries counted here (set by the engine)
    backfilled: tuple[Backfill, ...] = ()
    # per subject: the ledger had received an entry about it by ``at`` (set by the engine;
    # None: everyone). A subject it learned of only later is not one of the subjects then.
    known: Mask | None = None
    # [n_sanctions, n_subjects]: a denial in force that the subject's exemption waives at
    # ``at`` (None: no exemption is in force for anyone)
    exempted: Mask | None = None
    # the subjects' exemptions (for ``exempt_on``); None: none
    facts: SubjectFacts | None = field(default=None, compare=False, repr=False)

    def exempt_on(self, service: str) -> Mask:
        """Per subject, whether an exemption allows ``service`` at ``at`` (one on it or on a
        service it is part of)."""
        rows = exemption_in_force(
            self.facts,
            np.arange(len(self.subjects), dtype=np.int64),
            self.policy.service_chain(service),
            self.at,
        )
        out: Mask = rows >= 0
        return out

    def denied_on(self, service: str, *, not_granted: bool = True) -> Mask:
        """Per subject, whether ``service`` is denied: a denial covering it is in force and
        no exemption allows it, or (unless ``not_granted`` is False: sanctions only) it is a
        ``granted`` service no benefit gives (as ``decide`` of each standing without request
        attributes)."""
        out: Mask = self.with_measure_on(service) & ~self.exempt_on(service)
        if not_granted and service in self.policy.granted_services():
            out |= ~self.with_measure_on(service, "benefit")
        return out

    def denied(self) -> Mask:
        """[n_sanctions, n_subjects]: measures in force, less the denials an exemption of
        their own service waives (benefits as ``measures``)."""
        if self.exempted is None:
            return self.measures
        out: Mask = self.measures & ~self.exempted
        return out

    scores: tuple[npt.NDArray[np.float64], ...] = ()  # every score (``policy.scores``)
    grades: tuple[I64, ...] = ()  # their grade bands; -1: not determinable
    components: tuple[npt.NDArray[np.float64], ...] = ()  # per score: earned, before bounds
    wallets: tuple[WalletTotals | None, ...] = ()  # per score: a wallet's totals (else None)

    def grade_name(self, i: int, score: int = 0) -> str | None:
        """Subject index ``i``'s grade on score ``score``; None when not determinable."""
        grades = self.grades[score] if self.grades else self.grade
        return self.policy.scores[score].grade_label(int(grades[i]))

    def with_measure_on(self, service: str, effect: str = "deny") -> Mask:
        """Per subject, whether a measure (by default a denial) covering ``service`` is in
        force: on it or on a service it is part of, whatever requests the measure is limited
        to (as ``decide`` of each subject's standing without request attributes)."""
        rows = [s.index for s in self.policy.covering(service) if s.effect == effect]
        return np.asarray(self.measures[rows].any(axis=0), dtype=np.bool_)

    def kind_name(self, i: int) -> str:
        """``person`` or ``organisation`` for subject index ``i``."""
        return SUBJECT_KINDS[int(self.kind[i])]

    def reasons(
        self, indices: Sequence[int], sanctions: Sequence[int] | None = None
    ) -> list[list[MeasureReason]]:
        """For each subject index in ``indices``, every measure in force and why.

        ``sanctions``: only these measures (indices into ``policy.sanctions``); default all.
        In declaration order of the measures, own measures before inherited ones.
        """
        policy = self.policy
        wanted = range(len(policy.sanctions)) if sanctions is None else sanctions
        idx = np.asarray(indices, dtype=np.int64)
        out: list[list[MeasureReason]] = [[] for _ in range(len(idx))]
        own = self.own if self.own is not None else self.measures
        for k in wanted:
            s = policy.sanctions[k]
            pos = np.flatnonzero(own[k, idx])
            for p, text in zip(pos.tolist(), self.own_reasons(k, idx[pos]), strict=True):
                out[p].append(MeasureReason(s, text))
        inh = self.inherited
        if len(inh.sanction) and len(idx):
            where = {int(i): pos for pos, i in enumerate(idx.tolist())}
            hit = np.isin(inh.subject, idx) & np.isin(inh.sanction, np.asarray(list(wanted)))
            for j in np.flatnonzero(hit).tolist():
                s = policy.sanctions[int(inh.sanction[j])]
                relation = policy.relation_names[int(inh.relation[j])]
                related = self.subjects[int(inh.related[j])]
                out[where[int(inh.subject[j])]].append(
                    MeasureReason(s, f"{relation} {related}", relation, related)
                )
        return out

    def reason_texts(self) -> list[list[str]]:
        """For every subject, the reasons of the measures in force (as in ``reasons``), once each.

        Built a measure at a time over everyone, for exports of a whole population.
        """
        out: list[list[str]] = [[] for _ in self.subjects]
        own = self.own if self.own is not None else self.measures
        for k in range(len(self.policy.sanctions)):
            rows = np.flatnonzero(own[k])
            for i, text in zip(rows.tolist(), self.own_reasons(k, rows), strict=True):
                if text not in out[i]:
                    out[i].append(text)
        inh = self.inherited
        names = self.policy.relation_names
        for i, rel, related in zip(
            inh.subject.tolist(), inh.relation.tolist(), inh.related.tolist(), strict=True
        ):
            text = f"{names[rel]} {self.subjects[related]}"
            if text not in out[i]:
                out[i].append(text)
        return out

    def own_reasons(self, k: int, rows: I64) -> list[str]:
        """Why measure ``k`` is in force through their own trigger, for subjects ``rows``.

        The lists of its trigger the subject is on; else (a trigger on the grade) the grade,
        or the condition; "(ended; a fixed-term measure)" when the trigger no longer holds.
        Computed once per distinct combination of those facts, so it is cheap for everyone.
        """
        policy = self.policy
        s = policy.sanctions[k]
        named = list(dict.fromkeys(s.lists))
        key = np.zeros(len(rows), dtype=np.int64)
        for bit, name in enumerate(named):
            key |= self.lists[policy.list_index(name), rows].astype(np.int64) << bit
        holds = self.triggers[k, rows] if self.triggers is not None else np.ones(len(rows), bool)
        key |= holds.astype(np.int64) << len(named)
        # grade + 1: a grade that cannot be decided is -1
        key |= (self.grade[rows].astype(np.int64) + 1) << (len(named) + 1)
        distinct, inverse = np.unique(key, return_inverse=True)
        texts = [self._own_reason(s, named, int(code)) for code in distinct.tolist()]
        return [texts[j] for j in inverse.reshape(-1).tolist()]

    def _own_reason(self, s: CompiledSanction, named: list[str], code: int) -> str:
        on = [name for bit, name in enumerate(named) if code >> bit & 1]
        holds = bool(code >> len(named) & 1)
        grade = (code >> (len(named) + 1)) - 1
        if holds and on:
            return ", ".join(on)
        if holds and s.when.grade_in is not None and s.when.score_named() is None:
            return f"grade {self.policy.grade_names[grade]}"
        text = condition_text(s.when, lists=not holds)
        if not on and text.startswith("on list "):
            text = text.removeprefix("on list ")
        return text if holds else f"{text} (ended; a fixed-term measure)"


def bulk_standings(prep: Prepared, t: int) -> BulkStandings:
    """Score, grade, lists and measures in force for every subject at ``t``, vectorised."""
    policy = prep.policy
    n = prep.columns.n_subjects
    ev = evaluate_subjects_at(policy, prep.rows, n, t)
    own = ev.triggers.copy()
    bounded = [
        s
        for s in policy.sanctions
        if s.fixed is not None
        or s.max_duration is not None
        or s.after_resolution is not None
        or s.notice is not None
    ]
    if bounded:
        candidates = np.zeros(n, dtype=bool)
        for s in bounded:
            candidates |= ev.triggers[s.index]
            if s.after_resolution is not None:
                # it may outlast its trigger until its records are resolved, and after:
                # anyone with a record its condition can count
                table = counted_types(policy, s)
                if table is None:
                    candidates[:] = True
                else:
                    candidates[prep.rows.subject[table[prep.rows.type_code]]] = True
        # a fixed-period measure may outlast its trigger, and one with a publicity period
        # starts when the period ends (or at a decision after it, a breakpoint): look at
        # anyone whose standing changed within the longest such reach into the past
        # (only rows of the record types its condition can count: no other row changes it)
        reach = [
            (
                s,
                (s.fixed.longest() if s.fixed is not None else 0)
                + (span_bound(policy, s.notice) if s.notice is not None else 0),
            )
            for s in bounded
            if s.fixed is not None or s.notice is not None
        ]
        for s, back in reach:
            table = counted_types(policy, s)
            rid = (
                np.arange(len(prep.rows), dtype=np.int64)
                if table is None
                else np.flatnonzero(table[prep.rows.type_code]).astype(np.int64)
            )
            owners, when = row_breakpoints(policy, prep.rows, rid, t)
            when = policy.next_evaluation(when)  # a change shows at the next re-evaluation
            recent = (when > t - back) & (when <= t)
            candidates[prep.rows.subject[owners[recent]]] = True
        if reach:
            longest = max(back for _, back in reach)
            # a clean-year reward changes scores at a year's end, whatever the records
            ends = policy.next_evaluation(year_ends(policy, t))
            if any(s.uses_score for s in bounded) and ((ends > t - longest) & (ends <= t)).any():
                candidates[:] = True
        cand = np.flatnonzero(candidates).tolist()
        # the candidates' timelines need only these measures' conditions (and the lists they
        # name): only the rows of the record types those can count are evaluated, as a
        # decision on one service does (``measures_for_service``); the others cannot change
        # them, so their times are no breakpoints of these measures
        counted = types_counted(policy, bounded)
        some = prep
        if counted is not None:
            some = prep.with_rows(prep.rows.take(np.flatnonzero(counted[prep.rows.type_code])))
        tls = timelines(policy, some.rows, cand, t, [s.index for s in bounded])
        for s in bounded:
            own[s.index] = False
            # a measure is in force only within or after a period its trigger held: no
            # period for a subject whose trigger never held (most candidates)
            held = np.asarray(cand, dtype=np.int64)[triggered_ever(tls, cand, s.index)]
            for c in held.tolist():
                if own_measure(some, tls, c, s, t) is not None:
                    own[s.index, c] = True
    measures = own.copy()
    rel_ok = relations_at(prep, t)
    parts: list[tuple[I64, I64, I64, I64]] = []
    for s in policy.sanctions:
        for rel in s.reach:
            code = policy.relation_names.index(rel)
            sel = rel_ok & (prep.relations.type_code == code)
            subj = prep.relations.subject[sel]
            related = prep.relations.related[sel]
            through = own[s.index, related]
            measures[s.index, subj[through]] = True
            if through.any():
                m = int(through.sum())
                parts.append(
                    (
                        np.full(m, s.index, dtype=np.int64),
                        subj[through].astype(np.int64),
                        np.full(m, code, dtype=np.int64),
                        related[through].astype(np.int64),
                    )
                )
    inherited = (
        Inherited(*(np.concatenate(column) for column in zip(*parts, strict=True)))
        if parts
        else Inherited()
    )
    return BulkStandings(
        t,
        policy,
        list(prep.columns.subjects),
        ev.score,
        ev.grade,
        ev.lists,
        measures,
        kind=prep.columns.subject_kind,
        own=own,
        triggers=ev.triggers,
        inherited=inherited,
        exempted=_exempted(prep, measures, t),
        facts=prep.rows.facts,
        scores=ev.scores,
        grades=ev.grades,
        components=ev.components,
        wallets=ev.wallets,
    )


def _exempted(prep: Prepared, measures: Mask, t: int) -> Mask | None:
    """Which denials in force an exemption of their subject waives at ``t``, or None."""
    facts = prep.rows.facts
    if facts is None or not len(facts.exemptions.subject):
        return None
    everyone = np.arange(prep.columns.n_subjects, dtype=np.int64)
    out = np.zeros_like(measures)
    by_service: dict[str, Mask] = {}
    for s in prep.policy.sanctions:
        if s.effect != "deny":
            continue
        if s.service not in by_service:
            chain = prep.policy.service_chain(s.service)
            by_service[s.service] = exemption_in_force(facts, everyone, chain, t) >= 0
        out[s.index] = measures[s.index] & by_service[s.service]
    return out if out.any() else None
