"""Decisions at a service point: allow or deny, with reason codes and nothing more."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from socialcredit.errors import RequestAttributeError, UnknownServiceError
from socialcredit.ledger.backfills import Backfill
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring.measures import measures_for_service
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.results import Exemption, Measure, Standing
from socialcredit.scoring.standing import exemptions_at
from socialcredit.timeutil import NEVER, local_date, to_iso


@dataclass(frozen=True)
class Decision:
    """What a ticket counter learns: allow/deny, reason codes, and when the ban ends."""

    subject: str
    service: str
    at: int
    decision: str  # allow | deny
    reasons: list[str]
    eligible_again_on: str | None  # ISO date; None when allowed or when no end is in sight
    indefinite: bool
    benefits: list[str]
    policy_version: str
    policy_hash: str = ""
    known: bool = True  # False: the ledger had no entry about this subject at ``at``
    # backfill batches loaded after ``at`` whose entries this answer counts
    backfilled: tuple[Backfill, ...] = ()
    # the request's attributes as validated (numbers as numbers); None: no particular
    # request (an explanation of every measure on the service)
    attributes: dict[str, float | str] | None = field(default=None)
    # exemptions of the subject that waive the denials of the service at ``at`` (set only
    # when there are denials to waive), and the reason codes of the denials they waive
    exemptions: tuple[Exemption, ...] = ()
    exempted: list[str] = field(default_factory=list)
    # the policy's local time, seconds east of UTC: its dates (``eligible_again_on``, the
    # exemptions') are dates there (``CompiledPolicy.date_of``)
    utc_offset: int = 0

    @property
    def exemption_text(self) -> str | None:
        """ "exemption … approved by … on … for …, from … until …" (each), or None."""
        if not self.exemptions:
            return None
        return "; ".join(exemption_words(x, self.utc_offset) for x in self.exemptions)

    def to_json(self) -> dict[str, Any]:
        """The ``check --json`` contract."""
        return {
            "subject": self.subject,
            "service": self.service,
            "at": to_iso(self.at),
            "decision": self.decision,
            "reasons": self.reasons,
            "eligible_again_on": self.eligible_again_on,
            "indefinite": self.indefinite,
            "benefits": self.benefits,
            "policy_version": self.policy_version,
            "policy_hash": self.policy_hash,
            "known": self.known,
            "backfilled": [b.to_json() for b in self.backfilled],
            "attributes": self.attributes,
            "exemptions": [x.to_json() for x in self.exemptions],
            "exempted_reasons": self.exempted,
        }


def known_service(known: Sequence[str], service: str, policy_label: str) -> None:
    """Raise ``UnknownServiceError`` unless ``service`` is among ``known`` (a policy's services).

    A decision about a service the rules never mention would be an "allow" by default: a
    typo at a service point must not open it.
    """
    if service in known:
        return
    close = difflib.get_close_matches(service, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"its services are {', '.join(known)}"
    raise UnknownServiceError(
        f"unknown service {service!r}: policy {policy_label} does not name it ({hint})"
    )


def require_service(policy: CompiledPolicy, service: str) -> None:
    """Raise ``UnknownServiceError`` unless ``policy`` knows ``service`` (see ``services()``)."""
    known_service(policy.services(), service, policy.version_label)


def applies(m: Measure, attributes: Mapping[str, float | str] | None) -> bool:
    """Whether measure ``m`` covers a request with ``attributes`` (its ``applies_to`` holds);
    ``None``: no particular request, every measure applies. An attribute the measure tests
    that the request lacks raises ``RequestAttributeError`` (never an allow by default)."""
    if attributes is None or not m.applies_to:
        return True
    for cond in m.applies_to:
        if cond.attribute not in attributes:
            raise RequestAttributeError(
                f"measure {m.name} ({m.reason_code}) on service {m.service!r} applies only to "
                f"some requests: the check needs attribute {cond.attribute!r}"
            )
        if not cond.holds(attributes[cond.attribute]):
            return False
    return True


def denials(
    standing: Standing, service: str, attributes: Mapping[str, float | str] | None = None
) -> list[Measure]:
    """The measures in force that deny ``service`` (on it or on a service it is part of),
    for a request with ``attributes`` (None: every request)."""
    return [
        m
        for m in standing.measures
        if m.effect == "deny" and m.covers_service(service) and applies(m, attributes)
    ]


def exemption_words(x: Exemption, offset: int = 0) -> str:
    """An exemption as a service point or a person is told of it: "exemption court/x1
    approved by Court X on 2025-02-20 for a funeral, from 2025-03-01 until 2025-03-10"."""
    on = f" on {local_date(x.approved_at, offset)}" if x.approved_at is not None else ""
    until = (
        f"until {local_date(x.valid_until, offset)}"
        if x.valid_until is not None
        else "with no end date"
    )
    return (
        f"exemption {x.source}/{x.id} approved by {x.approved_by}{on} for {x.reason}, "
        f"from {local_date(x.valid_from, offset)} {until}"
    )


def covering(exemptions: Sequence[Exemption], service: str) -> tuple[Exemption, ...]:
    """The exemptions that allow ``service``: on it or on a service it is part of."""
    return tuple(x for x in exemptions if service in x.covers)


def _waived(
    denied: list[Measure], exemptions: tuple[Exemption, ...]
) -> tuple[list[Measure], tuple[Exemption, ...], list[str]]:
    """The denials that stand, the exemptions cited and the reason codes they waive: an
    exemption of the service waives every denial of it (and is cited only then)."""
    if not exemptions or not denied:
        return denied, (), []
    return [], exemptions, sorted({m.reason_code for m in denied})


NOT_GRANTED = "NOT-GRANTED"
"""The reason code of a denial of a ``granted`` service that no benefit gives the subject."""


def not_granted(
    granted: Sequence[str], service: str, denied: Sequence[str], benefits: Sequence[str]
) -> list[str]:
    """The reason codes of a decision on ``service``: ``denied``, or ``[NOT_GRANTED]`` when
    the service is one of ``granted`` (what a benefit gives: a seat, a deposit-free rental)
    and neither a denial nor a benefit covers it — such a service is never allowed because
    nothing stops it."""
    if not denied and not benefits and service in granted:
        return [NOT_GRANTED]
    return list(denied)


def eligible_again(measures: list[Measure]) -> int | None:
    """When the last of ``measures`` ends if nothing else happens (NEVER if one has no end)."""
    if not measures:
        return None
    return max(m.until if m.until is not None else NEVER for m in measures)


def decide(
    standing: Standing, service: str, attributes: Mapping[str, float | str] | None = None
) -> Decision:
    """Allow unless a measure in force denies ``service``; a pure function of the standing.

    A measure on a service covers the services declared under it. ``attributes``: the
    request's, validated by ``CompiledPolicy.request``; a measure with ``applies_to``
    decides only requests it matches. None: no particular request (every measure counts).
    Raises ``UnknownServiceError`` unless the standing's policy knows ``service``
    (``standing.services``): a misspelled service is never allowed by default.
    """
    known_service(standing.services, service, standing.policy_version)
    denied, waivers, waived = _waived(
        denials(standing, service, attributes), covering(standing.exemptions, service)
    )
    end = eligible_again(denied)
    benefits = sorted(
        {
            m.reason_code
            for m in standing.measures
            if m.effect == "benefit" and m.covers_service(service) and applies(m, attributes)
        }
    )
    reasons = not_granted(
        standing.granted_services, service, sorted({m.reason_code for m in denied}), benefits
    )
    return Decision(
        subject=standing.subject,
        service=service,
        at=standing.at,
        decision="deny" if reasons else "allow",
        reasons=reasons,
        eligible_again_on=local_date(end, standing.utc_offset),
        indefinite=end is not None and end >= NEVER,
        benefits=benefits,
        policy_version=standing.policy_version,
        policy_hash=standing.policy_hash,
        attributes=dict(attributes) if attributes is not None else None,
        exemptions=waivers,
        exempted=waived,
        utc_offset=standing.utc_offset,
    )


def check(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    attributes: Mapping[str, Any] | None = None,
) -> Decision:
    """The decision on ``service`` for subject index ``subject`` at ``t``: equal to
    ``decide(standing(prep, subject, t), service, attributes)`` (a property test checks it),
    but it evaluates only the measures deciding ``service`` — a check's work, not a full
    standing.

    ``attributes``: the request's (validated here: ``CompiledPolicy.request``); None for no
    particular request, where every measure covering the service counts.
    Raises ``UnknownServiceError`` unless ``prep.policy`` knows ``service``, and
    ``RequestAttributeError`` for an undeclared, mistyped or missing attribute."""
    require_service(prep.policy, service)
    request = prep.policy.request(service, attributes) if attributes is not None else None
    measures = measures_for_service(prep, subject, service, t, request)
    denied, waivers, waived = _waived(
        [m for m in measures if m.effect == "deny"],
        covering(exemptions_at(prep, subject, t), service),
    )
    end = eligible_again(denied)
    benefits = sorted({m.reason_code for m in measures if m.effect == "benefit"})
    reasons = not_granted(
        prep.policy.granted_services(), service, sorted({m.reason_code for m in denied}), benefits
    )
    return Decision(
        subject=prep.columns.subjects[subject],
        service=service,
        at=t,
        decision="deny" if reasons else "allow",
        reasons=reasons,
        eligible_again_on=prep.policy.date_of(end),
        indefinite=end is not None and end >= NEVER,
        benefits=benefits,
        policy_version=prep.policy.version_label,
        policy_hash=prep.policy.loaded.content_hash,
        attributes=request,
        exemptions=waivers,
        exempted=waived,
        utc_offset=prep.policy.calendar.offset,
    )


__all__ = [
    "NOT_GRANTED",
    "Decision",
    "RequestAttributeError",
    "UnknownServiceError",
    "applies",
    "check",
    "covering",
    "decide",
    "denials",
    "eligible_again",
    "exemption_words",
    "known_service",
    "not_granted",
    "require_service",
]
