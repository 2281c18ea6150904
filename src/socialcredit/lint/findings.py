"""Findings: what a lint rule found, where (file, YAML line, field path), and the report of
one policy file with the findings silenced by the policy's own ``lint: ignore`` entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from socialcredit.lint.rules import RULES, Severity

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Hit:
    """What a check found, before it is located: the rule, the field path, the message."""

    rule: str
    path: Path
    message: str


@dataclass(frozen=True, order=True)
class Finding:
    """One finding: ``rule`` (``SC101``), its ``severity``, a one-sentence ``message``,
    where it is (``file``, ``line``, dotted field ``path``) and, when the policy silenced
    it, the recorded ``justification``."""

    file: str
    line: int
    rule: str
    path: str
    message: str
    severity: Severity = field(compare=False)
    justification: str | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """The rule's short name (``cross-context-detriment``)."""
        return RULES[self.rule].name

    @property
    def anchor(self) -> str:
        """The law or principle the rule reflects."""
        return RULES[self.rule].anchor

    @property
    def quote(self) -> str:
        """A short quote or summary of the anchor."""
        return RULES[self.rule].quote

    def to_json(self) -> dict[str, Any]:
        """The finding as ``policy lint --json`` prints it."""
        data: dict[str, Any] = {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "anchor": self.anchor,
            "quote": self.quote,
            "file": self.file,
            "line": self.line or None,
            "path": self.path,
        }
        if self.justification is not None:
            data["justification"] = self.justification
        return data


@dataclass(frozen=True)
class LintReport:
    """The lint of one policy: its ``findings`` and those it ``silenced`` (each with its
    justification), both sorted by line, rule and path."""

    file: str
    policy: str
    content_hash: str
    findings: tuple[Finding, ...]
    silenced: tuple[Finding, ...]

    def count(self, severity: Severity) -> int:
        """How many findings (not silenced) have ``severity``."""
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings of severity error (not silenced)."""
        return tuple(f for f in self.findings if f.severity == "error")

    def fails(self, strict: bool = False) -> bool:
        """Whether the policy fails the lint: an error, or with ``strict`` a warning too."""
        return any(
            f.severity == "error" or (strict and f.severity == "warning") for f in self.findings
        )

    def to_json(self) -> dict[str, Any]:
        """The report as ``policy lint --json`` prints it (one per file)."""
        return {
            "file": self.file,
            "valid": True,
            "policy": self.policy,
            "sha256": self.content_hash,
            "counts": {s: self.count(s) for s in ("error", "warning", "info")},
            "findings": [f.to_json() for f in self.findings],
            "silenced": [f.to_json() for f in self.silenced],
        }
