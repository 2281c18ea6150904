"""What the service holds while it runs: the ledger, the clock, the engine over the policy
history (reopened when another process activates a policy), and the parts other modules
add (keys, audit log, enforcement index)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialcredit.engine import Engine
    from socialcredit.ledger import Ledger

Clock = Callable[[], int]


def wall_clock() -> int:
    """The wall clock in epoch seconds (the service's default clock)."""
    return int(time.time())


class ServiceState:
    """The shared state of one service process. Safe to use from several threads."""

    def __init__(self, ledger: Ledger, clock: Clock, public_url: str = "") -> None:
        """A state over an open ``ledger`` (its schema checked by the caller), answering
        "now" by ``clock``; ``public_url``: the service's address as people reach it (for
        the appeal URL a check answers), "" for paths relative to this service."""
        self.ledger = ledger
        self.clock = clock
        self.public_url = public_url.rstrip("/")
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._history_key: tuple[Any, ...] | None = None
        self.extras: dict[str, Any] = {}

    def engine(self) -> Engine:
        """An engine over the ledger's policy history as it is now: reopened (its compiled
        policies kept) when a policy was activated since, by this process or another.
        Raises ``NoPolicyError`` when the ledger has no policy."""
        from socialcredit.engine import Engine

        history = self.ledger.policy_history()
        key = tuple((pv.version, pv.activated_at, pv.content_hash) for pv in history)
        with self._lock:
            if self._engine is None or key != self._history_key:
                previous = self._engine
                engine = Engine(self.ledger, self.clock, history=history)
                if previous is not None:
                    engine._compiled.update(previous._compiled)
                self._engine, self._history_key = engine, key
            return self._engine
