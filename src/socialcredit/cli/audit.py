"""``audit verify`` and ``audit show``: check and read the hash-chained audit log."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from socialcredit.cli.common import (
    CliError,
    DbOption,
    JsonOption,
    app,
    open_ledger,
    out,
    print_json,
    styled,
)
from socialcredit.explain_words import plural

audit_app = typer.Typer(help="Verify and read the audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


@audit_app.command("verify")
def verify(
    db: DbOption = None,
    expect: Annotated[
        list[str] | None,
        typer.Option(
            "--expect",
            metavar="SEQ:HASH",
            help="An entry's seq and hash kept outside the database (from an earlier verify's "
            "head): the log must still hold it (repeat for several). Detects a rewritten or "
            "truncated log that the database alone cannot.",
            show_default="none",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check every entry's hash and link, and the head row; exit 1 naming the first bad entry.

    Prints the head (seq and hash): keep it elsewhere and pass it to a later verify with
    ``--expect`` to detect the last entries being removed or rewritten.
    """
    from socialcredit.audit import Anchor, verify_log

    anchors = []
    for text in expect or []:
        match = _ANCHOR.match(text.strip().lower())
        if match is None:
            raise CliError(f"--expect {text!r}: write SEQ:HASH, the hash as 64 hex digits")
        anchors.append(Anchor(int(match.group(1)), match.group(2)))
    with open_ledger(db) as ledger:
        ledger.check_schema()
        result = verify_log(ledger, anchors)
    if as_json:
        print_json(result.to_json())
    elif result.ok:
        out.print(
            styled(
                ("audit log intact", "green"),
                f": {plural(result.entries, 'entry', 'entries')}; head {result.head_seq}:{result.head_hash}",
            )
        )
    else:
        out.print(
            styled(
                ("audit log NOT intact", "bold red"),
                f": first bad entry {result.first_bad} ({result.kind}): {result.problem}",
            )
        )
    raise typer.Exit(0 if result.ok else 1)


@audit_app.command("show")
def show(
    db: DbOption = None,
    after: Annotated[int, typer.Option("--after", min=0, help="Show entries after this seq.")] = 0,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="At most this many entries.")
    ] = 100,
    subject: Annotated[
        str | None,
        typer.Option("--subject", help="Only entries about this subject.", show_default="all"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print audit entries in seq order: time, key, role, route, subject, outcome."""
    from socialcredit.audit import read_entries
    from socialcredit.audit.chain import iso_us
    from socialcredit.cli.tables import print_table

    with open_ledger(db) as ledger:
        ledger.check_schema()
        entries = read_entries(ledger, after, limit, subject)
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    rows = [
        [
            str(e.seq),
            iso_us(e.at_us),
            e.key_id or "-",
            e.role or "-",
            e.route,
            e.subject or "-",
            e.service or "-",
            e.decision or "-",
            "-" if e.status is None else str(e.status),
            e.check_id or "-",
        ]
        for e in entries
    ]
    headers = [
        "seq",
        "at",
        "key",
        "role",
        "route",
        "subject",
        "service",
        "decision",
        "status",
        "check",
    ]
    print_table(out, "audit entries", headers, rows, whole=(0, 1, 2, 5, 9))
