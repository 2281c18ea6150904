"""``subjects``: everyone's standing, filtered by grade, list, denied service or kind."""

from __future__ import annotations

import difflib
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from socialcredit.cli.common import (
    AtOption,
    CliError,
    DbOption,
    JsonOption,
    LimitOption,
    PolicyOption,
    app,
    err,
    open_engine,
    open_ledger,
    out,
    parse_at,
    print_json,
    styled,
)
from socialcredit.cli.tables import help_text
from socialcredit.explain_words import number, plural

if TYPE_CHECKING:
    from socialcredit.policy import CompiledPolicy


class Kind(StrEnum):
    """The subject kinds ``--kind`` accepts."""

    person = "person"
    organisation = "organisation"


def _unknown(what: str, name: str, known: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = (
        f"did you mean {close[0]!r}?" if close else f"the policy's {what}s are {', '.join(known)}"
    )
    return f"unknown {what} {name!r} ({hint})"


def filter_problems(
    cp: CompiledPolicy, grade: str | None, on_list: str | None, denied: str | None
) -> list[str]:
    """Every problem with the filters under policy ``cp``; empty when all can be applied."""
    from socialcredit.engine import require_service
    from socialcredit.errors import UnknownServiceError

    problems = []
    if grade is not None and grade not in cp.grade_names:
        problems.append(_unknown("grade", grade, cp.grade_names))
    names = [lst.name for lst in cp.lists]
    if on_list is not None and on_list not in names:
        problems.append(_unknown("list", on_list, names))
    if denied is not None:
        try:
            require_service(cp, denied)
        except UnknownServiceError as exc:
            problems.append(exc.message)
        else:
            granted = cp.granted_services()
            # a service only a benefit gives is denied to whoever has none (NOT-GRANTED)
            if denied not in granted and not any(s.effect == "deny" for s in cp.covering(denied)):
                deniable = sorted({s.service for s in cp.sanctions if s.effect == "deny"})
                problems.append(
                    f"no measure of {cp.version_label} denies {denied!r}; the services it "
                    f"denies are {', '.join(deniable) or 'none'}"
                    + (
                        f", and {', '.join(sorted(granted))} to whoever no benefit gives them"
                        if granted
                        else ""
                    )
                )
    return problems


_HELP = """List subjects with their grade, lists and why a measure is in force for them.

Filters combine (all must hold). They are checked against the policy in force at the
time asked about before anyone is scored: an unknown grade, list or service is an error
at once, with a did-you-mean. The reason column names, for each measure in force (only
the denials of the service given to --denied, if any: those on it or on a service it is
part of, even if limited to some requests), the list behind it, the condition that holds, or the relation it comes through (e.g. "child_of P123"); the table shows the
lists a subject is on and then the other reasons, --json both apart. Subjects are in
ledger order; an offset and a limit page through them.
"""


@app.command(help=help_text(_HELP))
def subjects(
    db: DbOption = None,
    at: AtOption = None,
    policy: PolicyOption = None,
    grade: Annotated[
        str | None,
        typer.Option(
            "--grade",
            help="Only this grade (of the policy's first score, when it has several).",
        ),
    ] = None,
    on_list: Annotated[
        str | None, typer.Option("--list", help="Only subjects on this list.")
    ] = None,
    denied: Annotated[
        str | None, typer.Option("--denied", help="Only subjects denied this service.")
    ] = None,
    kind: Annotated[
        Kind | None, typer.Option("--kind", help="Only persons or only organisations.")
    ] = None,
    offset: Annotated[
        int, typer.Option("--offset", min=0, help="Skip this many matching subjects.")
    ] = 0,
    limit: LimitOption = 50,
    as_json: JsonOption = False,
) -> None:
    """List subjects and why (see ``_HELP``)."""
    from socialcredit.columns import SUBJECT_KINDS
    from socialcredit.timeutil import to_iso

    with open_ledger(db) as ledger:
        engine = open_engine(ledger, policy)
        t = engine.clock() if at is None else parse_at(at)
        assert t is not None
        cp = engine.policy_at(t)
        problems = filter_problems(cp, grade, on_list, denied)
        if problems:
            raise CliError("\n".join(problems))
        with err.status("scoring everyone…"):
            bulk = engine.recompute(t)
    import numpy as np

    cp = bulk.policy
    # only the subjects the ledger knew of at the time asked about
    mask = np.ones(len(bulk.subjects), dtype=bool) if bulk.known is None else bulk.known.copy()
    if grade is not None:
        mask &= bulk.grade == cp.grade_names.index(grade)
    if on_list is not None:
        mask &= bulk.lists[cp.list_index(on_list)]
    deny = None
    if denied is not None:
        deny = [s.index for s in cp.covering(denied) if s.effect == "deny"]
        mask &= bulk.denied_on(denied)
    if kind is not None:
        mask &= bulk.kind == SUBJECT_KINDS.index(kind.value)
    # a service only a benefit gives (``granted``): denied to whoever has none
    not_granted = (
        ~bulk.with_measure_on(denied, "benefit")
        if denied is not None and denied in cp.granted_services()
        else None
    )
    idx = np.flatnonzero(mask)
    page = idx[offset : offset + limit] if limit else idx[offset:]
    scores = bulk.scores or (bulk.score,)
    rows: list[dict[str, Any]] = []
    for i, found in zip(page.tolist(), bulk.reasons(page.tolist(), deny), strict=True):
        rows.append(
            {
                "subject": bulk.subjects[i],
                "kind": bulk.kind_name(i),
                "score": round(float(bulk.score[i]), 4),  # as ``score --json``
                "grade": bulk.grade_name(i),
                # every score of a policy with several (``score``, ``grade``: the first)
                "scores": [
                    {
                        "name": sc.key,
                        "display_name": sc.display_name,
                        "score": round(float(scores[sc.index][i]), 4),
                        "grade": bulk.grade_name(i, sc.index),
                    }
                    for sc in cp.scores
                ],
                "lists": [lst.name for lst in cp.lists if bulk.lists[lst.index, i]],
                "reasons": list(dict.fromkeys(m.reason for m in found))
                + (
                    [f"NOT-GRANTED: no benefit gives {denied}"]
                    if not_granted is not None and not_granted[i]
                    else []
                ),
                "measures": [
                    {
                        "measure": m.sanction.name,
                        "service": m.sanction.service,
                        "effect": m.sanction.effect,
                        "reason_code": m.sanction.reason_code,
                        "reason": m.reason,
                        "via_relation": m.via_relation,
                        "via_subject": m.via_subject,
                    }
                    for m in found
                ],
            }
        )
    if as_json:
        print_json(
            {
                "at": to_iso(bulk.at),
                "policy_version": cp.version_label,
                "policy_hash": cp.loaded.content_hash,
                "backfilled": [b.to_json() for b in bulk.backfilled],
                "matching": len(idx),
                "offset": offset,
                "limit": limit,
                "subjects": rows,
            }
        )
        return
    from socialcredit.cli.tables import print_table

    out.print(
        styled(
            f"as of {to_iso(bulk.at)} under {cp.version_label} (sha256 {cp.loaded.content_hash})"
        )
    )
    from socialcredit.ledger.backfills import sentence

    note = sentence(bulk.at, bulk.backfilled, "in the ledger")
    if note:
        out.print(styled(note))
    shown = f"{offset + 1}-{offset + len(rows)}" if rows else "none"
    several = len(cp.scores) > 1  # then each score on a line of its own, named

    def scores_cell(r: dict[str, Any]) -> str:
        if not several:
            return number(r["score"])
        return "\n".join(f"{x['name']} {number(x['score'])}" for x in r["scores"])

    def grades_cell(r: dict[str, Any]) -> str:
        def grade(g: str | None) -> str:
            return g if g is not None else "not determinable"

        if not several:
            return grade(r["grade"])
        return "\n".join(f"{x['name']} {grade(x['grade'])}" for x in r["scores"])

    # the lists a subject is on, then the reasons that are not one of those lists (a
    # relation, a grade): one column, so that whole names fit an 80-column terminal
    print_table(
        out,
        f"{plural(len(idx), 'matching subject')} (showing {shown})",
        (
            "subject",
            "kind",
            "scores" if several else "score",
            "grades" if several else "grade",
            "lists, reasons",
        ),
        [
            (
                r["subject"],
                r["kind"],
                scores_cell(r),
                grades_cell(r),
                "\n".join([*r["lists"], *(x for x in r["reasons"] if x not in r["lists"])]),
            )
            for r in rows
        ],
        whole=(0, 3),
    )
