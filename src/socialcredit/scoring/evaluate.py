"""Vectorised evaluation of a compiled policy over record versions, at given times.

Evaluation works on *groups*: a group is one subject seen at one evaluation time ``e`` with
what was known at time ``k`` (``e <= k``). Scoring everyone now is one group per subject
with ``e = k = now``; a subject's timeline is one group per instant of interest. Rows are
given by index (``ridx``) with the group they belong to (``gidx``), so a row may serve
several groups without being copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import DELETE, FLAG, CompiledPolicy, later
from socialcredit.policy.model import Predicate, RecordCondition
from socialcredit.scoring.facts import eligibility_plan, eligible
from socialcredit.scoring.forms import FORMS, FormInput
from socialcredit.scoring.population import rank_holds, related_values
from socialcredit.scoring.rows import Rows, per_process
from socialcredit.scoring.wallets import WalletTotals
from socialcredit.spans import Span
from socialcredit.timeutil import NEVER

NO_DELAY = Span()

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

# Row status codes, in the order they are decided (first that applies wins).
COUNTS, NOT_YET_KNOWN, SUPERSEDED, EXPIRED, DELETED_OVERDUE, SUSPENDED, UNKNOWN_TYPE = range(7)
INELIGIBLE = 7
STATUS_NAMES = (
    "counts",
    "not yet known",
    "annulled or rectified",
    "expired",
    "deleted: dispute not decided in time",
    "suspended while disputed",
    "not a record type of this policy",
    "not counted: the subject is not eligible for this record type",
)


@dataclass(frozen=True)
class Evaluation:
    """What a policy says about each group, with the per-row detail behind it."""

    n_groups: int
    score: F64  # the first score
    grade: I64  # its grade band; -1: not determinable (unpublished cut-offs)
    lists: Bools  # [n_lists, n_groups]
    triggers: Bools  # [n_sanctions, n_groups]: the condition holds (before durations, reach)
    status: npt.NDArray[np.int8]  # per (ridx) entry
    contribution: F64  # points each entry adds to its group's score
    unresolved: Bools  # per entry: not resolved (ignoring list delays)
    # [n_sanctions, n_groups]: an objection (an open dispute) is pending against a record
    # the condition of a measure with a blocking publicity period counts; None: no such measure
    blocked: Bools | None = None
    # [n_lists, n_groups]: the list's condition holds but the subject is not eligible for
    # it (so is not on it); None when the policy has no eligibility conditions on lists
    ineligible: Bools | None = None
    scores: tuple[F64, ...] = ()  # per score (``policy.scores``), per group
    grades: tuple[I64, ...] = ()
    components: tuple[F64, ...] = ()  # per score: [n_components, n_groups], before bounds
    wallets: tuple[WalletTotals | None, ...] = ()  # per score: a wallet's totals (else None)
    ratings: tuple[F64 | None, ...] = ()  # per score of the rating form: ratings counted


class EvaluationContext:
    """Per-entry state of one evaluation: status, activity, the groups' lists."""

    def __init__(
        self,
        policy: CompiledPolicy,
        rows: Rows,
        ridx: I64,
        gidx: I64,
        e_group: I64,
        k_group: I64,
        g_subject: I64 | None = None,
        own_only: bool = False,
    ) -> None:
        """``own_only``: every ``related`` component at its base (a subject's own score,
        which related subjects' components read; ``scoring.population``)."""
        self.policy = policy
        self.n_groups = len(e_group)
        self.gidx = gidx
        e = e_group[gidx]
        k = k_group[gidx]
        self.e = e
        code = rows.type_code[ridx]
        known_type = code >= 0
        safe_code = np.where(known_type, code, 0)
        self.code = np.where(known_type, code, len(policy.type_names))
        occurred = rows.occurred[ridx]
        self.occurred = occurred
        expires = rows.expires[ridx]  # computed once per version by ``fold``
        self.expires = expires
        self.resolved_raw = rows.resolved[ridx]

        def seen(times: I64) -> I64:
            return np.where(times <= k, times, NEVER)

        self._seen = seen
        self._rows, self._ridx = rows, ridx

        visible = (rows.visible_from[ridx] <= k) & (rows.hidden_from[ridx] > k)
        known_now = rows.known[ridx] <= e
        disputed = seen(rows.disputed[ridx])
        decided = seen(rows.decided[ridx])
        self._k, self._disputed, self._decided = k, disputed, decided
        self._at: I64 | None = None
        self.flagged: Bools | None = None  # per entry: overdue, kept and reported (``flag``)
        if policy.uniform_process:
            # only the entries disputed as known can be overdue or suspended
            at = self._dispute_rows()
            overdue = np.zeros(len(ridx), dtype=bool)
            suspended = np.zeros(len(ridx), dtype=bool)
            if len(at):
                e_at, disputed_at, decided_at = e[at], disputed[at], decided[at]
                deadline = later(policy, disputed_at, policy.reinvestigation_deadline)
                overdue[at] = (e_at >= deadline) & (decided_at > deadline)
                if not policy.disputed_records_count:
                    suspended[at] = (disputed_at <= e_at) & (e_at < decided_at)
        else:
            overdue, suspended = self._stages(policy, rows, ridx, e, disputed, decided)
        status = np.full(len(ridx), COUNTS, dtype=np.int8)
        # assign in reverse priority so the first reason that applies is the one kept
        status[suspended] = SUSPENDED
        status[overdue] = DELETED_OVERDUE
        status[e >= expires] = EXPIRED
        status[~visible] = SUPERSEDED
        status[~known_now] = NOT_YET_KNOWN
        status[~known_type] = UNKNOWN_TYPE
        # eligibility: per group, for each condition set of the policy (a policy without
        # any pays one cached lookup)
        plan = eligibility_plan(policy)
        if g_subject is None and (plan.any or policy.across_subjects):
            # each group's subject: that of its first entry (-1: none)
            g_subject = np.full(self.n_groups, -1, dtype=np.int64)
            g_subject[gidx[::-1]] = rows.subject[ridx[::-1]]
        self.g_subject = g_subject
        self.e_group, self.k_group = e_group, k_group
        if plan.any:
            assert g_subject is not None
            type_set = plan.type_set[self.code]
            # (which sets occur: one flag per set, -1 for none, rather than a sort)
            present = np.zeros(len(plan.sets) + 1, dtype=bool)
            present[type_set] = True
            # a set is evaluated for the groups with an entry of a type it governs that
            # would count (a list's: see ``list_eligible``); no other answer is read
            for i in np.flatnonzero(present[:-1]).tolist():
                governed = np.flatnonzero((type_set == i) & (status == COUNTS))
                if not len(governed):
                    continue
                ok = self._set_ok(i, distinct_groups(gidx[governed], self.n_groups))
                status[governed[~ok[gidx[governed]]]] = INELIGIBLE
        self.status = status
        self.active = status == COUNTS
        self.resolved_at = seen(rows.resolved[ridx])

        factor = np.ones(len(ridx), dtype=np.float64)
        decays = policy.decays[safe_code] & known_type
        if decays.any():
            span = np.maximum(expires[decays] - occurred[decays], 1).astype(np.float64)
            age = (e[decays] - occurred[decays]).astype(np.float64)
            factor[decays] = np.clip(1.0 - age / span, 0.0, 1.0)
        weight = np.where(self.active, factor, 0.0)
        inp = FormInput(
            safe_code,
            weight,
            gidx,
            self.n_groups,
            occurred,
            # which records happened matters only to a clean-year reward and a wallet
            (status == COUNTS) | (status == EXPIRED)
            if policy.clean_year_components or policy.wallets
            else self.active,
            e_group,
            rows.amount[ridx] if policy.wallets or policy.rating_scores else None,
            rater=None if rows.rater is None else rows.rater[ridx],
            known=rows.known[ridx] if policy.rating_scores else None,
            related=self._related(policy, rows, own_only),
            wallet_ends=tuple(
                rows.shifted(policy, "occurred", sc.wallet.expire_after)[ridx]
                if sc.wallet is not None and sc.wallet.expire_after is not None
                else None
                for sc in policy.scores
            )
            if policy.wallets
            else (),
        )
        results = [FORMS[sc.form](policy, sc, inp) for sc in policy.scores]
        self.ratings = tuple(r.ratings for r in results)
        self.contribution = results[0].contribution
        self.scores = tuple(r.score for r in results)
        self.grades = tuple(
            sc.grade_of(r.score) for sc, r in zip(policy.scores, results, strict=True)
        )
        self.components = tuple(r.components for r in results)
        self.wallets = tuple(r.wallet for r in results)
        self.score = self.scores[0]
        self.grade = self.grades[0]
        self.lists: Bools | None = None
        self._type_masks: dict[tuple[str, ...], Bools] = {}
        # answers already computed, by (id of the condition, delisting delay): evaluation,
        # then the walks that say which parts hold (``scoring.reasons``), ask for the same
        # conditions again; the conditions belong to the policy and outlive this context.
        # The arrays are read-only, so no caller can change an answer another one reads.
        self._matching: dict[tuple[int, Span], Bools] = {}
        # per anchored condition (as ``_matching``): the entries whose windows are full
        self._anchors: dict[tuple[int, Span], Bools] = {}
        self._holds: dict[tuple[int, Span], Bools] = {}

    def _related(
        self, policy: CompiledPolicy, rows: Rows, own_only: bool
    ) -> dict[tuple[int, int], F64] | None:
        """Each related component's value per group (None: at their bases)."""
        if own_only or not policy.related_components:
            return None
        if rows.population is None or self.g_subject is None:
            raise ValueError("a related component needs the related subjects' rows")
        return related_values(policy, rows, self.g_subject, self.e_group, self.k_group)

    def _set_ok(self, i: int, groups: I64) -> Bools:
        """Per group, whether its subject meets the policy's eligibility condition set ``i``
        (``eligibility_plan``) at its time: worked out for ``groups`` alone (every answer
        is its own query), True for the others."""
        out = np.ones(self.n_groups, dtype=bool)
        if len(groups):
            assert self.g_subject is not None
            conditions = eligibility_plan(self.policy).sets[i]
            out[groups] = eligible(
                self._rows.facts,
                self.policy,
                conditions,
                self.g_subject[groups],
                self.e_group[groups],
                self.k_group[groups],
            )
        return out

    def list_eligible(self, index: int, holds: Bools) -> Bools | None:
        """Per group, whether its subject is eligible for list ``index`` (None: the list has
        no eligibility condition), worked out where its condition ``holds`` (True
        elsewhere: no other group can be on it)."""
        i = int(eligibility_plan(self.policy).list_set[index])
        if i < 0:
            return None
        return self._set_ok(i, np.flatnonzero(holds).astype(np.int64))

    def _dispute_rows(self) -> I64:
        """The entries disputed, or whose reconsideration was asked, as known (``seen``):
        no other can be overdue, suspended or under a pending objection (a time never
        reached is NEVER, and evaluation times are before it). Every entry when some
        evaluation time is not before NEVER."""
        if self._at is None:
            rows, ridx, e = self._rows, self._ridx, self.e
            if len(e) and int(e.max()) >= NEVER:
                self._at = np.arange(len(ridx), dtype=np.int64)
            else:
                asked = rows.reconsidered[ridx]
                asked_seen = (asked <= self._k) & (asked < NEVER)
                self._at = np.flatnonzero((self._disputed < NEVER) | asked_seen).astype(np.int64)
        return self._at

    def _seen_at(self, column: I64, at: I64) -> I64:
        """``seen`` of the entries ``at`` of a row column."""
        times = column[self._ridx[at]]
        return np.where(times <= self._k[at], times, NEVER)

    def _stages(
        self,
        policy: CompiledPolicy,
        rows: Rows,
        ridx: I64,
        e_all: I64,
        disputed_all: I64,
        decided_all: I64,
    ) -> tuple[Bools, Bools]:
        """Per-record due process: the review and reconsideration deadlines, what missing
        one does, and suspension while either stage is open. Returns (deleted for a missed
        deadline, suspended); sets ``flagged`` (kept but overdue). Worked out for the
        entries disputed or reconsidered alone (``_dispute_rows``); every other is neither."""
        n = len(ridx)
        at = self._dispute_rows()
        deleted = np.zeros(n, dtype=bool)
        suspended = np.zeros(n, dtype=bool)
        self.flagged = np.zeros(n, dtype=bool)
        if not len(at):
            return deleted, suspended
        e, disputed, decided = e_all[at], disputed_all[at], decided_all[at]
        process = rows.process[ridx[at]]
        reconsidered = self._seen_at(rows.reconsidered, at)
        decided2 = self._seen_at(rows.reconsideration_decided, at)
        deadline = per_process(policy, disputed, process, "review_deadline")
        deadline2 = per_process(policy, reconsidered, process, "reconsider_deadline")
        overdue = ((e >= deadline) & (decided > deadline)) | (
            (e >= deadline2) & (decided2 > deadline2)
        )
        tables = policy.cache.get("process_tables")
        if tables is None:  # per process: what a missed deadline does, counted while disputed
            tables = policy.cache["process_tables"] = (
                np.array([p.overdue_code for p in policy.processes], dtype=np.int8),
                np.array([p.counts_while_disputed for p in policy.processes], dtype=bool),
            )
        codes, counts = tables[0][process], tables[1]
        open_ = ((disputed <= e) & (e < decided)) | ((reconsidered <= e) & (e < decided2))
        self.flagged[at] = overdue & (codes == FLAG)
        deleted[at] = overdue & (codes == DELETE)
        suspended[at] = open_ & ~counts[process]
        return deleted, suspended

    def type_mask(self, names: tuple[str, ...], category: str | None) -> Bools:
        key = (*names, f"category:{category}")
        mask = self._type_masks.get(key)
        if mask is None:
            table = self.policy.cache.get(("type_table", key))
            if table is None:
                table = np.zeros(len(self.policy.type_names) + 1, dtype=bool)
                for i, name in enumerate(self.policy.type_names):
                    table[i] = name in names or self.policy.category[i] == category
                self.policy.cache[("type_table", key)] = table
            mask = table[self.code]
            self._type_masks[key] = mask
        return mask

    def matching(self, cond: RecordCondition, delist_delay: Span) -> Bools:
        """Per entry: the row is an active record that ``cond`` counts (read-only)."""
        key = (id(canonical(self.policy, cond)), delist_delay)
        known = self._matching.get(key)
        if known is None:
            known = self._matching[key] = _frozen(self._matching_now(cond, delist_delay))
        return known

    def objection_pending(self, pred: Predicate) -> Bools:
        """Per group: an objection is pending (a dispute open, at either stage) against a
        record that ``pred`` (or a list it names) counts, or would count were it not
        suspended for the dispute."""
        rows, ridx = self._rows, self._ridx
        # (the disputed or reconsidered entries alone: no other has a stage open)
        at = self._dispute_rows()
        e = self.e[at]
        open_at = (self._disputed[at] <= e) & (e < self._decided[at])
        if self.policy.any_reconsideration:
            open_at |= (self._seen_at(rows.reconsidered, at) <= e) & (
                e < self._seen_at(rows.reconsideration_decided, at)
            )
        open_ = np.zeros(len(ridx), dtype=bool)
        open_[at] = open_at
        base = open_ & ((self.status == COUNTS) | (self.status == SUSPENDED))
        mask = np.zeros(len(ridx), dtype=bool)
        if base.any():
            for cond, delay in self._record_conditions(pred, NO_DELAY):
                mask |= self._matching_now(cond, delay, base)
        result: Bools = np.bincount(self.gidx[mask], minlength=self.n_groups) > 0
        return result

    def _record_conditions(
        self, pred: Predicate, delay: Span
    ) -> list[tuple[RecordCondition, Span]]:
        """The records conditions ``pred`` counts through ``all``, ``any`` and lists."""
        out: list[tuple[RecordCondition, Span]] = []
        if pred.records is not None:
            out.append((pred.records, delay))
        for child in (pred.all_ or []) + (pred.any_ or []):
            out += self._record_conditions(child, delay)
        if pred.on_list is not None:
            lst = self.policy.lists[self.policy.list_index(pred.on_list)]
            out += self._record_conditions(lst.when, lst.delist_delay)
        return out

    def _matching_now(
        self, cond: RecordCondition, delist_delay: Span, base: Bools | None = None
    ) -> Bools:
        mask = (self.active if base is None else base) & self.type_mask(
            tuple(cond.type_names()), cond.category
        )
        # (the tests below are made on the entries still matching alone: a few of them)
        if cond.unresolved:
            # resolved_at is the row's resolution when seen, else NEVER (which stays NEVER)
            at = np.flatnonzero(mask)
            lifted = np.where(
                self.resolved_at[at] < NEVER,
                self._rows.shifted(self.policy, "resolved", delist_delay)[self._ridx[at]],
                NEVER,
            )
            mask[at] = self.e[at] < lifted
        if cond.after is not None:
            mask = self._in_anchored_window(cond, mask, delist_delay)
        elif cond.within is not None:
            at = np.flatnonzero(mask)
            ends = self._rows.shifted(self.policy, "occurred", cond.within)[self._ridx[at]]
            mask[at] = ends > self.e[at]
        result: Bools = mask
        return result

    def anchors(self, cond: RecordCondition, delist_delay: Span) -> Bools:
        """Per entry: the record opens a window of anchored ``cond`` holding ``at_least``
        records (all False for a condition without ``after``)."""
        self.matching(cond, delist_delay)
        found = self._anchors.get((id(canonical(self.policy, cond)), delist_delay))
        return found if found is not None else np.zeros(len(self.gidx), dtype=bool)

    def _in_anchored_window(self, cond: RecordCondition, mask: Bools, delay: Span) -> Bools:
        """The entries of ``mask`` that lie in a window of ``cond`` holding ``at_least``
        records: a window opens at an anchoring event (a known resolution of a record of
        ``cond.after``'s type, or such a record's occurrence) that happened by the group's
        time, and takes the records that occurred after it, within ``cond.within`` of it.
        The window is fixed in time: the records in it are not tested again as time passes.
        An anchoring record counts while it is known and not annulled, rectified away,
        suspended or deleted; an expired one still anchors (its resolution still happened).
        """
        anchor = cond.after
        assert anchor is not None
        known_record = (self.status == COUNTS) | (self.status == EXPIRED)
        anchors = known_record & self.type_mask((anchor.type_name,), None)
        if anchor.resolution_of is not None:
            at = self.resolved_at
            anchors &= at <= self.e
        else:
            at = self.occurred
        a_idx = np.flatnonzero(anchors)
        m_idx = np.flatnonzero(mask)
        out = np.zeros(len(mask), dtype=bool)
        if not len(a_idx) or not len(m_idx):
            return out
        # one sorted key per (group, time): windows never cross groups. Groups are numbered
        # among those involved, so the keys stay far inside int64.
        occ = self.occurred[m_idx]
        a_at = at[a_idx]
        low = int(min(occ.min(), a_at.min()))
        width = cond.within.longest() if cond.within is not None else 0
        span = int(max(occ.max(), a_at.max())) - low + width + 2
        _, number = np.unique(
            np.concatenate([self.gidx[m_idx], self.gidx[a_idx]]), return_inverse=True
        )
        number = number.reshape(-1).astype(np.int64)
        m_group, a_group = number[: len(m_idx)], number[len(m_idx) :]
        m_key = m_group * span + (occ - low)
        order = np.argsort(m_key, kind="stable")
        m_sorted = m_key[order]
        a_base = a_group * span
        start = a_base + (a_at - low)
        # records strictly after the anchor ...
        lo = np.searchsorted(m_sorted, start, side="right")
        if cond.within is not None:
            # ... that occurred less than ``within`` after it
            ends = self.policy.after(a_at, cond.within)
            hi = np.searchsorted(m_sorted, a_base + (ends - low), side="left")
        else:
            hi = np.searchsorted(m_sorted, a_base + span - 1, side="left")
        full = (hi - lo) >= cond.at_least
        opened = np.zeros(len(mask), dtype=bool)
        opened[a_idx[full]] = True
        self._anchors[(id(canonical(self.policy, cond)), delay)] = opened
        if not full.any():
            return out
        cover = np.zeros(len(m_sorted) + 1, dtype=np.int64)
        np.add.at(cover, lo[full], 1)
        np.add.at(cover, hi[full], -1)
        inside = np.cumsum(cover[:-1]) > 0
        out[m_idx[order[inside]]] = True
        return out

    def holds(self, pred: Predicate, delist_delay: Span) -> Bools:
        """Per group: ``pred`` holds (read-only). A condition on a list reads ``lists``."""
        key = (id(canonical(self.policy, pred)), delist_delay)
        known = self._holds.get(key)
        if known is None:
            known = self._holds[key] = _frozen(self._holds_now(pred, delist_delay))
        return known

    def _holds_now(self, pred: Predicate, delist_delay: Span) -> Bools:
        if pred.all_ is not None:
            out = np.ones(self.n_groups, dtype=bool)
            for child in pred.all_:
                out &= self.holds(child, delist_delay)
            return out
        if pred.any_ is not None:
            out = np.zeros(self.n_groups, dtype=bool)
            for child in pred.any_:
                out |= self.holds(child, delist_delay)
            return out
        if pred.not_ is not None:
            return ~self.holds(pred.not_, delist_delay)
        if pred.records is not None:
            mask = self.matching(pred.records, delist_delay)
            counts = np.bincount(self.gidx[mask], minlength=self.n_groups)
            result: Bools = counts >= pred.records.at_least
            return result
        if pred.score_below is not None or pred.score_at_least is not None:
            values = self.scores[self.policy.score_index(pred.score_named())]
            threshold = pred.threshold()
            assert threshold is not None
            if pred.score_below is not None:
                below: Bools = values < threshold
                return below
            above: Bools = values >= threshold
            return above
        if pred.grade_in is not None:
            sc = self.policy.scores[self.policy.score_index(pred.score_named())]
            wanted = [sc.grade_names.index(g) for g in pred.grades()]
            # a grade that cannot be decided (-1) is in no set of grades
            return np.isin(self.grades[sc.index], wanted)
        if pred.on_list is not None:
            assert self.lists is not None
            member: Bools = self.lists[self.policy.list_index(pred.on_list)].copy()
            return member
        if pred.rank_top is not None:
            if self._rows.population is None or self.g_subject is None:
                raise ValueError("a ranking needs every candidate's rows")
            return rank_holds(
                self.policy, self._rows, pred.rank_top, self.g_subject, self.e_group, self.k_group
            )
        raise AssertionError("validated predicates always set one key")


_Condition = TypeVar("_Condition", Predicate, RecordCondition)


def canonical(policy: CompiledPolicy, cond: _Condition) -> _Condition:
    """The first condition of ``policy`` asked about that is equal to ``cond`` (``cond``
    itself if none is): an evaluation answers equal conditions once (china-scs gives twelve
    measures one condition). Cached on the policy by identity; the entry holds ``cond``,
    so its id cannot be reused by another object while the entry stands."""
    cache = policy.cache
    found = cache.get(("canonical", id(cond)))
    if found is None or found[0] is not cond:
        text = (type(cond).__name__, cond.model_dump_json(by_alias=True))
        first = cache.setdefault(("canonical_of", text), cond)
        found = cache[("canonical", id(cond))] = (cond, first if first == cond else cond)
    result: _Condition = found[1]
    return result


def distinct_groups(groups: I64, n_groups: int) -> I64:
    """The distinct group numbers of ``groups`` (each in 0..n_groups-1), sorted."""
    seen = np.zeros(n_groups, dtype=bool)
    seen[groups] = True
    found: I64 = np.flatnonzero(seen).astype(np.int64)
    return found


def _frozen(values: Bools) -> Bools:
    values.flags.writeable = False
    return values


def evaluate(
    policy: CompiledPolicy,
    rows: Rows,
    ridx: I64,
    gidx: I64,
    e_group: I64,
    k_group: I64,
    sanctions: Sequence[int] | None = None,
    g_subject: I64 | None = None,
) -> Evaluation:
    """Score, grade, list memberships and sanction triggers for every group.

    ``sanctions``: evaluate only these sanctions' triggers and the lists they name (every
    other trigger and list is left False) — what a decision on one service needs.
    ``g_subject``: each group's subject, for eligibility conditions (default: the subject
    of the group's first entry). Pure: the result depends only on the arguments.
    """
    return evaluate_in_context(policy, rows, ridx, gidx, e_group, k_group, sanctions, g_subject)[0]


def evaluate_in_context(
    policy: CompiledPolicy,
    rows: Rows,
    ridx: I64,
    gidx: I64,
    e_group: I64,
    k_group: I64,
    sanctions: Sequence[int] | None = None,
    g_subject: I64 | None = None,
) -> tuple[Evaluation, EvaluationContext]:
    """``evaluate``, and the per-entry state it was computed from (to ask which parts of a
    condition hold, see ``scoring.reasons``)."""
    if policy.reevaluation is not None:
        # every answer is the one given at the last boundary, with what was known then
        e_group = policy.as_evaluated(e_group)
        k_group = np.minimum(k_group, e_group)
    ctx = EvaluationContext(policy, rows, ridx, gidx, e_group, k_group, g_subject)
    chosen = policy.sanctions if sanctions is None else [policy.sanctions[i] for i in sanctions]
    named = None if sanctions is None else {n for s in chosen for n in s.lists}
    lists = np.zeros((len(policy.lists), ctx.n_groups), dtype=bool)
    ineligible = None
    for lst in policy.lists:
        if named is None or lst.name in named:
            lists[lst.index] = ctx.holds(lst.when, lst.delist_delay)
            ok = ctx.list_eligible(lst.index, lists[lst.index])
            if ok is not None:
                if ineligible is None:
                    ineligible = np.zeros_like(lists)
                ineligible[lst.index] = lists[lst.index] & ~ok
                lists[lst.index] &= ok
    ctx.lists = lists
    triggers = np.zeros((len(policy.sanctions), ctx.n_groups), dtype=bool)
    blocked = None
    for s in chosen:
        triggers[s.index] = ctx.holds(s.when, NO_DELAY)
        if s.notice is not None and s.objection_blocks:
            if blocked is None:
                blocked = np.zeros((len(policy.sanctions), ctx.n_groups), dtype=bool)
            blocked[s.index] = ctx.objection_pending(s.when)
    return Evaluation(
        n_groups=ctx.n_groups,
        score=ctx.score,
        grade=ctx.grade,
        lists=lists,
        triggers=triggers,
        status=ctx.status,
        contribution=ctx.contribution,
        unresolved=ctx.resolved_at > ctx.e,
        blocked=blocked,
        ineligible=ineligible,
        scores=ctx.scores,
        grades=ctx.grades,
        components=ctx.components,
        wallets=ctx.wallets,
        ratings=ctx.ratings,
    ), ctx


def evaluate_subjects_at(
    policy: CompiledPolicy, rows: Rows, n_subjects: int, at: int, known_at: int | None = None
) -> Evaluation:
    """Evaluate every subject at time ``at`` with what was known at ``known_at`` (default ``at``)."""
    e = np.full(n_subjects, at, dtype=np.int64)
    k = np.full(n_subjects, at if known_at is None else known_at, dtype=np.int64)
    everyone = np.arange(n_subjects, dtype=np.int64)
    return evaluate(
        policy,
        rows,
        np.arange(len(rows), dtype=np.int64),
        rows.subject.astype(np.int64),
        e,
        k,
        g_subject=everyone,
    )
