"""Impact sentences: for each measure, one plain-language sentence of who it hits and why,
generated from the policy (``policy lint --explain``), e.g. "A person or organisation on
the list of dishonest judgment debtors cannot buy air tickets while that lasts, with no
upper bound; so cannot their legal representative."
"""

from __future__ import annotations

from socialcredit.explain_words import number
from socialcredit.lint.facts import PolicyFacts
from socialcredit.policy.describe import span_text
from socialcredit.policy.model import (
    AfterResolution,
    FixedDuration,
    Policy,
    Predicate,
    Sanction,
    ServiceAttribute,
)

_WHO = {
    frozenset({"person"}): "A person",
    frozenset({"organisation"}): "An organisation",
}


def _records(facts: PolicyFacts, pred: Predicate) -> str:
    r = pred.records
    assert r is not None
    if r.category is not None:
        what = f"{r.category} record"
    else:
        what = " or ".join(t.replace("_", " ") for t in r.type_names()) + " record"
    count = "one" if r.at_least == 1 else f"at least {r.at_least}"
    text = f"{count} {'unresolved ' if r.unresolved else ''}{what}{'' if r.at_least == 1 else 's'}"
    if r.after is not None:
        event = (
            f"a {r.after.resolution_of.replace('_', ' ')} record was resolved"
            if r.after.resolution_of is not None
            else f"a {r.after.record_of.replace('_', ' ')} record"
            if r.after.record_of is not None
            else "an event"
        )
        within = f"within {span_text(r.within)} " if r.within is not None else ""
        return f"{text} {within}after {event}"
    if r.within is None:
        return text
    window = span_text(r.within)
    return f"{text} in the last {window.removeprefix('1 ')}"


def condition_words(facts: PolicyFacts, pred: Predicate) -> str:
    """``pred`` as a phrase completing "A person …": ``with one unresolved fare evasion
    record``, ``on the list of dishonest judgment debtors``, ``with a score below 50``."""
    if pred.on_list is not None:
        lst = facts.policy.lists.get(pred.on_list)
        name = lst.display_name if lst is not None and lst.display_name else pred.on_list
        words = name.replace("_", " ")
        if words[:4].lower() == "the ":  # a name for the members: "the seated members of …"
            listed = f"on {words}" if "list" in words.lower() else f"on the list of {words}"
        else:
            listed = f"on the {words}" + ("" if "list" in words.lower() else " list")
        if lst is None:
            return listed
        delay = lst.delist_after_resolution
        after = f"; a resolved record stops counting {span_text(delay)} after" if delay else ""
        return f"{listed} (listed {condition_words(facts, lst.when)}{after})"
    if pred.records is not None:
        return f"with {_records(facts, pred)}"
    named = pred.score_named()
    score = f"{named.replace('_', ' ')} score" if named else "score"
    threshold = pred.threshold()
    if pred.score_below is not None and threshold is not None:
        return f"with a {score} below {number(threshold)}"
    if pred.score_at_least is not None and threshold is not None:
        return f"with a {score} of at least {number(threshold)}"
    if pred.grade_in is not None:
        return f"graded {' or '.join(pred.grades())}"
    if pred.rank_top is not None:
        ranked = pred.rank_top
        return f"among the {ranked.seats:,} with the highest {ranked.score.replace('_', ' ')} score"
    if pred.not_ is not None:
        return f"not {condition_words(facts, pred.not_)}"
    children = [condition_words(facts, c) for c in (pred.all_ or pred.any_ or [])]
    joiner = " and " if pred.all_ is not None else " or "
    return joiner.join(children)


def _duration(s: Sanction) -> str:
    if isinstance(s.duration, FixedDuration):
        text = f"for {span_text(s.duration.fixed)}"
    elif isinstance(s.duration, AfterResolution):
        after = s.duration.after_resolution
        text = "until its records are resolved" + (
            f" and for {span_text(after)} after" if after else ""
        )
    else:
        text = "while that lasts"
    if s.max_duration is not None:
        text += f", for at most {span_text(s.max_duration)}"
    elif not isinstance(s.duration, FixedDuration) and s.effect == "deny":
        text += ", with no upper bound"
    if s.starts_after is not None:
        notice = span_text(s.starts_after.notice)
        text = f"from the end of a publicity period of {notice}, {text}"
    return text


def _reach(facts: PolicyFacts, s: Sanction) -> str:
    if not s.reach:
        return ""
    whom = []
    for r in s.reach:
        if facts.is_child_relation(r.relation):
            whom.append("their children")
        else:
            words = r.relation.removesuffix("_of").replace("_", " ")
            whom.append(f"their {words}")
    listing = whom[0] if len(whom) == 1 else ", ".join(whom[:-1]) + " and " + whom[-1]
    return f"; the same applies to {listing}"


def _attribute(policy: Policy, service: str, name: str) -> ServiceAttribute | None:
    seen: set[str] = set()
    current: str | None = service
    while current is not None and current not in seen:
        seen.add(current)
        declared = policy.services.get(current)
        if declared is None:
            return None
        if name in declared.attributes:
            return declared.attributes[name]
        current = declared.parent
    return None


def _requests(policy: Policy, s: Sanction) -> str:
    """``when the seat class is first class or business class``."""
    parts = []
    for c in s.applies_to:
        attr = _attribute(policy, s.service, c.attribute)
        label = attr.display_name if attr is not None and attr.display_name else c.attribute
        label = label.replace("_", " ")
        if not label.startswith("the "):
            label = f"the {label}"
        if c.in_ is not None:
            names = attr.value_names if attr is not None else {}
            parts.append(f"{label} is {' or '.join(names.get(v, v) for v in c.in_)}")
        else:
            unit = f" {attr.unit}" if attr is not None and attr.unit else ""
            bounds = []
            if c.at_least is not None:
                bounds.append(f"at least {c.at_least:g}{unit}")
            if c.below is not None:
                bounds.append(f"below {c.below:g}{unit}")
            parts.append(f"{label} is {' and '.join(bounds)}")
    return "when " + " and ".join(parts)


def impact_sentence(policy: Policy, name: str, facts: PolicyFacts | None = None) -> str:
    """One sentence saying whom measure ``name`` hits, why, how and for how long."""
    facts = facts or PolicyFacts(policy)
    s = policy.sanctions[name]
    kinds = frozenset(facts.subject_kinds(facts.triggers(s.when))) or frozenset(
        {"person", "organisation"}
    )
    who = _WHO.get(kinds, "A person or organisation")
    declared = policy.services.get(s.service)
    action = (
        declared.action
        if declared is not None and declared.action
        else f"use {facts.policy.service_name(s.service)}"
    )
    verb = "cannot" if s.effect == "deny" else "may"
    only = f" ({_requests(policy, s)})" if s.applies_to else ""
    return (
        f"{who} {condition_words(facts, s.when)} {verb} {action}{only} {_duration(s)}"
        f"{_reach(facts, s)}."
    )


def impact_sentences(policy: Policy) -> list[tuple[str, str]]:
    """(measure, sentence) for every measure of ``policy``, in the policy's order."""
    facts = PolicyFacts(policy)
    return [(name, impact_sentence(policy, name, facts)) for name in policy.sanctions]
