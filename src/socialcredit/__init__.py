"""socialcredit: an open, accountable social credit engine.

The library surface: load a policy, open a ledger, ask an ``Engine`` about subjects. The
CLI and the services are thin shells over these.
"""

from typing import TYPE_CHECKING, Any

from socialcredit.columns import LedgerColumns, columns_from_entries
from socialcredit.enforcement import Decision, decide
from socialcredit.explain import Explanation, explain
from socialcredit.policy import (
    CompiledPolicy,
    LoadedPolicy,
    Policy,
    PolicyError,
    compile_policy,
    load_policy,
    parse_policy,
)
from socialcredit.scoring import BulkStandings, Prepared, Standing, bulk_standings, standing

__version__ = "0.1.0"

if TYPE_CHECKING:
    from socialcredit.engine import Engine, NoPolicyError, UnknownSubjectError


def __getattr__(name: str) -> Any:
    # The engine needs the storage layer (SQLAlchemy); the pure core does not, so workers
    # that only score (e.g. the simulator's) import without it.
    if name in {"Engine", "NoPolicyError", "UnknownSubjectError"}:
        from socialcredit import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'socialcredit' has no attribute {name!r}")


__all__ = [
    "BulkStandings",
    "CompiledPolicy",
    "Decision",
    "Engine",
    "Explanation",
    "LedgerColumns",
    "LoadedPolicy",
    "NoPolicyError",
    "Policy",
    "PolicyError",
    "Prepared",
    "Standing",
    "UnknownSubjectError",
    "bulk_standings",
    "columns_from_entries",
    "compile_policy",
    "decide",
    "explain",
    "load_policy",
    "parse_policy",
    "standing",
]
