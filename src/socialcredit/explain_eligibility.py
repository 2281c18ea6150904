"""The eligibility notes of an explanation: the lists a person is kept off and the record
types not counted because a condition on their attributes does not hold, and why, from
what the ledger knows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialcredit.explain_words import on_list, words
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring import Standing
from socialcredit.spans import Span

if TYPE_CHECKING:
    from socialcredit.scoring.facts import SubjectFacts, Unmet


def eligibility_notes(policy: CompiledPolicy, st: Standing) -> list[str]:
    """Lists the person is kept off, and record types not counted, by eligibility."""
    out = []
    for n in st.not_eligible:
        why = "; ".join(n.reasons)
        if n.kind == "list":
            out.append(
                f"You are not on {on_list(policy, n.name)}, although its condition holds for "
                f"you: the policy lists only those who meet its conditions, and {why}."
            )
        else:
            out.append(
                f"Your {words(n.name)} records do not count: the policy counts them only for "
                f"those who meet its conditions, and {why}."
            )
    return out


def unmet_text(policy: CompiledPolicy, facts: SubjectFacts | None, u: Unmet, t: int) -> str:
    """Why one eligibility condition does not hold, from what the ledger knows (never a
    guess): "no birth date is known to the ledger", "you are under 18 (birth date
    2008-02-29) until the end of 2026-02-28", "residence is 'weihai', not 'rongcheng'"."""
    c = u.condition
    what = words(c.attribute)
    if u.row < 0 or facts is None:
        return f"no {what} is known to the ledger for you on {policy.date_of(t)}"
    a = facts.attributes
    value = str(a.text[u.row])
    since = policy.date_of(int(a.valid_from[u.row]))
    if c.age_at_least is not None:
        if u.reached_at is None:
            return f"your {what} ({value}) cannot be read as a date"
        return (
            f"you are under {c.age_at_least} ({what} {value}) until the end of "
            f"{policy.last_date(u.reached_at)}"
        )
    wanted = [c.equals] if c.equals is not None else list(c.one_of or [])
    if wanted:
        shown = [f"{w:g}" if isinstance(w, float) else repr(str(w)) for w in wanted]
        kind = policy.policy.attributes[c.attribute].type
        matches = (
            a.number[u.row] in [float(w) for w in wanted]
            if kind == "number"
            else value in [str(w) for w in wanted]
        )
        if not matches:
            want = shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)
            return f"your {what} is {value!r} (since {since}), not {want}"
    if c.held_for is not None and u.reached_at is not None:
        return (
            f"your {what} has been {value!r} only since {since}; the policy requires it to "
            f"have held for {_span(c.held_for)}, which it does on {policy.date_of(u.reached_at)}"
        )
    return f"your {what} ({value}) does not meet the policy's condition"


def _span(span: Span) -> str:
    return span.describe()
