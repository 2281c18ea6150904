"""``export``: the ledger's entries or everyone's standing as Parquet, JSON Lines or CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

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
    progress_bar,
    styled,
)
from socialcredit.cli.tables import help_text
from socialcredit.explain_words import plural

if TYPE_CHECKING:
    from socialcredit.engine import Engine
    from socialcredit.export import Destination
    from socialcredit.ledger import Ledger

WHAT = ("records", "standings")

_HELP = """Export the ledger's entries, or everyone's standing under the policy then in force.

standings: one row per subject with subject, kind, as_of, score, grade, lists,
denied_services and benefit_services (every service a denial or a benefit in force
covers, those declared under it included, as check answers; what an exemption waives is
left out, and so is a perk no benefit gives), reason_codes (of the denials), reasons (a list, a
condition, or the relation a measure comes through, e.g. "child_of P123"),
policy_version and policy_hash. In Parquet, as_of is a UTC timestamp (whole seconds,
stored in milliseconds: Parquet has no seconds unit) and the five list columns are
list<string>; in JSON Lines, times are ISO 8601 and lists are arrays; CSV has no list type,
so a list is its items joined by ';'.

records: the ledger's entries in the ingestion format (JSON Lines round-trips through
`ingest`); in Parquet, times are UTC timestamps. The time and policy options apply to
standings only: with records they are refused (every entry is written).

The file appears only once it is complete (a full disk or an error leaves no partial
file); an existing file is replaced only with --force.

-o - writes to standard output (JSON Lines unless --format says otherwise); Parquet is
written there only with --format parquet and never to a terminal. A progress bar shows
on stderr when stderr is a terminal.
"""


@app.command(help=help_text(_HELP))
def export(
    what: Annotated[
        str,
        typer.Argument(
            help="records (every ledger entry) or standings (everyone's standing at --at)."
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--out",
            "-o",
            help="Output file (.parquet, .jsonl, .csv), or - for standard output.",
        ),
    ],
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="parquet, jsonl or csv.",
            show_default="from the file name; jsonl for -",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output file if it exists.")
    ] = False,
) -> None:
    """Export entries or standings (see ``_HELP``)."""
    from socialcredit.export import Destination, format_for

    if what not in WHAT:
        raise CliError(f"cannot export {what!r}: choose records or standings")
    if what == "records" and (at is not None or policy is not None):
        # every entry is written whatever the time or policy: an option that changes
        # nothing must not look as if it had
        given = [o for o, v in (("--at", at), ("--policy", policy)) if v is not None]
        raise CliError(
            f"{' and '.join(given)} appl{'y' if len(given) > 1 else 'ies'} to standings "
            "only: export records writes every entry the ledger holds (each with its "
            "recorded_at); leave them out"
        )
    kind = format_for(output, fmt)
    t = parse_at(at)
    # the destination is checked (and its temporary file made) before anything is read
    with Destination(output, kind, force) as dest, open_ledger(db) as ledger:
        if what == "records":
            count = _records(ledger, dest)
            label = ""
        else:
            count, label = _standings(open_engine(ledger, policy), t, dest)
    where = "standard output" if output == "-" else output
    # records writes every ledger entry (disputes, corrections, … too): it counts entries
    counted = (
        plural(count, "ledger entry", "ledger entries")
        if what == "records"
        else plural(count, "standing")
    )
    summary = f"wrote {counted} to {where} ({kind}){label}"
    (err if output == "-" else out).print(styled(summary))


def _records(ledger: Ledger, dest: Destination) -> int:
    from socialcredit.export import write_entries

    with progress_bar() as progress:
        task = progress.add_task("exporting entries", total=None)
        return write_entries(
            ledger.iter_entries(), dest, dest.fmt, lambda n: progress.advance(task, n)
        )


def _standings(engine: Engine, t: int | None, dest: Destination) -> tuple[int, str]:
    from socialcredit.export import standings_table, write_table

    with err.status("scoring everyone…"):
        bulk = engine.recompute(t)
        table = standings_table(bulk)
    with progress_bar() as progress:
        task = progress.add_task("writing standings", total=table.num_rows)
        count = write_table(table, dest, dest.fmt, lambda n: progress.advance(task, n))
    from socialcredit.ledger.backfills import sentence

    note = sentence(bulk.at, bulk.backfilled, "in the ledger")
    if note:
        err.print(styled(note))
    cp = bulk.policy
    return count, f" under {cp.version_label} (sha256 {cp.loaded.content_hash[:12]})"
