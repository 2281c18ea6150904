"""``init`` and ``demo``: create a database, activate a policy, build the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from socialcredit.cli.common import (
    DbOption,
    app,
    now,
    open_ledger,
    out,
    progress_bar,
)
from socialcredit.ledger import Ledger
from socialcredit.policy import load_policy


@app.command()
def init(
    db: DbOption = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Also activate this policy file.")
    ] = None,
) -> None:
    """Create or upgrade the database; optionally activate a policy."""
    with open_ledger(db, create=True) as ledger:
        out.print(f"database ready: {ledger.url}")
        if policy is not None:
            activate(ledger, policy, None)


def activate(ledger: Ledger, path: Path, by: str | None) -> None:
    loaded = load_policy(path)
    pv = ledger.activate_policy(
        loaded.text,
        loaded.policy.policy,
        loaded.policy.version,
        loaded.content_hash,
        now(),
        by,
    )
    out.print(
        f"active policy: {loaded.label} (ledger version {pv.version}, sha256 {loaded.short_hash})"
    )


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to build the demo database.")
    ] = Path("demo-data"),
    n_subjects: Annotated[int, typer.Option("--subjects", help="Population size.")] = 107_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 2026,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy file [default: examples/policies/china-scs.yaml]."),
    ] = None,
) -> None:
    """Build a demo database from a synthetic population and show what the policy does to it."""
    from socialcredit.demo import print_report, run_demo

    with progress_bar() as progress:
        report = run_demo(directory, n_subjects, seed, policy, progress)
    print_report(report, out)
