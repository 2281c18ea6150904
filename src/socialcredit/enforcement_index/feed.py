"""Keeping up with the ledger's entries by ``seq``, asking again for numbers not yet seen.

On PostgreSQL, writers running at once commit out of ``seq`` order: a reader that has seen
101 may see 100 later. The feed remembers every number it skipped over (a gap) and asks
for it again on each poll, until it arrives or ``wait`` seconds pass (a rolled-back insert
never fills its number). Asking for an entry twice is harmless: the index evaluates its
subject again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from socialcredit.ledger import Ledger
from socialcredit.ledger.changes import Change

GAP_WAIT = 120.0
"""Seconds a skipped ``seq`` is asked for again (longer than any ingest transaction)."""
MAX_RANGES = 32
"""Gaps asked for one by one; more are asked for as one range spanning them."""
PAGE = 50_000
"""Entries read per query."""


class ChangeFeed:
    """The entries a reader has not seen yet, poll after poll."""

    def __init__(
        self,
        ledger: Ledger,
        after: int,
        missing: Iterable[int] = (),
        wait: float = GAP_WAIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """A feed of the entries of ``ledger`` numbered above ``after``, and of those in
        ``missing`` (numbers at or below ``after`` the reader has not seen)."""
        self.ledger = ledger
        self.last = after
        self.wait = wait
        self._clock = clock
        now = clock()
        self.gaps: list[list[float]] = []  # [low, high, first noticed] (inclusive numbers)
        for seq in sorted(set(missing)):
            if self.gaps and self.gaps[-1][1] == seq - 1:
                self.gaps[-1][1] = seq
            else:
                self.gaps.append([seq, seq, now])

    def poll(self, limit: int = PAGE) -> list[Change]:
        """The entries not seen yet (at most ``limit`` above the last seen, and every one
        that arrived in a gap), in ``seq`` order."""
        now = self._clock()
        self.gaps = [g for g in self.gaps if now - g[2] < self.wait]
        ranges = [(int(g[0]), int(g[1])) for g in self.gaps]
        if len(ranges) > MAX_RANGES:
            ranges = [(ranges[0][0], ranges[-1][1])]
        before = self.last
        changes = self.ledger.changes_after(before, ranges, limit)
        out: list[Change] = []
        for c in changes:
            if c.seq > before:
                if c.seq > self.last + 1:
                    self.gaps.append([self.last + 1, c.seq - 1, now])
                if c.seq > self.last:
                    self.last = c.seq
                    out.append(c)
            elif self._fill(c.seq):
                out.append(c)
        return out

    def _fill(self, seq: int) -> bool:
        """Take ``seq`` out of the gaps; whether it was in one (else: seen before)."""
        for i, (lo, hi, noticed) in enumerate(self.gaps):
            if lo <= seq <= hi:
                parts = []
                if seq > lo:
                    parts.append([lo, seq - 1, noticed])
                if seq < hi:
                    parts.append([seq + 1, hi, noticed])
                self.gaps[i : i + 1] = parts
                return True
        return False
