"""Keeping up with the ledger's entries by ``seq``, asking again for numbers not yet seen.

On PostgreSQL, writers running at once commit out of ``seq`` order: a reader that has seen
101 may see 100 later. The feed remembers every number it skipped over (a gap) and asks
for it again on each poll until no writer that could still commit it is running: a second
after the gap is noticed (by then every writer holding a number in it has a transaction
id) the feed notes the snapshot's ``xmax``, and once a later snapshot's ``xmin`` has
passed it every such writer has ended; the gap is asked for one last time and dropped (a
rolled-back insert never fills its number). However long an ingest's transaction runs,
its entries are not missed. On SQLite one writer commits at a time, in ``seq`` order; a
gap there (a rolled-back insert) is dropped after ``wait`` seconds. Asking for an entry
twice is harmless: the index evaluates its subject again.
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
GRACE = 1.0
"""Seconds after a gap is noticed before the writers that may fill it are pinned down
(a writer takes its transaction id when it inserts its first row, just after it draws
its first number)."""
GAP_SCAN = 100_000
"""How far below the highest ``seq`` a feed started at the head looks for numbers not yet
committed."""


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
        # [low, high (inclusive), first noticed, xmax pinned then (PostgreSQL; -1: not yet)]
        self.gaps: list[list[float]] = []
        for seq in sorted(set(missing)):
            if self.gaps and self.gaps[-1][1] == seq - 1:
                self.gaps[-1][1] = seq
            else:
                self.gaps.append([seq, seq, now, -1])

    @classmethod
    def at_head(cls, ledger: Ledger, wait: float = GAP_WAIT) -> ChangeFeed:
        """A feed from the ledger's highest ``seq`` now, with the numbers below it (at most
        ``GAP_SCAN`` down) that no committed entry holds yet: a writer in flight may still
        commit them. What was committed before this call is for the caller to read."""
        top = ledger.high_water().seq
        low = max(top - GAP_SCAN, 0)
        present = set(ledger.seqs_above(low))
        missing = [s for s in range(low + 1, top + 1) if s not in present]
        return cls(ledger, top, missing, wait)

    def poll(self, limit: int = PAGE) -> list[Change]:
        """The entries not seen yet (at most ``limit`` above the last seen, and every one
        that arrived in a gap), in ``seq`` order."""
        now = self._clock()
        ended: int | None = None  # writers numbered below this had ended before the query
        if self.gaps:
            horizon = self.ledger.transaction_horizon()
            if horizon is None:
                self.gaps = [g for g in self.gaps if now - g[2] < self.wait]
            else:
                ended, xmax = horizon
                for g in self.gaps:
                    if g[3] < 0 and now - g[2] >= GRACE:
                        g[3] = xmax
        ranges = [(int(g[0]), int(g[1])) for g in self.gaps]
        if len(ranges) > MAX_RANGES:
            ranges = [(ranges[0][0], ranges[-1][1])]
        before = self.last
        changes = self.ledger.changes_after(before, ranges, limit)
        out: list[Change] = []
        for c in changes:
            if c.seq > before:
                if c.seq > self.last + 1:
                    self.gaps.append([self.last + 1, c.seq - 1, now, -1])
                if c.seq > self.last:
                    self.last = c.seq
                    out.append(c)
            elif self._fill(c.seq):
                out.append(c)
        if ended is not None:
            # asked for one last time: every writer that could fill these had ended before
            # the query, so what is still missing was rolled back and never comes
            self.gaps = [g for g in self.gaps if not 0 <= g[3] <= ended]
        return out

    def _fill(self, seq: int) -> bool:
        """Take ``seq`` out of the gaps; whether it was in one (else: seen before)."""
        for i, (lo, hi, noticed, pinned) in enumerate(self.gaps):
            if lo <= seq <= hi:
                parts = []
                if seq > lo:
                    parts.append([lo, seq - 1, noticed, pinned])
                if seq < hi:
                    parts.append([seq + 1, hi, noticed, pinned])
                self.gaps[i : i + 1] = parts
                return True
        return False
