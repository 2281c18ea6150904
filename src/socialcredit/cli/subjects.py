"""``subjects``: everyone's standing, filtered by grade, list or denied service."""

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
from socialcredit.timeutil import to_iso


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
