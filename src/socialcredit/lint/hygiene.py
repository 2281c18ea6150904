"""SC6xx: hygiene: unreachable grade bands, conditions that never hold, unused record
types, unresolved on what cannot be resolved, reach kinds that cannot match, free-text
reason codes, rewards that can be bought, unknown rule ids in ``lint: ignore``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from socialcredit.lint.facts import PolicyFacts
from socialcredit.lint.findings import Hit, Path
from socialcredit.lint.rules import RULES
from socialcredit.policy.model import Grade, Predicate

_A = {"person": "a person", "organisation": "an organisation"}
_MANY = {"person": "people", "organisation": "organisations"}
REASON_CODE = re.compile(r"[A-Z0-9][A-Z0-9_.-]*")
_BOUGHT = re.compile(
    r"donat|purchas|\bbuy|bought|spend|spent|payment|\bpaid\b|shopping|money|cash", re.I
)
_NOT_MONEY = re.compile(r"blood|organ|plasma|marrow", re.I)
"""A donation of blood or an organ is not standing bought with money."""


def _bands(at: Path, grades: list[Grade], low: float | None, high: float | None) -> Iterator[Hit]:
    for i, g in enumerate(grades):
        floor = g.at_least
        if not isinstance(floor, float | int) or isinstance(floor, bool):
            continue
        if high is not None and floor > high:
            yield Hit(
                "SC601",
                (*at, "grades", i, "at_least"),
                f"Grade {g.name} starts at {floor:g}, above the score's max {high:g}: nobody "
                "can have it.",
            )
        elif low is not None and floor <= low and i + 1 < len(grades):
            yield Hit(
                "SC601",
                (*at, "grades", i + 1),
                f"Grade {g.name} starts at {floor:g}, at or below the score's min {low:g}: "
                f"nobody can have grade {grades[i + 1].name} or a lower one.",
            )


def _never(facts: PolicyFacts, pred: Predicate) -> str | None:
    """Why ``pred`` can never hold, or None if it may."""
    p = facts.policy
    if pred.records is not None:
        r = pred.records
        if r.category is not None and not facts.category_types(r.category):
            return f"no record type is in category {r.category}"
        return None
    if pred.on_list is not None:
        lst = p.lists.get(pred.on_list)
        if lst is None:
            return None
        why = _never(facts, lst.when)
        return f"list {pred.on_list} never applies ({why})" if why else None
    named = pred.score_named()
    form = p.scores.get(named) if named is not None else p.score
    if pred.score_below is not None or pred.score_at_least is not None:
        t = pred.threshold()
        low, high = (form.min, form.max) if form is not None else (None, None)
        if t is None:
            return None
        if pred.score_below is not None and low is not None and t <= low:
            return f"the score is never below {t:g} (its min is {low:g})"
        if pred.score_at_least is not None and high is not None and t > high:
            return f"the score never reaches {t:g} (its max is {high:g})"
        return None
    if pred.grade_in is not None:
        grades = p.scores[named].grades if named is not None and named in p.scores else p.grades
        hidden = {g.name for g in grades or [] if g.unpublished}
        if set(pred.grades()) <= hidden:
            return "it names only grades whose cut-offs are unpublished (nobody is placed in them)"
        return None
    if pred.all_ is not None:
        for child in pred.all_:
            why = _never(facts, child)
            if why:
                return why
        return None
    if pred.any_ is not None:
        whys = [_never(facts, c) for c in pred.any_]
        return whys[0] if all(whys) else None
    return None


def _referenced(facts: PolicyFacts) -> set[str]:
    p = facts.policy
    used: set[str] = set()
    for _, pred in facts.conditions():
        used |= set(facts.named_types(pred))
        if pred.records is not None and pred.records.after is not None:
            used.add(pred.records.after.type_name)
    counts_all = p.score is not None or any(
        not s.components and s.wallet is None for s in p.scores.values()
    )
    if counts_all:
        used |= {n for n, rt in p.record_types.items() if rt.points != 0}
    for score in p.scores.values():
        if score.wallet is not None:  # a wallet's records earn or spend
            used |= set(score.wallet.earn) | set(score.wallet.redeem)
        if score.rating is not None:  # ratings move a rating score
            used |= set(score.rating.types)
        for comp in score.components.values():
            cy = comp.clean_year
            for types, category in (
                (comp.types, comp.category),
                (cy and cy.types, cy and cy.category),
            ):
                used |= set(types or [])
                if category:
                    used |= set(facts.category_types(category))
    return used


def _lint_blocks(facts: PolicyFacts) -> Iterator[tuple[Path, dict[str, str]]]:
    p = facts.policy
    if p.lint is not None:
        yield ("lint",), p.lint.ignore
    if p.due_process.lint is not None:
        yield ("due_process", "lint"), p.due_process.lint.ignore
    for section in ("record_types", "lists", "sanctions", "services", "relations"):
        for name, element in getattr(p, section).items():
            if element.lint is not None:
                yield (section, name, "lint"), element.lint.ignore


def check(facts: PolicyFacts) -> Iterator[Hit]:
    """Every SC6xx finding of the policy."""
    p = facts.policy
    if p.score is not None and p.grades is not None:
        yield from _bands((), p.grades, p.score.min, p.score.max)
    for name, score in p.scores.items():
        yield from _bands(("scores", name), score.grades, score.min, score.max)
    for section, items in (("lists", p.lists), ("sanctions", p.sanctions)):
        for name, element in items.items():
            why = _never(facts, element.when)
            if why:
                what = "List" if section == "lists" else "Measure"
                yield Hit("SC602", (section, name, "when"), f"{what} {name} never applies: {why}.")
    used = _referenced(facts)
    for name in p.record_types:
        if name not in used:
            yield Hit(
                "SC603",
                ("record_types", name),
                f"Record type {name} has no effect: it carries no points that count and no "
                "condition names it.",
            )
    for path, pred in facts.conditions():
        r = pred.records
        if r is None or not r.unresolved:
            continue
        types = facts.named_types(pred)
        if types and not any(p.record_types[t].resolvable for t in types if t in p.record_types):
            yield Hit(
                "SC604",
                (*path, "records", "unresolved"),
                f"The condition counts only unresolved {', '.join(types)} records, which "
                "cannot be resolved: every one counts.",
            )
    for name, s in p.sanctions.items():
        kinds = facts.subject_kinds(facts.triggers(s.when))
        for i, reach in enumerate(s.reach):
            rel = p.relations.get(reach.relation)
            if rel is not None and kinds and rel.to_kind not in kinds:
                yield Hit(
                    "SC605",
                    ("sanctions", name, "reach", i),
                    f"Measure {name} reaches through {reach.relation}, which starts from "
                    f"{_A[rel.to_kind]}, but it applies only to "
                    f"{' and '.join(_MANY[k] for k in sorted(kinds))}.",
                )
        code = s.reason_code.strip()
        if code and not REASON_CODE.fullmatch(code):
            yield Hit(
                "SC606",
                ("sanctions", name, "reason_code"),
                f"Measure {name}'s reason code {code!r} is free text, not a stable code.",
            )
    for name, rt in p.record_types.items():
        words = f"{name.replace('_', ' ')} {rt.description}"
        if rt.points > 0 and _BOUGHT.search(words) and not _NOT_MONEY.search(words):
            yield Hit(
                "SC607",
                ("record_types", name, "points"),
                f"Record type {name} gives {rt.points:g} points for a donation, purchase or "
                "payment: standing can be bought.",
            )
    for at, ignore in _lint_blocks(facts):
        for rule in ignore:
            if rule not in RULES:
                yield Hit("SC608", (*at, "ignore", rule), f"{rule} is not a lint rule.")
