"""Due process in a policy: the policy-wide guarantees (``DueProcess``), the overrides a
record type or list may give, reconsideration, and the publicity period before a measure
starts (``starts_after``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from socialcredit.policy.durations import AppealWindow, PositiveDuration
from socialcredit.policy.fields import StrictModel, absent_field
from socialcredit.policy.lint_settings import LintSettings

OnOverdue = Literal["delete", "keep", "flag"]


class Reconsideration(StrictModel):
    """A second stage after a review that upheld the record (cf. SPC Art. 12): the subject
    may apply within ``file_within`` of the review's decision; the application is decided
    within ``decide_within``."""

    file_within: PositiveDuration = Field(
        description="How long after the review upheld the record a reconsideration can be "
        "applied for (a second dispute entry)."
    )
    decide_within: PositiveDuration = Field(
        description="How long after it was applied for a reconsideration must be decided."
    )


class DueProcessOverride(StrictModel):
    """Due process for one record type (or the record types a list counts), overriding the
    policy-wide ``due_process`` field by field; a field not given is the policy-wide one."""

    appeal_window: AppealWindow | None = Field(
        None,
        description="How long after a record is known it can be disputed; 'any time': no deadline.",
    )
    reinvestigation_deadline: PositiveDuration | None = Field(
        None, description="Within how long a dispute must be reviewed (decided)."
    )
    disputed_records_count: bool | None = Field(
        None, description="Whether a record counts while its dispute is open."
    )
    on_overdue: OnOverdue | None = Field(
        None,
        description="What a missed deadline does: delete the record, keep it, or keep it "
        "and report it as overdue (flag).",
    )
    reconsideration: Reconsideration | None = Field(None, exclude_if=absent_field)


class DueProcess(StrictModel):
    """What the system promises the people it scores, and enforces on itself."""

    notice_before_sanction: bool = True
    appeal_window: AppealWindow = Field(
        description="How long after a record is known it can be disputed; 'any time': no deadline."
    )
    reinvestigation_deadline: PositiveDuration = Field(
        description="A dispute not decided by then deletes the disputed record."
    )
    disputed_records_count: bool = Field(
        description="Whether a record counts while its dispute is open."
    )
    human_review: bool = True
    on_overdue: OnOverdue = Field(
        "delete",
        exclude_if=lambda v: v == "delete",
        description="What a missed deadline does: delete the record, keep it, or keep it "
        "and report it as overdue (flag).",
    )
    reconsideration: Reconsideration | None = Field(None, exclude_if=absent_field)
    lint: LintSettings | None = Field(
        None, exclude_if=absent_field, description="Lint rules silenced for the due process."
    )


class StartsAfter(StrictModel):
    """A publicity period before a measure starts (cf. the railway's and aviation's 2018
    rules): the person is notified when its condition begins to hold (publication), may
    object (a ``dispute`` of a record behind it) until ``notice`` has passed, and the
    measure starts at the end of the period; its term runs from then."""

    notice: PositiveDuration = Field(
        description="How long after publication objections may be made; the measure "
        "starts when it ends."
    )
    objection_blocks: bool = Field(
        True,
        description="Whether an objection still pending at the end of the period holds the "
        "start back until it is decided (an upheld objection annuls the record, so the "
        "measure never starts).",
    )
