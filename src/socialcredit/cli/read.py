"""Reading commands: ``score``, ``check``, ``explain``, ``subjects``."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from socialcredit.cli.common import (
    AtOption,
    CliError,
    DbOption,
    JsonOption,
    PolicyOption,
    app,
    err,
    open_engine,
    open_ledger,
    out,
    parse_at,
    print_json,
)
from socialcredit.timeutil import to_date, to_iso


@app.command()
def score(
    subject: Annotated[str, typer.Argument(help="The subject's identifier.")],
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """A subject's score, grade, lists and measures in force, with the breakdown."""
    with open_ledger(db) as ledger:
        st = open_engine(ledger, policy).standing(subject, parse_at(at))
    if as_json:
        print_json(st.to_json())
        return
    out.print(
        f"[bold]{st.subject}[/bold] ({st.kind}) on {to_date(st.at)} under {st.policy_version}: "
        f"score [bold]{st.score:g}[/bold], grade [bold]{st.grade}[/bold]"
    )
    for m in st.lists:
        out.print(
            f"  on {m.kind} list [bold]{m.name}[/bold] since {to_date(m.since)} until {to_date(m.until) or 'no end in sight'}"
        )
    if st.measures:
        t = Table(title="measures in force")
        for col in ("measure", "service", "effect", "since", "until", "via"):
            t.add_column(col)
        for ms in st.measures:
            via = f"{ms.via_relation} {ms.via_subject}" if ms.via_subject else ""
            t.add_row(
                ms.name,
                ms.service,
                ms.effect,
                to_date(ms.since) or "",
                to_date(ms.until) or "no end",
                via,
            )
        out.print(t)
    t = Table(title=f"breakdown (base {st.base:g})")
    for col in ("record", "type", "occurred", "points", "counts", "status", "expires"):
        t.add_column(col)
    for line in st.breakdown:
        t.add_row(
            f"{line.source}/{line.id}",
            line.type,
            to_date(line.occurred_at) or "",
            f"{line.points:+g}",
            f"{line.contribution:+.2f}",
            line.status + (" (resolved)" if line.resolved_at else ""),
            to_date(line.expires_at) or "never",
        )
    out.print(t)


@app.command()
def check(
    subject: Annotated[str, typer.Argument(help="The subject's identifier.")],
    service: Annotated[str, typer.Argument(help="The service asked for, e.g. air_travel.")],
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """What a service point learns: allow or deny and a reason code, nothing more."""
    with open_ledger(db) as ledger:
        decision = open_engine(ledger, policy).check(subject, service, parse_at(at))
    if as_json:
        print_json(decision.to_json())
        return
    colour = "green" if decision.decision == "allow" else "red"
    line = f"[{colour}]{decision.decision.upper()}[/{colour}] {subject} {service}"
    if decision.reasons:
        line += f" reasons: {', '.join(decision.reasons)}"
        line += (
            "; no end date"
            if decision.indefinite
            else f"; eligible again on {decision.eligible_again_on}"
        )
    out.print(line)


@app.command()
def explain(
    subject: Annotated[str, typer.Argument(help="The subject's identifier.")],
    service: Annotated[
        str | None,
        typer.Option("--service", help="Explain this service [default: every one with a measure]."),
    ] = None,
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why a subject is allowed or denied, until when, and what would end it sooner."""
    with open_ledger(db) as ledger:
        engine = open_engine(ledger, policy)
        t = parse_at(at)
        explanations = engine.explain_services(subject, [service] if service else None, t)
        st = explanations[0].standing if explanations else engine.standing(subject, t)
    if as_json:
        print_json(
            [e.to_json() for e in explanations] if not service else explanations[0].to_json()
        )
        return
    if not explanations:
        out.print(
            f"{subject}: score {st.score:g}, grade {st.grade}; no measure is in force under {st.policy_version}."
        )
    for e in explanations:
        out.print(f"[bold]{subject} — {e.decision.service}[/bold]")
        out.print(e.text, highlight=False)
        out.print()


@app.command()
def subjects(
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    grade: Annotated[str | None, typer.Option("--grade", help="Only this grade.")] = None,
    on_list: Annotated[
        str | None, typer.Option("--list", help="Only subjects on this list.")
    ] = None,
    denied: Annotated[
        str | None, typer.Option("--denied", help="Only subjects denied this service.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List subjects with their grade and lists, filtered by grade, list or denied service."""
    with open_ledger(db) as ledger:
        engine = open_engine(ledger, policy)
        with err.status("scoring everyone…"):
            bulk = engine.recompute(parse_at(at))
    cp = engine.policy
    mask = np.ones(len(bulk.subjects), dtype=bool)
    if grade is not None:
        if grade not in cp.grade_names:
            raise CliError(
                f"unknown grade {grade!r}; the policy's grades are {', '.join(cp.grade_names)}"
            )
        mask &= bulk.grade == cp.grade_names.index(grade)
    if on_list is not None:
        names = [lst.name for lst in cp.lists]
        if on_list not in names:
            raise CliError(f"unknown list {on_list!r}; the policy's lists are {', '.join(names)}")
        mask &= bulk.lists[cp.list_index(on_list)]
    if denied is not None:
        deny = [s.index for s in cp.sanctions if s.effect == "deny" and s.service == denied]
        if not deny:
            raise CliError(f"no measure denies {denied!r}; services: {', '.join(cp.services())}")
        mask &= bulk.measures[deny].any(axis=0)
    idx = np.flatnonzero(mask)
    rows = []
    for i in idx[:limit].tolist():
        rows.append(
            {
                "subject": bulk.subjects[i],
                "score": float(bulk.score[i]),
                "grade": cp.grade_names[int(bulk.grade[i])],
                "lists": [lst.name for lst in cp.lists if bulk.lists[lst.index, i]],
            }
        )
    if as_json:
        print_json(
            {
                "at": to_iso(bulk.at),
                "policy_version": cp.version_label,
                "matching": len(idx),
                "subjects": rows,
            }
        )
        return
    t = Table(title=f"{len(idx):,} matching subjects (showing {len(rows)})")
    for col in ("subject", "score", "grade", "lists"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["subject"], f"{r['score']:g}", r["grade"], ", ".join(r["lists"]))
    out.print(t)
