"""A background thread keeping an index current: ``catch_up`` every ``interval`` seconds.

With several API processes on one database, each runs one: an entry accepted by any
process is applied by every other within ``interval`` plus the time a catch-up takes.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialcredit.enforcement_index.index import EnforcementIndex

log = logging.getLogger("socialcredit.enforcement_index")

INTERVAL = 0.15
"""Seconds between catch-ups."""


class Refresher:
    """Calls ``index.catch_up()`` every ``interval`` seconds on a daemon thread, from
    ``start()`` until ``stop()``. A failing catch-up (the database away for a moment) is
    logged and tried again on the next tick; the index keeps answering meanwhile."""

    def __init__(self, index: EnforcementIndex, interval: float = INTERVAL) -> None:
        """A refresher for ``index`` (not started)."""
        self.index = index
        self.interval = interval
        self.failures = 0  # catch-ups that raised
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Refresher:
        """Start the thread (once); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="enforcement-index-refresher", daemon=True
            )
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.index.catch_up()
            except Exception:  # keep answering; try again on the next tick
                if self._stop.is_set():
                    return  # stopping: the database may be closing under the catch-up
                self.failures += 1
                log.exception("enforcement index: catch-up failed (will try again)")

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the thread and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> Refresher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
