"""``ingest``: add entries to the ledger from JSON Lines or CSV."""

from __future__ import annotations

from typing import Annotated

import typer

from socialcredit.cli.common import (
    DbOption,
    JsonOption,
    app,
    err,
    now,
    open_ledger,
    out,
    print_json,
    progress_bar,
)


@app.command()
def ingest(
    file: Annotated[str, typer.Argument(help="A .jsonl or .csv file, or - for standard input.")],
    db: DbOption = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv [default: from the file name].")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add records, corrections and relations to the ledger (idempotent on source and id).

    Bad lines are reported with their line number and reason; good lines are kept. The exit
    code is 1 when any line was rejected.
    """
    with open_ledger(db, create=True) as ledger:
        active = ledger.active_policy()
        known = None
        if active is not None:
            from socialcredit.policy import parse_policy

            known = parse_policy(active.body).policy.subject_kinds_by_type()
        with progress_bar() as progress:
            task = progress.add_task(f"ingesting {file}", total=None)

            def advance(done: int) -> None:
                progress.update(task, completed=done)

            result = ledger.ingest_file(
                file, fmt=fmt, known_types=known, now=now(), progress=advance
            )
    if as_json:
        print_json(result.to_json())
    else:
        out.print(
            f"accepted {result.accepted:,}, duplicates {result.duplicates:,}, "
            f"rejected {result.rejected:,}"
        )
        for problem in result.problems[:50]:
            err.print(f"[red]rejected[/red] {problem}", highlight=False)
        if len(result.problems) > 50:
            err.print(f"… and {len(result.problems) - 50} more (use --json for all)")
    if result.rejected:
        raise typer.Exit(1)
