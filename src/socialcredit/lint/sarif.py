"""SARIF 2.1.0: lint reports in the format code hosts read, so that findings show on the
policy file in a pull request. Silenced findings are results with an in-source
suppression carrying their justification; a policy that cannot be read is one error
result (``invalid-policy``) per problem."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from socialcredit.lint.findings import Finding, LintReport
from socialcredit.lint.rules import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INVALID = "invalid-policy"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _rules() -> list[dict[str, Any]]:
    rules = [
        {
            "id": r.id,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": f"{r.summary} {r.anchor}: {r.quote}."},
            "help": {"text": f"{r.fix} (docs/lint-rules.md, {r.id})"},
            "defaultConfiguration": {"level": _LEVEL[r.severity]},
            "properties": {"anchor": r.anchor, "quote": r.quote},
        }
        for r in RULES.values()
    ]
    rules.append(
        {
            "id": INVALID,
            "name": INVALID,
            "shortDescription": {"text": "The policy cannot be read or is not valid."},
            "defaultConfiguration": {"level": "error"},
        }
    )
    return rules


def _location(file: str, line: int | None, path: str) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": file.replace("\\", "/")}}
    if line:
        physical["region"] = {"startLine": line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if path:
        location["logicalLocations"] = [{"fullyQualifiedName": path}]
    return location


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": _LEVEL[f.severity],
        "message": {"text": f"{f.message} ({f.anchor})"},
        "locations": [_location(f.file, f.line, f.path)],
    }
    if f.justification is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": f.justification}]
    return result


def sarif_log(
    reports: Sequence[LintReport],
    invalid: Sequence[tuple[str, int | None, str, str]] = (),
    version: str = "",
) -> dict[str, Any]:
    """One SARIF 2.1.0 log of ``reports`` (and of ``invalid`` policies' problems, each
    (file, line, field path, message)): one run of the tool, every rule described."""
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = [_result(f, index) for r in reports for f in (*r.findings, *r.silenced)]
    results += [
        {
            "ruleId": INVALID,
            "ruleIndex": index[INVALID],
            "level": "error",
            "message": {"text": message},
            "locations": [_location(file, line, path)],
        }
        for file, line, path, message in invalid
    ]
    driver: dict[str, Any] = {
        "name": "socialcredit-policy-lint",
        "rules": rules,
    }
    if version:
        driver["version"] = version
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
