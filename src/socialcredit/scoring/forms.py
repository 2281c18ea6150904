"""Score forms: how the records that count become one number per subject.

A form is a pure function from the records that count (with their per-record weight, e.g.
decay) to a score per group. The policy's ``score.form`` picks one; the ledger, lists,
sanctions and explanations do not depend on which. New forms (a Sesame-style bounded score
from weighted factor categories, a ranking from ratings) are added here and in
``policy.model`` under a new ``form`` name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# (policy, type code per row, weight per row (0 where the record does not count), group per
# row, number of groups) -> (contribution per row, score per group)
ScoreForm = Callable[[CompiledPolicy, I64, F64, I64, int], tuple[F64, F64]]


def points_form(
    policy: CompiledPolicy, code: I64, weight: F64, group: I64, n_groups: int
) -> tuple[F64, F64]:
    """Base plus the (weighted) points of every record that counts, clamped to min/max."""
    contribution = policy.points[code] * weight
    raw = policy.base + np.bincount(group, weights=contribution, minlength=n_groups)
    return contribution, np.clip(raw, policy.score_min, policy.score_max)


FORMS: dict[str, ScoreForm] = {"points": points_form}
