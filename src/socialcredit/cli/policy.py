"""``policy …``: read, validate, activate and list policies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli.common import (
    DbOption,
    JsonOption,
    err,
    open_engine,
    open_ledger,
    out,
    policy_app,
    print_json,
)
from socialcredit.cli.setup import activate
from socialcredit.policy import PolicyError, load_policy, policy_json_schema
from socialcredit.timeutil import to_iso


@policy_app.command("schema")
def policy_schema() -> None:
    """Print the policy language's JSON Schema (for editors' autocompletion)."""
    print_json(policy_json_schema())


@policy_app.command("validate")
def policy_validate(
    files: Annotated[list[Path], typer.Argument(help="Policy files to check.")],
    as_json: JsonOption = False,
) -> None:
    """Check policy files; print every problem with file, line and field."""
    results = []
    failed = False
    for path in files:
        try:
            loaded = load_policy(path)
            results.append(
                {
                    "file": str(path),
                    "valid": True,
                    "policy": loaded.label,
                    "sha256": loaded.content_hash,
                }
            )
            if not as_json:
                out.print(f"[green]ok[/green] {path}: {loaded.label} (sha256 {loaded.short_hash})")
        except PolicyError as exc:
            failed = True
            results.append(
                {
                    "file": str(path),
                    "valid": False,
                    "problems": [
                        {"line": p.line, "path": p.path, "message": p.message} for p in exc.problems
                    ],
                }
            )
            if not as_json:
                for p in exc.problems:
                    err.print(f"[red]error[/red] {p}", highlight=False)
    if as_json:
        print_json(results)
    if failed:
        raise typer.Exit(1)


@policy_app.command("activate")
def policy_activate(
    file: Annotated[Path, typer.Argument(help="The policy file to make active.")],
    db: DbOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Who activates it (recorded).")] = None,
) -> None:
    """Store a policy in the database as the active version (decisions name it)."""
    with open_ledger(db, create=True) as ledger:
        activate(ledger, file, by)


@policy_app.command("show")
def policy_show(
    file: Annotated[
        Path | None, typer.Argument(help="A policy file [default: the active one].")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Summarise a policy: record types, lists and the measures they trigger."""
    with open_ledger(db) as ledger:
        engine = open_engine(ledger, str(file) if file else None)
    p = engine.policy.policy
    if as_json:
        data = p.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["content_hash"] = engine.policy.loaded.content_hash
        data["activated_version"] = engine.activated_version
        print_json(data)
        return
    out.print(
        f"[bold]{p.meta.title}[/bold] — {p.label()} (sha256 {engine.policy.loaded.short_hash})"
    )
    if p.meta.description:
        out.print(p.meta.description.strip())
    grades = ", ".join(
        f"{g.name} ≥ {g.at_least:g}" if g.at_least is not None else f"{g.name} below"
        for g in p.grades
    )
    out.print(f"score: base {p.score.base:g}; grades: {grades}")
    t = Table(title="record types")
    for col in ("type", "points", "expires", "context", "category", "evidence"):
        t.add_column(col)
    for name, rt in p.record_types.items():
        days = f"{rt.expires_after // 86400} days" if rt.expires_after is not None else "never"
        t.add_row(
            name,
            f"{rt.points:+g}",
            days + (" (decays)" if rt.decay == "linear" else ""),
            rt.context,
            rt.category,
            rt.evidence,
        )
    out.print(t)
    t = Table(title="lists")
    for col in ("list", "kind", "description"):
        t.add_column(col)
    for name, lst in p.lists.items():
        t.add_row(name, lst.kind, lst.description.strip())
    out.print(t)
    t = Table(title="sanctions and rewards")
    for col in ("measure", "service", "effect", "duration", "reach", "code"):
        t.add_column(col)
    for s in engine.policy.sanctions:
        dur = "while triggered" if s.fixed is None else f"{s.fixed // 86400} days"
        if s.max_duration is not None:
            dur += f" (max {s.max_duration // 86400} days)"
        t.add_row(s.name, s.service, s.effect, dur, ", ".join(s.reach) or "-", s.reason_code)
    out.print(t)


@policy_app.command("history")
def policy_history(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List every policy version ever activated in this database."""
    with open_ledger(db) as ledger:
        rows = [
            {
                "version": pv.version,
                "policy": f"{pv.policy_id}@{pv.declared_version}",
                "sha256": pv.content_hash,
                "activated_at": to_iso(pv.activated_at),
                "activated_by": pv.activated_by,
            }
            for pv in ledger.policy_history()
        ]
    if as_json:
        print_json(rows)
        return
    t = Table(title="policy versions")
    for col in ("version", "policy", "sha256", "activated_at", "activated_by"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            str(r["version"]),
            str(r["policy"]),
            str(r["sha256"])[:12],
            str(r["activated_at"] or ""),
            str(r["activated_by"] or ""),
        )
    out.print(t)
