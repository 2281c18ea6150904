"""``socialcredit notices``: write the notices due now, then show a subject's notices."""

from __future__ import annotations

from typing import Annotated

import typer

from socialcredit.cli import common
from socialcredit.cli.common import DbOption, JsonOption, app, open_ledger, print_json, print_styled
from socialcredit.timeutil import to_iso


@app.command()
def notices(
    subject: Annotated[
        str | None,
        typer.Argument(
            help="Show this subject's notices (default: write everyone's, show a summary)."
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    no_generate: Annotated[
        bool,
        typer.Option("--no-generate", help="Only list the notices already written."),
    ] = False,
    unread: Annotated[bool, typer.Option("--unread", help="Only notices not marked read.")] = False,
    dispute_url: Annotated[
        str | None,
        typer.Option(
            "--dispute-url", help="Where a subject files a dispute, named in new notices."
        ),
    ] = None,
) -> None:
    """Write a notice for every measure that started or was published, and every dispute that
    went overdue, that has none yet (of SUBJECT, or of everyone), as of now; then list
    SUBJECT's notices, oldest first.

    Running it again writes nothing new: each event is told once. Without SUBJECT it prints
    how many notices it wrote (--json: the notices).
    """
    from socialcredit.engine import Engine
    from socialcredit.notices import generate_notices, notices_for

    now = common.now()
    with open_ledger(db) as ledger:
        run = None
        if not no_generate:
            engine = Engine.open(ledger, lambda: now)
            run = generate_notices(
                engine, [subject] if subject else None, now, dispute_url=dispute_url
            )
        if subject is None:
            if run is None:
                raise common.CliError("--no-generate lists one subject's notices: give SUBJECT")
            if as_json:
                print_json(run.to_json())
            else:
                print_styled(
                    f"{len(run.written)} notice(s) written for {run.subjects} subject(s) looked "
                    f"at on {to_iso(now)}; {run.already} event(s) had been told already"
                )
            return
        if no_generate and not ledger.has_subject(subject):
            from socialcredit.engine import UnknownSubjectError

            raise UnknownSubjectError(f"the ledger has no entry about subject {subject!r}")
        found = notices_for(ledger, subject, unread_only=unread)
    if as_json:
        print_json([n.to_json() for n in found])
        return
    if not found:
        print_styled(f"No notices for {subject}.")
    for n in found:
        print_styled(
            (f"#{n.id}", "bold"),
            f" {to_iso(n.written_at)} {n.kind}: ",
            (n.title, "bold"),
        )
        for line in n.body.splitlines():
            print_styled("    ", line)
