"""What a simulation measures, per policy, day and group, in a form chunks can be added in.

Every figure is an integer count (subjects on a list, under a measure, in a grade, spells
of a length), so adding chunks up in any order gives the same result bit for bit; scores
are kept as a histogram of values rounded to a cent, from which the mean and the Gini
coefficient are computed once at the end.

Counts per (day, group), for day ``d`` read at the last second of that day:

- ``subjects``: members of the group;
- ``records``, ``wrong_records``: records the ledger learned that day about members (of
  them, those about the wrong subject);
- ``grade:NAME`` and ``grade:not_determinable``;
- ``list:NAME`` (on the list), ``list_in:NAME`` and ``list_out:NAME`` (put on it, taken off
  it since the day before): ``list:NAME`` on day d = on day d-1 + in - out;
- ``denied:SERVICE`` / ``benefit:SERVICE``: under a denial (a benefit) on that service,
  own or through a relation, exemptions not counted;
- ``sanctioned``: under at least one denial; ``sanctioned_wrongful``: under a denial that
  would not be in force had no record been attributed to the wrong subject (the same
  ledger evaluated without the erroneous records and their corrections);
  ``sanctioned_via_relation``: under a denial that reaches them only through a relation
  (a parent's, a company's);
- ``rewarded``: under at least one benefit;
- ``purchases:SERVICE`` / ``purchases_refused:SERVICE``: uses of a service the scenario
  gives a rate for, and of them those made while it was denied (``BulkStandings.denied_on``:
  any denial covering it, whatever requests it is limited to, less exemptions);
- with a behaviour response or exit in the scenario: ``conduct_avoided`` (records that did
  not happen because their actor was under a denial the day before), ``exits`` (left that
  day), ``exited`` (left by then) and ``conduct_after_exit`` (records that did not happen
  because their actor had left).

Spells (per group, by length in days): ``wrongful`` (a wrongful sanction from start to end)
and ``list:NAME`` (from listing to delisting); spells still running at the end are counted
apart as censored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]


@dataclass
class PolicyMetrics:
    """One policy's measurements over the simulated days (see the module docstring)."""

    days: int
    groups: int
    counts: dict[str, I64] = field(default_factory=dict)  # name -> [days, groups]
    # score histogram: rows of (day, group, score in cents) and how many had it
    score_keys: I64 = field(default_factory=lambda: np.empty((0, 3), dtype=np.int64))
    score_counts: I64 = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    spells: dict[str, I64] = field(default_factory=dict)  # name -> [groups, days + 1]
    censored: dict[str, I64] = field(default_factory=dict)  # name -> [groups, days + 1]
    # agents read by each evaluation: "events" (on the days their standing can change) or
    # "reference" (every day; where the event-driven one does not apply or would not pay)
    read_by: dict[str, int] = field(default_factory=dict)

    def count(self, name: str) -> I64:
        """The [days, groups] array of ``name``, created (zeros) on first use."""
        found = self.counts.get(name)
        if found is None:
            found = self.counts[name] = np.zeros((self.days, self.groups), dtype=np.int64)
        return found

    def spell(self, name: str, censored: bool = False) -> I64:
        """The [groups, days + 1] histogram of spell lengths ``name``, created on first use."""
        table = self.censored if censored else self.spells
        found = table.get(name)
        if found is None:
            found = table[name] = np.zeros((self.groups, self.days + 1), dtype=np.int64)
        return found

    def add_scores(
        self, day: int, group: npt.NDArray[np.integer], score: npt.NDArray[np.floating]
    ) -> None:
        """Add the day's scores of subjects in ``group`` (group index per subject)."""
        cents = np.round(np.asarray(score, dtype=np.float64) * 100).astype(np.int64)
        order = np.lexsort((cents, group))
        g, c = group[order].astype(np.int64), cents[order]
        if not len(c):
            return
        start = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (c[1:] != c[:-1])])
        counts = np.diff(np.r_[start, len(c)])
        keys = np.stack([np.full(len(start), day), g[start], c[start]], axis=1)
        self.score_keys = np.concatenate([self.score_keys, keys])
        self.score_counts = np.concatenate([self.score_counts, counts.astype(np.int64)])

    def _compact(self) -> None:
        """Add up the counts of equal (day, group, score) rows, in key order."""
        if not len(self.score_counts):
            return
        k = self.score_keys
        lo = k.min(axis=0)
        span = k.max(axis=0) - lo + 1
        if float(span[0]) * float(span[1]) * float(span[2]) < 2.0**62:
            # one integer per key, in (day, group, score) order: a stable sort of it finds
            # the runs already sorted (a compacted histogram and a chunk's own)
            code = ((k[:, 0] - lo[0]) * span[1] + (k[:, 1] - lo[1])) * span[2] + (k[:, 2] - lo[2])
            order = np.argsort(code, kind="stable")
            code = code[order]
            new = np.r_[True, code[1:] != code[:-1]]
        else:
            order = np.lexsort((k[:, 2], k[:, 1], k[:, 0]))
            new = np.r_[True, (np.diff(k[order], axis=0) != 0).any(axis=1)]
        start = np.flatnonzero(new)
        self.score_keys = k[order[start]]
        self.score_counts = np.add.reduceat(self.score_counts[order], start)

    def merge(self, other: PolicyMetrics) -> None:
        """Add ``other`` (another chunk of the same run) into this one."""
        for name, values in other.counts.items():
            self.count(name)[...] += values
        for name, values in other.spells.items():
            self.spell(name)[...] += values
        for name, values in other.censored.items():
            self.spell(name, censored=True)[...] += values
        for way, agents in other.read_by.items():
            self.read_by[way] = self.read_by.get(way, 0) + agents
        self.score_keys = np.concatenate([self.score_keys, other.score_keys])
        self.score_counts = np.concatenate([self.score_counts, other.score_counts])
        self._compact()

    def finish(self) -> None:
        """Put the score histogram in its canonical form (sorted, one row per key)."""
        self._compact()

    def score_summary(
        self, group: int | None = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Per day, the mean score and the Gini coefficient of scores, of ``group`` (None:
        everyone). Scores below zero are shifted so the lowest is zero for the Gini."""
        mean = np.full(self.days, np.nan)
        gini = np.full(self.days, np.nan)
        keys, counts = self.score_keys, self.score_counts
        for day in range(self.days):
            sel = keys[:, 0] == day
            if group is not None:
                sel &= keys[:, 1] == group
            if not sel.any():
                continue
            values = keys[sel, 2].astype(np.float64) / 100
            weight = counts[sel]
            # the same value in several groups: add them up, in value order
            order = np.argsort(values, kind="stable")
            values, weight = values[order], weight[order]
            total = weight.sum()
            mean[day] = float((values * weight).sum() / total)
            gini[day] = gini_of(values, weight)
        return mean, gini


def gini_of(values: npt.NDArray[np.float64], weight: npt.NDArray[np.int64]) -> float:
    """The Gini coefficient of a distribution given as sorted ``values`` with integer
    ``weight`` (how many have each); 0 when everyone has the same. Negative values are
    shifted so that the lowest is zero."""
    if not len(values):
        return float("nan")
    v = values - min(0.0, float(values.min()))
    w = weight.astype(np.float64)
    total = w.sum()
    mass = (v * w).sum()
    if mass == 0 or total == 0:
        return 0.0
    # G = 1 - sum_i w_i (2 * S_{i-1} + w_i v_i) / (N * total mass), S = cumulative mass
    cum = np.cumsum(v * w)
    before = cum - v * w
    return float(1.0 - (w * (before + cum)).sum() / (total * mass))
