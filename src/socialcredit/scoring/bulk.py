"""Everyone's standing at once: score, grade, lists and measures as arrays (vectorised)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring.evaluate import evaluate_subjects_at
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.standing import own_measure, relations_at
from socialcredit.scoring.timeline import row_breakpoints, timelines

I64 = npt.NDArray[np.int64]


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
                if own_measure(prep, tls, c, s, t) is not None:
                    own[s.index, c] = True
    measures = own.copy()
    rel_ok = relations_at(prep, t)
    for s in policy.sanctions:
        for rel in s.reach:
            code = policy.relation_names.index(rel)
            sel = rel_ok & (prep.relations.type_code == code)
            subj = prep.relations.subject[sel]
            measures[s.index, subj[own[s.index, prep.relations.related[sel]]]] = True
    return BulkStandings(
        t, policy, list(prep.columns.subjects), ev.score, ev.grade, ev.lists, measures
    )
