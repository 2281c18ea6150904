"""Short plain descriptions of durations and conditions, for tables and reason columns."""

from __future__ import annotations

from collections.abc import Sequence

from socialcredit.explain_words import number
from socialcredit.policy.model import EligibilityCondition, Predicate
from socialcredit.spans import Span


def span_text(span: Span | None) -> str:
    """A duration as the policy means it: ``10 years``, ``1 year and 6 months``, ``180
    days``, ``2 weeks``, ``12 hours``, ``3 working days``; ``never`` for None."""
    if span is None:
        return "never"
    return span.describe()


def condition_text(pred: Predicate, *, lists: bool = True) -> str:
    """The condition in words, e.g. ``on list debtors``, ``grade C or D``,
    ``3 fare_evasion records within 1 year``.

    With ``lists=False`` the ``list:`` branches of an ``any`` are left out (for a subject
    known to be on none of them: the condition then holds through another branch).
    """
    if pred.on_list is not None:
        return f"on list {pred.on_list}"
    named = pred.score_named()
    of = f" on {named}" if named is not None else ""
    if pred.grade_in is not None:
        return "grade " + " or ".join(pred.grades()) + of
    threshold = pred.threshold()
    if pred.score_below is not None and threshold is not None:
        return f"{named or 'score'} below {number(threshold)}"
    if pred.score_at_least is not None and threshold is not None:
        return f"{named or 'score'} at least {number(threshold)}"
    if pred.records is not None:
        r = pred.records
        what = r.category or " or ".join(r.type_names())
        noun = "record" if r.at_least == 1 else "records"
        text = f"{r.at_least} {'unresolved ' if r.unresolved else ''}{what} {noun}"
        if r.after is not None:
            event = (
                f"a {r.after.resolution_of} record was resolved"
                if r.after.resolution_of is not None
                else f"a {r.after.record_of} record"
            )
            within = f"within {span_text(r.within)} " if r.within is not None else ""
            return f"{text} {within}after {event}"
        return text + (f" within {span_text(r.within)}" if r.within is not None else "")
    if pred.not_ is not None:
        return f"not ({condition_text(pred.not_)})"
    children = pred.all_ or pred.any_ or []
    if pred.any_ is not None and not lists:
        children = [c for c in children if c.on_list is None] or children
    parts = [condition_text(c, lists=lists) for c in children]
    joined = (" and " if pred.all_ is not None else " or ").join(parts)
    return f"({joined})" if len(parts) > 1 else joined


def eligibility_text(conditions: Sequence[EligibilityCondition]) -> str:
    """Eligibility conditions in words, e.g. ``birth date at least 18 years ago; residence
    rongcheng for at least 1 year`` (with what holds when the value is unknown)."""
    parts = []
    for c in conditions:
        name = c.attribute.replace("_", " ")
        if c.age_at_least is not None:
            text = f"{name} at least {c.age_at_least} years ago"
        else:
            wanted = [c.equals] if c.equals is not None else list(c.one_of or [])
            shown = " or ".join(f"{w:g}" if isinstance(w, float) else str(w) for w in wanted)
            text = f"{name} {shown}" if shown else f"{name} unchanged"
            if c.held_for is not None:
                text += f" for at least {span_text(c.held_for)}"
        if c.if_unknown == "eligible":
            text += " (or not known)"
        parts.append(text)
    return "; ".join(parts)
