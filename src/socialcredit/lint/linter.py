"""Linting a policy: every rule's checks over the validated policy, each finding located
by file, YAML line and field path, silenced where the policy's ``lint: ignore`` says so.

A pure function of the loaded policy: no database, no clock, same policy same report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from socialcredit.lint import association, due_process, expiry, hygiene, proportion, protected
from socialcredit.lint.facts import PolicyFacts
from socialcredit.lint.findings import Finding, Hit, LintReport, Path
from socialcredit.lint.rules import RULES, matches
from socialcredit.policy.loader import LoadedPolicy, dotted
from socialcredit.policy.model import Policy

CHECKS: tuple[Callable[[PolicyFacts], Iterator[Hit]], ...] = (
    proportion.check,
    expiry.check,
    association.check,
    protected.check,
    due_process.check,
    hygiene.check,
)

_ELEMENTS = ("record_types", "lists", "sanctions", "services", "relations")


def silencing(policy: Policy, path: Path) -> tuple[Path, dict[str, str]]:
    """The element a finding at ``path`` belongs to and the rules it silences: a named
    record type, list, measure, service or relation; ``due_process``; else the policy
    itself (its score and grades)."""
    if len(path) >= 2 and path[0] in _ELEMENTS:
        element = getattr(policy, str(path[0])).get(path[1])
        settings = getattr(element, "lint", None)
        return path[:2], dict(settings.ignore) if settings is not None else {}
    if path and path[0] == "due_process":
        settings = policy.due_process.lint
        return ("due_process",), dict(settings.ignore) if settings is not None else {}
    return (), dict(policy.lint.ignore) if policy.lint is not None else {}


def lint_policy(
    loaded: LoadedPolicy,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> LintReport:
    """Lint ``loaded``: every finding of the registered rules (``select``: only rules with
    these ids or id prefixes; ``ignore``: not these), located and sorted by line, rule and
    path; findings the policy silences for their element (``lint: ignore``) are listed
    apart with their justification. Never raises for a policy ``parse_policy`` accepted.
    """
    selected, ignored = tuple(select), tuple(ignore)
    policy = loaded.policy
    facts = PolicyFacts(policy)
    found: set[Finding] = set()
    silenced: set[Finding] = set()
    for check in CHECKS:
        for hit in check(facts):
            if selected and not matches(hit.rule, selected):
                continue
            if ignored and matches(hit.rule, ignored):
                continue
            rule = RULES[hit.rule]
            _, justifications = silencing(policy, hit.path)
            finding = Finding(
                loaded.source,
                loaded.line_of(hit.path) or 0,
                hit.rule,
                dotted(hit.path),
                hit.message,
                rule.severity,
                justifications.get(hit.rule),
            )
            (silenced if finding.justification is not None else found).add(finding)
    return LintReport(
        loaded.source,
        loaded.label,
        loaded.content_hash,
        tuple(sorted(found)),
        tuple(sorted(silenced)),
    )
