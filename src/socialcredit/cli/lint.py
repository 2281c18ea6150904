"""``policy lint``: check policies against proportionality, due process and the EU AI
Act's social-scoring ban (a thin shell over ``socialcredit.lint``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from socialcredit.cli.common import CliError, JsonOption, err, out, policy_app, print_json, styled
from socialcredit.cli.tables import help_text

if TYPE_CHECKING:
    from socialcredit.lint import LintReport
    from socialcredit.policy import LoadedPolicy

_LINT_HELP = """Check policies rule by rule before anyone is scored: cross-context detriment
and disproportion (EU AI Act Art. 5(1)(c)), records that never expire, punishment by
association, scored speech, missing due process, and hygiene (docs/lint-rules.md).

Each finding has a stable rule id, a severity, a message, the law it reflects and where it
is (file, line, field). A policy silences a rule for one element with `lint: {ignore:
{SC104: "why"}}`; the report lists what was silenced. Exit code 0 when no file has an
error (with --strict: nor a warning), 1 when one has, 2 when a file cannot be read or is
not a valid policy.
"""


def _patterns(values: list[str] | None, option: str) -> list[str]:
    from socialcredit.lint import RULES

    patterns = [p.strip().upper() for v in values or [] for p in v.split(",") if p.strip()]
    for p in patterns:
        if not any(rule.startswith(p) for rule in RULES):
            raise CliError(
                f"{option}: {p!r} is no lint rule id or id prefix (the rules are "
                f"{min(RULES)} to {max(RULES)}; docs/lint-rules.md lists them)"
            )
    return patterns


@policy_app.command("lint", help=help_text(_LINT_HELP))
def policy_lint(
    files: Annotated[list[Path], typer.Argument(help="Policy files to lint.")],
    as_json: JsonOption = False,
    sarif: Annotated[
        bool, typer.Option("--sarif", help="Print a SARIF 2.1.0 log (for code hosts).")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (exit 1) on warnings as well as errors.")
    ] = False,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            help="Only these rules: ids or prefixes (SC1, SC104); repeat or comma-separate.",
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore", help="Not these rules: ids or prefixes; repeat or comma-separate."
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Also say, for each measure, whom it hits and why."),
    ] = False,
) -> None:
    """Check policies rule by rule; exit 1 on errors, 2 on an unusable policy."""
    from socialcredit.lint import lint_policy
    from socialcredit.policy import PolicyError, load_policy

    if as_json and sarif:
        raise CliError("give --json or --sarif, not both")
    chosen, dropped = _patterns(select, "--select"), _patterns(ignore, "--ignore")
    reports: list[tuple[LoadedPolicy, LintReport]] = []
    invalid: list[tuple[str, int | None, str, str]] = []
    results: list[dict[str, object]] = []
    for path in files:
        try:
            loaded = load_policy(path)
        except PolicyError as exc:
            invalid += [(str(path), p.line, p.path, p.message) for p in exc.problems]
            results.append(
                {
                    "file": str(path),
                    "valid": False,
                    "problems": [
                        {"line": p.line, "path": p.path, "message": p.message} for p in exc.problems
                    ],
                }
            )
            if not (as_json or sarif):
                for p in exc.problems:
                    err.print(styled(("error:", "red"), " ", str(p)))
            continue
        report = lint_policy(loaded, chosen, dropped)
        reports.append((loaded, report))
        data = report.to_json()
        if explain:
            from socialcredit.lint.impact import impact_sentences

            data["impact"] = [
                {"measure": m, "sentence": s} for m, s in impact_sentences(loaded.policy)
            ]
        results.append(data)
        if not (as_json or sarif):
            _print_report(loaded, report, explain)
    if sarif:
        from socialcredit import __version__
        from socialcredit.lint.sarif import sarif_log

        print_json(sarif_log([r for _, r in reports], invalid, __version__))
    elif as_json:
        print_json(results)
    if invalid:
        raise typer.Exit(PolicyError.exit_code)
    if any(r.fails(strict) for _, r in reports):
        raise typer.Exit(1)


def _print_report(loaded: LoadedPolicy, report: LintReport, explain: bool) -> None:
    from socialcredit.cli.tables import print_table
    from socialcredit.lint.table import HEADERS, finding_rows, summary

    print_table(
        out,
        f"{report.file}: {report.policy}",
        HEADERS,
        finding_rows(report.findings),
        whole=(0, 1),
        label_first=True,
    )
    if report.silenced:
        print_table(
            out,
            "silenced by the policy (lint: ignore)",
            HEADERS,
            finding_rows(report.silenced),
            whole=(0, 1),
            label_first=True,
        )
    if explain:
        from socialcredit.lint.impact import impact_sentences

        print_table(
            out,
            "impact of each measure",
            ("measure", "whom it hits and why"),
            impact_sentences(loaded.policy),
        )
    colour = "red" if report.errors else "yellow" if report.findings else "green"
    out.print(styled((summary(report), colour)))
