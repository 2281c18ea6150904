"""``export``: the ledger or everyone's standing as CSV, Parquet or JSON Lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from socialcredit.cli.common import (
    AtOption,
    CliError,
    DbOption,
    PolicyOption,
    app,
    err,
    open_engine,
    open_ledger,
    out,
    parse_at,
)


@app.command()
def export(
    what: Annotated[str, typer.Argument(help="records (the ledger) or standings (everyone now).")],
    output: Annotated[
        Path, typer.Option("--out", "-o", help="Output file (.csv, .parquet, .jsonl).")
    ],
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, parquet or jsonl.")] = None,
) -> None:
    """Export the ledger's entries or everyone's current standing."""
    # pyarrow is imported here, not when the CLI starts (start-up time of other commands)
    from socialcredit.export import format_for, standings_table, write_entries, write_table

    kind = format_for(output, fmt)
    with open_ledger(db) as ledger:
        if what == "records":
            count = write_entries(ledger.iter_entries(), output, kind)
        elif what == "standings":
            with err.status("scoring everyone…"):
                table = standings_table(open_engine(ledger, policy).recompute(parse_at(at)))
            write_table(table, output, kind)
            count = table.num_rows
        else:
            raise CliError(f"cannot export {what!r}: choose records or standings")
    out.print(f"wrote {count:,} rows to {output} ({kind})")
