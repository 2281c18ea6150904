"""SC5xx: due process: appeal windows, reinvestigation deadlines, disputed records, reason
codes, legal bases, notice and human review (US FCRA §611, §615; GDPR Art. 15, 22)."""

from __future__ import annotations

from collections.abc import Iterator

from socialcredit.lint.facts import PolicyFacts
from socialcredit.lint.findings import Hit, Path
from socialcredit.policy.model import DueProcess, DueProcessOverride
from socialcredit.timeutil import DAY

SHORTEST_APPEAL = 7 * DAY
LONGEST_REVIEW = 30 * DAY


def _blocks(facts: PolicyFacts) -> Iterator[tuple[Path, str, DueProcess | DueProcessOverride]]:
    p = facts.policy
    yield ("due_process",), "the policy-wide due process", p.due_process
    for name, rt in p.record_types.items():
        if rt.due_process is not None:
            yield ("record_types", name, "due_process"), f"record type {name}", rt.due_process
    for name, lst in p.lists.items():
        if lst.due_process is not None:
            yield ("lists", name, "due_process"), f"list {name}", lst.due_process


def check(facts: PolicyFacts) -> Iterator[Hit]:
    """Every SC5xx finding of the policy."""
    p = facts.policy
    for at, whose, dp in _blocks(facts):
        if dp.appeal_window is not None and dp.appeal_window.nominal() < SHORTEST_APPEAL:
            yield Hit(
                "SC501",
                (*at, "appeal_window"),
                f"The appeal window of {whose} is {dp.appeal_window.describe()}, shorter than "
                "7 days.",
            )
        deadline = dp.reinvestigation_deadline
        if deadline is not None and deadline.nominal() > LONGEST_REVIEW:
            yield Hit(
                "SC502",
                (*at, "reinvestigation_deadline"),
                f"Disputes under {whose} may take {deadline.describe()} to decide, longer "
                "than 30 days.",
            )
        if dp.disputed_records_count:
            yield Hit(
                "SC503",
                (*at, "disputed_records_count"),
                f"Under {whose} a disputed record keeps counting while its dispute is open.",
            )
        if dp.on_overdue in ("keep", "flag"):
            yield Hit(
                "SC508",
                (*at, "on_overdue"),
                f"Under {whose} a dispute not decided in time leaves the record counting "
                f"(on_overdue: {dp.on_overdue}).",
            )
    denials = list(facts.denials())
    for name, s in p.sanctions.items():
        if not s.reason_code.strip():
            yield Hit(
                "SC504",
                ("sanctions", name),
                f"Measure {name} has no reason code to tell the person which rule applied.",
            )
        if s.effect == "deny" and not s.legal_basis.strip():
            yield Hit("SC505", ("sanctions", name), f"Measure {name} denies with no legal basis.")
    dp = p.due_process
    unnoticed = [n for n, s in denials if s.starts_after is None]
    if not dp.notice_before_sanction and unnoticed:
        shown = ", ".join(sorted(unnoticed)[:3]) + (" …" if len(unnoticed) > 3 else "")
        yield Hit(
            "SC506",
            ("due_process", "notice_before_sanction"),
            f"{len(unnoticed)} denial(s) start without notice to the person ({shown}).",
        )
    if not dp.human_review and denials:
        yield Hit(
            "SC507",
            ("due_process", "human_review"),
            "Denials are made with no human review of a contested decision.",
        )
