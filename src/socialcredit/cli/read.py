"""Reading one subject: ``score``, ``check``, ``explain``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli.common import (
    AtOption,
    DbOption,
    JsonOption,
    PolicyOption,
    app,
    open_engine,
    open_ledger,
    out,
    parse_at,
    print_json,
)
from socialcredit.timeutil import to_date


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
