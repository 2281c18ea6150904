"""``simulate``: run policies on a synthetic population and write what they do to people."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from socialcredit.cli.common import CliError, _err, app, err, now, out, print_json
from socialcredit.cli.tables import help_text, print_table
from socialcredit.explain_words import plural

if TYPE_CHECKING:
    from socialcredit.policy import CompiledPolicy
    from socialcredit.sim.draws import SimSpec
    from socialcredit.sim.run import SimResult
    from socialcredit.sim.scenario import LoadedScenario

simulate_app = typer.Typer(
    help="Simulate policies on a synthetic population (see `simulate --help`).",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(simulate_app, name="simulate")

_HELP = """Run one or more policies on the same synthetic population and events; write
days.parquet, summary.json and report.html into --report.

The scenario (--scenario, default: the one shipped for the first policy) says who the
population is and how often each record type happens; `simulate schema` prints its JSON
Schema. The same seed gives the same results whatever --chunk-size and --workers.
"""


@simulate_app.callback(help=help_text(_HELP))
def simulate(
    ctx: typer.Context,
    policy: Annotated[
        list[Path] | None, typer.Option("--policy", help="A policy file; repeat to compare.")
    ] = None,
    population: Annotated[int, typer.Option(min=1, help="Simulated subjects.")] = 10_000,
    days: Annotated[int, typer.Option(min=1, max=36_500, help="Simulated days.")] = 365,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 1,
    scenario: Annotated[Path | None, typer.Option(help="Scenario file (YAML).")] = None,
    start: Annotated[
        str, typer.Option(help="First simulated day (YYYY-MM-DD, UTC).")
    ] = "2026-01-01",
    report: Annotated[Path | None, typer.Option(help="Directory for the outputs.")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Run on a local Dask cluster of this many processes.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Run on an existing Dask cluster (tcp://HOST:PORT).")
    ] = None,
    export_sample: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Also write this many sampled subjects (and those related to them) with "
            "their entries into the ledger --db, under the first policy.",
        ),
    ] = None,
    db: Annotated[
        str | None, typer.Option(help="The ledger for --export-sample (a URL or SQLite path).")
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Agents per chunk (rounded up to blocks of 1024).")
    ] = 16_384,
    evaluator: Annotated[
        str,
        typer.Option(
            help="events: each subject read on the days its standing can change (fast); "
            "reference: everyone read on every day by the live scorer (slow). Same results."
        ),
    ] = "events",
    force: Annotated[
        bool, typer.Option("--force", help="Replace a report already in --report.")
    ] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="Save the progress to this file every minute; when it holds a checkpoint of "
            "this same run (policies, scenario, population, days, seed, start, chunk size, "
            "evaluator and socialcredit version), go on from it. Same results as a run never "
            "stopped."
        ),
    ] = None,
) -> None:
    """Run policies on a synthetic population (see the help text)."""
    if ctx.invoked_subcommand is not None:
        return
    from socialcredit.examples import example_scenario
    from socialcredit.policy import compile_policy, load_policy
    from socialcredit.sim.draws import SimSpec
    from socialcredit.sim.scenario import check_against, load_scenario
    from socialcredit.timeutil import DAY, MAX_TIME, RANGE_TEXT, iso_date, to_date

    if not policy:
        raise CliError("give at least one --policy FILE")
    if report is None:
        raise CliError("give --report DIR (where days.parquet, summary.json and report.html go)")
    if workers is not None and scheduler is not None:
        raise CliError("give --workers or --scheduler, not both")
    if evaluator not in ("events", "reference"):
        raise CliError(f"--evaluator: expected events or reference (got {evaluator!r})")
    if (export_sample is None) != (db is None):
        raise CliError("--export-sample K and --db URL go together")
    begin = iso_date(start)
    if begin is None or begin % DAY:
        raise CliError(f"--start: expected a date YYYY-MM-DD (got {start!r})")
    if begin + days * DAY - 1 > MAX_TIME:
        raise CliError(
            f"--start {start} --days {days}: the simulated period would end on "
            f"{to_date(begin + days * DAY - 1)}, after {to_date(MAX_TIME)}, the last date "
            f"times are supported to ({RANGE_TEXT})"
        )
    compiled = [compile_policy(load_policy(p)) for p in policy]
    for cp in compiled:
        if cp.across_subjects or cp.reevaluation is not None:
            # the simulator evaluates agents in independent chunks, day by day
            raise CliError(
                f"{cp.loaded.label}: the simulator does not run policies with a ranking, a "
                "score moved by related subjects' scores or re-evaluation at boundaries; "
                "use `socialcredit demo --system` for those"
            )
    path = scenario or example_scenario(compiled[0].loaded.policy.policy)
    if scenario is None and not path.exists():
        raise CliError(
            f"no scenario is shipped for policy {compiled[0].loaded.label!r}: give --scenario FILE"
        )
    loaded = load_scenario(path)
    check_against(loaded, compiled)
    spec = SimSpec(population, days, seed, begin)
    if export_sample is not None and spec.end > now():
        raise CliError(
            f"--export-sample: the simulated period ends {to_date(spec.end)}, after now; a "
            "ledger holds no entries from the future (choose an earlier --start or fewer --days)"
        )
    if checkpoint is not None:  # before any directory is made: refused, nothing changes
        from socialcredit.sim.run import read_checkpoint

        read_checkpoint(checkpoint, compiled, loaded, spec, chunk_size, evaluator)
    _check_report_directory(report, force)
    from socialcredit.sim.report import write_report

    try:
        result = _run(compiled, loaded, spec, chunk_size, workers, scheduler, evaluator, checkpoint)
    except KeyboardInterrupt:
        if checkpoint is None:
            raise
        _say_stopped(checkpoint, spec, chunk_size)
        raise typer.Exit(130) from None
    if result.resumed_at_chunk:
        err.print(
            f"resumed from {checkpoint} after {result.resumed_at_chunk:,} of "
            f"{plural(result.chunks, 'chunk')}"
        )
    _print_headline(result)
    for p in write_report(result, report):
        err.print(f"wrote {p}")
    if export_sample is not None:
        from socialcredit.cli.common import open_ledger
        from socialcredit.sim.export import export_sample as export

        with open_ledger(db, create=True) as ledger:
            names, stored = export(ledger, compiled[0], loaded, spec, export_sample, now)
        example = f", e.g. {names[0]}" if names else ""
        err.print(
            f"wrote {plural(stored.accepted, 'entry', 'entries')} about {len(names):,} of "
            f"{plural(export_sample, 'sampled subject')} (the others have none) into {db} under "
            f"{compiled[0].loaded.label}"
            f"{example}"
        )


def _run(
    compiled: list[CompiledPolicy],
    loaded: LoadedScenario,
    spec: SimSpec,
    chunk_size: int,
    workers: int | None,
    scheduler: str | None,
    evaluator: str = "events",
    checkpoint: Path | None = None,
) -> SimResult:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from socialcredit.sim.run import simulate as run_simulation

    total = spec.population * spec.days * len(compiled)
    bar = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}", markup=False),
        TimeElapsedColumn(),
        TextColumn("ETA", markup=False),
        TimeRemainingColumn(),
        console=_err.console,
        disable=not err.is_terminal,
    )
    with bar:
        task = bar.add_task("agent-days", total=total, rate="")

        def advance(n: int) -> None:
            bar.advance(task, n)
            speed = bar.tasks[0].speed
            if speed:
                bar.update(task, rate=f"{speed:,.0f} agent-days/s")

        if workers is None and scheduler is None:
            result = run_simulation(
                compiled,
                loaded,
                spec,
                chunk_size,
                advance,
                evaluator=evaluator,
                checkpoint=checkpoint,
            )
        else:
            from socialcredit.sim.distributed import cluster_client

            with cluster_client(workers, scheduler) as client:
                result = run_simulation(
                    compiled, loaded, spec, chunk_size, advance, client, evaluator, checkpoint
                )
    return result


def _say_stopped(checkpoint: Path, spec: SimSpec, chunk_size: int) -> None:
    """After Ctrl-C: how much of the run its checkpoint holds, and how to go on."""
    from socialcredit.sim.checkpoint import Checkpoint, CheckpointError
    from socialcredit.sim.run import chunks

    total = sum(1 for _ in chunks(spec, chunk_size))
    try:
        done = Checkpoint.load(checkpoint).chunks_done if checkpoint.exists() else 0
    except CheckpointError:
        done = 0
    err.print(
        f"stopped: {checkpoint} holds {done:,} of {plural(total, 'chunk')} done; the same "
        "command goes on from there"
    )


def _print_headline(result: SimResult) -> None:
    """The report's headline table on stdout: a figure per row, a policy per column."""
    from socialcredit.sim.report import HEADLINE_FIGURES, headline_values, summary
    from socialcredit.timeutil import to_date

    values = headline_values(summary(result))
    labels = [p.loaded.label for p in result.policies]
    last_day = to_date(result.spec.day_end(result.spec.days - 1))
    rows = [[figure, *(v[i] for v in values)] for i, figure in enumerate(HEADLINE_FIGURES)]
    columns = range(1, len(labels) + 1)
    print_table(
        out, f"On the last simulated day, {last_day}", ["figure", *labels], rows,
        whole=columns, right=columns,
    )  # fmt: skip


@simulate_app.command("schema")
def simulate_schema() -> None:
    """Print the JSON Schema (Draft 2020-12) of scenario files."""
    from socialcredit.sim.scenario import scenario_json_schema

    print_json(scenario_json_schema())


def _check_report_directory(report: Path, force: bool) -> None:
    """Before any simulating: ``report`` is (or can be made) a writable directory, and it
    holds no earlier report unless ``force`` (a run can take hours; finding out after it,
    or replacing the last run's figures unasked, would both lose work)."""
    from socialcredit.sim.report import REPORT_FILES

    if report.exists() and not report.is_dir():
        raise CliError(f"--report: {report} is a file, not a directory")
    earlier = [name for name in REPORT_FILES if (report / name).exists()]
    if earlier and not force:
        raise CliError(
            f"--report: {report} already holds a report ({', '.join(earlier)}): give --force "
            "to replace it, or another directory"
        )
    try:
        report.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"--report: cannot create {report}: {exc.strerror}") from None
    if not os.access(report, os.W_OK | os.X_OK):
        raise CliError(f"--report: {report} is not writable")
