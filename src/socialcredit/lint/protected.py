"""SC4xx: protected activity scored: speech and association, and adverse records that rest
on a third party's report alone."""

from __future__ import annotations

from collections.abc import Iterator

from socialcredit.lint.facts import PolicyFacts
from socialcredit.lint.findings import Hit


def check(facts: PolicyFacts) -> Iterator[Hit]:
    """Every SC4xx finding of the policy."""
    for name, rt in facts.policy.record_types.items():
        if rt.category in ("expression", "association"):
            yield Hit(
                "SC401",
                ("record_types", name, "category"),
                f"Record type {name} scores {rt.category}: what people say or whom they "
                "associate with.",
            )
        if rt.evidence == "third_party_report" and name in facts.adverse_types:
            yield Hit(
                "SC402",
                ("record_types", name, "evidence"),
                f"Record type {name} harms its subject on a third party's report alone.",
            )
