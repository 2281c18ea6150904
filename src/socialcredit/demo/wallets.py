"""What the points-wallet demos share (``mynumber``, ``carrot``): load a synthetic history of
earning records into a real ledger, let people redeem what their wallets hold (and a few ask
for more, which ingestion rejects), then report what each wallet did and explain three
people's standing.

A system module gives a ``WalletDemo``: its policy, its simulated period, the earning records
of its population, who redeems how much on which days, and how to pick its worked examples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress

from socialcredit.demo import common
from socialcredit.engine import Engine
from socialcredit.explain import Explanation
from socialcredit.explain_words import plural
from socialcredit.ledger import IngestRules
from socialcredit.policy import load_policy
from socialcredit.scoring import BulkStandings, Prepared, bulk_standings
from socialcredit.timeutil import to_date, to_iso

# (subject index, amount asked) for each redemption of a round
Redemptions = list[tuple[int, float]]


@dataclass(frozen=True)
class Round:
    """A day on which people redeem from one wallet: ``choose`` gets the balances then
    (per subject, in the order of ``subjects``) and says who asks for how much."""

    at: int
    score: str  # the wallet's score name
    redeem_type: str
    source: str
    choose: Callable[[np.ndarray[Any, np.dtype[np.float64]]], Redemptions]


@dataclass(frozen=True)
class WalletDemo:
    """One points-wallet system's demo (see the module docstring)."""

    system: str
    policy: Path
    start: int
    end: int
    earnings: Callable[[int, int], Iterator[dict[str, Any]]]  # (subjects, seed) -> entries
    rounds: Callable[[int], list[Round]]  # seed -> the redemption days
    # (engine, bulk standings, subject names) -> (title, subject, service) for each example
    examples: Callable[[Engine, BulkStandings], list[tuple[str, str, str]]]


@dataclass
class WalletFigures:
    """One wallet's totals over everyone, at the end of the simulated period."""

    name: str
    unit: str
    holders: int  # people who earned something
    earned: float
    redeemed: float
    expired: float
    forfeited: float
    balance: float
    capped: int  # people whose earnings a cap held back


@dataclass
class WalletDemoReport:
    """What a wallet demo measured and the worked examples it chose."""

    system: str
    population: int
    subjects: int
    records: int
    policy: str
    at: int
    seconds: dict[str, float]
    wallets: list[WalletFigures]
    redemptions_accepted: int
    redemptions_rejected: int
    first_rejection: str | None
    services: list[tuple[str, int]]  # service, people with a benefit there
    examples: list[tuple[str, Explanation]] = field(default_factory=list)
    note: str | None = None


def run_wallet_demo(
    demo: WalletDemo,
    directory: Path,
    n_subjects: int,
    seed: int,
    policy_file: Path | None,
    progress: Progress,
    clock: Callable[[], int] = common.wall_clock,
) -> WalletDemoReport:
    """Generate, ingest, redeem, score and explain (see the module docstring)."""
    common.check_request(n_subjects, clock, demo.end)
    path = policy_file or demo.policy
    loaded = load_policy(path)
    common.prepare_directory(directory)
    data = directory / "population.jsonl"
    seconds: dict[str, float] = {}
    with common.timed(seconds, "generate"):
        count, _ = common.write_population(
            data, demo.earnings(n_subjects, seed), progress, "population"
        )

    ledger = common.open_history(directory, loaded, demo.start, clock)
    try:
        rules = IngestRules.from_policy(loaded.policy)
        with common.timed(seconds, "ingest"):
            common.ingest_history(ledger, data, count, loaded, path, progress, clock)

        accepted = rejected = 0
        first_rejection = None
        with common.timed(seconds, "redeem"):
            engine = Engine.open(ledger, lambda: demo.end)
            for k, rnd in enumerate(demo.rounds(seed)):
                cols = ledger.columns(with_ids=False)
                bulk = bulk_standings(Prepared.build(cols, engine.policy), rnd.at)
                index = engine.policy.score_index(rnd.score)
                asks = rnd.choose(bulk.scores[index])
                entries = [
                    {
                        "id": f"r{k}-{i}",
                        "source": rnd.source,
                        "subject": cols.subjects[s],
                        "type": rnd.redeem_type,
                        "occurred_at": to_iso(rnd.at),
                        "recorded_at": to_iso(rnd.at),
                        "amount": amount,
                    }
                    for i, (s, amount) in enumerate(asks)
                ]
                got = ledger.ingest_entries(
                    entries,
                    f"redemptions of {to_date(rnd.at)}",
                    rules=rules,
                    now=clock(),
                    backfill=True,
                )
                accepted += got.accepted
                rejected += got.rejected
                if got.problems and first_rejection is None:
                    p = got.problems[0]
                    first_rejection = f"{p.file}, entry {p.line}: {p.message}"
                engine = Engine.open(ledger, lambda: demo.end)

        with common.timed(seconds, "score"):
            cols = ledger.columns(with_ids=False)
            bulk = bulk_standings(Prepared.build(cols, engine.policy), demo.end)
            note = common.history_note(engine, demo.end)
        cp = engine.policy
        wallets = []
        for sc in cp.wallets:
            totals = bulk.wallets[sc.index]
            assert totals is not None and sc.wallet is not None
            wallets.append(
                WalletFigures(
                    name=sc.display_name,
                    unit=sc.wallet.unit,
                    holders=int((totals.earned > 0).sum()),
                    earned=float(totals.earned.sum()),
                    redeemed=float(totals.redeemed.sum()),
                    expired=float(totals.expired.sum()),
                    forfeited=float(totals.forfeited.sum()),
                    balance=float(totals.balance.sum()),
                    capped=int((totals.forfeited > 0).sum()),
                )
            )
        services = []
        for service in cp.services():
            give = [s.index for s in cp.sanctions if s.service == service and s.effect == "benefit"]
            services.append((service, int(bulk.measures[give].any(axis=0).sum()) if give else 0))
        with common.timed(seconds, "explain"):
            examples = [
                (f"{title}: {subject}", engine.explain(subject, service, demo.end))
                for title, subject, service in demo.examples(engine, bulk)
            ]
    finally:
        ledger.close()
    return WalletDemoReport(
        system=demo.system,
        population=n_subjects,
        subjects=len(bulk.subjects),
        records=count,
        policy=loaded.label,
        at=demo.end,
        seconds=seconds,
        wallets=wallets,
        redemptions_accepted=accepted,
        redemptions_rejected=rejected,
        first_rejection=first_rejection,
        services=services,
        examples=examples,
        note=note,
    )


def print_wallet_report(report: WalletDemoReport, console: Console) -> None:
    """Print a wallet demo's figures and worked examples; no text is read as Rich markup."""
    common.print_heading(
        console,
        f"{plural(report.subjects, 'person', 'people')} in the ledger (of a synthetic "
        f"population of {report.population:,}), {plural(report.records, 'earning record')} "
        f"and {plural(report.redemptions_accepted + report.redemptions_rejected, 'redemption')}"
        f" asked under {report.policy}, as of {to_date(report.at)}",
        [report.note],
        report.seconds,
    )
    common.print_table(
        console,
        "wallets (everyone's points together)",
        ("wallet", "people", "earned", "not paid (cap)", "redeemed", "expired", "balance"),
        [
            (
                f"{w.name} ({w.unit})",
                f"{w.holders:,}",
                f"{w.earned:,.0f}",
                f"{w.forfeited:,.0f} ({plural(w.capped, 'person', 'people')})",
                f"{w.redeemed:,.0f}",
                f"{w.expired:,.0f}",
                f"{w.balance:,.0f}",
            )
            for w in report.wallets
        ],
        names=(),
    )
    common.say(
        console,
        f"redemptions: {report.redemptions_accepted:,} accepted, "
        f"{report.redemptions_rejected:,} rejected at ingestion for asking more than the balance"
        + (f" (e.g. {report.first_rejection})" if report.first_rejection else ""),
    )
    common.print_table(
        console,
        "benefits by service",
        ("service", "people"),
        [(v, f"{n:,}") for v, n in report.services],
    )
    common.print_examples(console, report.examples)


def pick(
    picks: list[tuple[str, str, str]],
    title: str,
    hit: np.ndarray[Any, np.dtype[np.intp]],
    names: list[str],
    service: str,
) -> None:
    """Add to ``picks`` the worked example ``title`` about ``service`` for the first subject
    of ``hit`` (indexes into ``names``) not picked yet (else the first): each example is a
    different person where the population allows. None when ``hit`` is empty."""
    if not len(hit):
        return
    picked = {subject for _, subject, _ in picks}
    chosen = next((names[i] for i in hit.tolist() if names[i] not in picked), names[int(hit[0])])
    picks.append((title, chosen, service))
