"""SC1xx: cross-context detriment and disproportion (EU AI Act Art. 5(1)(c)(i) and (ii))."""

from __future__ import annotations

from collections.abc import Iterator

from socialcredit.lint.facts import MEASURE_RANK, SEVERITY_RANK, PolicyFacts, record_severity
from socialcredit.lint.findings import Hit
from socialcredit.policy.model import AfterResolution, FixedDuration


def _names(names: list[str] | set[str], limit: int = 4) -> str:
    ordered = sorted(names)
    shown = ", ".join(ordered[:limit])
    return shown + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


def check(facts: PolicyFacts) -> Iterator[Hit]:
    """Every SC1xx finding of the policy."""
    p = facts.policy
    undeclared: set[str] = set()
    for name, s in facts.denials():
        at = ("sanctions", name)
        triggers = facts.triggers(s.when)
        where = facts.service_context(s.service)
        words = facts.policy.service_name(s.service)
        if where is None:
            if s.service in p.services:
                if s.service not in undeclared:
                    undeclared.add(s.service)
                    yield Hit(
                        "SC102",
                        ("services", s.service),
                        f"Service {s.service} is denied by measure {name} but declares no "
                        "context, so whether the denial stays in the records' context cannot "
                        "be checked.",
                    )
            else:
                yield Hit(
                    "SC102",
                    (*at, "service"),
                    f"Measure {name} denies {s.service}, which is not declared under "
                    "services with a context, so whether the denial stays in the records' "
                    "context cannot be checked.",
                )
        else:
            foreign: dict[str, list[str]] = {}
            for t in triggers:
                ctx = p.record_types[t].context
                if ctx != where:
                    foreign.setdefault(ctx, []).append(t)
            if foreign:
                parts = "; ".join(f"{c} ({_names(ts)})" for c, ts in sorted(foreign.items()))
                yield Hit(
                    "SC101",
                    (*at, "service"),
                    f"Measure {name} denies {words} (context {where}) because of records from "
                    f"another context: {parts}.",
                )
        after = isinstance(s.duration, AfterResolution)
        if s.max_duration is None and not isinstance(s.duration, FixedDuration):
            forever = sorted(t for t in triggers if p.record_types[t].expires_after is None)
            if forever or after:
                why = (
                    "it lasts until its records are resolved, which may be never"
                    if after
                    else f"it lasts while records that never expire count ({_names(forever)})"
                )
                yield Hit(
                    "SC103",
                    (*at, "duration") if after else at,
                    f"Measure {name} denies {words} with no upper bound: {why}.",
                )
        minor = sorted(
            t
            for t in facts.single_triggers(s.when)
            if record_severity(p.record_types[t]) == "minor"
        )
        if minor:
            yield Hit(
                "SC104",
                (*at, "when"),
                f"One minor record ({_names(minor)}) is enough for measure {name} to deny {words}.",
            )
        if s.severity is not None and triggers:
            ranks = [
                (SEVERITY_RANK[sev], t)
                for t in triggers
                if (sev := record_severity(p.record_types[t])) is not None
            ]
            if ranks:
                worst = max(r for r, _ in ranks)
                if MEASURE_RANK[s.severity] > worst:
                    word = {0: "minor", 1: "moderate", 2: "serious"}[worst]
                    yield Hit(
                        "SC105",
                        (*at, "severity"),
                        f"Measure {name} is of {s.severity} severity but the gravest record "
                        f"that can trigger it is {word}.",
                    )
