"""``policy …``: read, validate, activate and list policies."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from socialcredit.cli.common import (
    AtOption,
    DbOption,
    JsonOption,
    err,
    open_engine,
    open_ledger,
    out,
    parse_at,
    policy_app,
    print_json,
    styled,
)
from socialcredit.cli.setup import OverrideOption, activate
from socialcredit.cli.tables import help_text
from socialcredit.explain_words import number, plural, signed
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from socialcredit.policy import CompiledPolicy
    from socialcredit.policy.model import NamedScore, RecordType
    from socialcredit.spans import Span

# command modules import what only they need inside each command (start-up time)


_SCHEMA_HELP = """Print the policy language's JSON Schema, Draft 2020-12 (for editors and CI checks).

It accepts every policy `policy validate` accepts, as far as shape goes; declared names
and grade order only `policy validate` checks.
"""


@policy_app.command("schema", help=help_text(_SCHEMA_HELP))
def policy_schema() -> None:
    """Print the policy language's JSON Schema, Draft 2020-12 (for editors and CI checks)."""
    from socialcredit.policy import policy_json_schema

    print_json(policy_json_schema())


_VALIDATE_HELP = """Check policy files; print every problem with file, line and field.

Exit code 0 when every file is valid; 2 when any file is invalid or cannot be read, as
for every command given an unusable policy (`policy activate`, `--policy FILE`).
"""


@policy_app.command("validate", help=help_text(_VALIDATE_HELP))
def policy_validate(
    files: Annotated[list[Path], typer.Argument(help="Policy files to check.")],
    as_json: JsonOption = False,
) -> None:
    """Check policy files; print every problem with file, line and field."""
    from socialcredit.policy import PolicyError, load_policy

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
                out.print(
                    styled(
                        ("ok", "green"), f" {path}: {loaded.label} (sha256 {loaded.content_hash})"
                    )
                )
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
                    err.print(styled(("error:", "red"), " ", str(p)))
    if as_json:
        print_json(results)
    if failed:
        raise typer.Exit(PolicyError.exit_code)


_ACTIVATE_HELP = """Store a policy in the database as the active version (decisions name it).

The policy is linted first (`policy lint`): one with lint errors is refused (exit code 1)
unless given --override "justification"; the findings and the override are recorded with
the activation (`policy history`). Exit code 2 when the policy is invalid or cannot be
read (as for `policy validate`).
"""


@policy_app.command("activate", help=help_text(_ACTIVATE_HELP))
def policy_activate(
    file: Annotated[Path, typer.Argument(help="The policy file to make active.")],
    db: DbOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Who activates it (recorded).")] = None,
    override: OverrideOption = None,
) -> None:
    """Store a policy in the database as the active version (decisions name it)."""
    from socialcredit.lint.gate import gate
    from socialcredit.policy import load_policy

    loaded = load_policy(file)
    gate(loaded, override)  # a refused policy creates no database
    with open_ledger(db, create=True) as ledger:
        activate(ledger, file, by, override)


_SHOW_HELP = """Summarise a policy: record types, lists, services and the measures they trigger.

Identifiers are never shortened: in a narrow terminal or a pipe, tables wrap their text
at spaces, or print one block per row.
"""


@policy_app.command("show", help=help_text(_SHOW_HELP))
def policy_show(
    file: Annotated[
        Path | None, typer.Argument(help="A policy file.", show_default="the active policy")
    ] = None,
    db: DbOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Summarise a policy: record types, lists, services and the measures they trigger."""
    from socialcredit.policy import compile_policy, load_policy

    activated: int | None = None
    when: int | None = None  # the time asked about with --at
    if file is not None:
        if at is not None:
            raise typer.BadParameter(
                "a policy file is the same at any time: --at picks the ledger's policy in "
                "force then; give one or the other",
                param_hint="'--at'",
            )
        cp = compile_policy(load_policy(file))
    else:
        with open_ledger(db) as ledger:
            engine = open_engine(ledger, None)
            when = parse_at(at)
            t = engine.clock() if when is None else when
            pv = engine.policy_version_at(t)
            cp, activated = engine.policy_at(t), pv.version if pv is not None else None
    if as_json:
        data = cp.policy.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["content_hash"] = cp.loaded.content_hash
        data["activated_version"] = activated
        if when is not None:
            data["in_force_at"] = to_iso(when)
        print_json(data)
        return
    show_policy(cp, activated, when)


def score_lines(cp: CompiledPolicy) -> list[str]:
    """Each score of ``cp``: base, bounds, components and grades, one line each."""
    from socialcredit.policy.model import NamedScore

    p = cp.policy
    declared: list[tuple[str | None, NamedScore]] = list(p.scores.items())
    if p.score is not None and p.grades is not None:
        unnamed = NamedScore(base=p.score.base, min=p.score.min, max=p.score.max, grades=p.grades)
        declared.insert(0, (None, unnamed))
    lines = []
    for name, sc in declared:
        grades = ", ".join(_grade_bands(sc))
        bounds = "".join(
            f"; {word} {number(value)}" for word, value in (("min", sc.min), ("max", sc.max))
            if value is not None
        )  # fmt: skip
        parts = []
        for cname, c in sc.components.items():
            what = (
                f"{signed(c.clean_year.points)} a clean year from {c.clean_year.first_year}"
                if c.clean_year is not None
                else f"the mean {c.related.score} score of those one is {c.related.relation}, "
                f"less its base"
                if c.related is not None
                else ", ".join(c.types or []) or f"category {c.category}"
            )
            limits = "".join(
                f", {word} {number(value)}" for word, value in (("min", c.min), ("max", c.max))
                if value is not None
            )  # fmt: skip
            weight = f", weight {c.weight:g}" if c.weight != 1 else ""
            parts.append(f"{cname} ({what}{limits}{weight})")
        label = "score" if name is None else f"score {name}"
        components = f"; components: {', '.join(parts)}" if parts else ""
        if sc.wallet is not None:
            lines.append(f"{label}: {sc.wallet.describe()}; grades: {grades}")
            continue
        if sc.rating is not None:
            r = sc.rating
            lines.append(
                f"{label}: ratings ({', '.join(r.types)}) from {r.lowest:g} to {r.highest:g}, "
                "one per rater and subject a term (the last given), averaged with a prior of "
                f"{r.prior_weight:g} ratings of {r.prior_mean:g}{bounds}; grades: {grades}"
            )
            continue
        lines.append(f"{label}: base {number(sc.base)}{bounds}{components}; grades: {grades}")
    return lines


def _source_lines(display_name: str, spec: dict[str, Any]) -> str:
    """What a source may submit, one kind a line, under the name people are told."""
    lines = [display_name]
    for field, what in (
        ("record_types", "records"),
        ("relations", "relations"),
        ("attributes", "attributes"),
        ("exemptions", "exemptions from"),
    ):
        if spec[field]:
            lines.append(f"{what}: {', '.join(spec[field])}")
    if len(lines) == 1:
        lines.append("nothing")
    return "\n".join(lines)


def show_policy(cp: CompiledPolicy, activated: int | None = None, when: int | None = None) -> None:
    """Print ``cp`` as a header and tables, identifiers whole at any terminal width;
    ``when``: the time it was asked about (the ledger's policy in force then)."""
    from socialcredit.cli.tables import print_table
    from socialcredit.explain_text import requests_text
    from socialcredit.policy.describe import condition_text as _condition
    from socialcredit.policy.describe import eligibility_text as _eligible
    from socialcredit.policy.describe import span_text as _span

    p = cp.policy
    out.print(styled((f"{p.meta.title} — {p.label()}", "bold")))
    out.print(styled(f"sha256 {cp.loaded.content_hash}"))
    if activated is not None and when is not None:
        out.print(styled(f"in force at {to_iso(when)}: ledger policy version {activated}"))
    elif activated is not None:
        out.print(styled(f"active: ledger policy version {activated}"))
    if p.meta.description:
        out.print(styled(p.meta.description.strip()))
    for line in score_lines(cp):
        out.print(styled(line))
    print_table(
        out,
        "record types",
        ("type", "points", "counts for", "context, category, evidence"),
        [
            (
                name,
                signed(rt.points),
                _span(rt.expires_after)
                + _term_text(rt)
                + (" (decays)" if rt.decay == "linear" else "")
                + (" (resolvable)" if rt.resolvable else "")
                + (f"; only while: {_eligible(rt.eligible)}" if rt.eligible else ""),
                f"{rt.context}, {rt.category}, {rt.evidence}"
                + ("" if len(rt.subject_kinds) == 2 else f"; {', '.join(rt.subject_kinds)} only"),
            )
            for name, rt in p.record_types.items()
        ],
    )
    if p.attributes:
        print_table(
            out,
            "subject attributes",
            ("attribute", "type", "description"),
            [
                (
                    name,
                    a.type
                    + ("" if len(a.subject_kinds) == 2 else f"; {', '.join(a.subject_kinds)} only"),
                    a.description.strip(),
                )
                for name, a in p.attributes.items()
            ],
        )
    if p.relations:
        print_table(
            out,
            "relations",
            ("relation", "from → to", "description"),
            [
                (name, f"{r.from_kind} → {r.to_kind}", r.description.strip())
                for name, r in p.relations.items()
            ],
        )
    if p.sources:
        print_table(
            out,
            "sources (each may also correct its own records)",
            ("source", "may submit"),
            [
                (name, _source_lines(src.display_name, src.model_dump()))
                for name, src in p.sources.items()
            ],
        )
    list_rows = []
    for name, lst in p.lists.items():
        lines = [f"told as: {cp.list_name(name)}", f"on it while: {_condition(lst.when)}"]
        if lst.delist_after_resolution:
            lines.append(f"lifted {_span(lst.delist_after_resolution)} after a resolution")
        if lst.eligible:
            lines.append(f"only for: {_eligible(lst.eligible)}")
        if lst.description.strip():
            lines.append(" ".join(lst.description.split()))
        list_rows.append((name, lst.kind, "\n".join(lines)))
    print_table(out, "lists", ("list", "kind", "what"), list_rows)

    def service_lines(service: str) -> str:
        lines = [cp.service_name(service), f"action: {cp.service_action(service)}"]
        declared = p.services.get(service)
        if declared is not None and declared.parent is not None:
            lines.append(f"part of: {declared.parent}")
        if declared is not None and declared.context is not None:
            lines.append(f"context: {declared.context}")
        for name, attr in cp.service_attributes(service).items():
            kind = " | ".join(attr.values or []) if attr.type == "one_of" else attr.type
            lines.append(f"attribute {name}: {kind}")
        return "\n".join(lines)

    print_table(
        out,
        "services",
        ("service", "told as"),
        [(s, service_lines(s)) for s in cp.services()],
    )
    rows = []
    for s in cp.sanctions:
        duration = "while triggered" if s.fixed is None else f"for {_span(s.fixed)}"
        if s.after_resolution is not None:
            duration = f"until {_span(s.after_resolution)} after its records are resolved"
        if s.max_duration is not None:
            duration += f", at most {_span(s.max_duration)}"
        lines = [f"{s.effect} {duration}", f"when {_condition(s.when)}"]
        if s.notice is not None:
            held = "; a pending objection holds it back" if s.objection_blocks else ""
            lines.append(f"starts after a publicity period of {_span(s.notice)}{held}")
        if s.reach:
            lines.append(f"reaches {', '.join(s.reach)}")
        if s.applies_to:
            conds = [c.model_dump(by_alias=True, exclude_none=True) for c in s.applies_to]
            lines.append("only" + requests_text(cp, s.service, conds))
        if len(s.covers) > 1:
            lines.append(f"covers {', '.join(s.covers[1:])} too")
        lines.append(f"code {s.reason_code}")
        rows.append((s.name, s.service, "\n".join(lines)))
    print_table(out, "sanctions and rewards", ("measure", "service", "what"), rows, whole=(0, 1))
    dp = p.due_process
    yes = {True: "yes", False: "no"}
    if p.calendar is not None:
        first = (
            "the day it starts from counts"
            if p.calendar.first_day_counted
            else "the day it starts from does not count"
        )
        out.print(
            styled(
                f"calendar: days and months in UTC{p.calendar.utc_offset}; "
                f"{cp.calendar_note()}; in a period of working days {first}"
            )
        )
    if p.reevaluation is not None:
        out.print(
            styled(
                f"re-evaluated every {p.reevaluation.every.describe()} from the first day of "
                f"{p.reevaluation.starting}: every answer is the one given at the last "
                "re-evaluation, with what the ledger had received by then"
            )
        )
    overdue = {
        "delete": "or the record is deleted",
        "keep": "(a late decision keeps the record)",
        "flag": "(a late decision keeps the record, reported as overdue)",
    }
    out.print(
        styled(
            f"due process: notice before a measure: {yes[dp.notice_before_sanction]}; "
            f"{_appeal_window(dp.appeal_window)}; disputes decided within "
            f"{_span(dp.reinvestigation_deadline)} {overdue[dp.on_overdue]}; disputed records "
            f"count: {yes[dp.disputed_records_count]}; human review: {yes[dp.human_review]}"
        )
    )
    for proc in cp.processes[1:]:
        types = [n for n in cp.type_names if cp.process_of(n).index == proc.index]
        recon = (
            f"; reconsideration applied for within {_span(proc.reconsider_within)}, decided "
            f"within {_span(proc.reconsider_deadline)}"
            if proc.reconsider_within is not None and proc.reconsider_deadline is not None
            else ""
        )
        out.print(
            styled(
                f"due process of {', '.join(types)} (from {proc.origin}): "
                f"{_appeal_window(proc.appeal_window)}; disputes decided within "
                f"{_span(proc.review_deadline)} {overdue[proc.on_overdue]}{recon}; disputed "
                f"records count: {yes[proc.counts_while_disputed]}"
            )
        )


def _lint_cell(lint: Any) -> str:
    """``18 errors, 38 warnings`` and the override's justification, or ``not linted``."""
    if not lint["linted"]:
        return "not linted"
    text = f"{plural(lint['errors'], 'error')}, {plural(lint['warnings'], 'warning')}"
    if lint["silenced"]:
        text += f", {lint['silenced']:,} silenced"
    if lint["override"]:
        text += f"\noverride: {lint['override']}"
    return text


def _term_text(rt: RecordType) -> str:
    """`` (own term 1 year to 3 years; extendable by 1 year to 3 years)``, or empty."""
    from socialcredit.policy.describe import span_text

    if rt.term is None:
        return ""
    low, high, ext_low, ext_high = rt.term_bounds()
    parts = []
    if low != high:
        parts.append(f"own term {span_text(low)} to {span_text(high)}")
    if ext_high:
        parts.append(f"extendable by {span_text(ext_low)} to {span_text(ext_high)}")
    return f" ({'; '.join(parts)})" if parts else ""


@policy_app.command("history")
def policy_history(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List every policy version ever activated in this database.

    recorded_at is when the ledger made the activation; backfill marks an activation dated
    before that (history loaded explicitly, as the demo does).
    """
    from socialcredit.lint.gate import summary_json

    with open_ledger(db) as ledger:
        rows = [
            {
                "version": pv.version,
                "policy": f"{pv.policy_id}@{pv.declared_version}",
                "sha256": pv.content_hash,
                "activated_at": to_iso(pv.activated_at),
                "activated_by": pv.activated_by,
                "recorded_at": to_iso(pv.recorded_at) if pv.recorded_at is not None else None,
                "backfill": pv.backfill,
                "lint": summary_json(pv.findings(), pv.lint_override, pv.lint_findings is not None),
            }
            for pv in ledger.policy_history()
        ]
    if as_json:
        print_json(rows)
        return
    from socialcredit.cli.tables import print_table

    print_table(
        out,
        "policy versions",
        ("version", "policy", "sha256", "activated_at", "activated_by", "lint"),
        [
            (
                str(r["version"]),
                str(r["policy"]),
                str(r["sha256"]),
                str(r["activated_at"] or "")
                + (f" (backfill, recorded {r['recorded_at']})" if r["backfill"] else ""),
                str(r["activated_by"] or ""),
                _lint_cell(r["lint"]),
            )
            for r in rows
        ],
        whole=(0, 1, 2, 3),
    )


def _appeal_window(span: Span) -> str:
    """The appeal window in ``policy show``: ``appeal window 30 days``, or that there is
    none (``appeal_window: any time``)."""
    from socialcredit.policy.describe import span_text

    if span.unlimited:
        return "no appeal deadline (a record may be disputed at any time)"
    return f"appeal window {span_text(span)}"


def _grade_bands(score: NamedScore) -> list[str]:
    """Each grade with its band: 'A ≥ 900', an unpublished cut-off as declared, and the
    grade without a cut-off as what it is: below the grade before it ('D below 600', 'D
    below C's cut-off' when that one is unpublished), or every score when it is alone."""
    bands = []
    before: tuple[str, float | None] | None = None  # the grade before: name, cut-off
    for g in score.grades:
        if g.unpublished:
            bands.append(f"{g.name} ≥ {g.at_least}")
            before = (g.name, None)
        elif g.at_least is not None:
            before = (g.name, float(g.at_least))
            bands.append(f"{g.name} ≥ {number(before[1])}")
        elif before is None:
            bands.append(f"{g.name} at every score")
        elif before[1] is None:
            bands.append(f"{g.name} below {before[0]}'s cut-off")
        else:
            bands.append(f"{g.name} below {number(before[1])}")
    return bands
