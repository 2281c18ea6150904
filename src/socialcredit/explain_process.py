"""The due-process notes of an explanation: for each record behind a measure, whether it may
still be disputed, the review pending or decided, reconsideration, and what a missed
deadline does under the policy.
"""

from __future__ import annotations

from socialcredit.explain_words import on_list, words
from socialcredit.policy.compiled import CompiledPolicy, CompiledProcess, later_one
from socialcredit.scoring import RecordLine
from socialcredit.timeutil import NEVER


def overdue_words(on_overdue: str) -> str:
    """What a missed deadline does, completing "if it is not, …"."""
    return {
        "delete": "the record is deleted",
        "keep": "the record stays until it is decided",
        "flag": "the record stays and is reported as overdue",
    }[on_overdue]


def dispute_notes(
    policy: CompiledPolicy,
    behind: list[tuple[str, RecordLine]],
    t: int,
    present: bool = True,
    subject: str | None = None,
) -> list[str]:
    out = []
    possible: dict[
        int, CompiledProcess
    ] = {}  # processes under which a dispute is pending or possible
    uniform = policy.uniform_process
    for owner, line in behind:
        ref = f"{line.source}/{line.id}"
        # only the subject of a record may dispute it: a child is not told it may dispute
        # the parent's record, but who may
        by = f" by {owner}" if subject is not None and owner != subject else ""
        proc = policy.process_of(line.type)
        closes = later_one(policy, line.recorded_at, proc.appeal_window)
        if line.disputed_at is not None and line.decided_at is None:
            due = later_one(policy, line.disputed_at, proc.review_deadline)
            if due > t or proc.on_overdue == "delete":
                possible[proc.index] = proc
                out.append(
                    f"Record {ref} has been disputed since {policy.date_of(line.disputed_at)}; the dispute "
                    f"must be decided by {policy.deadline_date(line.disputed_at, proc.review_deadline)}."
                    if present
                    else f"On {policy.date_of(t)}, record {ref} had been disputed since "
                    f"{policy.date_of(line.disputed_at)}; the dispute was to be decided by {policy.date_of(due)}."
                )
            else:
                out.append(
                    f"Record {ref} has been disputed since {policy.date_of(line.disputed_at)}; the "
                    f"dispute was to be decided by {policy.date_of(due)} and "
                    f"{'has' if present else f'on {policy.date_of(t)} had'} not been: under the "
                    f"policy {overdue_words(proc.on_overdue)}."
                )
        elif line.disputed_at is not None:
            assert line.decided_at is not None
            out.append(
                f"Record {ref} was disputed on {policy.date_of(line.disputed_at)}; the review upheld "
                f"it on {policy.date_of(line.decided_at)}."
            )
            out.extend(_reconsideration_notes(policy, proc, line, ref, t, present, possible))
        elif line.dispute_late_at is not None:
            out.append(
                f"Record {ref} was disputed on {policy.date_of(line.dispute_late_at)}, after its "
                f"dispute window closed on {policy.date_of(closes)}: that dispute had no effect."
            )
        elif closes >= t:
            possible[proc.index] = proc
            # a window with no end (``appeal_window: any time``) has no date to give
            until = "at any time" if closes >= NEVER else f"until {policy.date_of(closes)}"
            out.append(
                f"Record {ref} may be disputed{by} {until}."
                if present
                else f"On {policy.date_of(t)}, record {ref} could be disputed{by} {until}."
            )
        else:
            out.append(f"The window to dispute record {ref} closed on {policy.date_of(closes)}.")
    for proc in possible.values():
        counts = (
            "the record keeps counting meanwhile"
            if proc.counts_while_disputed
            else "the record does not count meanwhile"
        )
        days = policy.span_text(proc.review_deadline)
        if uniform:
            out.append(f"A dispute must be decided within {days}; {counts}.")
            continue
        whose = (
            f" of a record of type {words(proc.origin.removeprefix('record type '))}"
            if (proc.origin.startswith("record type"))
            else (
                f" of a record on {on_list(policy, proc.origin.removeprefix('list '))}"
                if proc.origin
                else ""
            )
        )
        out.append(
            f"A dispute{whose} must be decided within {days}, or "
            f"{overdue_words(proc.on_overdue)}; {counts}."
        )
        if proc.reconsider_within is not None and proc.reconsider_deadline is not None:
            out.append(
                f"If the review upholds the record, reconsideration may be applied for within "
                f"{policy.span_text(proc.reconsider_within)} and must be decided within "
                f"{policy.span_text(proc.reconsider_deadline)}."
            )
    return out


def _reconsideration_notes(
    policy: CompiledPolicy,
    proc: CompiledProcess,
    line: RecordLine,
    ref: str,
    t: int,
    present: bool,
    possible: dict[int, CompiledProcess],
) -> list[str]:
    """The reconsideration stage of a record whose review upheld it, if its process has one."""
    if proc.reconsider_within is None or proc.reconsider_deadline is None:
        return []
    assert line.decided_at is not None
    ends = later_one(policy, line.decided_at, proc.reconsider_within)
    if line.reconsidered_at is None:
        late = line.dispute_late_at
        if late is not None and late >= line.decided_at:
            return [
                f"Reconsideration of record {ref} was applied for on {policy.date_of(late)}, after the "
                f"period to apply ended on {policy.date_of(ends)}: it had no effect."
            ]
        if ends >= t:
            possible[proc.index] = proc
            return [
                f"Reconsideration of record {ref} may be applied for until {policy.date_of(ends)}."
                if present
                else f"On {policy.date_of(t)}, reconsideration of record {ref} could be applied for "
                f"until {policy.date_of(ends)}."
            ]
        return [
            f"The period to apply for reconsideration of record {ref} ended on {policy.date_of(ends)}."
        ]
    due = later_one(policy, line.reconsidered_at, proc.reconsider_deadline)
    if line.reconsideration_decided_at is not None:
        return [
            f"Reconsideration of record {ref} was applied for on {policy.date_of(line.reconsidered_at)} "
            f"and upheld the record on {policy.date_of(line.reconsideration_decided_at)}."
        ]
    if due > t:
        return [
            f"Reconsideration of record {ref} was applied for on {policy.date_of(line.reconsidered_at)} "
            f"and must be decided by {policy.date_of(due)}."
        ]
    return [
        f"Reconsideration of record {ref} was applied for on {policy.date_of(line.reconsidered_at)} "
        f"and was to be decided by {policy.date_of(due)}; it {'has' if present else 'had'} not been: "
        f"under the policy {overdue_words(proc.on_overdue)}."
    ]
