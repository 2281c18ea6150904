"""SC3xx: measures that reach related subjects, children above all; scores that related
subjects' scores move."""

from __future__ import annotations

from collections.abc import Iterator

from socialcredit.lint.facts import PolicyFacts
from socialcredit.lint.findings import Hit


def check(facts: PolicyFacts) -> Iterator[Hit]:
    """Every SC3xx finding of the policy: one per measure and kind (children, others)."""
    for name, s in facts.policy.sanctions.items():
        if s.effect != "deny" or not s.reach:
            continue
        children = [
            (i, r.relation) for i, r in enumerate(s.reach) if facts.is_child_relation(r.relation)
        ]
        others = [
            (i, r.relation)
            for i, r in enumerate(s.reach)
            if not facts.is_child_relation(r.relation)
        ]
        if children:
            rels = ", ".join(r for _, r in children)
            yield Hit(
                "SC301",
                ("sanctions", name, "reach", children[0][0]),
                f"Measure {name} reaches the children of the subject it applies to ({rels}): "
                "a child is denied for a parent's record.",
            )
        if others:
            rels = ", ".join(r for _, r in others)
            yield Hit(
                "SC302",
                ("sanctions", name, "reach", others[0][0]),
                f"Measure {name} reaches subjects related to the one it applies to ({rels}), "
                "for records that are not their own.",
            )
    for name, score in facts.policy.scores.items():
        for cname, comp in score.components.items():
            if comp.related is None:
                continue
            yield Hit(
                "SC303",
                ("scores", name, "components", cname, "related"),
                f"Component {cname} of score {name} is valued by the scores of the subjects "
                f"one is related to as {comp.related.relation}: one person's score moves with "
                "other people's conduct.",
            )
