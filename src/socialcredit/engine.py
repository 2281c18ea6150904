"""The engine: a ledger and a policy, answering questions about subjects at any time.

This is the library surface the CLI (and later the HTTP service) call. It does the I/O
(reading the ledger, the clock) and hands plain data to the pure scoring functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from socialcredit.enforcement import Decision, decide
from socialcredit.errors import NotFoundError, SocialCreditError
from socialcredit.explain import Explanation, explain
from socialcredit.ledger import Ledger
from socialcredit.policy import (
    CompiledPolicy,
    LoadedPolicy,
    compile_policy,
    load_policy,
    parse_policy,
)
from socialcredit.scoring import BulkStandings, Prepared, Standing, bulk_standings, standing
from socialcredit.scoring.standing import standing_and_timelines


class NoPolicyError(SocialCreditError, LookupError):
    """The ledger has no active policy and none was given."""


class UnknownSubjectError(NotFoundError, LookupError):
    """The ledger has no entry about this subject."""


def resolve_policy(ledger: Ledger, policy_file: str | None) -> tuple[LoadedPolicy, int | None]:
    """The policy to use: ``policy_file`` if given, else the ledger's active one (with its version)."""
    if policy_file:
        return load_policy(policy_file), None
    active = ledger.active_policy()
    if active is None:
        raise NoPolicyError(
            "no active policy in this database: run `socialcredit policy activate FILE` "
            "or pass --policy FILE"
        )
    # a policy stored under an older language version fails here with a PolicyError that
    # names the stored version, like any invalid file
    return parse_policy(active.body, f"<active policy v{active.version}>"), active.version


@dataclass
class Engine:
    """Scores, checks and explains subjects from ``ledger`` under ``policy``."""

    ledger: Ledger
    policy: CompiledPolicy
    clock: Callable[[], int]
    activated_version: int | None = None

    @classmethod
    def open(
        cls, ledger: Ledger, clock: Callable[[], int], policy_file: str | None = None
    ) -> Engine:
        """An engine over ``ledger`` using ``policy_file`` or the ledger's active policy."""
        loaded, version = resolve_policy(ledger, policy_file)
        return cls(ledger, compile_policy(loaded), clock, version)

    def _prepared(self, subject: str) -> tuple[Prepared, int]:
        cols = self.ledger.columns([subject], follow_relations=True)
        has_any = (cols.rec_subject == 0).any() or (cols.rel_subject == 0).any()
        if not has_any and not self.ledger.has_subject(subject):
            raise UnknownSubjectError(f"the ledger has no entry about subject {subject!r}")
        return Prepared.build(cols, self.policy), 0

    def standing(self, subject: str, at: int | None = None) -> Standing:
        """The subject's score, grade, lists and measures at ``at`` (default: now)."""
        prep, idx = self._prepared(subject)
        return standing(prep, idx, self.clock() if at is None else at)

    def check(self, subject: str, service: str, at: int | None = None) -> Decision:
        """Allow or deny ``service`` for ``subject``; an unknown subject is allowed."""
        t = self.clock() if at is None else at
        try:
            prep, idx = self._prepared(subject)
        except UnknownSubjectError:
            return Decision(
                subject,
                service,
                t,
                "allow",
                [],
                None,
                False,
                [],
                self.policy.version_label,
                self.policy.loaded.content_hash,
                known=False,
            )
        return decide(standing(prep, idx, t), service)

    def explain(self, subject: str, service: str, at: int | None = None) -> Explanation:
        """Why ``subject`` is allowed or denied ``service``, and what would change it.

        The explanation carries the subject's full standing (``.standing``) too.
        """
        return self.explain_services(subject, [service], at)[0]

    def explain_services(
        self, subject: str, services: list[str] | None = None, at: int | None = None
    ) -> list[Explanation]:
        """Explanations for several services (default: every service with a measure in force)."""
        t = self.clock() if at is None else at
        prep, idx = self._prepared(subject)
        computed = standing_and_timelines(prep, idx, t)
        st = computed[0]
        wanted = services if services is not None else sorted({m.service for m in st.measures})
        return [explain(prep, idx, s, t, computed) for s in wanted]

    def recompute(self, at: int | None = None) -> BulkStandings:
        """Everyone's standing at ``at``, computed from the whole ledger in bulk."""
        cols = self.ledger.columns(with_ids=False)
        return bulk_standings(Prepared.build(cols, self.policy), self.clock() if at is None else at)
