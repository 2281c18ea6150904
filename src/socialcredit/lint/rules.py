"""The lint rules: each one's stable id, severity, what it checks, the legal or ethical
anchor it reflects (with a short quote) and how to fix what it finds.

Ids never change meaning: a rule that is dropped leaves its id unused. The families are
SC1xx cross-context detriment and disproportion, SC2xx expiry, SC3xx association, SC4xx
protected activity, SC5xx due process, SC6xx hygiene (docs/lint-rules.md lists every rule
with an example that triggers it and its fix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

AI_ACT_I = (
    "EU AI Act Art. 5(1)(c)(i)",
    "prohibits social scores leading to detrimental treatment in social contexts unrelated "
    "to the contexts in which the data was generated or collected",
)
AI_ACT_II = (
    "EU AI Act Art. 5(1)(c)(ii)",
    "prohibits detrimental treatment that is unjustified or disproportionate to the "
    "behaviour or its gravity",
)
FCRA_605 = (
    "US FCRA §605",
    "most adverse items stop being reported after 7 years (bankruptcy 10)",
)
FCRA_611 = (
    "US FCRA §611",
    "a disputed item is reinvestigated free within 30 days; unverifiable information is deleted",
)
FCRA_615 = (
    "US FCRA §615",
    "an adverse-action notice names who supplied the data and how to dispute it",
)
GDPR_15 = (
    "GDPR Art. 15",
    "access, including meaningful information about the logic of automated decisions",
)
GDPR_22 = (
    "GDPR Art. 22",
    "no solely automated decision with significant effects without the right to human "
    "intervention and to contest",
)
SPC_MINORS = (
    "SPC Fa Shi [2017] No. 7, Art. 4; known failure modes",
    "a minor may not be listed; critics report children of debtors barred from schools",
)
ASSOCIATION = (
    "Known failure modes (punishment by association)",
    "company officers restricted for their company's default",
)
EXPRESSION = (
    "EU AI Act Art. 5(1)(c); known failure modes",
    "points off for speech or for a neighbour's report",
)
HYGIENE = ("Auditability", "every sentence shown to a person is true; the policy says what it does")
BOUGHT = ("Known failure modes", "opaque scores; buying points through donations")


@dataclass(frozen=True)
class Rule:
    """One lint rule: a stable ``id`` (``SC101``), a short ``name``, its ``severity``,
    ``summary`` (what it finds), ``anchor`` and ``quote`` (the law or principle it
    reflects) and ``fix`` (what to change)."""

    id: str
    name: str
    severity: Severity
    summary: str
    anchor: str
    quote: str
    fix: str


def _rule(
    id: str, name: str, severity: Severity, summary: str, anchor: tuple[str, str], fix: str
) -> Rule:
    return Rule(id, name, severity, summary, anchor[0], anchor[1], fix)


_ALL = [
    _rule(
        "SC101",
        "cross-context-detriment",
        "error",
        "A denial at a service whose context differs from the context of the records that "
        "trigger it (court debts closing rail tickets).",
        AI_ACT_I,
        "Deny only services in the context the records come from, or remove the measure.",
    ),
    _rule(
        "SC102",
        "service-context-undeclared",
        "warning",
        "A service that measures deny declares no context, so cross-context detriment "
        "cannot be checked.",
        AI_ACT_I,
        "Declare the service under services: with its context (transit, courts, …).",
    ),
    _rule(
        "SC103",
        "unbounded-measure",
        "warning",
        "A denial with no upper bound on its duration: it lasts while records that may "
        "never end count, or until they are resolved.",
        AI_ACT_II,
        "Give the measure a max_duration, or a fixed duration.",
    ),
    _rule(
        "SC104",
        "single-minor-record-denies",
        "error",
        "One minor record (severity minor, or at most 10 negative points) is enough to "
        "trigger a denial.",
        AI_ACT_II,
        "Require several records (at_least), a serious record type, or drop the denial.",
    ),
    _rule(
        "SC105",
        "severity-disproportion",
        "warning",
        "A measure declared more severe than the most serious record that can trigger it.",
        AI_ACT_II,
        "Lower the measure's severity (a lighter measure) or trigger it by graver records.",
    ),
    _rule(
        "SC201",
        "adverse-record-never-expires",
        "error",
        "An adverse record type that never expires and cannot be resolved: it counts forever.",
        FCRA_605,
        "Give it a finite expires_after (at most 7 years), or make it resolvable.",
    ),
    _rule(
        "SC202",
        "adverse-record-counts-until-resolved",
        "warning",
        "An adverse record type with no time limit: it counts until it is resolved, "
        "however long that takes.",
        FCRA_605,
        "Give it a finite expires_after as well as resolvable: true.",
    ),
    _rule(
        "SC203",
        "adverse-record-over-7-years",
        "warning",
        "An adverse record type that can count longer than 7 years (its expiry, its longest "
        "own term and extensions).",
        FCRA_605,
        "Shorten expires_after (or term.max and term.extension.max) to 7 years or less.",
    ),
    _rule(
        "SC301",
        "measure-reaches-children",
        "error",
        "A measure reaches a subject's children (punishment by association of a child).",
        SPC_MINORS,
        "Remove the child relation from the measure's reach.",
    ),
    _rule(
        "SC302",
        "measure-reaches-related",
        "warning",
        "A measure reaches subjects related to the one it applies to (family members, "
        "company officers).",
        ASSOCIATION,
        "Remove the reach, or record each related person's own conduct instead.",
    ),
    _rule(
        "SC303",
        "score-moved-by-related",
        "error",
        "A score component is valued by the scores of related subjects (friends, family): "
        "one person's score moves with other people's conduct.",
        ASSOCIATION,
        "Remove the related component; score each person on their own records.",
    ),
    _rule(
        "SC401",
        "protected-activity-record",
        "error",
        "A record type in the expression or association category: speech or association scored.",
        EXPRESSION,
        "Remove the record type; do not score speech or association.",
    ),
    _rule(
        "SC402",
        "third-party-report-adverse",
        "error",
        "An adverse record type resting only on a third party's report (neighbours "
        "reporting neighbours).",
        EXPRESSION,
        "Require official_record or court_order evidence, or make the record harmless.",
    ),
    _rule(
        "SC501",
        "short-appeal-window",
        "warning",
        "An appeal window shorter than 7 days: too short to contest a record in practice.",
        GDPR_22,
        "Lengthen appeal_window to at least 7 days (30 days is common).",
    ),
    _rule(
        "SC502",
        "slow-reinvestigation",
        "error",
        "A reinvestigation deadline longer than 30 days.",
        FCRA_611,
        "Set reinvestigation_deadline to 30 days or less.",
    ),
    _rule(
        "SC503",
        "disputed-records-count",
        "warning",
        "Disputed records keep counting while their dispute is open.",
        FCRA_611,
        "Set disputed_records_count: false.",
    ),
    _rule(
        "SC504",
        "measure-without-reason-code",
        "warning",
        "A measure with no reason code: the person cannot be told which rule applied.",
        GDPR_15,
        "Give the measure a reason_code (a stable code such as TRANSIT-VIOLENCE).",
    ),
    _rule(
        "SC505",
        "denial-without-legal-basis",
        "warning",
        "A denial with no legal basis written down.",
        FCRA_615,
        "Give the measure a legal_basis naming the rule that allows it.",
    ),
    _rule(
        "SC506",
        "no-notice-before-sanction",
        "warning",
        "Denials start without notice to the person (notice_before_sanction: false) and "
        "without a publicity period.",
        FCRA_615,
        "Set notice_before_sanction: true, or give each denial a starts_after notice period.",
    ),
    _rule(
        "SC507",
        "no-human-review",
        "error",
        "Denials with no human review of a contested decision (human_review: false).",
        GDPR_22,
        "Set human_review: true.",
    ),
    _rule(
        "SC508",
        "overdue-dispute-keeps-record",
        "warning",
        "A dispute not decided in time leaves the record counting (on_overdue keep or flag).",
        FCRA_611,
        "Set on_overdue: delete (the default).",
    ),
    _rule(
        "SC601",
        "grade-band-unreachable",
        "warning",
        "A grade band outside the score's min/max: nobody can be placed in it (or in the "
        "bands below it). Bands cannot overlap or leave gaps: validation orders their floors "
        "and the last band takes every lower score.",
        HYGIENE,
        "Move the band's at_least inside the score's range, or remove the band.",
    ),
    _rule(
        "SC602",
        "condition-never-holds",
        "warning",
        "A list or measure whose condition can never hold (a threshold outside the score's "
        "range, only unpublished grades, a category with no record types).",
        HYGIENE,
        "Fix the condition, or remove the list or measure.",
    ),
    _rule(
        "SC603",
        "record-type-unused",
        "warning",
        "A record type nothing refers to: no points counted, no condition names it.",
        HYGIENE,
        "Remove the record type, or give it points or a use.",
    ),
    _rule(
        "SC604",
        "unresolved-on-unresolvable",
        "warning",
        "A condition counts only unresolved records of types that cannot be resolved.",
        HYGIENE,
        "Mark the record type resolvable: true, or drop unresolved: true.",
    ),
    _rule(
        "SC605",
        "reach-kind-mismatch",
        "warning",
        "A reach relation that leads to a kind of subject the measure never applies to "
        "(e.g. legal_representative_of on a person-only measure).",
        HYGIENE,
        "Use a relation whose to_kind matches who the measure applies to, or remove it.",
    ),
    _rule(
        "SC606",
        "free-text-reason-code",
        "warning",
        "A reason code that is free text rather than a stable code (capitals, digits, '-', "
        "'_', '.').",
        GDPR_15,
        "Write the reason code as a stable code, e.g. RAIL-180.",
    ),
    _rule(
        "SC607",
        "purchasable-reward",
        "warning",
        "Points for donations, purchases or payments: standing that can be bought.",
        BOUGHT,
        "Give donations and purchases no points.",
    ),
    _rule(
        "SC608",
        "unknown-lint-rule",
        "warning",
        "A lint: ignore entry names a rule id that does not exist.",
        HYGIENE,
        "Correct the rule id (docs/lint-rules.md lists them) or remove the entry.",
    ),
]

RULES: dict[str, Rule] = {r.id: r for r in _ALL}
"""Every registered rule, by id, in id order."""


def matches(rule_id: str, patterns: list[str] | tuple[str, ...]) -> bool:
    """Whether ``rule_id`` is one of ``patterns``: an id (``SC104``) or a prefix (``SC1``)."""
    return any(rule_id.startswith(p.strip().upper()) for p in patterns if p.strip())
