"""The China demo (``socialcredit demo --system china``, the default): a synthetic nation
under the seed policy, china-scs.yaml, end to end through the real ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress

from socialcredit.columns import LedgerColumns
from socialcredit.demo import common
from socialcredit.engine import Engine
from socialcredit.examples import example_policy
from socialcredit.explain import Explanation
from socialcredit.explain_words import plural
from socialcredit.policy import load_policy
from socialcredit.scoring import BulkStandings, Prepared, bulk_standings
from socialcredit.sim.population import BEHAVIOURS, PopulationSpec, generate_jsonl
from socialcredit.timeutil import DAY, to_date

# 729,142 records (920,165 ledger entries) about 80,000 subjects: the demo's whole run, on
# two cores, stays well under 30 s (most of it ingestion, which scales with the entries)
DEFAULT_SUBJECTS = 80_000


def default_policy() -> Path:
    """The seed policy, china-scs.yaml, as shipped inside the package."""
    return example_policy("china-scs")


@dataclass
class DemoReport:
    """What the demo measured and the worked examples it chose."""

    population: int
    subjects: int  # those with at least one ledger entry
    records: int
    entries: int
    policy: str
    at: int
    seconds: dict[str, float]
    grades: list[tuple[str, int]]
    lists: list[tuple[str, str, int]]
    services: list[tuple[str, int, int]]  # service, denied, benefited
    examples: list[tuple[str, Explanation]] = field(default_factory=list)
    note: str | None = None  # the backfill note of every figure and example, said once
    # services a denial limited to some requests covers (first class seats): a subject
    # counted as denied there may still use the service otherwise
    limited: list[str] = field(default_factory=list)


def _pick_examples(
    engine: Engine, bulk: BulkStandings, cols: LedgerColumns, at: int
) -> list[tuple[str, str, str]]:
    cp = engine.policy
    picks: list[tuple[str, str, str]] = []
    deny_air = [s.index for s in cp.sanctions if s.effect == "deny" and s.service == "air_travel"]
    if deny_air:
        people = cols.subject_kind == 0
        banned = bulk.measures[deny_air].any(axis=0) & people
        # the label must be true of the person picked: "blacklisted" only for someone on a
        # black list (an aviation misconduct record alone also bans flying)
        black = [lst.index for lst in cp.lists if lst.kind == "black"]
        on_black = bulk.lists[black].any(axis=0) if black else np.zeros_like(banned)
        listed = np.flatnonzero(banned & on_black)
        if len(listed):
            picks.append(
                (
                    "A blacklisted person who may not fly",
                    bulk.subjects[int(listed[0])],
                    "air_travel",
                )
            )
        elif len(hit := np.flatnonzero(banned)):
            picks.append(("Someone who may not fly", bulk.subjects[int(hit[0])], "air_travel"))
    red = [lst.index for lst in cp.lists if lst.kind == "red"]
    if red:
        hit = np.flatnonzero(bulk.lists[red].any(axis=0))
        rewards = [s for s in cp.sanctions if s.effect == "benefit"]
        if len(hit) and rewards:
            picks.append(("A redlisted volunteer", bulk.subjects[int(hit[0])], rewards[0].service))
    # someone whose rail ban has run out: a misconduct record long enough ago for the
    # publicity period (at most about three weeks) and the 180-day ban to have passed
    rail = [s for s in cp.sanctions if s.effect == "deny" and s.service == "rail_travel"]
    if "rail_serious_misconduct" in cp.type_code and rail:
        old = (cols.rec_type == "rail_serious_misconduct") & (cols.rec_occurred_at < at - 230 * DAY)
        denied = np.asarray(bulk.measures[[s.index for s in rail]].any(axis=0), dtype=bool)
        for subj in cols.rec_subject[old].tolist():
            if not denied[subj]:
                picks.append(("Someone whose ban has expired", cols.subjects[subj], "rail_travel"))
                break
    return picks


def run_demo(
    directory: Path,
    n_subjects: int,
    seed: int,
    policy_file: Path | None,
    progress: Progress,
    clock: Callable[[], int] = common.wall_clock,
) -> DemoReport:
    """Generate, ingest, score and explain; returns the figures for ``print_report``.

    The policy is activated at the start of the simulated period (it is the rule the synthetic
    nation lived under throughout), so time travel into the period evaluates under it. The
    ledger is loaded as history (a backfill) at the time ``clock`` (the real clock) gives:
    the policy activation and the batch record when they were really made, the entries count
    from their own recorded_at. The report's figures are about the simulated period's end,
    before the load, so they count history loaded later (``DemoReport.note`` says so once).
    """
    spec = PopulationSpec(subjects=max(n_subjects, 1), seed=seed)
    common.check_request(n_subjects, clock, spec.end)
    policy_path = policy_file or default_policy()
    loaded = load_policy(policy_path)
    missing = sorted({b.type for b in BEHAVIOURS} - set(loaded.policy.record_types))
    if missing:
        raise common.DemoError(
            f"{policy_path}: the demo population has records of types this policy does not "
            f"declare ({', '.join(missing)}); use a policy with china-scs.yaml's record types"
        )
    common.prepare_directory(directory)
    data = directory / "population.jsonl"
    seconds: dict[str, float] = {}
    with common.timed(seconds, "generate"):
        # made as text directly (the same bytes as each entry's dict written by orjson)
        count, kinds = common.write_blocks(data, generate_jsonl(spec), progress, "population")
    records = count - kinds

    # history: the rule the simulated nation lived under throughout
    ledger = common.open_history(directory, loaded, spec.start, clock)
    try:
        with common.timed(seconds, "ingest"):  # history: each entry counts from its own recorded_at
            common.ingest_history(ledger, data, count, loaded, policy_path, progress, clock)

        with common.timed(seconds, "score"):
            task = progress.add_task("scoring everyone", total=1)
            engine = Engine.open(ledger, lambda: spec.end)
            cols = ledger.columns(with_ids=False)
            bulk = bulk_standings(Prepared.build(cols, engine.policy), spec.end)
            # the figures and examples are about spec.end, before the ledger was loaded
            note = common.history_note(engine, spec.end)
            progress.update(task, completed=1)

        cp = engine.policy
        grades = [(g, int((bulk.grade == i).sum())) for i, g in enumerate(cp.grade_names)]
        undetermined = int((bulk.grade < 0).sum())
        if undetermined:  # a band's cut-off is unpublished: no grade is given
            grades.append(("not determinable (cut-offs unpublished)", undetermined))
        lists = [(lst.name, lst.kind, int(bulk.lists[lst.index].sum())) for lst in cp.lists]
        services = []
        # a measure on a service covers the services under it (a rail ban, G-train seats):
        # counted as a check answers, less what an exemption waives
        for service in cp.services():
            services.append(
                (
                    service,
                    int((bulk.with_measure_on(service) & ~bulk.exempt_on(service)).sum()),
                    int(bulk.with_measure_on(service, "benefit").sum()),
                )
            )
        limited = sorted(
            service
            for service in cp.services()
            if any(s.effect == "deny" and s.applies_to for s in cp.covering(service))
        )
        with common.timed(seconds, "explain"):
            examples = [
                (f"{title}: {subject}", engine.explain(subject, service, spec.end))
                for title, subject, service in _pick_examples(engine, bulk, cols, spec.end)
            ]
    finally:
        ledger.close()
    return DemoReport(
        population=n_subjects,
        subjects=len(bulk.subjects),
        records=records,
        entries=count,
        policy=loaded.label,
        at=spec.end,
        seconds=seconds,
        grades=grades,
        lists=lists,
        services=services,
        examples=examples,
        note=note,
        limited=limited,
    )


def print_report(report: DemoReport, console: Console) -> None:
    """Print the demo's figures and worked examples; no text is read as Rich markup."""
    common.print_heading(
        console,
        f"{plural(report.subjects, 'subject')} in the ledger (of a synthetic population of "
        f"{report.population:,}), {plural(report.records, 'record')} "
        f"({plural(report.entries, 'ledger entry', 'ledger entries')}) under {report.policy}, "
        f"as of {to_date(report.at)}",
        [report.note],
        report.seconds,
    )
    share = max(report.subjects, 1)
    common.print_table(
        console,
        "grade distribution",
        ("grade", "subjects", "share"),
        [(g, f"{n:,}", f"{n / share:.1%}") for g, n in report.grades],
        names=(),  # a grade's name may be a sentence ("not determinable (…)")
    )
    common.print_table(
        console,
        "lists",
        ("list", "kind", "members"),
        [(name, kind, f"{n:,}") for name, kind, n in report.lists],
        names=(0, 1),
        numbers=(2,),
    )
    common.print_table(
        console,
        "measures by service",
        ("service", "denied", "benefit"),
        [(service, f"{d:,}", f"{b:,}") for service, d, b in report.services],
    )
    if report.limited:
        common.say(
            console,
            f"On {', '.join(report.limited)}, a denial counted here may cover only some "
            "requests (those its measure describes, e.g. by a seat class): a subject "
            "counted there may be able to use the service otherwise.",
        )
    common.print_examples(console, report.examples)


run = run_demo
show = print_report
