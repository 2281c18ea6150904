"""Notices written in the background (the HTTP service's outbox writer).

A ``Notifier`` looks, every ``interval`` seconds of its own, at the subjects that may have
an event (``socialcredit.notices``) and writes the notices due, as of its injected clock:

- after entries arrive (from this process or any other: it follows the ledger's entries by
  ``seq``), the subjects they are about and those related to them (a measure reaching a
  child through ``child_of``);
- when a subject's next event time passes without a new entry (a publicity period ends and
  the measure starts; a dispute stage reaches its deadline undecided and the record stops
  counting), from the times each run found (``NoticeRun.next_at``);
- everyone who may have an event, when it starts, whenever a policy version is activated
  and when one activated for later comes into force (measures in force then start again
  under it: their subjects are told under the new version).

Writing is idempotent (a unique key per event in the outbox), so two notifiers at once
would write each notice once; but with several service processes on one database only one
of them does the work: a notifier given a ``Lease`` (``socialcredit.lease``: a lock the
operating system or PostgreSQL releases when its holder dies) looks only while it holds it,
and the others try to take it at each of their looks, so when the holder dies another
takes over (starting with a look at everyone). A tick that fails (the database away for a
moment) is logged and the same work is tried again on the next one. ``stop`` ends a look
between two subjects (what was written stays; the rest is found again by the next look).

Entries are followed by a ``ChangeFeed`` started at the ledger's head with the recent
numbers not yet committed (on PostgreSQL a writer with a lower ``seq`` may commit after
one with a higher), each asked for again until every transaction that could still hold it
has ended.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from socialcredit.columns import RELATION

if TYPE_CHECKING:
    from socialcredit.enforcement_index.feed import ChangeFeed
    from socialcredit.engine import Engine
    from socialcredit.lease import Lease
    from socialcredit.ledger import Ledger
    from socialcredit.notices import NoticeRun

log = logging.getLogger("socialcredit.notifier")

INTERVAL = 1.0
"""Seconds between the notifier's looks."""
NEVER = 2**62


class Notifier:
    """Writes the notices due as entries arrive and time passes (see the module)."""

    def __init__(
        self,
        engine: Callable[[], Engine],
        clock: Callable[[], int],
        dispute_url: Callable[[str], str] | None = None,
        interval: float = INTERVAL,
        lease: Lease | None = None,
    ) -> None:
        """A notifier over the engine ``engine()`` returns (the policy history as it is
        now), at the times ``clock()`` gives; ``dispute_url(subject)``: where the subject
        files a dispute (said in the notices); ``lease``: look only while holding it (None:
        always). Not started: ``tick()`` runs one look, ``start()`` runs them on a daemon
        thread."""
        self.engine = engine
        self.lease = lease
        self.looks = 0  # looks that read the ledger (not those skipped for the lease)
        self.clock = clock
        self.dispute_url = dispute_url
        self.interval = interval
        self.written = 0  # notices written by this notifier
        self.failures = 0  # looks that raised
        self._water: tuple[int, int] | None = None
        self._in_force_at = NEVER  # when the next version activated for later comes into force
        self._feed: ChangeFeed | None = None
        self._pending: set[str] = set()  # subjects of entries read but not yet looked at
        self._due: list[tuple[int, str]] = []  # (next event time, subject), a heap
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        """One look (see the module): write the notices due now; returns how many were
        written. Safe from any thread (one look at a time)."""
        from socialcredit.enforcement_index.feed import ChangeFeed
        from socialcredit.engine import NoPolicyError
        from socialcredit.notices import generate_notices

        with self._lock:
            if self.lease is not None and not self.lease.try_hold():
                # another process does the work; if it dies, this one starts afresh
                self._feed, self._water, self._pending, self._due = None, None, set(), []
                return 0
            try:
                engine = self.engine()
            except NoPolicyError:
                return 0  # nothing is decided without a policy: nothing to tell
            ledger = engine.ledger
            self.looks += 1
            now = self.clock()
            water = ledger.policy_water()
            subjects: list[str] | None
            if water != self._water or self._feed is None or self._in_force_at <= now:
                # first look, a policy activated, or one coming into force: everyone who
                # may have an event
                feed = ChangeFeed.at_head(ledger)
                subjects = None
            else:
                feed = self._feed
                touched = set(self._pending)
                while True:
                    changes = feed.poll()
                    touched.update(c.subject for c in changes)
                    touched.update(c.related for c in changes if c.related is not None)
                    if len(changes) < 1000:
                        break
                touched |= related_to(ledger, touched)
                while self._due and self._due[0][0] <= now:
                    touched.add(heapq.heappop(self._due)[1])
                self._pending = touched
                subjects = sorted(touched)
            if subjects == []:
                return 0
            run = generate_notices(
                engine, subjects, now, dispute_url=self.dispute_url, stop=self._stop.is_set
            )
            self.written += len(run.written)
            if run.stopped:  # the rest is looked at again by the next look (if any)
                return len(run.written)
            # done: remember where the feed and the policy history were
            self._feed, self._water, self._pending = feed, water, set()
            if subjects is None:
                self._due = []
                starts = [pv.activated_at for pv in engine.history if pv.activated_at > now]
                self._in_force_at = min(starts, default=NEVER)
            self._schedule(run)
            return len(run.written)

    def _schedule(self, run: NoticeRun) -> None:
        for subject, at in run.next_at.items():
            heapq.heappush(self._due, (at, subject))

    def poke(self) -> None:
        """Look now rather than at the next interval (entries were just stored)."""
        self._wake.set()

    def start(self) -> Notifier:
        """Run ``tick`` every ``interval`` seconds (and when poked) on a daemon thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the same work is tried again on the next look
                if self._stop.is_set():
                    return  # stopping: the database may be closing under the look
                self.failures += 1
                log.exception("notices: a look failed (will try again)")
            self._wake.wait(self.interval)
            self._wake.clear()

    def stop(self, timeout: float | None = 10.0) -> bool:
        """Stop the thread: a look in progress ends before its next subject (the look at
        everyone's bulk evaluation, seconds on a large register, is not cut short). Waits at
        most ``timeout`` seconds; returns whether the thread has ended (if not, it is a
        daemon thread: it ends with the process, and a notice half-written is not
        committed). Gives up the lease."""
        self._stop.set()
        self._wake.set()
        ended = True
        if self._thread is not None:
            self._thread.join(timeout)
            ended = not self._thread.is_alive()
            self._thread = None
        if ended and self.lease is not None:
            self.lease.release()
        return ended


def related_to(ledger: Ledger, names: Iterable[str]) -> set[str]:
    """Subjects with a relation to one of ``names`` (a measure may reach them through it)."""
    names = sorted(set(names))
    if not names:
        return set()
    p = "?" if ledger.is_sqlite else "%s"
    found: set[str] = set()
    with ledger.reading() as conn:
        cursor = conn.cursor()
        for lo in range(0, len(names), 500):
            part = names[lo : lo + 500]
            cursor.execute(
                "SELECT DISTINCT s.name FROM entries e JOIN subjects s ON s.id = e.subject_id "
                "JOIN subjects r ON r.id = e.related_subject_id "
                f"WHERE e.kind = {p} AND r.name IN ({', '.join([p] * len(part))})",
                (RELATION, *part),
            )
            found.update(str(r[0]) for r in cursor.fetchall())
    return found - set(names)
