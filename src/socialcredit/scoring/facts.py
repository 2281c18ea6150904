"""Facts about subjects for a period: exemptions and attributes, folded for evaluation.

An **exemption** lets its subject use some services for a period although a measure denies
them: it turns those denials into allows, and does nothing else (the subject stays on every
list, other services and other times are untouched). An **attribute** (a birth date, a
residence, a role) has a value for a period; a policy's **eligibility** conditions test the
values in force at the time of evaluation, on record types (records count only while their
subject is eligible) and on lists (only eligible subjects are on the list).

Both count from when the ledger learned them (``recorded_at``) and stop counting from when
the ledger learned of their annulment, so an answer about an earlier time is unchanged by
a fact learned later. Everything here is vectorised over (subject, time, knowledge) queries;
a policy without eligibility conditions never reaches it, and a ledger without exemptions
pays one empty check per answer.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.columns import ANNUL, SUBJECT_KINDS, LedgerColumns
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.policy.model import EligibilityCondition
from socialcredit.spans import Span
from socialcredit.timeutil import DAY, NEVER, iso_date

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Obj = npt.NDArray[np.object_]


def _none(dtype: Any = np.int64) -> Any:
    return np.empty(0, dtype=dtype)


@dataclass(frozen=True)
class ExemptionRows:
    """Exemptions as arrays: row ``j`` lets ``subject[j]`` use ``services[j]`` (a frozenset
    of ids) from ``valid_from[j]`` until ``valid_until[j]``, known from ``known[j]`` until
    ``hidden_from[j]`` (annulled; NEVER). ``index``: its row in the columns' ``exm_*``."""

    subject: I64 = field(default_factory=_none)
    services: Obj = field(default_factory=lambda: _none(np.object_))
    valid_from: I64 = field(default_factory=_none)
    valid_until: I64 = field(default_factory=_none)
    known: I64 = field(default_factory=_none)
    hidden_from: I64 = field(default_factory=_none)
    index: I64 = field(default_factory=_none)


@dataclass(frozen=True)
class AttributeRows:
    """Attribute values as arrays, sorted by (subject, name, valid_from, seq): the value
    of ``name[j]`` (its text ``text[j]``; ``number[j]``: a number's value or a date's epoch
    seconds at midnight UTC, NaN when neither) from ``valid_from[j]`` until
    ``valid_until[j]``, known from ``known[j]`` until ``hidden_from[j]``."""

    subject: I64 = field(default_factory=_none)
    name: Obj = field(default_factory=lambda: _none(np.object_))
    text: Obj = field(default_factory=lambda: _none(np.object_))
    number: F64 = field(default_factory=lambda: _none(np.float64))
    valid_from: I64 = field(default_factory=_none)
    valid_until: I64 = field(default_factory=_none)
    known: I64 = field(default_factory=_none)
    hidden_from: I64 = field(default_factory=_none)
    index: I64 = field(default_factory=_none)
    # values derived from these rows alone, computed on first use (evaluations at many
    # times ask for the same ones); keyed with the policy whose calendar they use
    _derived: dict[Any, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def named(self, name: str) -> tuple[I64, I64]:
        """The rows of attribute ``name`` and their subjects (sorted: rows are sorted by
        subject, then name)."""
        key = ("named", name)
        found: tuple[I64, I64] | None = self._derived.get(key)
        if found is None:
            mine = np.flatnonzero(self.name == name) if len(self.subject) else _none()
            found = self._derived[key] = (mine, self.subject[mine])
        return found

    def named_index(self, name: str) -> tuple[I64, I64, I64]:
        """The rows of attribute ``name`` (``named``), and per subject index ``s`` (0 up to
        the largest subject with such a row) the position of its first one among them and
        how many it has: a lookup per query instead of a binary search."""
        key = ("named_index", name)
        found: tuple[I64, I64, I64] | None = self._derived.get(key)
        if found is None:
            mine, subj = self.named(name)
            size = int(subj[-1]) + 1 if len(subj) else 0
            count = np.bincount(subj, minlength=size).astype(np.int64)
            first = np.cumsum(count) - count
            found = self._derived[key] = (mine, first, count)
        return found

    def matches(self, values: tuple[str, ...]) -> Bools:
        """Per row, whether its text is one of ``values`` (each distinct text compared
        once)."""
        key = ("matches", values)
        found: Bools | None = self._derived.get(key)
        if found is None:
            # (one pass of C-level calls: str, then a set lookup, per row)
            wanted = set(values)
            texts = map(str, self.text.tolist())
            found = np.fromiter(map(wanted.__contains__, texts), dtype=bool, count=len(self.text))
            found.flags.writeable = False
            self._derived[key] = found
        return found

    def age_reached(self, policy: CompiledPolicy, years: int) -> I64:
        """Per row, when a subject born on its date value reaches ``years`` of age
        (``age_reached``; NEVER for a row without a date)."""
        return self._per_row(("age", years), policy, lambda: _ages(policy, self.number, years))

    def held_until(self, policy: CompiledPolicy, span: Span) -> I64:
        """Per row, ``span`` after its ``valid_from`` (when the value has been held so long)."""
        return self._per_row(("held", span), policy, lambda: after(policy, self.valid_from, span))

    def _per_row(self, key: tuple[Any, ...], policy: CompiledPolicy, make: Any) -> I64:
        found = self._derived.get((*key, id(policy)))
        if found is not None and found[0] is policy:
            values: I64 = found[1]
            return values
        values = make()
        values.flags.writeable = False
        self._derived[(*key, id(policy))] = (policy, values)
        return values


def _ages(policy: CompiledPolicy, born: F64, years: int) -> I64:
    out = np.full(len(born), NEVER, dtype=np.int64)
    ok = ~np.isnan(born)
    out[ok] = age_reached(policy, born[ok], years)
    return out


@dataclass(frozen=True)
class SubjectFacts:
    """A ledger's exemptions and attributes, with its subjects' kinds.

    ``subject_map``: for evaluations over stand-in subjects (counterfactual scenarios),
    the real subject of each stand-in (None: subjects are the columns' own)."""

    exemptions: ExemptionRows
    attributes: AttributeRows
    subject_kind: npt.NDArray[np.int8]
    subject_map: I64 | None = None

    @property
    def empty(self) -> bool:
        """No exemption and no attribute."""
        return not len(self.exemptions.subject) and not len(self.attributes.subject)

    def real(self, subjects: I64) -> I64:
        """The real subject indices of ``subjects`` (stand-ins mapped back)."""
        if self.subject_map is None:
            return subjects
        out: I64 = self.subject_map[subjects]
        return out

    def standing_in(self, subject_map: I64) -> SubjectFacts:
        """The same facts for stand-in subjects: stand-in ``i`` is subject ``subject_map[i]``."""
        mapped = self.real(subject_map)
        return SubjectFacts(self.exemptions, self.attributes, self.subject_kind, mapped)


def _annulled(columns: LedgerColumns, seq: I64) -> I64:
    """When the ledger learned of the first annulment of each entry of ``seq``."""
    out = np.full(len(seq), NEVER, dtype=np.int64)
    if not len(seq) or not len(columns.cor_seq):
        return out
    sel = columns.cor_action == ANNUL
    targets = columns.cor_target[sel]
    times = columns.cor_recorded_at[sel]
    order = np.argsort(seq, kind="stable")
    pos = np.minimum(np.searchsorted(seq[order], targets), len(seq) - 1)
    hit = seq[order][pos] == targets
    np.minimum.at(out, order[pos[hit]], times[hit])
    return out


@functools.lru_cache(maxsize=1 << 16)
def _date_number(text: str) -> float:
    """A date's epoch seconds at midnight UTC (NaN: not a date); remembered, as the same
    birth dates recur in every ledger."""
    day = iso_date(text)
    return np.nan if day is None else float(day)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # ingestion checked it; be safe
        return np.nan


def _distinct(values: list[Any]) -> tuple[list[Any], I64]:
    """The distinct ``values`` in order of first appearance, and each value's index among
    them (by hashing: sorting Python strings, as ``np.unique`` does, is far slower; the
    dictionary is built and read by C-level calls, no Python-level step per value)."""
    index: dict[Any, int] = dict(zip(dict.fromkeys(values), itertools.count()))
    where = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return list(index), where


def _distinct_few(values: Obj, most: int = 8) -> tuple[list[Any], I64]:
    """``_distinct`` of an array of strings with at most ``most`` distinct values (names):
    one vectorised comparison per value found; more than that, by hashing."""
    where = np.full(len(values), -1, dtype=np.int64)
    found: list[Any] = []
    pending = np.flatnonzero(where < 0)
    while len(pending):
        if len(found) == most:
            return _distinct(values.tolist())
        value = values[pending[0]]
        where[values == value] = len(found)
        found.append(value)
        pending = pending[where[pending] < 0]
    return found, where


def fold_facts(columns: LedgerColumns, policy: CompiledPolicy) -> SubjectFacts:
    """The exemptions and attributes of ``columns``, with their annulments applied."""
    n_exm = len(columns.exm_seq)
    exemptions = ExemptionRows()
    if n_exm:
        services = np.empty(n_exm, dtype=object)
        services[:] = [frozenset(s.split(",")) if s else frozenset() for s in columns.exm_services]
        exemptions = ExemptionRows(
            subject=columns.exm_subject.astype(np.int64),
            services=services,
            valid_from=columns.exm_valid_from.astype(np.int64),
            valid_until=columns.exm_valid_until.astype(np.int64),
            known=columns.exm_recorded_at.astype(np.int64),
            hidden_from=_annulled(columns, columns.exm_seq),
            index=np.arange(n_exm, dtype=np.int64),
        )
    attributes = AttributeRows()
    if len(columns.att_seq):
        number = np.full(len(columns.att_seq), np.nan)
        for name, declared in policy.policy.attributes.items():
            if declared.type not in ("date", "number"):
                continue
            rows = np.flatnonzero(columns.att_name == name)
            if not len(rows):
                continue
            # each distinct value read once (many subjects share a birth date)
            distinct, where = _distinct([str(v) for v in columns.att_value[rows].tolist()])
            read = _date_number if declared.type == "date" else _number
            number[rows] = np.fromiter(map(read, distinct), np.float64, len(distinct))[where]
        subject = columns.att_subject.astype(np.int64)
        # names as their ranks in sorted order: the same order, sorted as integers
        names, name_rank = _distinct_few(columns.att_name)
        rank = np.argsort(np.array(names, dtype=object)).argsort()[name_rank]
        order = np.lexsort((columns.att_seq, columns.att_valid_from, rank, subject))
        attributes = AttributeRows(
            subject=subject[order],
            name=columns.att_name[order],
            text=columns.att_value[order],
            number=number[order],
            valid_from=columns.att_valid_from[order].astype(np.int64),
            valid_until=columns.att_valid_until[order].astype(np.int64),
            known=columns.att_recorded_at[order].astype(np.int64),
            hidden_from=_annulled(columns, columns.att_seq)[order],
            index=order.astype(np.int64),
        )
    return SubjectFacts(exemptions, attributes, columns.subject_kind)


# ---------------------------------------------------------------------- exemptions


def _live(facts: SubjectFacts, t: int) -> I64:
    x = facts.exemptions
    out: I64 = np.flatnonzero(
        (x.known <= t) & (x.hidden_from > t) & (x.valid_from <= t) & (t < x.valid_until)
    )
    return out


def exemption_in_force(
    facts: SubjectFacts | None, subjects: I64, services: tuple[str, ...], t: int
) -> I64:
    """For each of ``subjects`` (indices), the exemption row in force at ``t`` (with what
    was known at ``t``) that names one of ``services`` (a service and the services it is
    part of: ``CompiledPolicy.service_chain``), the one received last when several; or -1."""
    out = np.full(len(subjects), -1, dtype=np.int64)
    if facts is None or not len(facts.exemptions.subject) or not len(subjects):
        return out
    x = facts.exemptions
    live = [j for j in _live(facts, t).tolist() if not x.services[j].isdisjoint(services)]
    if not live:
        return out
    real = facts.real(np.asarray(subjects, dtype=np.int64))
    for j in live:  # few rows, in ledger order: later ones win
        out[real == x.subject[j]] = j
    return out


def in_force_rows(facts: SubjectFacts, subject: int, t: int) -> I64:
    """The exemption rows of ``subject`` in force at ``t`` with what was known at ``t``."""
    rows = _live(facts, t)
    real = int(facts.real(np.array([subject], dtype=np.int64))[0])
    out: I64 = rows[facts.exemptions.subject[rows] == real]
    return out


# ---------------------------------------------------------------------- eligibility


@dataclass(frozen=True)
class EligibilityPlan:
    """Which eligibility condition sets a policy has, and which record types and lists use
    them: ``type_set[code]`` / ``list_set[index]`` index ``sets`` (-1: none)."""

    sets: tuple[tuple[EligibilityCondition, ...], ...]
    type_set: I64
    list_set: I64

    @property
    def any(self) -> bool:
        """Whether the policy has any eligibility condition."""
        return bool(self.sets)


def eligibility_plan(policy: CompiledPolicy) -> EligibilityPlan:
    """The policy's eligibility conditions, grouped (cached on the policy)."""
    cached = policy.cache.get("eligibility_plan")
    if cached is not None:
        plan: EligibilityPlan = cached
        return plan
    sets: list[tuple[EligibilityCondition, ...]] = []

    def set_of(conditions: list[EligibilityCondition]) -> int:
        if not conditions:
            return -1
        key = tuple(conditions)
        for i, known in enumerate(sets):
            if known == key:
                return i
        sets.append(key)
        return len(sets) - 1

    p = policy.policy
    type_set = np.array(
        [set_of(p.record_types[name].eligible) for name in policy.type_names] + [-1],
        dtype=np.int64,
    )
    list_set = np.array([set_of(p.lists[lst.name].eligible) for lst in policy.lists], np.int64)
    plan = EligibilityPlan(tuple(sets), type_set, list_set)
    policy.cache["eligibility_plan"] = plan
    return plan


def age_reached(policy: CompiledPolicy, born: F64, years: int) -> I64:
    """When someone born on each date (epoch seconds of that date's midnight UTC, as the
    ledger stores a date) reaches ``years`` of age: the birth date's local midnight plus
    ``years`` calendar years by the policy's one duration arithmetic (``CompiledPolicy.after``),
    so an age is counted exactly as ``P18Y`` is. From 29 February the year ends when 28
    February ends: someone born on 2008-02-29 is 18 from 2026-03-01."""
    days = np.floor_divide(np.asarray(born, dtype=np.float64), DAY).astype(np.int64)
    local_midnight = days * DAY - policy.calendar.offset
    return policy.after(local_midnight, Span(months=12 * years))


def after(policy: CompiledPolicy, times: I64, duration: Span) -> I64:
    """``duration`` (as the policy states it: "P18Y" is eighteen calendar years) after each
    of ``times``, by the policy's one duration arithmetic (``CompiledPolicy.after``)."""
    return policy.after(np.asarray(times, dtype=np.int64), duration)


@dataclass(frozen=True)
class Found:
    """Per query, the attribute row in force (-1: none known), and whether the attribute
    applies to the subject's kind at all."""

    row: I64
    applies: Bools


def value_in_force(
    facts: SubjectFacts | None, policy: CompiledPolicy, name: str, subjects: I64, e: I64, k: I64
) -> Found:
    """The row of attribute ``name`` in force for each query (subject ``subjects[q]`` at
    ``e[q]`` knowing what was known at ``k[q]``): among the entries known at ``k`` and not
    annulled then whose period holds ``e``, the one with the latest ``valid_from`` (then
    the one the ledger received last)."""
    n = len(subjects)
    row = np.full(n, -1, dtype=np.int64)
    declared = policy.policy.attributes.get(name)
    applies = np.ones(n, dtype=bool)
    if facts is None:
        return Found(row, applies)
    real = facts.real(np.asarray(subjects, dtype=np.int64))
    if declared is not None and len(declared.subject_kinds) < 2 and len(facts.subject_kind):
        safe = np.minimum(np.maximum(real, 0), len(facts.subject_kind) - 1)  # (np.clip is slow)
        kinds = facts.subject_kind[safe]
        applies = real < 0
        for kind in declared.subject_kinds:
            applies |= kinds == SUBJECT_KINDS.index(kind)
    a = facts.attributes
    mine, first, per = a.named_index(name)  # rows sorted by subject within the name
    if not len(mine):
        return Found(row, applies)
    inside = (real >= 0) & (real < len(per))
    safe = np.where(inside, real, 0)
    lo = first[safe]
    count = np.where(inside, per[safe], 0)
    for r in range(int(count.max()) if n else 0):
        cand = np.minimum(lo + r, len(mine) - 1)
        j = mine[cand]
        ok = (
            (r < count)
            & (a.known[j] <= k)
            & (a.hidden_from[j] > k)
            & (a.valid_from[j] <= e)
            & (e < a.valid_until[j])
        )
        row = np.where(ok, j, row)
    return Found(row, applies)


def _condition_holds(
    facts: SubjectFacts | None,
    policy: CompiledPolicy,
    cond: EligibilityCondition,
    subjects: I64,
    e: I64,
    k: I64,
) -> tuple[Bools, Found]:
    found = value_in_force(facts, policy, cond.attribute, subjects, e, k)
    known = found.row >= 0
    holds = np.full(len(subjects), cond.if_unknown == "eligible", dtype=bool)
    if known.any():
        assert facts is not None
        a = facts.attributes
        j = found.row[known]
        ok = np.ones(len(j), dtype=bool)
        if cond.age_at_least is not None:  # (NEVER without a date: never reached)
            ok &= a.age_reached(policy, cond.age_at_least)[j] <= e[known]
        wanted = [cond.equals] if cond.equals is not None else list(cond.one_of or [])
        if wanted:
            if policy.policy.attributes[cond.attribute].type == "number":
                # a few values: one comparison each (``np.isin`` costs more for short lists)
                values = a.number[j]
                any_of = np.zeros(len(j), dtype=bool)
                for w in wanted:
                    any_of |= values == float(w)
                ok &= any_of
            else:  # texts: which rows match, worked out once per ledger
                ok &= a.matches(tuple(str(w) for w in wanted))[j]
        if cond.held_for is not None:
            ok &= a.held_until(policy, cond.held_for)[j] <= e[known]
        holds[known] = ok
    holds |= ~found.applies
    return holds, found


def eligible(
    facts: SubjectFacts | None,
    policy: CompiledPolicy,
    conditions: tuple[EligibilityCondition, ...],
    subjects: I64,
    e: I64,
    k: I64,
) -> Bools:
    """Per query: every condition holds for subject ``subjects[q]`` at ``e[q]`` with what was
    known at ``k[q]``."""
    out = np.ones(len(subjects), dtype=bool)
    for cond in conditions:
        out &= _condition_holds(facts, policy, cond, subjects, e, k)[0]
    return out


def eligibility_breakpoints(
    facts: SubjectFacts | None, policy: CompiledPolicy, subjects: I64, known_at: int
) -> tuple[I64, I64]:
    """Every instant at which a subject's eligibility may change: (position in
    ``subjects``, time) pairs: when an attribute entry known at ``known_at`` starts or ends,
    when an age is reached, when a value has been held long enough."""
    pos, times, known = eligibility_breakpoints_known(facts, policy, subjects)
    keep = known <= known_at
    return pos[keep], times[keep]


def eligibility_breakpoints_known(
    facts: SubjectFacts | None, policy: CompiledPolicy, subjects: I64
) -> tuple[I64, I64, I64]:
    """``eligibility_breakpoints`` whatever is known, each pair with when the ledger learned
    the attribute entry it comes from: (position in ``subjects``, time, learned); those
    ``eligibility_breakpoints(..., known_at)`` gives are the pairs learned at or before
    ``known_at``, in the same order (one call for many knowledge times)."""
    plan = eligibility_plan(policy)
    none = (np.empty(0, dtype=np.int64),) * 3
    if facts is None or not plan.any or not len(facts.attributes.subject) or not len(subjects):
        return none
    a = facts.attributes
    real = facts.real(np.asarray(subjects, dtype=np.int64))
    order = np.argsort(real, kind="stable")
    positions, times, learned = [], [], []
    by_name: dict[str, list[EligibilityCondition]] = {}
    for conditions in plan.sets:
        for cond in conditions:
            by_name.setdefault(cond.attribute, []).append(cond)
    for name, conds in by_name.items():
        rows = a.named(name)[0]  # (remembered: evaluation asks for the same)
        if not len(rows):
            continue
        pos = np.searchsorted(real[order], a.subject[rows])
        pos = np.minimum(pos, len(real) - 1)
        hit = real[order][pos] == a.subject[rows]
        rows, owner = rows[hit], order[pos[hit]]
        if not len(rows):
            continue
        # several stand-ins may share a real subject: each gets the breakpoints
        parts = [a.known[rows], a.valid_from[rows], a.valid_until[rows], a.hidden_from[rows]]
        for cond in conds:
            if cond.age_at_least is not None:
                parts.append(a.age_reached(policy, cond.age_at_least)[rows])
            if cond.held_for is not None:
                parts.append(a.held_until(policy, cond.held_for)[rows])
        for part in parts:
            positions.append(owner)
            times.append(part)
            learned.append(a.known[rows])
    if not positions:
        return none
    pos_all = np.concatenate(positions)
    t_all = np.concatenate(times)
    k_all = np.concatenate(learned)
    if facts.subject_map is not None:  # every stand-in of a real subject
        k_all = _to_stand_ins(real, order, pos_all, k_all)[1]
        pos_all, t_all = _to_stand_ins(real, order, pos_all, t_all)
    keep = (t_all < NEVER) & (t_all > -NEVER)
    return pos_all[keep], t_all[keep], k_all[keep]


def _to_stand_ins(real: I64, order: I64, pos: I64, times: I64) -> tuple[I64, I64]:
    """Each (position, time) pair of ``pos``/``times`` for every position whose real subject
    (``real``, sorted by ``order``) is that of ``pos``: the pair itself and one per other
    stand-in of the same subject."""
    ordered = real[order]
    lo = np.searchsorted(ordered, real[pos], side="left")
    hi = np.searchsorted(ordered, real[pos], side="right")
    n = hi - lo
    which = np.repeat(np.arange(len(pos), dtype=np.int64), n)
    first = np.cumsum(n) - n
    q = order[lo[which] + np.arange(len(which), dtype=np.int64) - first[which]]
    other = q != pos[which]
    return (
        np.concatenate([pos, q[other]]).astype(np.int64),
        np.concatenate([times, times[which][other]]).astype(np.int64),
    )


@dataclass(frozen=True)
class Unmet:
    """Why a subject is not eligible, for one condition: the condition, the attribute row
    in force (-1: none known) and, for an age, when it is reached."""

    condition: EligibilityCondition
    row: int
    reached_at: int | None = None


def unmet_conditions(
    facts: SubjectFacts | None,
    policy: CompiledPolicy,
    conditions: tuple[EligibilityCondition, ...],
    subject: int,
    t: int,
) -> list[Unmet]:
    """The conditions of ``conditions`` that do not hold for ``subject`` at ``t`` (knowing
    what was known at ``t``), each with what the ledger knows."""
    s = np.array([subject], dtype=np.int64)
    e = np.array([t], dtype=np.int64)
    out = []
    for cond in conditions:
        holds, found = _condition_holds(facts, policy, cond, s, e, e)
        if bool(holds[0]):
            continue
        row = int(found.row[0])
        reached = None
        if row >= 0 and cond.age_at_least is not None and facts is not None:
            born = facts.attributes.number[row]
            if not np.isnan(born):
                reached = int(age_reached(policy, np.array([born]), cond.age_at_least)[0])
        if row >= 0 and cond.held_for is not None and facts is not None:
            reached = int(
                after(policy, facts.attributes.valid_from[row : row + 1], cond.held_for)[0]
            )
        out.append(Unmet(cond, row, reached))
    return out
