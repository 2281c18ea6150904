"""Counterfactuals: when a denial would end if some actions on records were taken now.

``counterfactual_ends`` evaluates scenarios (each a set of changes) in one batch;
``smallest_sets`` searches sets of actions in increasing size for the smallest that ends a
denial sooner; ``searches`` makes several such searches with their first batches evaluated
as one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from socialcredit.columns import LedgerColumns
from socialcredit.policy.compiled import CompiledPolicy, CompiledSanction
from socialcredit.scoring.breakdown import reported_time
from socialcredit.scoring.measures import find_measures, relations_at, relevant_types
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.rows import RelationRows, Rows
from socialcredit.scoring.timeline import timelines_in_context
from socialcredit.timeutil import DAY, NEVER

_ROW_FIELDS = [
    f.name for f in fields(Rows) if f.init and f.name not in ("facts", "rater", "population")
]


_CHANGE_FIELDS = {"resolve": "resolved", "dispute": "disputed", "appeal": "hidden_from"}


Change = tuple[str, int]  # (resolve | dispute | appeal, row of the record)

# the batch's pseudo-subjects have names only (their rows are the batch's); copied with
# ``with_subjects`` rather than built anew, which would make ~50 empty columns per batch
_NO_COLUMNS = LedgerColumns(subjects=[], subject_kind=np.zeros(0, dtype=np.int8))


def counterfactual_ends(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    scenarios: Sequence[Sequence[Change]],
    attributes: Mapping[str, float | str] | None = None,
    from_t: bool = True,
) -> list[int | None]:
    """For each scenario (a set of changes, each a resolve, dispute or annul-on-appeal of one
    record row, made at ``t``), when the last denial of ``service`` would end (None: nothing
    would deny it; NEVER: no end).

    All scenarios are evaluated in one batch: each gets its own copy of the subject and its
    related subjects as pseudo-subjects, so the timelines of every scenario come from one
    vectorised evaluation. ``from_t``: where no denial's period runs from when its
    condition began (``from_start``), evaluate ``t`` and the later instants only (False:
    every instant; the same ends, kept for the equivalence test).
    """
    if not scenarios:
        return []
    policy, rows, rels = prep.policy, prep.rows, prep.relations
    sanctions = list(policy.sanctions_on(service, attributes))
    rel_idx = np.flatnonzero(relations_at(prep, t) & (rels.subject == subject))
    if not any(s.reach for s in sanctions):
        rel_idx = rel_idx[:0]
    involved = [subject, *sorted({int(rels.related[i]) for i in rel_idx})]
    local = np.full(max(prep.columns.n_subjects, 1), -1, dtype=np.int64)
    local[involved] = np.arange(len(involved))
    in_scope = local[rows.subject] >= 0
    relevant = relevant_types(policy, service, sanctions)
    if relevant is not None:  # records no condition on the service counts change nothing
        in_scope &= relevant[rows.type_code]
    base = np.flatnonzero(in_scope).astype(np.int64)
    n_inv, k = len(involved), len(scenarios)
    take = np.tile(base, k)
    scenario = np.repeat(np.arange(k, dtype=np.int64), len(base))
    values = {name: getattr(rows, name)[take] for name in _ROW_FIELDS}  # copies
    if rows.rater is not None:
        values["rater"] = rows.rater[take]
    values["subject"] = (scenario * n_inv + local[rows.subject[take]]).astype(np.int32)
    # each change hits every version of its record in its scenario's copy
    n_records = int(rows.record.max()) + 1 if len(rows) else 1
    entry_key = scenario * n_records + rows.record[take]
    for kind, field_name in _CHANGE_FIELDS.items():
        keys = [
            j * n_records + int(rows.record[row])
            for j, changes in enumerate(scenarios)
            for change_kind, row in changes
            if change_kind == kind
        ]
        if keys:
            hit = np.zeros(k * n_records, dtype=bool)  # per (scenario, record): changed
            hit[keys] = True
            values[field_name][hit[entry_key]] = t
    # each scenario's stand-in i is subject involved[i % n_inv]
    stand_ins = np.tile(np.asarray(involved, dtype=np.int64), k)
    facts = rows.facts.standing_in(stand_ins) if rows.facts is not None else None
    batch_rows = Rows(**values, facts=facts)
    rows.carry_shifted(batch_rows, take)
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
    columns = _NO_COLUMNS.with_subjects(names, np.zeros(len(names), np.int8))
    batch = Prepared(policy, columns, batch_rows, batch_rels, prep.in_force_from)
    # the changes are made at t: where no denial's period runs from when its condition
    # began, its end depends on the condition from t on only, so only t and the later
    # instants are evaluated (the period in force at t keeps its end; its start is not used)
    whole = not from_t or any(from_start(policy, s) for s in sanctions if s.effect == "deny")
    since = None if whole else t
    tls, _ = timelines_in_context(
        policy, batch_rows, list(range(n_inv * k)), t, [s.index for s in sanctions], since
    )
    ends: list[int | None] = []
    n_rel = len(rel_idx)
    for j in range(k):
        mine = np.arange(j * n_rel, (j + 1) * n_rel)  # scenario j's copies of the relations
        # the measures in force (``measures_of``) need only their ends here: ``until`` is
        # the period's end as reported (None: open, NEVER), without building each Measure
        until = [
            reported_time(f.period[1])
            for f in find_measures(batch, j * n_inv, t, tls, mine, sanctions)
            if f.sanction.effect == "deny"
        ]
        ends.append(max(NEVER if u is None else u for u in until) if until else None)
    return ends


def from_start(policy: CompiledPolicy, sanction: CompiledSanction) -> bool:
    """Whether the end of a period of ``sanction`` depends on more than its condition from
    a time on: a fixed term, a maximum duration, an end after resolution or a publicity
    period (each counted from when the condition began), or a condition on a score with
    decaying records (its changes are located by subdividing the segments of the timeline,
    which differ when it starts later)."""
    return (
        sanction.fixed is not None
        or sanction.max_duration is not None
        or sanction.after_resolution is not None
        or sanction.notice is not None
        or (sanction.uses_score and policy.any_decay)
    )


OWN_KINDS = ("resolve", "dispute")  # what the person can do themselves


@dataclass(frozen=True)
class SetEnd:
    """A set of changes and when the denial would end if they were made now (NEVER: no end;
    ``t``: at once)."""

    changes: tuple[Change, ...]
    end: int


MAX_SET_SIZE = 3
"""The most changes an explanation tries together when it looks for what ends a denial
sooner (a bound on the search; an explanation that finds nothing within it says so)."""

MAX_RECORDS = 6
"""The most records whose changes a search combines into sets (changes on the rest are
tried as single changes only, when given as ``extra``)."""

FIRST_BATCH = 40
"""How many scenarios the first batch of a search holds before larger sets get their own."""


def smallest_sets(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    steps: Sequence[Sequence[Change]],
    current: int,
    max_size: int = MAX_SET_SIZE,
    max_records: int = MAX_RECORDS,
    max_scenarios: int = 64,
    extra: Sequence[Change] = (),
    first_batch: int = FIRST_BATCH,
    attributes: Mapping[str, float | str] | None = None,
) -> tuple[list[SetEnd], list[SetEnd]]:
    """Single changes and the smallest sets of changes that end the denial of ``service``
    sooner than ``current``.

    ``steps[i]``: the changes possible on record ``i`` (at most one of them is taken per set).
    Returns (every single change with its end, the sets on the frontier): a set of size k is
    on the frontier when it gives the earliest end among sets of size k and that end falls
    on an earlier day than every smaller set's and than ``current`` (people are told dates:
    an end a few hours sooner on the same day is not "sooner" to them). The search is bounded: at most
    ``max_size`` changes on the first ``max_records`` records, at most ``max_scenarios``
    scenarios per size. Singles, pairs and larger sizes while they fit in ``first_batch``
    scenarios go in one batch; any larger size gets a batch of its own, tried only while
    doing every change at once (a probe in the first batch) ends sooner than the best
    smaller set (more actions never make a denial last longer under the policy language:
    every condition counts adverse records or a score they lower). ``extra``: single
    changes to evaluate in the first batch too (returned with the singles, never in a set).
    ``attributes``: a request's (see ``measures_for_service``); None for every request.
    """
    search = Search(steps, current, max_size, max_records, max_scenarios, extra, first_batch)
    return searches(prep, subject, service, t, [search], attributes)[0]()


@dataclass(frozen=True)
class Search:
    """The arguments of one ``smallest_sets`` search (see there)."""

    steps: Sequence[Sequence[Change]]
    current: int
    max_size: int = MAX_SET_SIZE
    max_records: int = MAX_RECORDS
    max_scenarios: int = 64
    extra: Sequence[Change] = ()
    first_batch: int = FIRST_BATCH


def searches(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    asked: Sequence[Search],
    attributes: Mapping[str, float | str] | None = None,
) -> list[Callable[[], tuple[list[SetEnd], list[SetEnd]]]]:
    """Several ``smallest_sets`` searches whose first batches are evaluated together, in
    one batch (a scenario two searches share is evaluated once): per search, a function
    that finishes it and returns what ``smallest_sets`` returns for it. A search that needs
    larger sets than its first batch holds evaluates them when (and only when) its function
    is called, as ``smallest_sets`` would. Each scenario's end depends on that scenario
    alone, so the answers are those of the searches made one by one."""
    plans = [_plan(a) for a in asked]
    batch = list(dict.fromkeys(s for p in plans for s in p.first))
    ends = dict(zip(batch, _ends(prep, subject, service, t, batch, attributes), strict=True))

    def finish(plan: _Plan) -> Callable[[], tuple[list[SetEnd], list[SetEnd]]]:
        return lambda: _finish(
            prep, subject, service, t, plan, [ends[s] for s in plan.first], attributes
        )

    return [finish(p) for p in plans]


@dataclass(frozen=True)
class _Plan:
    """A search's sets (per size), and its first batch: the singles, the extras, the sizes
    that fit, then the probe (every change at once) when larger sizes remain."""

    search: Search
    per_record: list[list[Change]]
    singles: list[tuple[Change, ...]]
    extras: list[tuple[Change, ...]]
    top: int
    by_size: dict[int, list[tuple[Change, ...]]]
    first: list[tuple[Change, ...]]
    probed: bool


def _plan(search: Search) -> _Plan:
    per_record: list[list[Change]] = [list(s) for s in search.steps[: search.max_records] if s]
    singles: list[tuple[Change, ...]] = [(c,) for s in per_record for c in s]
    extras: list[tuple[Change, ...]] = [(c,) for c in search.extra]
    top = min(search.max_size, len(per_record))
    # as many sizes as fit in the first batch (one batch's fixed cost dominates small ones)
    by_size: dict[int, list[tuple[Change, ...]]] = {1: singles}
    first = [*singles, *extras]
    for size in range(2, top + 1):
        sets = _sets(per_record, size, search.max_scenarios)
        if size > 2 and len(first) + len(sets) > search.first_batch:
            break
        by_size[size] = sets
        first += sets
    later = max(by_size) < top
    everything = [tuple(c for s in per_record for c in s)] if later else []
    return _Plan(search, per_record, singles, extras, top, by_size, first + everything, later)


def _finish(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    plan: _Plan,
    ends: list[int],
    attributes: Mapping[str, float | str] | None,
) -> tuple[list[SetEnd], list[SetEnd]]:
    """The singles and the frontier of ``plan``, given the ends of its first batch."""
    singles, extras, per_record = plan.singles, plan.extras, plan.per_record
    by_size = dict(plan.by_size)
    single_ends = [SetEnd(c, e) for c, e in zip(singles + extras, ends, strict=False)]
    size_ends: dict[int, list[int]] = {1: ends[: len(singles)]}
    at = len(singles) + len(extras)
    for size in sorted(by_size)[1:]:
        size_ends[size] = ends[at : at + len(by_size[size])]
        at += len(by_size[size])
    probe = ends[-1] if plan.probed else None
    frontier: list[SetEnd] = []
    best = plan.search.current
    local = prep.policy.calendar.offset
    for size in range(1, plan.top + 1):
        if size not in size_ends:
            if probe is None or day(probe, local) >= day(best, local):
                break
            by_size[size] = _sets(per_record, size, plan.search.max_scenarios)
            size_ends[size] = _ends(prep, subject, service, t, by_size[size], attributes)
        if not size_ends[size]:
            break
        lowest = min(size_ends[size])
        if day(lowest, local) < day(best, local):
            frontier.append(SetEnd(by_size[size][size_ends[size].index(lowest)], lowest))
            best = lowest
    return single_ends, frontier


def day(ts: int, offset: int = 0) -> int:
    """The day of ``ts`` in local time ``offset`` seconds east of UTC (what
    ``CompiledPolicy.date_of`` names), to compare ends as people are told them."""
    return (ts + offset) // DAY


def _sets(steps: list[list[Change]], size: int, limit: int) -> list[tuple[Change, ...]]:
    """Sets of ``size`` changes on different records (at most ``limit``)."""
    out: list[tuple[Change, ...]] = []
    for records in itertools.combinations(range(len(steps)), size):
        for combo in itertools.product(*(steps[i] for i in records)):
            out.append(combo)
            if len(out) >= limit:
                return out
    return out


def _ends(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    sets: Sequence[Sequence[Change]],
    attributes: Mapping[str, float | str] | None,
) -> list[int]:
    ends = counterfactual_ends(prep, subject, service, t, sets, attributes)
    return [t if e is None else e for e in ends]
