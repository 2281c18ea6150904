"""The engine: a ledger and its policy history, answering questions about subjects at any time.

This is the library surface the CLI (and later the HTTP service) call. It does the I/O
(reading the ledger, the clock) and hands plain data to the pure scoring functions.

Every answer is evaluated under the policy that was in force at the time asked about: the
ledger keeps every activation with its time, and a question about ``at`` uses the latest
activation at or before ``at`` (or, when the engine was opened with a policy file, that file
for every time). Answers name that policy's label and content hash.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from socialcredit.columns import LedgerColumns
from socialcredit.enforcement import Decision, not_granted
from socialcredit.enforcement import check as check_service
from socialcredit.enforcement import require_service as require_service  # re-exported
from socialcredit.errors import NotFoundError, SocialCreditError
from socialcredit.errors import UnknownServiceError as UnknownServiceError  # re-exported
from socialcredit.ledger import Ledger, PolicyVersion
from socialcredit.ledger.backfills import Backfill
from socialcredit.policy import (
    CompiledPolicy,
    LoadedPolicy,
    compile_policy,
    load_policy,
    parse_policy,
)
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.results import RecordLine, Standing
from socialcredit.scoring.standing import standing
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from socialcredit.explain import Explanation
    from socialcredit.scoring.bulk import BulkStandings


class NoPolicyError(SocialCreditError, LookupError):
    """The ledger has no active policy and none was given."""


class PolicyNotInForceError(NoPolicyError):
    """No policy had been activated yet at the time asked about."""


class UnknownSubjectError(NotFoundError, LookupError):
    """The ledger has no entry about this subject."""


def _with_claimed(line: RecordLine, claimed: int) -> RecordLine:
    """``dataclasses.replace(line, claimed_recorded_at=claimed)`` without its cost (it calls
    ``__init__`` with every field; a breakdown may have dozens of lines with a claim):
    ``RecordLine`` is a frozen dataclass with no ``__post_init__``, so a copy of its fields
    with one changed is the same value."""
    out: RecordLine = object.__new__(RecordLine)
    out.__dict__.update(line.__dict__)
    out.__dict__["claimed_recorded_at"] = claimed
    return out


def _label(pv: PolicyVersion) -> str:
    return f"{pv.policy_id}@{pv.declared_version}"


def parse_stored(pv: PolicyVersion) -> LoadedPolicy:
    """The policy of activation ``pv``, parsed from the body the ledger stores.

    A body with the content hash recorded at activation is the one validated then: its
    policy is taken as the ledger's integrity check found it (``stored_policy``, parsed
    once per process). Anything else goes through ``parse_policy`` and its full error
    report (a body stored under an older language version fails there, naming its version).
    """
    from socialcredit.ledger.policies import PolicyIntegrityError, stored_policy

    source = f"<policy v{pv.version} activated {to_iso(pv.activated_at)}>"
    try:
        return LoadedPolicy(stored_policy(pv), pv.body, source, pv.content_hash)
    except PolicyIntegrityError:
        return parse_policy(pv.body, source)


class Engine:
    """Scores, checks and explains subjects from ``ledger`` under the policy in force.

    ``clock`` gives "now" in epoch seconds for calls without ``at``. Build one with
    ``Engine.open``; the policy history is read once, when the engine is opened.
    """

    def __init__(
        self,
        ledger: Ledger,
        clock: Callable[[], int],
        history: Sequence[PolicyVersion] = (),
        policy: CompiledPolicy | None = None,
    ) -> None:
        """An engine over ``history`` (activations), or over ``policy`` for every time."""
        if policy is None and not history:
            error = NoPolicyError(
                "no active policy in this database: activate one "
                "(`socialcredit policy activate FILE`, or POST /v1/policy/activations)"
            )
            error.cli_hint = ", or pass --policy FILE"
            raise error
        self.ledger = ledger
        self.clock = clock
        self.fixed_policy = policy
        self.history = sorted(history, key=lambda pv: (pv.activated_at, pv.version))
        self._starts = [pv.activated_at for pv in self.history]
        self._compiled: dict[str, CompiledPolicy] = {}

    @classmethod
    def open(
        cls, ledger: Ledger, clock: Callable[[], int], policy_file: str | None = None
    ) -> Engine:
        """An engine over ``ledger``: under ``policy_file`` if given, else its policy history."""
        if policy_file:
            return cls(ledger, clock, policy=compile_policy(load_policy(policy_file)))
        return cls(ledger, clock, history=ledger.policy_history())

    # ------------------------------------------------------------------ policies

    def policy_version_at(self, t: int) -> PolicyVersion | None:
        """The activation in force at ``t`` (None when a policy file was given).

        Raises ``PolicyNotInForceError`` when ``t`` is before the first activation.
        """
        if self.fixed_policy is not None:
            return None
        i = bisect.bisect_right(self._starts, t)
        if i == 0:
            first = self.history[0]
            if first.backfill and first.recorded_at is not None:
                # made later, as in force from earlier: it was not activated on that date
                when = (
                    f"was activated on {to_iso(first.recorded_at)} as in force from "
                    f"{to_iso(first.activated_at)} (a backfill)"
                )
            else:
                when = f"was activated on {to_iso(first.activated_at)}"
            error = PolicyNotInForceError(
                f"no policy was in force at {to_iso(t)}: the first, {_label(first)} "
                f"(sha256 {first.content_hash[:12]}), {when}; ask about a time from "
                f"{to_iso(first.activated_at)} on"
            )
            error.cli_hint = ", or pass --policy FILE to evaluate under a policy of your choice"
            raise error
        return self.history[i - 1]

    def _policy_backfill(self, t: int) -> tuple[Backfill, ...]:
        """The policy in force at ``t`` when its activation was made after ``t`` (a
        backfill: an answer given at ``t`` was under another policy, or none)."""
        pv = self.policy_version_at(t)
        if pv is None or not pv.backfill or pv.recorded_at is None or pv.recorded_at <= t:
            return ()
        return (Backfill(None, pv.recorded_at, 0, _label(pv)),)

    def policy_at(self, t: int) -> CompiledPolicy:
        """The compiled policy in force at ``t`` (compiled on first use, cached by content)."""
        pv = self.policy_version_at(t)
        if pv is None:
            assert self.fixed_policy is not None
            return self.fixed_policy
        compiled = self._compiled.get(pv.content_hash)
        if compiled is None:
            compiled = compile_policy(parse_stored(pv))
            self._compiled[pv.content_hash] = compiled
        return compiled

    @property
    def policy(self) -> CompiledPolicy:
        """The policy in force now (by ``clock``)."""
        return self.policy_at(self.clock())

    @property
    def activated_version(self) -> int | None:
        """The ledger's version number of the policy in force now (None for a policy file)."""
        pv = self.policy_version_at(self.clock())
        return pv.version if pv is not None else None

    # ------------------------------------------------------------------ reads

    def _at(self, at: int | None) -> int:
        return self.clock() if at is None else at

    def in_force_from(self, t: int) -> int | None:
        """When the policy in force at ``t`` came into force (None for a policy file, which
        covers every time): answers say nothing about the past before then."""
        pv = self.policy_version_at(t)
        return pv.activated_at if pv is not None else None

    def _prepared_known(
        self, subject: str, policy: CompiledPolicy, t: int
    ) -> tuple[Prepared, bool, tuple[Backfill, ...]]:
        """The subject's prepared entries, and whether the ledger knew of the subject at
        ``t`` (had received an entry about it by then: what it knew cannot change later),
        and the backfills the answer crosses (entries about the subject, or the subjects
        read with it through relations, loaded after ``t`` as history). A subject the ledger has never heard of raises ``UnknownSubjectError`` (a guard
        against mistyped names: a fact about the ledger now)."""
        if policy.rankings:
            # a ranking compares the subject with every candidate: read everyone (with the
            # sources, the raters of ratings), the subject first, so one subject's answer is
            # its row of the bulk answer
            cols = self.ledger.columns()
            if subject not in cols.subjects:
                if not self.ledger.has_subject(subject):
                    raise UnknownSubjectError(f"the ledger has no entry about subject {subject!r}")
                cols = self.ledger.columns([subject], follow_relations=True)
            else:
                cols = cols.subject_first(cols.subjects.index(subject))
        else:
            cols = self.ledger.columns([subject], follow_relations=True)
        has_any = (cols.rec_subject == 0).any() or (cols.rel_subject == 0).any()
        if not has_any and not self.ledger.has_subject(subject):
            raise UnknownSubjectError(f"the ledger has no entry about subject {subject!r}")
        known = bool(
            ((cols.rec_subject == 0) & (cols.rec_recorded_at <= t)).any()
            or (
                ((cols.rel_subject == 0) | (cols.rel_related == 0)) & (cols.rel_recorded_at <= t)
            ).any()
            or ((cols.exm_subject == 0) & (cols.exm_recorded_at <= t)).any()
            or ((cols.att_subject == 0) & (cols.att_recorded_at <= t)).any()
        )
        backfilled = tuple(self.ledger.backfills_crossed(t, cols.subjects)) + self._policy_backfill(
            t
        )
        return Prepared.build(cols, policy, self.in_force_from(t)), known, backfilled

    def standing(self, subject: str, at: int | None = None) -> Standing:
        """The subject's score, grade, lists and measures at ``at`` (default: now)."""
        t = self._at(at)
        prep, known, backfilled = self._prepared_known(subject, self.policy_at(t), t)
        st = self._with_claims(standing(prep, 0, t), columns=prep.columns)[0]
        if backfilled or not known:
            st = dataclasses.replace(st, backfilled=backfilled, known=known)
        return st

    def _with_claims(
        self,
        st: Standing,
        records: Collection[str] = (),
        columns: LedgerColumns | None = None,
    ) -> tuple[Standing, dict[str, tuple[int, int]]]:
        """``st`` with the claimed recorded_at of its breakdown's records where a source
        claimed another time than the ledger's receipt, and those claims (for ``records``
        too): source/id -> (claimed, recorded_at). ``columns``: those the answer was
        computed from; the claims read with their entries are used when they hold every
        record asked about (else the ledger is asked)."""
        keys = {f"{line.source}/{line.id}" for line in st.breakdown} | set(records)
        claims = columns.claims_of(keys) if columns is not None and keys else None
        if claims is None:
            claims = self.ledger.claims(keys) if keys else {}
        if not claims:
            return st, {}
        lines = [
            _with_claimed(line, claims[key][0])
            if (key := f"{line.source}/{line.id}") in claims
            else line
            for line in st.breakdown
        ]
        return dataclasses.replace(st, breakdown=lines), claims

    def check(
        self,
        subject: str,
        service: str,
        at: int | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Allow or deny ``service`` for ``subject`` at ``at`` (default: now), for a request
        with ``attributes`` (those the policy declares for the service: price, class …).

        An unknown service raises ``UnknownServiceError`` and an undeclared, mistyped or
        missing attribute (one a measure covering the service tests) ``RequestAttributeError``,
        whatever the subject: what a request must carry depends on the policy alone. A
        subject the ledger had not heard of at ``at`` (no entry about it received by then) is
        allowed, with ``known=False`` — unless the service is ``granted`` (no benefit gives
        it to a subject nobody knows: denied, ``NOT-GRANTED``).
        """
        t = self._at(at)
        policy = self.policy_at(t)
        require_service(policy, service)
        # validated whatever the subject; an empty request is no particular request (with
        # no attribute required, no measure covering the service is limited by one)
        request = policy.request(service, attributes or {}) or None
        try:
            prep, known, backfilled = self._prepared_known(subject, policy, t)
        except UnknownSubjectError:
            reasons = not_granted(policy.granted_services(), service, [], [])
            return Decision(
                subject,
                service,
                t,
                "deny" if reasons else "allow",
                reasons,
                None,
                False,
                [],
                policy.version_label,
                policy.loaded.content_hash,
                known=False,
                backfilled=self._policy_backfill(t),
                attributes=request,
            )
        # only the measures on this service are evaluated (equal to the full standing's
        # decision: a property test in the enforcement tests checks it)
        decision = check_service(prep, 0, service, t, request)
        if known and not backfilled:
            return decision
        return dataclasses.replace(decision, known=known, backfilled=backfilled)

    def explain(
        self,
        subject: str,
        service: str,
        at: int | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Explanation:
        """Why ``subject`` is allowed or denied ``service``, and what would change it.

        ``attributes``: decide the request they describe (validated as ``check`` does);
        None: explain every measure covering the service, with the requests it is limited
        to. The explanation carries the subject's full standing (``.standing``) too. An
        unknown service raises ``UnknownServiceError``; an unknown subject
        ``UnknownSubjectError``.
        """
        return self.explain_services(subject, [service], at, attributes)[0]

    def explain_services(
        self,
        subject: str,
        services: list[str] | None = None,
        at: int | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> list[Explanation]:
        """Explanations for several services (default: every service with a measure in force).

        Every named service (and ``attributes``, a request's, for each of them) is checked
        against the policy in force before the subject is read.
        """
        from socialcredit.explain import explain
        from socialcredit.scoring.standing import standing_and_timelines

        t = self._at(at)
        policy = self.policy_at(t)
        requests: dict[str, dict[str, float | str]] = {}
        for s in services or []:
            require_service(policy, s)
            if attributes is not None:
                requests[s] = policy.request(s, attributes)
        prep, known, backfilled = self._prepared_known(subject, policy, t)
        computed = standing_and_timelines(prep, 0, t)
        st = computed[0]
        wanted = services if services is not None else sorted({m.service for m in st.measures})
        found = [
            explain(prep, 0, s, t, computed, present=at is None, attributes=requests.get(s))
            for s in wanted
        ]
        out = []
        for e in found:
            behind = {r for reason in e.reasons for r in reason.records}
            st, claims = self._with_claims(e.standing, behind, prep.columns)
            claims = {r: c for r, c in claims.items() if r in behind}
            text = e.text
            if claims:
                text += " " + " ".join(
                    f"{r} was recorded by the source on {to_iso(c)} and received by the "
                    f"ledger on {to_iso(rec)}; it counts from then."
                    for r, (c, rec) in sorted(claims.items())
                )
            decision = e.decision
            if decision.known != known or decision.backfilled != backfilled:
                decision = dataclasses.replace(decision, known=known, backfilled=backfilled)
            if st.backfilled != backfilled or st.known != known:
                st = dataclasses.replace(st, backfilled=backfilled, known=known)
            if not known:
                # asked about a time before the ledger heard of the subject: say so, rather
                # than answer as if the records (none) had been looked at and found clean
                text = (
                    f"On {policy.date_of(t)}, the ledger had received no entry about you: no "
                    "record counted for or against you.\n" + text
                )
            out.append(
                dataclasses.replace(e, decision=decision, standing=st, claims=claims, text=text)
            )
        return out

    def recompute(self, at: int | None = None) -> BulkStandings:
        """Everyone's standing at ``at``, in bulk, under the policy then in force (``.policy``),
        with the backfills the answer crosses, ledger-wide (``.backfilled``), and which
        subjects the ledger had received an entry about by then (``.known``; None: all)."""
        from socialcredit.scoring.bulk import bulk_standings

        t = self._at(at)
        policy = self.policy_at(t)
        cols = self.ledger.columns(with_ids=policy.rating_scores)  # ratings need their raters
        bulk = bulk_standings(Prepared.build(cols, policy, self.in_force_from(t)), t)
        backfilled = self.backfills_crossed(t)
        known = cols.known_by(t)
        return dataclasses.replace(
            bulk, backfilled=backfilled, known=None if known.all() else known
        )

    def backfills_crossed(self, at: int | None = None) -> tuple[Backfill, ...]:
        """The backfills an answer about ``at`` (default: now) crosses, ledger-wide: the
        batches loaded after ``at`` with entries it counts, and the policy then in force if
        its activation was made after ``at``."""
        t = self._at(at)
        return tuple(self.ledger.backfills_crossed(t)) + self._policy_backfill(t)
