"""The Sesame-style demo (``socialcredit demo --system sesame``): a synthetic population of
app users under sesame-style.yaml, with records in each of the five dimensions from January
2025 and friendships between users, re-evaluated at the start of every month.

The policy's interpersonal dimension (friends' scores move one's own) is a lint error
(SC303); the demo activates it with an override saying why, as one studies a system rather
than runs it. Every record and rate is ILLUSTRATIVE.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress

from socialcredit.demo import common
from socialcredit.examples import example_policy
from socialcredit.explain import Explanation
from socialcredit.explain_words import plural
from socialcredit.policy import load_policy
from socialcredit.timeutil import DAY, parse_timestamp, to_date, to_iso

DEFAULT_SUBJECTS = 10_000
START = parse_timestamp("2025-01-01")
AT = parse_timestamp("2026-11-15")  # the report's time: the November 2026 score

# record type, source, events a year for an average user (ILLUSTRATIVE)
RATES = (
    ("loan_repaid_on_time", "ant-credit", 1.5),
    ("credit_card_paid_in_full", "banks", 1.0),
    ("loan_overdue", "ant-credit", 0.1),
    ("court_judgment_default", "courts", 0.01),
    ("utility_bill_paid_on_time", "utilities", 1.5),
    ("purchase_completed", "taobao", 2.0),
    ("order_abandoned", "taobao", 0.3),
    ("assets_declared", "ant-wealth", 0.2),
    ("income_verified", "employers", 0.3),
    ("identity_verified", "police-register", 0.3),
    ("address_verified", "couriers", 0.3),
)
ADVERSE = {"loan_overdue", "court_judgment_default", "order_abandoned"}


@dataclass
class SesameReport:
    population: int
    subjects: int
    records: int
    friendships: int
    policy: str
    at: int
    grades: list[tuple[str, int]]
    perks: list[tuple[str, int]]
    dimensions: list[tuple[str, float]]
    by_friends: int  # perks (car rental) that friends' scores opened
    lint: str
    seconds: dict[str, float] = field(default_factory=dict)
    examples: list[tuple[str, Explanation]] = field(default_factory=list)
    note: str = ""


def _entries(n: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    names = [f"U{i:07d}" for i in range(1, n + 1)]
    span = AT - START - DAY
    years = span / (365.25 * DAY)
    careful = rng.beta(4, 2, n)  # how carefully each user pays: fewer adverse records
    active = rng.gamma(2.0, 0.5, n)  # how much each user does in the app
    k = 0
    for i, name in enumerate(names):
        for type_, source, rate in RATES:
            bad = type_ in ADVERSE
            lam = rate * years * (2.0 * (1 - careful[i]) if bad else active[i])
            m = int(rng.poisson(lam))
            for t in np.sort(START + rng.integers(0, span, m)).tolist():
                k += 1
                when = to_iso(int(t))
                yield {
                    "id": f"e{k}",
                    "source": source,
                    "subject": name,
                    "type": type_,
                    "occurred_at": when,
                    "recorded_at": when,
                }
    # friendships, mostly among users alike in care (people befriend people like them)
    order = np.argsort(careful + rng.normal(0, 0.1, n))
    for pos in range(n):
        for _ in range(int(rng.integers(0, 4))):
            other = int(order[min(n - 1, max(0, pos + int(rng.integers(-50, 51))))])
            me = int(order[pos])
            if other == me:
                continue
            k += 1
            yield {
                "kind": "relation",
                "id": f"f{k}",
                "source": "alipay-contacts",
                "subject": names[me],
                "relation": "friend_of",
                "related_subject": names[other],
                "valid_from": to_iso(START + int(rng.integers(0, span))),
                "recorded_at": to_iso(AT - 30 * DAY),
            }


def run(
    directory: Path,
    n_subjects: int,
    seed: int,
    policy_file: Path | None,
    progress: Progress,
    clock: Callable[[], int] = common.wall_clock,
) -> SesameReport:
    """Generate the users, ingest them under the policy, score, explain three of them."""
    common.check_request(n_subjects, clock, AT, ends="report time is")
    path = policy_file or example_policy("sesame-style")
    loaded = load_policy(path)
    missing = sorted({t for t, _, _ in RATES} - set(loaded.policy.record_types))
    if missing or "friend_of" not in loaded.policy.relations:
        raise common.DemoError(
            f"{path}: the demo needs sesame-style.yaml's record types and friend_of"
        )
    common.prepare_directory(directory)
    data = directory / "population.jsonl"
    seconds: dict[str, float] = {}
    with common.timed(seconds, "generate"):
        count, friendships = common.write_population(
            data, _entries(n_subjects, seed), progress, "users"
        )
    records = count - friendships

    from socialcredit.lint import lint_policy

    report = lint_policy(loaded)
    lint = "; ".join(f"{f.rule} {f.message}" for f in report.errors)
    ledger = common.open_history(directory, loaded, START, clock)
    try:
        with common.timed(seconds, "ingest"):
            common.ingest_history(ledger, data, count, loaded, path, progress, clock)

        with common.timed(seconds, "score"):
            engine, bulk = common.recompute(ledger, AT, progress, "scoring everyone")
        note = common.history_note(engine, AT)
        cp = bulk.policy
        sc = cp.scores[0]
        score = bulk.scores[0]
        grades = [(g, int((bulk.grades[0] == i).sum())) for i, g in enumerate(sc.grade_names)]
        perks = [
            (cp.service_name(s.service), int(bulk.measures[s.index].sum())) for s in cp.sanctions
        ]
        comps = bulk.components[0]
        dimensions = [
            (c.display_name, float(np.clip(comps[j], c.low, c.high).mean()))
            for j, c in enumerate(sc.components)
        ]
        rel = next(j for j, c in enumerate(sc.components) if c.related is not None)
        rc = sc.components[rel]
        own = score - rc.weight * (np.clip(comps[rel], rc.low, rc.high) - rc.base)
        by_friends_mask = (score >= 600) & (own < 600)
        by_friends = int(by_friends_mask.sum())

        started = time.perf_counter()  # the worked examples: "explain"
        picks = []
        if by_friends:
            picks.append(
                (
                    "A friend's score opened the car-rental perk",
                    int(np.flatnonzero(by_friends_mask)[0]),
                    "car_rental_deposit_free",
                )
            )
        poor = np.flatnonzero(bulk.grades[0] == len(sc.grade_names) - 1)
        if len(poor):
            picks.append(("In the lowest band", int(poor[0]), "hotel_deposit_free"))
        top = int(np.argmax(score))
        picks.append(("The highest score", top, "flat_rental_deposit_free"))
        examples = [
            (f"{title}: {bulk.subjects[i]}", engine.explain(bulk.subjects[i], service, AT))
            for title, i, service in picks[:3]
        ]
        seconds["explain"] = time.perf_counter() - started
    finally:
        ledger.close()
    return SesameReport(
        population=n_subjects,
        subjects=len(bulk.subjects),
        records=records,
        friendships=friendships,
        policy=loaded.label,
        at=AT,
        grades=grades,
        perks=perks,
        dimensions=dimensions,
        by_friends=by_friends,
        lint=lint,
        seconds=seconds,
        examples=examples,
        note=note or "",
    )


def show(report: SesameReport, console: Console) -> None:
    """Print what the system did and the three explanations; nothing is read as markup."""
    common.print_heading(
        console,
        f"{plural(report.subjects, 'app user')} in the ledger (of a synthetic population of "
        f"{report.population:,}), {plural(report.records, 'record')} and "
        f"{plural(report.friendships, 'friendship')} under {report.policy}, as of "
        f"{to_date(report.at)} (re-evaluated on the 1st of each month)",
        [
            report.note,
            report.lint and f"lint errors (the demo activates it to study it): {report.lint}",
        ],
        report.seconds,
    )
    share = max(report.subjects, 1)
    common.print_table(
        console,
        "bands",
        ("band", "users", "share"),
        [(g, f"{n:,}", f"{n / share:.1%}") for g, n in report.grades],
        names=(),
    )
    common.print_table(
        console, "perks (deposit-free)", ("perk", "users"), [(p, f"{n:,}") for p, n in report.perks]
    )
    common.print_table(
        console,
        "dimensions (mean value, 0-600)",
        ("dimension", "mean"),
        [(name, f"{v:.1f}") for name, v in report.dimensions],
        names=(),
    )
    common.say(
        console,
        f"{plural(report.by_friends, 'user')} "
        f"{'has' if report.by_friends == 1 else 'have'} the car-rental perk (600) only "
        "because of their friends' scores",
    )
    common.print_examples(console, report.examples, common.benefited)
