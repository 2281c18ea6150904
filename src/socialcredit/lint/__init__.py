"""The policy linter: checks a policy, rule by rule, against proportionality, due process
and the EU AI Act's social-scoring ban before anyone is scored (docs/lint-rules.md).

``lint_policy(loaded)`` is a pure function of a loaded policy; ``RULES`` is the registry
of rules by stable id; reporters turn a report into a Rich table, JSON or SARIF 2.1.0, and
``impact_sentences`` says what each measure does to whom.
"""

from socialcredit.lint.findings import Finding, LintReport
from socialcredit.lint.linter import lint_policy
from socialcredit.lint.rules import RULES, Rule

__all__ = ["RULES", "Finding", "LintReport", "Rule", "lint_policy"]
