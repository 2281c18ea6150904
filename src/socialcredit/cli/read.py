"""Reading one subject: ``score``, ``check``, ``explain``.

Each answer is evaluated under the policy in force at ``--at`` (or ``--policy FILE``) and
names that policy's label and the start of its content hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

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
    print_wrapped,
    styled,
)
from socialcredit.explain_words import number, signed
from socialcredit.timeutil import local_date, to_iso

if TYPE_CHECKING:
    from collections.abc import Sequence

    from socialcredit.engine import Engine
    from socialcredit.ledger.backfills import Backfill
    from socialcredit.scoring import RecordLine

SubjectArgument = Annotated[str, typer.Argument(help="The subject's identifier.")]
AttrOption = Annotated[
    list[str] | None,
    typer.Option(
        "--attr",
        metavar="NAME=VALUE",
        help="A request attribute the policy declares for the service, as name=value "
        "(repeat for several), e.g. --attr class=first --attr price=550.",
        show_default="none",
    ),
]


def _attributes(
    engine: Engine, service: str | None, at: int | None, pairs: list[str] | None
) -> dict[str, Any] | None:
    """``--attr name=value`` options as the request attributes of ``service`` under the
    policy in force at ``at`` (numbers read as numbers); None when none is given."""
    if not pairs:
        return None
    policy = engine.policy_at(engine.clock() if at is None else at)
    return policy.attributes_from_pairs(service, pairs, "--attr")


def _under(label: str, content_hash: str) -> str:
    return f"{label} (sha256 {content_hash[:12]})"


@app.command()
def score(
    subject: SubjectArgument,
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """A subject's score, grade, lists and measures in force, with the breakdown."""
    with open_ledger(db) as ledger:
        engine = open_engine(ledger, policy)
        st = engine.standing(subject, parse_at(at))
        compiled = engine.policy_at(st.at)
    if as_json:
        print_json(st.to_json())
        return
    from socialcredit.explain_text import requests_text, score_sentences, score_text
    from socialcredit.policy.compiled import NOT_DETERMINABLE

    print_wrapped(
        (st.subject, "bold"),
        f" ({st.kind}) on {local_date(st.at, st.utc_offset)} under "
        f"{_under(st.policy_version, st.policy_hash)}: score ",
        (score_text(st), "bold"),
        ", grade ",
        (st.grade if st.grade is not None else NOT_DETERMINABLE, "bold"),
        # as ``check`` says it: the ledger had heard nothing of the subject by then
        "" if st.known else " (no entries about this subject then)",
    )
    for sentence in score_sentences(st):
        print_wrapped(f"  {sentence}")
    _answer_notes(st.at, st.backfilled, subject)
    for m in st.lists:
        print_wrapped(
            f"  on {m.kind} list ",
            (m.name, "bold"),
            f" since {local_date(m.since, st.utc_offset)}"
            + (
                f" until {local_date(m.until, st.utc_offset)}"
                if m.until is not None
                else ", with no end date"
            ),
        )
    from socialcredit.cli.tables import print_table

    if st.measures:
        print_table(
            out,
            "measures in force",
            ("measure", "service", "effect", "since", "until", "via"),
            [
                (
                    ms.name,
                    ms.service,
                    # a measure limited to some requests says which (first class seats)
                    ms.effect
                    + requests_text(
                        compiled,
                        ms.service,
                        [c.model_dump(by_alias=True, exclude_none=True) for c in ms.applies_to],
                    ),
                    local_date(ms.since, st.utc_offset) or "",
                    local_date(ms.until, st.utc_offset) or "no end",
                    f"{ms.via_relation} {ms.via_subject}" if ms.via_subject else "",
                )
                for ms in st.measures
            ],
            whole=(0, 1, 3, 4),
        )
    if st.exemptions:
        # the end of an exemption is not part of it: say the last day it covers
        print_table(
            out,
            "exemptions in force",
            ("exemption", "services", "from", "last day", "approved by", "reason"),
            [
                (
                    f"{x.source}/{x.id}",
                    ", ".join(x.services),
                    local_date(x.valid_from, st.utc_offset) or "",
                    local_date(x.valid_until - 1, st.utc_offset) or ""
                    if x.valid_until is not None
                    else "no end",
                    x.approved_by,
                    x.reason,
                )
                for x in st.exemptions
            ],
            whole=(0, 2, 3),
        )
    from socialcredit.wallet_lines import wallet_lines

    versions = current_versions(st.breakdown)
    lines = [line for line, _ in versions]
    in_wallets = list(zip(lines, wallet_lines(compiled, lines, st.at), strict=True))
    walleted = any(said for _, said in in_wallets)
    if walleted:  # a wallet's records are said as what they earned or spent
        print_table(
            out,
            "wallet records",
            ("record", "type", "occurred", "in the wallet"),
            [
                (
                    f"{line.source}/{line.id}",
                    line.type,
                    local_date(line.occurred_at, st.utc_offset) or "",
                    said,
                )
                for line, said in in_wallets
                if said
            ],
            whole=(0, 1, 2),
        )
        versions = [v for v, (_, said) in zip(versions, in_wallets, strict=True) if not said]
    if versions or not walleted:
        print_table(
            out,
            f"breakdown (base {number(st.base)})",
            ("record", "type", "occurred", "points", "points now", "status", "expires"),
            [
                (
                    f"{line.source}/{line.id}",
                    line.type,
                    local_date(line.occurred_at, st.utc_offset) or "",
                    signed(line.points),
                    _signed(line.contribution),
                    status,
                    local_date(line.expires_at, st.utc_offset) or "never",
                )
                for line, status in versions
            ],
            whole=(0, 1, 2, 6),
        )
    for line, _ in current_versions(st.breakdown):
        if line.claimed_recorded_at is not None:
            print_wrapped(
                f"{line.source}/{line.id}: recorded by the source on "
                f"{to_iso(line.claimed_recorded_at)}, received by the ledger on "
                f"{to_iso(line.recorded_at)} (it counts from then)"
            )


def _answer_notes(at: int, backfilled: Sequence[Backfill], subject: str) -> None:
    """The sentences an answer about ``at`` carries: when it counts history loaded later,
    and when ``at`` is still to come (the answer is a projection of today's ledger)."""
    import time

    from socialcredit.ledger.backfills import sentence

    note = sentence(at, backfilled, f"about {subject} and the subjects related to it")
    if note:
        print_wrapped(note)
    if at > time.time():
        print_wrapped(
            f"{to_iso(at)} is still to come: this answer counts only the entries the ledger "
            "holds now; entries it receives before then may change it."
        )


def _signed(x: float) -> str:
    """``+1.50``, ``-2.00``, ``+1,234,567.00``; nothing (and -0.0) as ``0.00``."""
    return "0.00" if round(x, 2) == 0 else f"{x:+,.2f}"


def current_versions(breakdown: list[RecordLine]) -> list[tuple[RecordLine, str]]:
    """Each record once, as it now stands, with its status in words.

    A rectification leaves the superseded version in the breakdown (status "annulled or
    rectified"): only the current, corrected version is shown, marked "rectified". A record
    with no version in effect was annulled: its latest version is shown, "annulled".
    """
    from socialcredit.scoring.evaluate import STATUS_NAMES, SUPERSEDED

    superseded = STATUS_NAMES[SUPERSEDED]
    by_record: dict[tuple[str, str], list[RecordLine]] = {}
    for line in breakdown:
        by_record.setdefault((line.source, line.id), []).append(line)
    shown = []
    for line in breakdown:
        versions = by_record[(line.source, line.id)]
        live = [v for v in versions if v.status != superseded]
        if live:
            if line.status == superseded:
                continue  # an earlier version of a rectified record
            status = line.status + (", rectified" if line.rectified else "")
        else:
            if line is not max(versions, key=lambda v: (v.rectified, v.recorded_at, v.row)):
                continue
            status = "annulled"
        status += " (resolved)" if line.resolved_at else ""
        status += " (disputed after the window: no effect)" if line.dispute_late_at else ""
        status += " (review overdue)" if line.overdue_since else ""
        shown.append((line, status))
    return shown


@app.command()
def check(
    subject: SubjectArgument,
    service: Annotated[str, typer.Argument(help="The service asked for, e.g. air_travel.")],
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
    attr: AttrOption = None,
) -> None:
    """What a service point learns: allow or deny and a reason code, nothing more.

    A service the policy does not know is an error (exit 2); a subject the ledger had no
    entry about at that time is allowed, and the answer says so ("known": false).

    A request attribute (--attr) the policy does not declare for the service, of the wrong
    type, or missing when a measure on the service tests it is an error too (exit 2).
    """
    with open_ledger(db) as ledger:
        engine = open_engine(ledger, policy)
        t = parse_at(at)
        request = _attributes(engine, service, t, attr)
        decision = engine.check(subject, service, t, request)
    if as_json:
        print_json(decision.to_json())
        return
    colour = "green" if decision.decision == "allow" else "red"
    line = f" {subject} {service}"
    if decision.attributes:
        line += (
            " ("
            + ", ".join(
                f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in decision.attributes.items()
            )
            + ")"
        )
    if decision.reasons:
        line += f" reasons: {', '.join(decision.reasons)}"
        if decision.indefinite:
            line += "; no end date"
        elif decision.eligible_again_on:
            line += f"; eligible again on {decision.eligible_again_on}"
        # else: no date the rules give (a perk no benefit gives: NOT-GRANTED)
    if decision.benefits:  # what a perk's counter needs: the benefit in force, by code
        line += f" benefits: {', '.join(decision.benefits)}"
    if decision.exemptions:
        waived = ", ".join(decision.exempted)
        line += f" ({waived} waived by {decision.exemption_text})"
    if not decision.known:
        line += " (no entries about this subject" + (" then)" if at else ")")
    line += f" under {_under(decision.policy_version, decision.policy_hash)}"
    print_wrapped((decision.decision.upper(), colour), line)
    _answer_notes(decision.at, decision.backfilled, subject)


@app.command()
def explain(
    subject: SubjectArgument,
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            help="Explain this service.",
            show_default="every service with a measure in force",
        ),
    ] = None,
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
    attr: AttrOption = None,
) -> None:
    """Why a subject is allowed or denied, until when, and what would end it sooner.

    With --attr (and --service), about that one request; without, about every request,
    saying which requests each measure stops."""
    with open_ledger(db) as ledger:
        engine = open_engine(ledger, policy)
        t = parse_at(at)
        request = _attributes(engine, service, t, attr)
        explanations = engine.explain_services(subject, [service] if service else None, t, request)
        st = explanations[0].standing if explanations else engine.standing(subject, t)
    if as_json:
        print_json(
            [e.to_json() for e in explanations] if not service else explanations[0].to_json()
        )
        return
    _answer_notes(st.at, st.backfilled, subject)
    if not explanations:
        from socialcredit.explain_text import score_text
        from socialcredit.policy.compiled import NOT_DETERMINABLE

        print_wrapped(
            f"{subject}: score {score_text(st)}, grade {st.grade or NOT_DETERMINABLE}; no measure "
            f"is in force under {_under(st.policy_version, st.policy_hash)}."
        )
    for e in explanations:
        out.print(styled((f"{subject} — {e.decision.service}", "bold")))
        print_wrapped(e.text)
        out.print(
            styled(f"(policy {e.standing.policy_version}, sha256 {e.standing.policy_hash[:12]})")
        )
        out.print()
