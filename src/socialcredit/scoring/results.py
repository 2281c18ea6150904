"""What scoring says about a subject: score, grade, lists, measures and the record breakdown."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from socialcredit.ledger.backfills import Backfill
from socialcredit.policy.model import AttributeCondition
from socialcredit.timeutil import to_iso


@dataclass(frozen=True)
class RecordLine:
    """One record version and what it does to the score at the time of the standing."""

    row: int
    source: str
    id: str
    type: str
    occurred_at: int
    recorded_at: int
    points: float  # the policy's full points for this type
    contribution: float  # what it adds now (after decay; 0 unless it counts)
    status: str
    expires_at: int | None
    resolved_at: int | None
    disputed_at: int | None
    rectified: bool
    amount: float | None
    dispute_late_at: int | None = None  # a dispute filed after the appeal window: no effect
    # the recorded_at its source claimed, when not the time the ledger learned it
    # (``recorded_at``, from which it counts); set by the engine, which reads the ledger
    claimed_recorded_at: int | None = None
    # how ``expires_at`` came about when the record has its own term, extensions or an
    # early end (in words, e.g. "its term was set at 3 years; extended by 1 year and 6 months
    # on 2026-03-01"); None: the record type's term
    term: str | None = None
    # due process (times known at the standing's time): the review's decision upholding the
    # record, a reconsideration applied for and its decision; ``review_due``: when the open
    # stage must be decided; ``overdue_since``: a missed deadline under ``on_overdue: flag``
    decided_at: int | None = None
    reconsidered_at: int | None = None
    reconsideration_decided_at: int | None = None
    review_due: int | None = None
    overdue_since: int | None = None


@dataclass(frozen=True)
class Membership:
    """Being on a list: since when, until when (if nothing else happens), and the records behind it.

    ``since_policy_start``: the listing began before the policy used came into force, and
    ``since`` is when it did (the policy says nothing about earlier times).
    """

    name: str
    kind: str
    since: int | None
    until: int | None
    records: list[str]
    since_policy_start: bool = False


@dataclass(frozen=True)
class Condition:
    """One part of a measure's trigger that holds for whom the measure comes from.

    kind: ``list`` (name: the list id), ``records`` (name: record type ids, comma-separated),
    ``category`` (name: a record category), ``score_below`` / ``score_at_least`` (name: the
    threshold), ``grade_in`` (name: grades, comma-separated), ``not`` (a negated condition);
    a condition on a named score prefixes its name (``jasmine:550``, ``jasmine:A,B``).
    ``records``: source/id of the records that make it hold (for a list: the records behind
    the listing). ``ended``: for a fixed-term measure that outlives its trigger, when this
    part stopped holding; None while it holds.
    """

    kind: str
    name: str
    records: list[str]
    ended: int | None = None
    grade_or_score: bool = False  # a list that holds by grade or score, not by records
    # a records condition with a window anchored at another event (``after``): the records
    # whose event opened a window that holds (source/id), what event (``resolution_of`` or
    # ``record_of``) and the window's length in seconds (None: open)
    anchors: list[str] = field(default_factory=list)
    after: str = ""
    within: int | None = None


@dataclass(frozen=True)
class Exemption:
    """An exemption entry in force: its subject may use ``services`` (and every service
    declared under them: ``covers``) from ``valid_from`` until ``valid_until`` (None: no
    end), approved by ``approved_by`` (at ``approved_at``, None: not given) for ``reason``;
    the ledger received it at ``recorded_at``."""

    source: str
    id: str
    services: tuple[str, ...]
    valid_from: int
    valid_until: int | None
    reason: str
    approved_by: str
    approved_at: int | None
    recorded_at: int
    covers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, ISO 8601 times."""
        return {
            "exemption": f"{self.source}/{self.id}",
            "services": list(self.services),
            "covers": list(self.covers),
            "valid_from": to_iso(self.valid_from),
            "valid_until": to_iso(self.valid_until),
            "reason": self.reason,
            "approved_by": self.approved_by,
            "approved_at": to_iso(self.approved_at),
            "recorded_at": to_iso(self.recorded_at),
        }


@dataclass(frozen=True)
class NotEligible:
    """A list whose condition holds for the subject, or a record type whose records would
    count, but whose eligibility conditions the subject does not meet, so it is not on the
    list (the records do not count). ``reasons``: each unmet condition in words."""

    kind: str  # list | record_type
    name: str
    reasons: list[str]


@dataclass(frozen=True)
class Measure:
    """A sanction or reward in force for the subject.

    ``lists``: the lists named in its trigger that hold for whom it comes from (the subject,
    or ``via_subject``) — at ``at``, or, for a fixed-term measure whose trigger has ended
    (``trigger_ended``), when the trigger last held. ``conditions``: every part of the trigger
    that holds, with the records behind it. Only ``standing`` fills these; the decision path
    (``measures_for_service(..., reasons=False)``) leaves them empty. ``since_policy_start``:
    the measure began before the policy used came into force (``Prepared.in_force_from``),
    and ``since`` is that time instead.
    """

    name: str
    service: str
    effect: str
    reason_code: str
    since: int | None
    until: int | None
    lists: list[str]
    via_relation: str | None = None
    via_subject: str | None = None
    legal_basis: str = ""
    description: str = ""
    conditions: list[Condition] = field(default_factory=list)
    trigger_ended: int | None = None
    # it began before the policy used came into force: ``since`` is when that policy did
    since_policy_start: bool = False
    # ``duration: {after_resolution: D}``: D as the policy wrote it, the resolution it runs from (the
    # last of its triggering records'; None while one is unresolved) and the triggering
    # records not yet resolved (source/id). Only ``standing`` fills the last two.
    after_resolution: str | None = None
    resolved_on: int | None = None
    unresolved: list[str] = field(default_factory=list)
    # the services it covers (its own and those declared under it) and the requests it is
    # limited to (every condition holds; empty: every request)
    covers: tuple[str, ...] = ()
    applies_to: tuple[AttributeCondition, ...] = ()

    def covers_service(self, service: str) -> bool:
        """Whether the measure is on ``service`` or on a service it is part of."""
        return service == self.service or service in self.covers

    # a measure with a publicity period: when it was published and the period ended
    published_at: int | None = None
    objections_until: int | None = None

    @property
    def records(self) -> list[str]:
        """Source/id of every record behind the measure, in order, once each."""
        return list(dict.fromkeys(r for c in self.conditions for r in c.records))


@dataclass(frozen=True)
class Upcoming:
    """A measure published but not yet in force: it starts after its publicity period.

    ``starts``: when it starts if no objection is upheld and nothing else changes (None: an
    objection is pending, and it starts only once that is decided and the record upheld);
    ``until``: when it would then end (None: no set end, or not yet known). ``blocked_by``:
    the records under objection holding the start back; ``records``: the records behind it.
    """

    name: str
    service: str
    effect: str
    reason_code: str
    published_at: int
    objections_until: int
    starts: int | None
    until: int | None
    records: list[str] = field(default_factory=list)
    blocked_by: list[str] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)
    legal_basis: str = ""
    covers: tuple[str, ...] = ()  # the services it covers (its own and those under it)

    def covers_service(self, service: str) -> bool:
        """Whether the measure will be on ``service`` or on a service it is part of."""
        return service == self.service or service in self.covers


@dataclass(frozen=True)
class ComponentValue:
    """One component of a score for the subject: what it earned, what counts within its
    bounds, and what that adds to the score (times its weight)."""

    name: str
    display_name: str
    kind: str  # records | clean_year
    earned: float  # base + its records' points (or the clean years' reward), before bounds
    value: float  # within its bounds
    weight: float
    contribution: float  # weight * value: what it adds to the score
    min: float | None
    max: float | None
    records: list[str]  # source/id of the records it counts now (a clean-year reward: none)
    clean_years: list[int] = field(default_factory=list)  # the years that earned the reward

    @property
    def capped(self) -> bool:
        """Whether a bound held the component back (what it earned does not all count)."""
        return self.value != self.earned


@dataclass(frozen=True)
class WalletValue:
    """A points wallet at the time asked (``policy.wallets``): ``balance`` is ``earned``
    less ``redeemed`` and ``expired``. Times are epoch seconds (None: not applicable)."""

    unit: str
    balance: float
    earned: float  # within the caps
    redeemed: float
    expired: float
    forfeited: float  # what records would have earned beyond a cap
    shortfall: float  # what redemptions asked beyond the balance at their time
    caps: list[str]  # each cap in words, e.g. "4,000 points a year"
    cap_reached: bool  # a cap of the current period is reached: records earn nothing more
    cap_reached_at: int | None  # when a cap was last reached
    expire_after: str | None  # how long points last, in words (None: they never expire)
    next_expiry: int | None  # when the oldest unspent points expire
    next_expiry_points: float

    def to_json(self) -> dict[str, Any]:
        """The wallet as ``score --json`` reports it (times as ISO 8601 UTC)."""
        from socialcredit.timeutil import to_iso

        out = asdict(self)
        for key in ("cap_reached_at", "next_expiry"):
            if out[key] is not None:
                out[key] = to_iso(out[key])
        for key in ("balance", "earned", "redeemed", "expired", "forfeited", "shortfall"):
            out[key] = round(out[key], 4)
        out["next_expiry_points"] = round(out["next_expiry_points"], 4)
        return out


@dataclass(frozen=True)
class ScoreValue:
    """One of the policy's scores for the subject. ``grade`` is None when it cannot be
    decided because a band's cut-off is unpublished (``grade_note`` says so)."""

    name: str  # ``score`` for the unnamed score
    display_name: str
    named: bool
    value: float
    grade: str | None
    grade_note: str
    base: float
    components: list[ComponentValue] = field(default_factory=list)
    wallet: WalletValue | None = None  # form "wallet": its balance and what moved it
    ratings: int | None = None  # a rating score: how many ratings it counts (never which)

    def to_json(self) -> dict[str, Any]:
        """This score as ``score --json`` reports it under ``scores`` (a wallet's with
        ``wallet``, a rating score's with ``ratings``)."""
        extra: dict[str, Any] = {"wallet": self.wallet.to_json()} if self.wallet is not None else {}
        if self.ratings is not None:
            extra["ratings"] = self.ratings
        return {
            **extra,
            "name": self.name,
            "display_name": self.display_name,
            "score": round(self.value, 4),
            "grade": self.grade,
            "grade_note": self.grade_note,
            "base": self.base,
            "components": [
                {**asdict(c), "capped": c.capped, "contribution": round(c.contribution, 4)}
                for c in self.components
            ],
        }


@dataclass(frozen=True)
class Standing:
    """Everything the policy says about one subject at ``at``, with what was known at ``at``."""

    subject: str
    kind: str
    at: int
    policy_version: str
    policy_hash: str
    score: float
    grade: str | None  # None: not determinable (unpublished cut-offs; see ``scores``)
    lists: list[Membership]
    measures: list[Measure]
    breakdown: list[RecordLine]
    base: float = 0.0
    notes: list[str] = field(default_factory=list)
    # every service the policy knows: ``decide`` refuses any other (a typo must not allow)
    services: tuple[str, ...] = ()
    # the services a check allows only while a benefit gives them (``granted: true``)
    granted_services: tuple[str, ...] = ()
    # backfill batches loaded after ``at`` whose entries this answer counts (see
    # ``socialcredit.ledger.backfills``): an answer given at ``at`` did not count them
    backfilled: tuple[Backfill, ...] = ()
    # measures published but not yet in force (publicity periods)
    upcoming: list[Upcoming] = field(default_factory=list)
    # the subject's exemptions in force at ``at``: each lets the subject use its services
    # although a measure denies them (the measures stay in force; see ``decide``)
    exemptions: list[Exemption] = field(default_factory=list)
    # lists and record types the subject is kept off / not counted for by eligibility
    not_eligible: list[NotEligible] = field(default_factory=list)
    # every score of the policy (the first is ``score``/``grade``), with its components
    scores: list[ScoreValue] = field(default_factory=list)
    # the policy's local time, seconds east of UTC (``calendar.utc_offset``): the dates said
    # to a person are dates there (``CompiledPolicy.date_of``; ``decide`` has no policy)
    utc_offset: int = 0
    # whether the ledger had received an entry about the subject by ``at`` (set by the
    # engine, as ``Decision.known``): False, nothing counted for or against it then
    known: bool = True

    @property
    def denials(self) -> list[Measure]:
        """Measures that deny a service (``to_json()["sanctions"]`` lists every measure)."""
        return [m for m in self.measures if m.effect == "deny"]

    @property
    def rewards(self) -> list[Measure]:
        """Measures that grant a benefit."""
        return [m for m in self.measures if m.effect == "benefit"]

    def to_json(self) -> dict[str, Any]:
        """The ``score --json`` contract: plain JSON types, ISO 8601 times."""

        def times(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
            for key in keys:
                if key in d:
                    d[key] = to_iso(d[key])
            return d

        return {
            "subject": self.subject,
            "kind": self.kind,
            "at": to_iso(self.at),
            "policy_version": self.policy_version,
            "policy_hash": self.policy_hash,
            "known": self.known,
            "backfilled": [b.to_json() for b in self.backfilled],
            "score": round(self.score, 4),
            "grade": self.grade,
            "lists": [m.name for m in self.lists],
            "memberships": [times(asdict(m), ("since", "until")) for m in self.lists],
            "sanctions": [_measure_json(m) for m in self.measures],
            "breakdown": {
                "base": self.base,
                "records": [
                    times(
                        {k: v for k, v in asdict(line).items() if k != "row"},
                        (
                            "occurred_at",
                            "recorded_at",
                            "claimed_recorded_at",
                            "expires_at",
                            "resolved_at",
                            "disputed_at",
                            "dispute_late_at",
                            "decided_at",
                            "reconsidered_at",
                            "reconsideration_decided_at",
                            "review_due",
                            "overdue_since",
                        ),
                    )
                    for line in self.breakdown
                ],
            },
            "notes": self.notes,
            "upcoming": [
                times(asdict(u), ("published_at", "objections_until", "starts", "until"))
                for u in self.upcoming
            ],
            "exemptions": [x.to_json() for x in self.exemptions],
            "not_eligible": [asdict(n) for n in self.not_eligible],
            "scores": [sc.to_json() for sc in self.scores],
        }


def _measure_json(m: Measure) -> dict[str, Any]:
    out = asdict(m)
    for key in (
        "since",
        "until",
        "trigger_ended",
        "resolved_on",
        "published_at",
        "objections_until",
    ):
        out[key] = to_iso(out[key])
    for c in out["conditions"]:
        c["ended"] = to_iso(c["ended"])
    out["records"] = m.records
    out["covers"] = list(m.covers)
    out["applies_to"] = [c.model_dump(by_alias=True, exclude_none=True) for c in m.applies_to]
    return out
