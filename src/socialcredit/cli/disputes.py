"""``socialcredit disputes list|file|decide``: the review queue, a subject's dispute, a
reviewer's decision (thin shells over ``socialcredit.appeals``)."""

from __future__ import annotations

from typing import Annotated

import typer

from socialcredit.cli import common
from socialcredit.cli.common import (
    AtOption,
    DbOption,
    JsonOption,
    LimitOption,
    app,
    open_ledger,
    parse_at,
    print_json,
    print_styled,
)
from socialcredit.timeutil import parse_timestamp, to_iso

disputes_app = typer.Typer(
    help="Disputes: the review queue, filing a dispute, deciding one.", no_args_is_help=True
)
app.add_typer(disputes_app, name="disputes")

ReasonOption = Annotated[str, typer.Option("--reason", help="Why, in words (required).")]
SourceArgument = Annotated[str, typer.Argument(help="The disputed record's source.")]
IdArgument = Annotated[str, typer.Argument(help="The disputed record's id.")]


@disputes_app.command("list")
def list_disputes(
    db: DbOption = None,
    at: AtOption = None,
    offset: Annotated[
        int, typer.Option("--offset", min=0, help="Skip this many open disputes.")
    ] = 0,
    limit: LimitOption = 50,
    as_json: JsonOption = False,
) -> None:
    """The open disputes (reviews and reconsiderations not yet decided), by deadline, under
    the policy in force; overdue ones first. An offset and a limit page through them (as in
    `subjects`); the first line says how many are open and which are shown."""
    from socialcredit.appeals import review_queue
    from socialcredit.engine import Engine

    t = parse_at(at)
    when = common.now() if t is None else t
    with open_ledger(db) as ledger:
        engine = Engine.open(ledger, lambda: when)
        queue = review_queue(engine, when)
        # the queue about a past time may count history loaded later (as subjects says)
        backfilled = engine.backfills_crossed(when) if t is not None else ()
        policy = engine.policy_at(when)  # as subjects: none then is an error
        under = policy.version_label
    page = queue[offset : offset + limit] if limit else queue[offset:]
    if as_json:
        print_json(
            {
                "at": to_iso(when),
                "policy_version": under,
                "backfilled": [b.to_json() for b in backfilled],
                "matching": len(queue),
                "offset": offset,
                "limit": limit,
                "disputes": [d.to_json() for d in page],
            }
        )
        return
    from socialcredit.ledger.backfills import sentence

    note = sentence(when, backfilled, "in the ledger")
    if note:
        print_styled(note)
    if not queue:
        print_styled(f"No open disputes on {to_iso(when)}.")
        return
    shown = f"{offset + 1}-{offset + len(page)}" if page else "none"
    noun = "open dispute" if len(queue) == 1 else "open disputes"
    print_styled(f"{len(queue):,} {noun} on {to_iso(when)} under {under} (showing {shown})")
    for d in page:
        late = (
            (f" OVERDUE (under the policy: on_overdue {d.on_overdue})", "red") if d.overdue else ""
        )
        print_styled(
            (f"due {d.due_date}", "bold"),
            # filed on the policy's local date, as the due date is (both the dates people
            # there would name), and the instant in UTC
            f" {d.stage} of record {d.record} ({d.record_type}) about {d.subject}, filed "
            f"{policy.date_of(d.filed_at)} ({to_iso(d.filed_at)}, entry {d.entry}): {d.reason}",
            late,
        )


@disputes_app.command("file")
def file(
    subject: Annotated[str, typer.Argument(help="The subject disputing its own record.")],
    source: SourceArgument,
    record_id: IdArgument,
    reason: ReasonOption,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """SUBJECT disputes its own record SOURCE/ID now: the review within the record's appeal
    window, or reconsideration after an upheld review. Refused, with nothing written,
    outside those periods or for another subject's record."""
    from socialcredit.appeals import file_dispute

    now = common.now()
    with open_ledger(db) as ledger:
        d = file_dispute(ledger, subject, source, record_id, reason, now)
    if as_json:
        print_json(d.to_json())
        return
    print_styled(
        ("Filed", "green"),
        f": {d.stage} of record {d.record} ({d.entry}); it must be decided by {d.due_date}.",
    )


@disputes_app.command("decide")
def decide(
    source: SourceArgument,
    record_id: IdArgument,
    outcome: Annotated[str, typer.Option("--outcome", help="uphold, rectify or annul.")],
    reason: ReasonOption,
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who decides (required).")],
    corrected_type: Annotated[
        str | None, typer.Option("--type", help="rectify: the corrected record type.")
    ] = None,
    occurred_at: Annotated[
        str | None, typer.Option("--occurred-at", help="rectify: the corrected occurred_at.")
    ] = None,
    amount: Annotated[
        float | None, typer.Option("--amount", help="rectify: the corrected amount.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide the open dispute of record SOURCE/ID now, with a written reason: uphold it,
    rectify it (with --type, --occurred-at or --amount; the corrected record is upheld) or
    annul it."""
    from socialcredit.appeals import decide as decide_dispute

    now = common.now()
    with open_ledger(db) as ledger:
        result = decide_dispute(
            ledger,
            reviewer,
            (source, record_id),
            outcome,
            reason,
            now,
            corrected_type=corrected_type,
            corrected_occurred_at=parse_timestamp(occurred_at) if occurred_at else None,
            amount=amount,
        )
    if as_json:
        print_json(result.to_json())
        return
    entries = ", ".join(e for e, _ in result.entries)
    print_styled(
        ("Decided", "green"),
        f": the {result.dispute.stage} of record {result.dispute.record}: {outcome} by "
        f"{result.reviewer} ({entries}).",
    )
