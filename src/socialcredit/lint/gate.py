"""The activation gate: a policy with lint errors is activated only with an override and
its justification, both recorded with the activation together with the findings
(``policy activate``, ``init --policy`` and the API's activation route all use this)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from socialcredit.errors import SocialCreditError
from socialcredit.lint.findings import Finding, LintReport
from socialcredit.lint.linter import lint_policy
from socialcredit.policy.loader import LoadedPolicy

SHOWN = 5
"""How many errors a refusal names (the rest: `policy lint`)."""


class LintGateError(SocialCreditError):
    """A policy with lint errors, to be activated without an override."""

    exit_code = 1
    http_status = 422

    def __init__(self, message: str, report: LintReport) -> None:
        super().__init__(message)
        self.report = report
        self.problems = [message] + [_line(f) for f in report.errors[:SHOWN]]


class BlankOverrideError(SocialCreditError):
    """An override given without a justification."""


def _line(f: Finding) -> str:
    where = f"{f.file}:{f.line}" if f.line else f.file
    return f"{where} at {f.path}: {f.rule} {f.message}"


@dataclass(frozen=True)
class GatePassed:
    """A policy the gate lets through: its ``report``, the ``findings`` to record (JSON)
    and the ``override`` to record (None when there were no errors to override)."""

    report: LintReport
    findings: str
    override: str | None


def gate(loaded: LoadedPolicy, override: str | None, how: str = "--override") -> GatePassed:
    """Lint ``loaded`` for activation: refuse it (``LintGateError``, naming the first errors)
    when it has lint errors and ``override`` is None; ``how`` names the way to give one in
    the message. A blank override is refused (``BlankOverrideError``); an override of a
    policy with no errors is not recorded."""
    if override is not None and not override.strip():
        raise BlankOverrideError(
            f"{how} needs a justification (why this policy may be activated despite its "
            "lint errors); it is recorded with the activation"
        )
    report = lint_policy(loaded)
    errors = report.errors
    if errors and override is None:
        n = len(errors)
        raise LintGateError(
            f"policy {loaded.label} has {n} lint error{'s' * (n != 1)}: not activated. "
            f"`socialcredit policy lint {loaded.source}` lists every finding; to activate "
            f'it anyway give {how} "justification" (recorded with the activation and its '
            "findings, and shown by `policy history`)",
            report,
        )
    findings = json.dumps(
        [f.to_json() for f in (*report.findings, *report.silenced)], ensure_ascii=False
    )
    return GatePassed(report, findings, override.strip() if errors and override else None)


def summary_json(
    findings: list[dict[str, object]], override: str | None, linted: bool
) -> dict[str, object]:
    """The lint part of an activation as ``policy history --json`` shows it: counts by
    severity (silenced apart), the override's justification and every finding; ``linted``
    False for an activation recorded without the gate (before it existed, or by a path that
    does not lint, such as the demo's), and then every count is null: nobody counted, so
    "0 errors" would be untrue."""
    active = [f for f in findings if "justification" not in f]

    def count(severity: str) -> int | None:
        return sum(f.get("severity") == severity for f in active) if linted else None

    return {
        "linted": linted,
        "errors": count("error"),
        "warnings": count("warning"),
        "info": count("info"),
        "silenced": len(findings) - len(active) if linted else None,
        "override": override,
        "findings": findings,
    }
