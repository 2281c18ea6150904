"""``keys …``: create, list and revoke the API keys of the HTTP service."""

from __future__ import annotations

import sys
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
    styled,
)
from socialcredit.cli.tables import help_text
from socialcredit.timeutil import to_iso

keys_app = typer.Typer(
    help="Create, list and revoke API keys for `socialcredit serve`.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")

_CREATE_HELP = """Create an API key with a role and print its token, once.

Roles: admin (policies, keys); source:<name> (submits that source's entries, of the record
types the policy's sources section allows it); enforcer:<service> (checks for that service
only); subject:<id> (that subject's own standing, explanation, notices and records, and
disputes of its own records); reviewer (decides disputes); auditor (reads and verifies the
audit log, reads aggregates).

The token goes alone to stdout (TOKEN=$(socialcredit keys create …)), what it is to
stderr. Only a hash of it is stored: it cannot be shown again; a lost token is revoked and
replaced. When a policy is in force, an enforcer's service and a source's name must be
ones it declares. Creates or upgrades the database, as `ingest` does.
"""


@keys_app.command("create", help=help_text(_CREATE_HELP))
def keys_create(
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="admin, source:<name>, enforcer:<service>, subject:<id>, reviewer or auditor.",
        ),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="Who holds the key, for people reading lists.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key with a role and print its token, once."""
    from socialcredit.keys import KeyStore, parse_role

    parsed = parse_role(role)  # a bad role is refused before any database is touched
    with open_ledger(db, create=True) as ledger:
        store = KeyStore(ledger)
        key, token = store.create(parsed, name, now())
        warning = store.unchecked_role_warning(parsed)
        where = ledger.url
    if as_json:
        answer = {"key": key.to_json(), "token": token, "database": where}
        print_json({**answer, "warnings": [warning] if warning else []})
    else:
        sys.stdout.write(token + "\n")
        sys.stdout.flush()
    held = f", held by {key.name}" if key.name else ""
    err.print(styled(("created", "green"), f" key {key.key_id} ({key.role}{held}) in {where}"))
    err.print(
        styled(
            "The token above is shown only now: only a hash of it is stored, so it cannot be "
            f"shown again. Keep it secret; `socialcredit keys revoke {key.key_id}` ends it."
        )
    )
    if warning:
        err.print(styled(("warning:", "yellow"), f" {warning}"))


@keys_app.command("list")
def keys_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List every API key, revoked ones too: id, role, holder, when created, and whether it is
    active or when it was revoked.

    Tokens are never shown (only a hash of each is stored).
    """
    from socialcredit.keys import KeyStore

    with open_ledger(db) as ledger:
        keys = KeyStore(ledger).list()
    if as_json:
        print_json([k.to_json() for k in keys])
        return
    from socialcredit.cli.tables import print_table

    print_table(
        out,
        "API keys",
        ("key_id", "role", "name", "created_at", "status"),
        [
            (
                k.key_id,
                str(k.role),
                k.name or "",
                str(to_iso(k.created_at)),
                # whether it works, not whether anyone uses it
                f"revoked on {to_iso(k.revoked_at)}" if k.revoked_at is not None else "active",
            )
            for k in keys
        ],
        whole=(0, 1, 3, 4),
    )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `keys list` shows it.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke an API key: its token stops working (in every server process within a second).

    A revocation is never undone; the key stays in `keys list`, marked revoked.
    """
    from socialcredit.keys import KeyStore

    with open_ledger(db) as ledger:
        key = KeyStore(ledger).revoke(key_id, now())
    if as_json:
        print_json(key.to_json())
        return
    out.print(
        styled(("revoked", "green"), f" key {key.key_id} ({key.role}) at {to_iso(key.revoked_at)}")
    )
