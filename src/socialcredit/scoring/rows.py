"""Ledger columns folded with their corrections into rows the evaluator reads.

Each row is one version of one record: the record as first submitted, plus one row per
rectification. Corrections become times: when the ledger learned of a resolution, a
dispute, its decision, or the annulment or rectification that hides a version. Whether
such a time has passed is decided at evaluation time, so the same rows answer "as of any
time, with what was known at any time".
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from socialcredit.columns import (
    ANNUL,
    DISPUTE,
    END,
    EXTEND,
    RECTIFY,
    RESOLVE,
    UPHOLD,
    LedgerColumns,
)
from socialcredit.policy.compiled import CompiledPolicy, later
from socialcredit.scoring.facts import SubjectFacts, eligibility_plan, fold_facts

if TYPE_CHECKING:
    from socialcredit.scoring.population import Population
from socialcredit.spans import Span, parse_span, shift
from socialcredit.timeutil import MAX_TIME, MIN_TIME, NEVER, TimeFormatError

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
Bools = npt.NDArray[np.bool_]

# Row.term_flags bits: how a version's expiry came about (for explanations)
TERM_OWN = 1  # the record carries its own term
TERM_CLAMPED = 2  # ... outside the type's bounds: the nearest bound is used instead
TERM_EXTENDED = 4  # extend corrections lengthened it
TERM_EXTENSION_CAPPED = 8  # ... by more than the type allows: the maximum is used
TERM_ENDED = 16  # an end correction ended it early


@dataclass(frozen=True)
class Rows:
    """Record versions as parallel arrays (see module docstring)."""

    subject: I32
    type_code: I32  # index into the policy's record types; -1 = type the policy does not know
    occurred: I64
    known: I64  # when the record counts from (the ledger learned of the original)
    visible_from: I64  # knowledge time from which this version is the current one
    hidden_from: I64  # knowledge time from which it is annulled or rectified away (NEVER)
    resolved: I64  # when the ledger learned of its resolution (NEVER)
    disputed: I64  # when an in-time dispute was filed (NEVER)
    dispute_late: I64  # when a dispute was filed after the appeal window (NEVER)
    decided: I64  # when the dispute was decided and the record upheld (NEVER)
    # the reconsideration stage (a dispute within the process's filing period after
    # ``decided``) and its decision upholding the record again (NEVER)
    reconsidered: I64
    reconsideration_decided: I64
    process: npt.NDArray[np.int16]  # the record's due process (index into policy.processes)
    amount: npt.NDArray[np.float64]
    record: I64  # index of the original record in the ledger columns
    rectification: I64  # index in cor_* of the latest rectification behind this version, or -1
    # when this version stops counting: occurred + its term (the type's, or the record's own
    # clamped to the type's bounds), + its extensions (at most the type's), or an early end
    expires: I64
    term_flags: I8  # TERM_* bits
    # the subjects' exemptions and attributes (not per row: kept by ``take``); None: none
    facts: SubjectFacts | None = field(default=None, compare=False, repr=False)
    # per row, the rater of a rating (a code for its source; see ``population.rater_codes``);
    # None for a policy without rating scores
    rater: I64 | None = field(default=None, compare=False, repr=False)
    # every subject the rows hold, for answers across subjects (``scoring.population``)
    population: Population | None = field(default=None, compare=False, repr=False)
    # per-row times derived from these arrays alone (``shifted``), computed on first use;
    # not an init field, so ``take`` and ``replace`` start an empty one for the new rows
    _shifted: dict[tuple[str, Span, int], tuple[CompiledPolicy, I64]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def __len__(self) -> int:
        return len(self.subject)

    def take(self, index: npt.NDArray[np.int64]) -> Rows:
        """The versions at ``index``, in that order (with the same facts)."""
        return Rows(
            **{
                f.name: getattr(self, f.name)[index]
                for f in fields(self)
                if f.init and f.name not in ("facts", "rater", "population")
            },
            facts=self.facts,
            rater=None if self.rater is None else self.rater[index],
            population=self.population,
        )

    def shifted(self, policy: CompiledPolicy, name: str, span: Span) -> I64:
        """Per row, the times of column ``name`` plus ``span`` by ``policy``'s calendar
        (``CompiledPolicy.after``), computed once per rows, column and span: evaluations at
        many times over the same rows ask for the same window ends again (read-only)."""
        key = (name, span, id(policy))
        found = self._shifted.get(key)
        if found is not None and found[0] is policy:
            return found[1]
        values = policy.after(getattr(self, name), span)
        values.flags.writeable = False
        self._shifted[key] = (policy, values)
        return values

    def carry_shifted(self, copy: Rows, take: npt.NDArray[np.int64]) -> None:
        """Give ``copy`` (rows ``take`` of these, some times changed) the shifted times
        already computed here: taken where its times are these rows' own, computed anew
        only where they differ."""
        for key, (policy, values) in list(self._shifted.items()):
            name, span, _ = key
            mine, theirs = getattr(self, name)[take], getattr(copy, name)
            out = values[take]
            differ = mine != theirs
            if differ.any():
                out[differ] = policy.after(theirs[differ], span)
            out.flags.writeable = False
            copy._shifted[key] = (policy, out)

    def with_changes(self, row: int, **times: int) -> Rows:
        """A copy in which every version of row ``row``'s record has the given times."""
        same = self.record == self.record[row]
        changed = {}
        for name, value in times.items():
            arr = getattr(self, name).copy()
            arr[same] = value
            changed[name] = arr
        return replace(self, **changed)


@dataclass(frozen=True)
class RelationRows:
    """Relations between subjects, with the policy's relation codes."""

    subject: I32
    related: I32
    type_code: I32  # index into policy relation names; -1 = not used by the policy
    valid_from: I64
    valid_until: I64
    known: I64
    hidden_from: I64
    relation: I64  # index in the ledger columns' rel_* arrays


def _codes(names: npt.NDArray[np.object_], mapping: dict[str, int]) -> I32:
    get = mapping.get
    return np.array([get(n, -1) for n in names.tolist()], dtype=np.int32)


def record_type_codes(columns: LedgerColumns, policy: CompiledPolicy) -> I32:
    """Each record's type as ``policy``'s type code (-1: a type the policy does not know):
    from the columns' integer codes when the loader gave them (each distinct name looked
    up once), else name by name."""
    given = columns.rec_type_codes
    if given is None:
        return _codes(columns.rec_type, policy.type_code)
    codes, names = given
    table = np.array([policy.type_code.get(n, -1) for n in names], dtype=np.int32)
    out: I32 = table[codes] if len(names) else np.full(len(codes), -1, dtype=np.int32)
    return out


def _first_time(n: int, targets: I64, times: I64) -> I64:
    out = np.full(n, NEVER, dtype=np.int64)
    if len(targets):
        np.minimum.at(out, targets, times)
    return out


def _span(text: object) -> Span:
    """A duration as written in the ledger (a zero span when it is not one: ingestion
    refuses those, so only columns built by hand can hold them)."""
    try:
        return parse_span(str(text)) if text else Span()
    except TimeFormatError:
        return Span()


# spans by row, one array per part: (months, seconds, working days)
Spans = tuple[I64, I64, I64]


def _spans_of(texts: npt.NDArray[np.generic], given: I64, n: int) -> Spans:
    """The spans written in ``texts`` at rows ``given`` (zero elsewhere), as arrays."""
    parts = np.zeros((3, n), dtype=np.int64)
    for i in given.tolist():
        span = _span(texts[i])
        parts[:, i] = (span.months, span.seconds, span.working_days)
    return parts[0], parts[1], parts[2]


def _own_terms(columns: LedgerColumns) -> tuple[Spans, Bools]:
    """Each record's own term (zero spans where none is given: the type's term applies),
    and whether it gave one."""
    n = len(columns.rec_seq)
    given = np.zeros(n, dtype=bool)
    if len(columns.rec_term):
        listed = np.flatnonzero(columns.rec_term != "")
        spans = _spans_of(columns.rec_term, listed, n)
        given = (spans[0] > 0) | (spans[1] > 0) | (spans[2] > 0)
        return spans, given
    zero = np.zeros(n, dtype=np.int64)
    return (zero, zero, zero), given


def _expiry(
    policy: CompiledPolicy,
    code: I32,
    occurred: I64,
    own: Spans,
    given: Bools,
    extension: Spans,
    ended: I64,
) -> tuple[I64, I8]:
    """When each version stops counting, and how (``TERM_*`` bits); see ``Rows.expires``.

    Every date goes through the policy's calendar (``CompiledPolicy.after_per_type`` and
    ``spans.shift``): a term of ``P2Y`` ends two calendar years after the record occurred.
    A stored term or extension outside the bounds of the policy evaluated is not trusted:
    it is clamped to the nearest bound, on the dates they give (and flagged), never taken
    as it stands.
    """
    flags = np.zeros(len(code), dtype=np.int8)
    if not len(code):
        return np.empty(0, dtype=np.int64), flags
    expires = policy.after_per_type(occurred, code, "life")
    if given.any():
        own_end = shift(occurred, *own, cal=policy.calendar)
        low = policy.after_per_type(occurred, code, "term_min")
        high = policy.after_per_type(occurred, code, "term_max")
        clamped = np.minimum(np.maximum(own_end, low), high)
        expires = np.where(given, clamped, expires)
        flags[given] |= TERM_OWN
        flags[given & (clamped != own_end)] |= TERM_CLAMPED
    extended = (extension[0] > 0) | (extension[1] > 0) | (extension[2] > 0)
    if extended.any():
        wanted = shift(expires, *extension, cal=policy.calendar)
        cap = policy.after_per_type(expires, code, "ext_max")
        applied = np.minimum(wanted, cap)
        flags[extended & (applied > expires)] |= TERM_EXTENDED
        flags[extended & (wanted > cap)] |= TERM_EXTENSION_CAPPED
        expires = np.where(extended, applied, expires)
    early = ended < expires
    if early.any():
        expires = np.where(early, ended, expires)
        flags[early] |= TERM_ENDED
    return expires.astype(np.int64), flags


def _first_entry(n: int, targets: I64, times: I64, seqs: I64) -> tuple[I64, I64]:
    """Per target, the earliest (time, then ledger order) entry's time and seq (NEVER, -1)."""
    out_t = np.full(n, NEVER, dtype=np.int64)
    out_s = np.full(n, -1, dtype=np.int64)
    if len(targets):
        order = np.lexsort((seqs, times, targets))
        first = np.ones(len(order), dtype=bool)
        first[1:] = targets[order][1:] != targets[order][:-1]
        pick = order[first]
        out_t[targets[pick]] = times[pick]
        out_s[targets[pick]] = seqs[pick]
    return out_t, out_s


def per_process(
    policy: CompiledPolicy, start: I64, process: npt.NDArray[np.int16], span: str
) -> I64:
    """``start`` plus each row's process's duration ``span`` (a ``CompiledProcess`` field;
    NEVER where it has none), one process at a time."""
    out = np.full(len(start), NEVER, dtype=np.int64)
    if not (start < NEVER).any():
        return out  # NEVER stays NEVER (a record never disputed has no deadline)
    for proc in policy.processes:
        length = getattr(proc, span)
        if length is None:
            continue
        sel = process == proc.index
        if sel.all():
            return later(policy, start, length)
        if sel.any():
            out[sel] = later(policy, start[sel], length)
    return out


def _has_facts(columns: LedgerColumns, policy: CompiledPolicy) -> bool:
    # eligibility needs the subjects' kinds even when the ledger holds no attribute
    return bool(len(columns.exm_seq) or len(columns.att_seq) or eligibility_plan(policy).any)


def fold(columns: LedgerColumns, policy: CompiledPolicy) -> tuple[Rows, RelationRows]:
    """Turn ledger columns into record versions and relations, applying every correction."""
    n = len(columns.rec_seq)
    order = np.argsort(columns.rec_seq, kind="stable")
    sorted_seq = columns.rec_seq[order]
    rel_order = np.argsort(columns.rel_seq, kind="stable")
    rel_sorted = columns.rel_seq[rel_order]

    def locate(seq_sorted: I64, ordering: I64, targets: I64) -> tuple[I64, npt.NDArray[np.bool_]]:
        pos = np.searchsorted(seq_sorted, targets)
        pos = np.minimum(pos, max(len(seq_sorted) - 1, 0))
        found = (
            seq_sorted[pos] == targets if len(seq_sorted) else np.zeros(len(targets), dtype=bool)
        )
        return ordering[pos] if len(seq_sorted) else pos, found

    action = columns.cor_action
    when = columns.cor_recorded_at
    rec_target, on_record = locate(sorted_seq, order, columns.cor_target)
    rel_target, on_relation = locate(rel_sorted, rel_order, columns.cor_target)

    def times(kind: int) -> tuple[I64, I64]:
        sel = (action == kind) & on_record
        return rec_target[sel], when[sel]

    known = columns.rec_recorded_at.astype(np.int64)
    resolved = _first_time(n, *times(RESOLVE))
    annulled = _first_time(n, *times(ANNUL))
    type_code = record_type_codes(columns, policy)
    process = policy.process_codes(type_code)
    d_targets, d_times = times(DISPUTE)
    closes = per_process(policy, known, process, "appeal_window")
    in_time = d_times <= closes[d_targets]
    disputed = _first_time(n, d_targets[in_time], d_times[in_time])
    u_targets, u_times = times(UPHOLD)
    after = u_times >= disputed[u_targets]
    decided = _first_time(n, u_targets[after], u_times[after])
    reconsidered = np.full(n, NEVER, dtype=np.int64)
    reconsideration_decided = np.full(n, NEVER, dtype=np.int64)
    late = ~in_time
    if policy.any_reconsideration:
        # a dispute at or after the review's decision, within the filing period, applies
        # for reconsideration (the first such one); its decision is the next uphold
        filing_ends = per_process(policy, decided, process, "reconsider_within")
        d_seqs = columns.cor_seq[(action == DISPUTE) & on_record]
        ends = filing_ends[d_targets]
        applies = (d_times >= decided[d_targets]) & (d_times <= ends) & (ends < NEVER)
        reconsidered, r_seq = _first_entry(n, d_targets[applies], d_times[applies], d_seqs[applies])
        # after the review's decision, a dispute past the filing period has no effect
        late = (late & ~applies) | (d_times > ends)
        u_seqs = columns.cor_seq[(action == UPHOLD) & on_record]
        r_t, r_s = reconsidered[u_targets], r_seq[u_targets]
        after2 = (u_times > r_t) | ((u_times == r_t) & (u_seqs > r_s))
        after2 &= r_t < NEVER
        reconsideration_decided = _first_time(n, u_targets[after2], u_times[after2])
    dispute_late = _first_time(n, d_targets[late], d_times[late])

    # Rectifications, extensions and early ends: each makes a new version of its record,
    # visible from when the ledger learned it; the previous version is hidden from then on.
    changes = (action == RECTIFY) | (action == EXTEND) | (action == END)
    r_sel = np.flatnonzero(changes & on_record)
    r_sel = r_sel[np.lexsort((columns.cor_seq[r_sel], when[r_sel], rec_target[r_sel]))]
    r_rec = rec_target[r_sel]
    r_time = when[r_sel]
    r_action = action[r_sel]
    first_rect = _first_time(n, r_rec, r_time)
    same_next = np.zeros(len(r_sel), dtype=bool)
    if len(r_sel) > 1:
        same_next[:-1] = r_rec[:-1] == r_rec[1:]
    next_time = np.full(len(r_sel), NEVER, dtype=np.int64)
    next_time[:-1][same_next[:-1]] = r_time[1:][same_next[:-1]]
    group_start = np.ones(len(r_sel), dtype=bool)
    group_start[1:] = ~same_next[:-1] if len(r_sel) > 1 else group_start[1:]
    start_pos = np.maximum.accumulate(np.where(group_start, np.arange(len(r_sel)), 0))
    # the latest rectification so far (each version keeps its values), else -1
    is_rect = r_action == RECTIFY
    last_rect = np.maximum.accumulate(np.where(is_rect, np.arange(len(r_sel)), -1))
    if len(r_sel):
        last_rect = np.where(last_rect >= start_pos, last_rect, -1)
    # extensions so far (spans, summed part by part), and the earliest end so far
    is_ext = r_action == EXTEND
    ext_parts: list[I64] = []
    texts = columns.cor_term[r_sel] if is_ext.any() else np.array([], dtype=object)
    for ext_each in _spans_of(texts, np.flatnonzero(is_ext), len(r_sel)):
        ext_sum = np.cumsum(ext_each)
        if len(r_sel):
            ext_sum = ext_sum - ext_sum[start_pos] + ext_each[start_pos]
        ext_parts.append(ext_sum)
    end_each = np.where(r_action == END, columns.cor_occurred_at[r_sel], MAX_TIME + 1)
    # a running minimum per record: each record's values shifted below every earlier
    # record's (ranks count records, so the shift stays far inside int64)
    span = MAX_TIME + 2 - MIN_TIME
    rank = (np.cumsum(group_start) - 1).astype(np.int64) * span
    end_min = np.minimum.accumulate(end_each.astype(np.int64) - rank) + rank
    end_min = np.where(end_min > MAX_TIME, NEVER, end_min)

    rect_row = np.where(last_rect >= 0, r_sel[np.maximum(last_rect, 0)], -1)
    has_rect = rect_row >= 0
    new_type = type_code[r_rec].copy()
    if has_rect.any():
        cor_types = columns.cor_type[rect_row[has_rect]]
        changed_type = np.array([bool(t) for t in cor_types], dtype=bool)
        if changed_type.any():
            where_changed = np.flatnonzero(has_rect)[changed_type]
            new_type[where_changed] = _codes(cor_types[changed_type], policy.type_code)
    safe_rect = np.maximum(rect_row, 0)
    new_occ = np.where(has_rect, columns.cor_new_occurred_at[safe_rect], -1)
    new_occ = np.where(new_occ >= 0, new_occ, columns.rec_occurred_at[r_rec])
    new_amount = np.where(has_rect, columns.cor_amount[safe_rect], np.nan)
    new_amount = np.where(np.isnan(new_amount), columns.rec_amount[r_rec], new_amount)

    def cat(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        # (a new array: converted below without a further copy when its dtype is the one)
        return np.concatenate([a, b])

    idx = np.arange(n, dtype=np.int64)
    record = cat(idx, r_rec).astype(np.int64, copy=False)
    all_type = cat(type_code, new_type).astype(np.int32, copy=False)
    all_occ = cat(columns.rec_occurred_at, new_occ).astype(np.int64, copy=False)
    own, given = _own_terms(columns)
    zero = np.zeros(n, dtype=np.int64)
    expires, flags = _expiry(
        policy,
        all_type,
        all_occ,
        (own[0][record], own[1][record], own[2][record]),
        given[record],
        (
            cat(zero, ext_parts[0]).astype(np.int64, copy=False),
            cat(zero, ext_parts[1]).astype(np.int64, copy=False),
            cat(zero, ext_parts[2]).astype(np.int64, copy=False),
        ),
        cat(np.full(n, NEVER, dtype=np.int64), end_min).astype(np.int64, copy=False),
    )
    rows = Rows(
        subject=cat(columns.rec_subject, columns.rec_subject[r_rec]).astype(np.int32, copy=False),
        type_code=all_type,
        occurred=all_occ,
        known=cat(known, known[r_rec]).astype(np.int64, copy=False),
        visible_from=cat(known, r_time).astype(np.int64, copy=False),
        hidden_from=cat(
            np.minimum(annulled, first_rect), np.minimum(annulled[r_rec], next_time)
        ).astype(np.int64, copy=False),
        resolved=cat(resolved, resolved[r_rec]).astype(np.int64, copy=False),
        disputed=cat(disputed, disputed[r_rec]).astype(np.int64, copy=False),
        dispute_late=cat(dispute_late, dispute_late[r_rec]).astype(np.int64, copy=False),
        decided=cat(decided, decided[r_rec]).astype(np.int64, copy=False),
        reconsidered=cat(reconsidered, reconsidered[r_rec]).astype(np.int64, copy=False),
        reconsideration_decided=cat(reconsideration_decided, reconsideration_decided[r_rec]).astype(
            np.int64, copy=False
        ),
        process=cat(process, process[r_rec]).astype(np.int16, copy=False),
        amount=cat(columns.rec_amount, new_amount).astype(np.float64, copy=False),
        record=record,
        rectification=cat(np.full(n, -1, dtype=np.int64), rect_row.astype(np.int64)).astype(
            np.int64, copy=False
        ),
        expires=expires,
        term_flags=flags,
        facts=fold_facts(columns, policy) if _has_facts(columns, policy) else None,
    )

    m = len(columns.rel_seq)
    a_sel = (action == ANNUL) & on_relation & ~on_record
    rel_hidden = _first_time(m, rel_target[a_sel], when[a_sel])
    relations = RelationRows(
        subject=columns.rel_subject.astype(np.int32),
        related=columns.rel_related.astype(np.int32),
        type_code=_codes(columns.rel_type, {r: i for i, r in enumerate(policy.relation_names)}),
        valid_from=columns.rel_valid_from.astype(np.int64),
        valid_until=columns.rel_valid_until.astype(np.int64),
        known=columns.rel_recorded_at.astype(np.int64),
        hidden_from=rel_hidden,
        relation=np.arange(m, dtype=np.int64),
    )
    return rows, relations
