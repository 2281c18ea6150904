"""Ledger columns folded for one policy: the input every scoring function takes."""

from __future__ import annotations

from dataclasses import dataclass

from socialcredit.columns import LedgerColumns
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring.population import attach
from socialcredit.scoring.rows import RelationRows, Rows, fold


@dataclass(frozen=True)
class Prepared:
    """Ledger columns folded for one policy; reuse it for many questions.

    ``in_force_from``: when ``policy`` came into force (the activation time of the activation
    in force at the time asked about), or None when it covers every time (a policy file).
    Statements about the past are made only from then on: a measure or listing that began
    earlier is reported as applying since then (``since_policy_start``), and a measure that
    ended before then is not reported at all.
    """

    policy: CompiledPolicy
    columns: LedgerColumns
    rows: Rows
    relations: RelationRows
    in_force_from: int | None = None

    @classmethod
    def build(
        cls, columns: LedgerColumns, policy: CompiledPolicy, in_force_from: int | None = None
    ) -> Prepared:
        """Fold ``columns`` for ``policy``, in force from ``in_force_from`` (None: always)."""
        rows, relations = fold(columns, policy)
        rows = attach(rows, columns, relations, policy)
        return cls(policy, columns, rows, relations, in_force_from)

    def with_rows(self, rows: Rows) -> Prepared:
        """The same ledger with changed record versions (for counterfactuals)."""
        return Prepared(self.policy, self.columns, rows, self.relations, self.in_force_from)
