"""The ``socialcredit`` command: a thin shell over the library.

Each command parses its options, calls the engine, and prints a Rich table or, with
``--json``, the documented JSON contract. Errors in the input become one clear message and
a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from socialcredit.engine import Engine, NoPolicyError, UnknownSubjectError
from socialcredit.export import (
    ExportFormatError,
    format_for,
    standings_table,
    write_entries,
    write_table,
)
from socialcredit.ledger import FileFormatError, Ledger, LedgerError
from socialcredit.policy import PolicyError, load_policy, policy_json_schema
from socialcredit.timeutil import TimeFormatError, parse_timestamp, to_date, to_iso

app = typer.Typer(
    help="An open, accountable social credit engine: policies as data, explained decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
policy_app = typer.Typer(help="Read, check and activate policies.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class CliError(Exception):
    """A problem to report to the user as one message, with an exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def now() -> int:
    """The wall clock, in epoch seconds: the only place the CLI reads the time."""
    return int(time.time())


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SOCIALCREDIT_DB",
        help="Database: a SQLAlchemy URL or a SQLite file path [default: socialcredit.db].",
    ),
]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Evaluate as of this date or time (ISO 8601) [default: now]."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
PolicyOption = Annotated[
    str | None,
    typer.Option("--policy", help="Use this policy file instead of the active one."),
]


def _at(value: str | None) -> int | None:
    return parse_timestamp(value) if value else None


@contextmanager
def _ledger(db: str | None, create: bool = False) -> Iterator[Ledger]:
    ledger = Ledger.open(db)
    try:
        if create:
            ledger.upgrade()
        yield ledger
    finally:
        ledger.close()


def _engine(ledger: Ledger, policy: str | None) -> Engine:
    return Engine.open(ledger, now, policy)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )


# --------------------------------------------------------------------------- setup


@app.command()
def init(
    db: DbOption = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Also activate this policy file.")
    ] = None,
) -> None:
    """Create or upgrade the database; optionally activate a policy."""
    with _ledger(db, create=True) as ledger:
        out.print(f"database ready: {ledger.url}")
        if policy is not None:
            _activate(ledger, policy, None)


def _activate(ledger: Ledger, path: Path, by: str | None) -> None:
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


# --------------------------------------------------------------------------- policy


@policy_app.command("schema")
def policy_schema() -> None:
    """Print the policy language's JSON Schema (for editors' autocompletion)."""
    _print_json(policy_json_schema())


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
        _print_json(results)
    if failed:
        raise typer.Exit(1)


@policy_app.command("activate")
def policy_activate(
    file: Annotated[Path, typer.Argument(help="The policy file to make active.")],
    db: DbOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Who activates it (recorded).")] = None,
) -> None:
    """Store a policy in the database as the active version (decisions name it)."""
    with _ledger(db, create=True) as ledger:
        _activate(ledger, file, by)


@policy_app.command("show")
def policy_show(
    file: Annotated[
        Path | None, typer.Argument(help="A policy file [default: the active one].")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Summarise a policy: record types, lists and the measures they trigger."""
    with _ledger(db) as ledger:
        engine = _engine(ledger, str(file) if file else None)
    p = engine.policy.policy
    if as_json:
        data = p.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["content_hash"] = engine.policy.loaded.content_hash
        data["activated_version"] = engine.activated_version
        _print_json(data)
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
    with _ledger(db) as ledger:
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
        _print_json(rows)
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


# --------------------------------------------------------------------------- ingest


@app.command()
def ingest(
    file: Annotated[str, typer.Argument(help="A .jsonl or .csv file, or - for standard input.")],
    db: DbOption = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv [default: from the file name].")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add records, corrections and relations to the ledger (idempotent on source and id).

    Bad lines are reported with their line number and reason; good lines are kept. The exit
    code is 1 when any line was rejected.
    """
    with _ledger(db, create=True) as ledger:
        active = ledger.active_policy()
        known = None
        if active is not None:
            from socialcredit.policy import parse_policy

            known = parse_policy(active.body).policy.subject_kinds_by_type()
        with _progress() as progress:
            task = progress.add_task(f"ingesting {file}", total=None)

            def advance(done: int) -> None:
                progress.update(task, completed=done)

            result = ledger.ingest_file(
                file, fmt=fmt, known_types=known, now=now(), progress=advance
            )
    if as_json:
        _print_json(result.to_json())
    else:
        out.print(
            f"accepted {result.accepted:,}, duplicates {result.duplicates:,}, "
            f"rejected {result.rejected:,}"
        )
        for problem in result.problems[:50]:
            err.print(f"[red]rejected[/red] {problem}", highlight=False)
        if len(result.problems) > 50:
            err.print(f"… and {len(result.problems) - 50} more (use --json for all)")
    if result.rejected:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- reading


@app.command()
def score(
    subject: Annotated[str, typer.Argument(help="The subject's identifier.")],
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """A subject's score, grade, lists and measures in force, with the breakdown."""
    with _ledger(db) as ledger:
        st = _engine(ledger, policy).standing(subject, _at(at))
    if as_json:
        _print_json(st.to_json())
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
    with _ledger(db) as ledger:
        decision = _engine(ledger, policy).check(subject, service, _at(at))
    if as_json:
        _print_json(decision.to_json())
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
    with _ledger(db) as ledger:
        engine = _engine(ledger, policy)
        t = _at(at)
        explanations = engine.explain_services(subject, [service] if service else None, t)
        st = explanations[0].standing if explanations else engine.standing(subject, t)
    if as_json:
        _print_json(
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
    with _ledger(db) as ledger:
        engine = _engine(ledger, policy)
        with err.status("scoring everyone…"):
            bulk = engine.recompute(_at(at))
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
        _print_json(
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


@app.command()
def export(
    what: Annotated[str, typer.Argument(help="records (the ledger) or standings (everyone now).")],
    output: Annotated[
        Path, typer.Option("--out", "-o", help="Output file (.csv, .parquet, .jsonl).")
    ],
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, parquet or jsonl.")] = None,
) -> None:
    """Export the ledger's entries or everyone's current standing."""
    kind = format_for(output, fmt)
    with _ledger(db) as ledger:
        if what == "records":
            count = write_entries(ledger.iter_entries(), output, kind)
        elif what == "standings":
            with err.status("scoring everyone…"):
                table = standings_table(_engine(ledger, policy).recompute(_at(at)))
            write_table(table, output, kind)
            count = table.num_rows
        else:
            raise CliError(f"cannot export {what!r}: choose records or standings")
    out.print(f"wrote {count:,} rows to {output} ({kind})")


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

    with _progress() as progress:
        report = run_demo(directory, n_subjects, seed, policy, progress)
    print_report(report, out)


def run(args: list[str] | None = None) -> int:
    """Run the CLI with ``args``; return the exit code. Known errors print one message."""
    try:
        # without standalone mode, typer returns the code of a typer.Exit instead of exiting
        code = app(args, standalone_mode=False)
        return code if isinstance(code, int) else 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: typer prints them itself
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            err.print(f"[red]error[/red] {exc.format_message()}", highlight=False)
        return int(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        return 1
    except PolicyError as exc:
        for p in exc.problems:
            err.print(f"[red]error[/red] {p}", highlight=False)
        return 2
    except (
        NoPolicyError,
        UnknownSubjectError,
        TimeFormatError,
        ExportFormatError,
        FileFormatError,
        LedgerError,
        CliError,
    ) as exc:
        err.print(f"[red]error[/red] {exc.args[0] if exc.args else exc}", highlight=False)
        return int(getattr(exc, "code", 2))


def main() -> None:
    """Console entry point."""
    sys.exit(run())
