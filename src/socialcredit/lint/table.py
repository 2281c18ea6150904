"""The rows a terminal shows for a lint report: findings (line, rule and severity, the
message with its field path and anchor) and those the policy silenced, with why."""

from __future__ import annotations

from socialcredit.lint.findings import Finding, LintReport

HEADERS = ("line", "rule", "finding")


def finding_rows(findings: tuple[Finding, ...]) -> list[tuple[str, str, str]]:
    """One row per finding: (line, ``SC101 error``, message / path / anchor lines)."""
    rows = []
    for f in findings:
        lines = [f.message, f"at {f.path}" if f.path else "", f"{f.anchor}: {f.quote}"]
        if f.justification is not None:
            lines.append(f"silenced: {f.justification}")
        rows.append(
            (str(f.line or ""), f"{f.rule}\n{f.severity}", "\n".join(x for x in lines if x))
        )
    return rows


def summary(report: LintReport) -> str:
    """``china-scs@2026.3: 18 errors, 38 warnings, 0 info; 0 silenced``."""
    e, w, i = (report.count(s) for s in ("error", "warning", "info"))
    return (
        f"{report.policy}: {e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}, "
        f"{i} info; {len(report.silenced)} silenced"
    )
