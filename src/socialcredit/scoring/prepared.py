"""Ledger columns folded for one policy: the input every scoring function takes."""

from __future__ import annotations

from dataclasses import dataclass

from socialcredit.columns import LedgerColumns
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring.rows import RelationRows, Rows, fold


@dataclass(frozen=True)
class Prepared:
    """Ledger columns folded for one policy; reuse it for many questions."""

    policy: CompiledPolicy
    columns: LedgerColumns
    rows: Rows
    relations: RelationRows

    @classmethod
    def build(cls, columns: LedgerColumns, policy: CompiledPolicy) -> Prepared:
        """Fold ``columns`` for ``policy``."""
        rows, relations = fold(columns, policy)
        return cls(policy, columns, rows, relations)

    def with_rows(self, rows: Rows) -> Prepared:
        """The same ledger with changed record versions (for counterfactuals)."""
        return Prepared(self.policy, self.columns, rows, self.relations)
