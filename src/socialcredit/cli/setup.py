"""``init`` and ``demo``: create a database, activate a policy, build the demo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from socialcredit.cli.common import (
    CliError,
    DbOption,
    app,
    now,
    open_ledger,
    out,
    progress_bar,
    styled,
)
from socialcredit.demo import DEFAULT_SYSTEM, describe_systems

if TYPE_CHECKING:
    from socialcredit.ledger import Ledger
    from socialcredit.lint.gate import GatePassed
    from socialcredit.policy import LoadedPolicy


OverrideOption = Annotated[
    str | None,
    typer.Option(
        "--override",
        help="Activate despite lint errors, for this reason (recorded with the activation "
        "and its findings; shown by `policy history`).",
    ),
]


@app.command()
def init(
    db: DbOption = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Also activate this policy file.")
    ] = None,
    override: OverrideOption = None,
) -> None:
    """Create or upgrade the database; optionally activate a policy (in force from now).

    A policy with lint errors (`policy lint`) is refused unless given --override.
    """
    from socialcredit.lint.gate import gate
    from socialcredit.policy import load_policy

    # an unreadable, invalid or refused policy stops here, before a database is created
    loaded = load_policy(policy) if policy is not None else None
    passed = gate(loaded, override) if loaded is not None else None
    with open_ledger(db, create=True) as ledger:
        out.print(styled(f"database ready: {ledger.url}"))
        if loaded is not None and passed is not None:
            _activate(ledger, loaded, None, passed)


def activate(ledger: Ledger, path: Path, by: str | None, override: str | None = None) -> None:
    """Activate the policy file at ``path`` in ``ledger``, in force from now, and say so;
    a policy with lint errors only with ``override`` (``socialcredit.lint.gate``)."""
    from socialcredit.lint.gate import gate
    from socialcredit.policy import load_policy

    loaded = load_policy(path)
    _activate(ledger, loaded, by, gate(loaded, override))


def _activate(ledger: Ledger, loaded: LoadedPolicy, by: str | None, passed: GatePassed) -> None:
    from socialcredit.policy.loader import legacy_content_hash

    pv = ledger.activate_policy(
        loaded.text,
        loaded.policy.policy,
        loaded.policy.version,
        loaded.content_hash,
        at := now(),
        by,
        now=at,
        earlier_hash=legacy_content_hash(loaded.policy),
        lint_findings=passed.findings,
        lint_override=passed.override,
    )
    from socialcredit.timeutil import to_iso

    out.print(
        styled(
            f"active policy: {loaded.label} (ledger version {pv.version}, sha256 "
            f"{loaded.short_hash}), in force from {to_iso(pv.activated_at)}"
        )
    )
    from socialcredit.lint.table import summary

    note = f"; override: {passed.override}" if passed.override else ""
    out.print(styled(f"lint: {summary(passed.report)}{note}"))


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to build the demo database.")
    ] = Path("demo-data"),
    system: Annotated[
        str,
        typer.Option(
            "--system",
            help="The system to demonstrate: " + describe_systems() + ".",
        ),
    ] = DEFAULT_SYSTEM,
    n_subjects: Annotated[
        int | None,
        typer.Option("--subjects", help="Population size.", show_default="80,000 for china"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 2026,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Policy file.",
            show_default="the system's example policy, shipped with the package",
        ),
    ] = None,
) -> None:
    """Build a demo database from a synthetic population and show what the policy does to it."""
    from socialcredit.demo import load_system

    chosen = load_system(system)
    size = chosen.DEFAULT_SUBJECTS if n_subjects is None else n_subjects
    with progress_bar() as progress:
        report = chosen.run(directory, size, seed, policy, progress)
    chosen.show(report, out)


@app.command()
def examples(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Example names, e.g. china-scs.", show_default="every example"),
    ] = None,
) -> None:
    """Print the paths of the example policies shipped with the package, one a line.

    For use in a shell: ``socialcredit policy validate $(socialcredit examples)``.
    """
    from socialcredit.examples import example_policies, example_policy

    if not names:
        paths = example_policies()
    else:
        paths = [example_policy(n) for n in names]
        missing = [n for n, p in zip(names, paths, strict=True) if not p.is_file()]
        if missing:
            known = ", ".join(p.stem for p in example_policies())
            raise CliError(f"no example policy named {missing[0]!r}; the examples are {known}")
    for path in paths:
        print(path)
