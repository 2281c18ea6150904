"""The Electoral Credit demo (``socialcredit demo --system electoral``): a synthetic
electorate under electoral-credit.yaml. Citizens rate 500 candidates from 1 to 5 during the
terms 2025 and 2026; the ratings of 2025 seat 150 of them for 2026.

Each citizen rates a few candidates, more often the well-known ones; about one in twenty
rates a candidate a second time later in the term (the later rating replaces the earlier);
a few candidates try to rate themselves (ingestion refuses those lines). Every number is
ILLUSTRATIVE: no country runs this system.
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
from socialcredit.examples import example_policy
from socialcredit.explain import Explanation
from socialcredit.explain_words import plural
from socialcredit.policy import load_policy
from socialcredit.timeutil import parse_timestamp, to_date, to_iso

DEFAULT_SUBJECTS = 100_000  # citizens
CANDIDATES = 500
SELF_RATERS = 12  # candidates who try to rate themselves

TERMS = (parse_timestamp("2025-01-01"), parse_timestamp("2026-01-01"))
START = TERMS[0]
AT = parse_timestamp("2026-11-01")  # the report's time: the 2026 term, seated by 2025's ratings


@dataclass
class ElectoralReport:
    citizens: int
    candidates: int
    lines: int
    accepted: int
    refused: list[str]
    policy: str
    at: int
    seats: int
    ranked: int
    counted: int  # ratings of 2025 counted (one per citizen and candidate)
    given: int  # ratings of 2025 given
    last_seat: float
    prior_kept_out: int  # candidates whose plain mean beats the last seat, not seated
    seconds: dict[str, float] = field(default_factory=dict)
    examples: list[tuple[str, Explanation]] = field(default_factory=list)
    note: str = ""


def _ratings(citizens: int, seed: int) -> Iterator[dict[str, Any]]:
    """The 2025 term (about two ratings a citizen) and the 2026 term so far (fewer); one
    rating in twenty is followed by a second rating of the same candidate later in its
    term; a few candidates try to rate themselves in 2025."""
    rng = np.random.default_rng(seed)
    quality = np.clip(rng.normal(3.2, 0.55, CANDIDATES), 1.5, 4.8)
    fame = rng.lognormal(0.0, 1.2, CANDIDATES)
    fame /= fame.sum()
    names = [f"K{i:04d}" for i in range(1, CANDIDATES + 1)]
    n = 0
    for t, (begin, end, mean) in enumerate(((TERMS[0], TERMS[1], 2.0), (TERMS[1], AT, 0.3))):
        k = rng.poisson(mean, citizens)
        who = np.repeat(np.arange(citizens), k)
        cand = rng.choice(CANDIDATES, size=len(who), p=fame)
        # one rating per (citizen, candidate) pair here: a repeat is made on purpose below
        pair = np.unique(who.astype(np.int64) * CANDIDATES + cand)
        who, cand = pair // CANDIDATES, pair % CANDIDATES
        when = begin + rng.integers(0, end - begin - 86_400, len(pair))
        value = np.clip(np.rint(quality[cand] + rng.normal(0, 1.0, len(pair))), 1, 5)
        again = rng.random(len(pair)) < 0.05
        later = when + (rng.random(len(pair)) * (end - when - 1)).astype(np.int64) + 1
        value2 = rng.integers(1, 6, len(pair))
        for j in range(len(pair)):
            citizen, candidate = f"C{who[j] + 1:07d}", names[int(cand[j])]
            n += 1
            yield _line(n, citizen, candidate, float(value[j]), to_iso(int(when[j])))
            if again[j]:  # rates again later in the term: replaces the first
                n += 1
                yield _line(n, citizen, candidate, float(value2[j]), to_iso(int(later[j])))
        if t == 0:
            for s in range(SELF_RATERS):  # refused at ingestion: nobody rates themselves
                n += 1
                self_ = names[s * 37 % CANDIDATES]
                yield _line(n, self_, self_, 5.0, to_iso(begin + 86_400 * (s + 1)))


def _last_seat_row(report: ElectoralReport) -> tuple[str, str]:
    """The last seat's credit; a small population may rank fewer candidates than seats, or
    nobody."""
    if not report.ranked:
        return ("credit of the last seat (nobody was ranked)", "none")
    if report.ranked < report.seats:
        return (
            "credit of the last seated (fewer candidates than seats)",
            f"{report.last_seat:.3f}",
        )
    return ("credit of the last seat", f"{report.last_seat:.3f}")


def _line(n: int, citizen: str, candidate: str, value: float, at: str | None) -> dict[str, Any]:
    return {
        "id": f"r{n}",
        "source": citizen,
        "subject": candidate,
        "type": "candidate_rating",
        "occurred_at": at,
        "recorded_at": at,
        "amount": value,
    }


def run(
    directory: Path,
    n_subjects: int,
    seed: int,
    policy_file: Path | None,
    progress: Progress,
    clock: Callable[[], int] = common.wall_clock,
) -> ElectoralReport:
    """Generate the ratings, ingest them under the policy, rank, and explain three places."""
    common.check_request(
        n_subjects,
        clock,
        AT,
        needs="the electorate needs at least one citizen",
        ends="report time is",
    )
    path = policy_file or example_policy("electoral-credit")
    loaded = load_policy(path)
    if "candidate_rating" not in loaded.policy.record_types:
        raise common.DemoError(
            f"{path}: the demo's ratings are candidate_rating records; use a policy that declares them"
        )
    common.prepare_directory(directory)
    data = directory / "population.jsonl"
    seconds: dict[str, float] = {}
    with common.timed(seconds, "generate"):
        count, _ = common.write_population(data, _ratings(n_subjects, seed), progress, "ratings")

    ledger = common.open_history(directory, loaded, START, clock)
    try:
        with common.timed(seconds, "ingest"):  # the self-ratings are refused: the report says so
            result = common.ingest_history(
                ledger, data, count, loaded, path, progress, clock, refuse_rejected=False
            )

        with common.timed(seconds, "rank"):
            engine, bulk = common.recompute(ledger, AT, progress, "ranking everyone")
        from socialcredit.scoring.population import ranking

        note = common.history_note(engine, AT)
        policy = bulk.policy
        cond = policy.rankings[0]
        cols = ledger.columns()
        from socialcredit.scoring import Prepared

        prep = Prepared.build(cols, policy, engine.in_force_from(AT))
        e = int(policy.as_evaluated(np.array([AT], dtype=np.int64))[0])
        r = ranking(policy, prep.rows, cond, e, e)
        ratings = r.ratings if r.ratings is not None else np.zeros(len(cols.subjects))
        seats = min(cond.seats, len(r.order))
        last = float(r.credit[r.order[seats - 1]]) if seats else float("nan")
        # the plain mean of each candidate's counted ratings, from the credit and the prior
        sc = policy.scores[policy.score_index(cond.score)]
        assert sc.rating is not None
        with np.errstate(invalid="ignore", divide="ignore"):
            plain = (
                r.credit * (sc.rating.prior_weight + ratings)
                - sc.rating.prior_weight * sc.rating.prior_mean
            ) / ratings
        kept_out = int(((r.rank > cond.seats) & (plain > last) & (ratings > 0)).sum())
        occurred = cols.rec_occurred_at
        given = int(((occurred >= TERMS[0]) & (occurred < TERMS[1])).sum())

        order = r.order.tolist()
        # a small population may rank nobody, or fewer candidates than there are seats
        picks = [("Seated, at the top", cols.subjects[order[0]])] if order else []
        if len(order) >= cond.seats:
            picks.append(("Seated, in the last seat", cols.subjects[order[seats - 1]]))
        elif len(order) > 1:
            picks.append(
                (
                    f"Seated, the last of the {len(order)} ranked (fewer candidates than seats)",
                    cols.subjects[order[-1]],
                )
            )
        if len(order) > seats:
            picks.append(("Not seated, the first below the line", cols.subjects[order[seats]]))
        with common.timed(seconds, "explain"):
            examples = [
                (f"{title}: {who}", engine.explain(who, "parliament_seat", AT))
                for title, who in picks
            ]
    finally:
        ledger.close()
    refused: dict[str, list[str]] = {}
    for p in result.problems:  # by field, with the first line's reason
        refused.setdefault(p.field, []).append(f"line {p.line:,}: {p.message}")
    return ElectoralReport(
        citizens=n_subjects,
        candidates=len(bulk.subjects),
        lines=count,
        accepted=result.accepted,
        refused=[f"{plural(len(v), 'line')} (field {k}), e.g. {v[0]}" for k, v in refused.items()],
        policy=loaded.label,
        at=AT,
        seats=cond.seats,
        ranked=len(r.order),
        counted=int(ratings.sum()),
        given=given,
        last_seat=last,
        prior_kept_out=kept_out,
        seconds=seconds,
        examples=examples,
        note=note or "",
    )


def show(report: ElectoralReport, console: Console) -> None:
    """Print what the system did and the three explanations; nothing is read as markup."""
    common.print_heading(
        console,
        f"{plural(report.citizens, 'citizen')} rated {plural(report.candidates, 'candidate')}: "
        f"{plural(report.lines, 'rating line')}, {report.accepted:,} accepted, under "
        f"{report.policy}, as of {to_date(report.at)}",
        [report.note, *(f"refused at ingestion: {line}" for line in report.refused)],
        report.seconds,
    )
    common.print_table(
        console,
        "the 2026 term, seated by the ratings of 2025",
        ("what", "number"),
        [
            ("ratings given in 2025", f"{report.given:,}"),
            ("counted (one per citizen and candidate, the last given)", f"{report.counted:,}"),
            ("candidates ranked (at least one rating)", f"{report.ranked:,}"),
            ("seats", f"{report.seats:,}"),
            _last_seat_row(report),
            (
                "not seated though their plain mean beats it (too few ratings)",
                f"{report.prior_kept_out:,}",
            ),
        ],
        names=(),
    )
    common.print_examples(console, report.examples, common.benefited)
