"""What the service holds while it runs: the ledger, the clock, the engine over the policy
history (reopened when another process activates a policy), the API keys, the audit log
and the enforcement index."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

if TYPE_CHECKING:
    from socialcredit.audit import AuditLog
    from socialcredit.enforcement_index import EnforcementIndex, IndexAnswer, Refresher
    from socialcredit.engine import Engine
    from socialcredit.keys import ApiKey, KeyStore
    from socialcredit.ledger import IngestRules, Ledger
    from socialcredit.notifier import Notifier

Clock = Callable[[], int]
log = logging.getLogger("socialcredit.api")
POLICY_WAIT = 1.0
"""Seconds between looks for a policy by a service started without one (to build its
enforcement index)."""
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]+")  # characters a URL path carries as they are


class CheckAnswer(NamedTuple):
    """What a check tells a service point (and nothing of the file behind it)."""

    decision: str  # allow | deny
    reasons: list[str]  # reason codes of the measures that deny
    eligible_again_on: str | None  # local date; None when allowed or with no end in sight
    indefinite: bool  # denied with no end in sight
    benefits: list[str]  # benefit measures that apply
    policy_version: str


def wall_clock() -> int:
    """The wall clock in epoch seconds (the service's default clock)."""
    return int(time.time())


class ServiceState:
    """The shared state of one service process. Safe to use from several threads."""

    def __init__(
        self,
        ledger: Ledger,
        clock: Clock,
        keys: KeyStore,
        audit: AuditLog,
        public_url: str = "",
    ) -> None:
        """A state over an open ``ledger`` (its schema checked by the caller), answering
        "now" by ``clock``, authenticating with ``keys`` and auditing into ``audit``.
        ``public_url``: the service's address as people reach it (for the appeal URL a check
        answers), "" for paths relative to this service."""
        self.ledger = ledger
        self.clock = clock
        self.keys = keys
        self.audit_log = audit
        self.public_url = public_url.rstrip("/")
        self._subjects_url = f"{self.public_url}/v1/subjects/"
        # the audit's time: sub-second on the wall clock, the test's clock otherwise
        self.audit_clock: Callable[[], float] = time.time if clock is wall_clock else clock
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._history_key: tuple[Any, ...] | None = None
        self._rules: dict[tuple[str, str], IngestRules] = {}
        self.index: EnforcementIndex | None = None
        self._refresher: Refresher | None = None
        self._index_waiter: threading.Thread | None = None
        self._index_stop = threading.Event()
        self.notifier: Notifier | None = None

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

    def ingest_rules(self, submitter: str) -> IngestRules | None:
        """What the policy in force declares for ingestion by source ``submitter`` (its
        ``sources:`` section: that source's entries only, of the kinds it may submit);
        None: no policy, the format alone is checked. Kept per policy and source."""
        from socialcredit.engine import NoPolicyError
        from socialcredit.ledger import IngestRules

        try:
            policy = self.engine().policy
        except NoPolicyError:
            return None
        key = (policy.loaded.content_hash, submitter)
        with self._lock:
            cached = self._rules.get(key)
            if cached is None:
                cached = IngestRules.from_policy(policy.policy, submitter=submitter)
                self._rules[key] = cached
            return cached

    def entries_stored(self) -> None:
        """Entries were stored (or a policy activated) by this process: bring the index up
        to date now, so that this process's next check reflects them (other processes
        catch up within their refresher's interval)."""
        if self.index is not None:
            self.index.catch_up()
        if self.notifier is not None:
            self.notifier.poke()

    def decide(
        self, subject: str, service: str, at: int, attributes: Mapping[str, Any] | None
    ) -> CheckAnswer | IndexAnswer:
        """The answer to a check of ``subject`` for ``service`` at ``at`` with the request's
        ``attributes`` (the enforcement index's own answer, whose reason codes and benefits
        are tuples, or the engine's). Raises ``UnknownServiceError`` (404) for a service the
        policy in force does not know and ``RequestAttributeError`` (400) for attributes it
        does not declare."""
        index = self.index
        if index is not None:
            return index.check(subject, service, at, attributes)
        d = self.engine().check(subject, service, at, attributes)
        return CheckAnswer(
            d.decision, d.reasons, d.eligible_again_on, d.indefinite, d.benefits, d.policy_version
        )

    def decide_many(
        self, subjects: list[str], service: str, at: int, attributes: Mapping[str, Any] | None
    ) -> Sequence[CheckAnswer | IndexAnswer]:
        """``decide`` for each of ``subjects`` (the service and attributes checked once)."""
        index = self.index
        if index is not None:
            return index.check_batch(subjects, service, at, attributes)
        engine = self.engine()
        out = []
        for subject in subjects:
            d = engine.check(subject, service, at, attributes)
            out.append(
                CheckAnswer(
                    d.decision,
                    d.reasons,
                    d.eligible_again_on,
                    d.indefinite,
                    d.benefits,
                    d.policy_version,
                )
            )
        return out

    def start_index(
        self,
        rebuilding: Callable[[], AbstractContextManager[object]] = nullcontext,
        wait: float = POLICY_WAIT,
    ) -> None:
        """Build the enforcement index from the ledger and keep it current from a background
        thread (entries and activations of every process). With no policy yet, checks are
        answered by the engine (a 400 saying so until a policy is activated) and a
        background thread looks every ``wait`` seconds for a policy, by this process or
        another, and builds the index then. ``rebuilding``: what every build and rebuild
        runs inside, except this first one, which the caller wraps as it likes (the service
        keeps the garbage collector off and freezes the index)."""
        from socialcredit.engine import NoPolicyError

        self._index_stop.clear()
        try:
            engine = self.engine()
        except NoPolicyError:
            self._index_waiter = threading.Thread(
                target=self._index_once_policy,
                args=(rebuilding, wait),
                name="enforcement-index-waiting-for-a-policy",
                daemon=True,
            )
            self._index_waiter.start()
            return
        self._publish_index(self._new_index(engine, rebuilding))

    def _new_index(
        self, engine: Engine, rebuilding: Callable[[], AbstractContextManager[object]]
    ) -> EnforcementIndex:
        from socialcredit.enforcement_index import EnforcementIndex

        index = EnforcementIndex.build(engine)
        index.rebuilding = rebuilding
        return index

    def _publish_index(self, index: EnforcementIndex) -> None:
        """Checks use ``index`` from now on, kept current (unless the index was stopped)."""
        from socialcredit.enforcement_index import Refresher

        with self._lock:
            if self._index_stop.is_set():
                return  # stopped while building: nothing to keep current
            self._refresher = Refresher(index).start()
            self.index = index

    def _index_once_policy(
        self, rebuilding: Callable[[], AbstractContextManager[object]], wait: float
    ) -> None:
        from socialcredit.engine import NoPolicyError

        while not self._index_stop.wait(wait):
            try:
                engine = self.engine()
            except NoPolicyError:
                continue
            except Exception:  # the database away for a moment: look again
                log.exception("enforcement index: looking for a policy failed (will try again)")
                continue
            try:
                with rebuilding():
                    index = self._new_index(engine, rebuilding)
            except Exception:  # the engine keeps answering checks; try again
                log.exception("enforcement index: build failed (will try again)")
                continue
            self._publish_index(index)  # once frozen (``rebuilding``)
            return

    def stop_index(self, timeout: float = 10.0) -> None:
        """Stop keeping the index current, or waiting for a policy to build it (waits at
        most ``timeout`` seconds for a catch-up in progress)."""
        self._index_stop.set()
        if self._index_waiter is not None:
            self._index_waiter.join(timeout)
            self._index_waiter = None
        if self._refresher is not None:
            self._refresher.stop(timeout)
            self._refresher = None

    def start_notifier(self, interval: float) -> None:
        """Write notices in the background (``socialcredit.notifier``), looking every
        ``interval`` seconds and whenever this process stores entries — while this process
        holds the database's ``notifier`` lease: of the processes serving one database,
        one does the work at a time (another takes over when it dies)."""
        from socialcredit.lease import Lease
        from socialcredit.notifier import Notifier

        lease = Lease(self.ledger, "notifier")
        self.notifier = Notifier(
            self.engine, self.clock, self.dispute_url, interval, lease=lease
        ).start()

    def stop_notifier(self, timeout: float = 10.0) -> None:
        """Stop writing notices in the background (waits at most ``timeout`` seconds for a
        look in progress to reach its next subject)."""
        if self.notifier is not None:
            self.notifier.stop(timeout)
            self.notifier = None

    def dispute_url(self, subject: str) -> str:
        """Where ``subject`` reads its open disputes (GET) and files one (POST)."""
        if _PLAIN.fullmatch(subject) is None:
            subject = quote(subject, safe="")
        return f"{self._subjects_url}{subject}/disputes"

    def index_age(self) -> float | None:
        """Seconds since the index last caught up with the ledger (None: no index)."""
        if self.index is None:
            return None
        return max(0.0, time.monotonic() - self.index.caught_up_at)

    # ------------------------------------------------------------------ audit

    def audit(
        self,
        key: ApiKey | None,
        route: str,
        *,
        subject: str | None = None,
        decision: str | None = None,
        policy_version: str | None = None,
        service: str | None = None,
        status: int = 200,
        check_id: str | None = None,
        details: dict[str, Any] | str | None = None,
    ) -> None:
        """Append one audit entry (returns once it is in the log's buffer; raises
        ``AuditUnavailable``, a 503, when the log cannot take it: the request is then not
        answered)."""
        self.audit_log.append_row(
            (
                self.audit_clock(),
                key.key_id if key is not None else None,
                str(key.role) if key is not None else None,
                route,
                subject,
                service,
                decision,
                policy_version,
                status,
                check_id,
                details,
            )
        )

    def audit_refusal(
        self, key: ApiKey | None, route: str, status: int, subject: str | None = None
    ) -> None:
        """Audit a request refused for its key (401) or its role (403)."""
        self.audit(key, route, subject=subject, decision="refused", status=status)
