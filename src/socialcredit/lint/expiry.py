"""SC2xx: adverse records that count forever, until resolved, or longer than 7 years (cf.
US FCRA §605)."""

from __future__ import annotations

from collections.abc import Iterator

from socialcredit.lint.facts import PolicyFacts
from socialcredit.lint.findings import Hit
from socialcredit.spans import Span
from socialcredit.timeutil import DAY

SEVEN_YEARS = Span(months=84)


def check(facts: PolicyFacts) -> Iterator[Hit]:
    """Every SC2xx finding of the policy."""
    for name, rt in facts.policy.record_types.items():
        if name not in facts.adverse_types:
            continue
        at = ("record_types", name, "expires_after")
        if rt.expires_after is None:
            if rt.resolvable:
                yield Hit(
                    "SC202",
                    at,
                    f"Record type {name} harms its subject with no time limit: it counts until "
                    "it is resolved, however long that takes.",
                )
            else:
                yield Hit(
                    "SC201",
                    at,
                    f"Record type {name} harms its subject forever: it never expires and "
                    "cannot be resolved.",
                )
            continue
        _, longest, _, extension = rt.term_bounds()
        total = (longest or rt.expires_after) + extension
        if total.nominal() > SEVEN_YEARS.nominal() + DAY:
            yield Hit(
                "SC203",
                at,
                f"Record type {name} harms its subject for up to {total.describe()} "
                "(longer than 7 years).",
            )
