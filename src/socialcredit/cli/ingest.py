"""``ingest``: add entries to the ledger from JSON Lines or CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from socialcredit.cli.common import (
    CliError,
    DbOption,
    JsonOption,
    app,
    err,
    now,
    open_ledger,
    out,
    print_json,
    progress_bar,
    styled,
)

if TYPE_CHECKING:
    from socialcredit.ledger import IngestProblem, IngestResult

SHOWN = 50  # problems, conflicts and notices printed per kind (all of them with --json)


def _delimiter(value: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    return named.get(value.lower(), value)


@app.command()
def ingest(
    file: Annotated[str, typer.Argument(help="A .jsonl or .csv file, or - for standard input.")],
    db: DbOption = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="jsonl or csv.", show_default="from the file name"),
    ] = None,
    delimiter: Annotated[
        str,
        typer.Option(
            "--delimiter",
            help="CSV cell delimiter: one character such as ';', or 'tab'.",
        ),
    ] = ",",
    date_format: Annotated[
        str | None,
        typer.Option(
            "--date-format",
            help="How CSV date fields are written, as a strftime pattern such as %d/%m/%Y "
            "(times are then UTC, midnight unless the pattern has a time).",
            show_default="ISO 8601",
        ),
    ] = None,
    backfill: Annotated[
        bool,
        typer.Option(
            "--backfill",
            help="Load history: keep each line's recorded_at as the time the ledger learned "
            "the entry (the batch is recorded as a backfill, and answers about earlier times "
            "say so).",
        ),
    ] = False,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Submit as this one source, as its API key (source:NAME) does: a line of "
            "another source, or of anything the policy's sources section does not let NAME "
            "submit, is rejected.",
            show_default="any source",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add records, corrections and relations to the ledger (idempotent on source and id).

    Every line is accounted for: accepted, duplicate (the same source, id and content are
    already stored), conflict (the same source and id with different content: the ledger
    keeps its entry and reports what differs), rejected (with line number, field and
    reason), or skipped (blank). Under an active policy, record types, relations and
    subject kinds must be as it declares. A line's subject_kind or related_kind must be the
    kind the ledger records for that subject (a line without one uses it). Accepted
    disputes that change nothing (after the appeal window, or of a record already
    disputed) are listed as notices. With --source NAME, every line must be NAME's and of
    what the policy's sources section lets NAME submit (its record types, relations,
    attributes and exemptions; corrections of its own records only); without it, this is
    the operator's load and the sources section is not applied. CSV fields are
    trimmed of surrounding spaces (the report says which lines), and a byte order mark is
    ignored.

    An entry counts from the time the ledger receives it (its recorded_at is the time of
    this ingest), so no ingest changes an answer about an earlier time; a line's own
    recorded_at is kept as the source's claim. With --backfill (loading history, such as a
    migration from another system) each line's recorded_at is kept as the time the ledger
    learned the entry instead; the batch is recorded as a backfill and answers about times
    before it say that it rewrote them.

    Exit code: 0 when every line was accepted, a duplicate or skipped; 1 when any line was
    rejected or conflicted (the good lines are kept); 2 when the file cannot be read.
    """
    from socialcredit.display import visible
    from socialcredit.ledger import CsvOptions, FileFormatError, IngestRules
    from socialcredit.ledger.files import detect_format

    try:
        csv_options = CsvOptions(_delimiter(delimiter), date_format)
        is_csv = detect_format(file, fmt) == "csv"
    except FileFormatError as exc:
        raise CliError(str(exc)) from None
    if not is_csv and (csv_options != CsvOptions()):
        raise CliError(
            f"--delimiter and --date-format apply to CSV files only; {file} is JSON Lines"
        )
    with open_ledger(db, create=True) as ledger:
        active = ledger.active_policy()
        rules = None
        if active is None and source is not None:
            raise CliError(
                f"--source {source} needs a policy in force: its sources section says what "
                "a source may submit (`socialcredit policy activate FILE`)"
            )
        if active is not None:
            from socialcredit.policy import parse_policy

            policy = parse_policy(active.body).policy
            if source is not None:
                from socialcredit.policy.sources import unknown_source

                problem = unknown_source(policy, source)
                if problem is not None:
                    raise CliError(f"--source: {problem}; nothing was ingested")
            rules = IngestRules.from_policy(policy, submitter=source)
        with progress_bar() as progress:
            task = progress.add_task(visible(f"ingesting {file}"), total=None)

            def advance(done: int) -> None:
                progress.update(task, completed=done)

            result = ledger.ingest_file(
                file,
                fmt=fmt,
                rules=rules,
                now=now(),
                progress=advance,
                csv_options=csv_options,
                backfill=backfill,
            )
    if as_json:
        print_json(result.to_json())
    else:
        _report(result)
    if result.rejected or result.conflicts:
        raise typer.Exit(1)


def _report(result: IngestResult) -> None:
    out.print(
        f"accepted {result.accepted:,}, duplicates {result.duplicates:,}, "
        f"conflicts {result.conflicts:,}, rejected {result.rejected:,}, "
        f"skipped (blank) {result.skipped:,}",
        highlight=False,
    )
    _lines(("rejected:", "red"), result.problems)
    _lines(("conflict:", "red"), result.conflict_lines)
    _lines(("no effect:", "yellow"), result.no_effect_lines)
    if result.trimmed_lines:
        shown = ", ".join(str(n) for n in result.trimmed_lines[:10])
        more = f" and {result.trimmed - 10:,} more" if result.trimmed > 10 else ""
        err.print(
            styled(
                ("notice:", "yellow"),
                f" trimmed surrounding spaces from fields on {result.trimmed:,} "
                f"line{'s' if result.trimmed != 1 else ''} ({shown}{more})",
            )
        )


def _lines(label: tuple[str, str], found: list[IngestProblem]) -> None:
    for problem in found[:SHOWN]:
        err.print(styled(label, " ", str(problem)))
    if len(found) > SHOWN:
        err.print(f"… and {len(found) - SHOWN:,} more (use --json for all)", highlight=False)
