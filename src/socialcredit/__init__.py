"""socialcredit: an open, accountable social credit engine.

The library surface: load a policy, open a ledger, ask an ``Engine`` about subjects. The
CLI and the services are thin shells over these.

Every name below is imported on first use, so ``import socialcredit.policy`` (or
``socialcredit.scoring``) loads only what it needs: the pure core imports no storage
library (SQLAlchemy, Alembic) and no export library (pyarrow).
"""

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from socialcredit._lazy import lazy_exports

# The one place the version is written: pyproject.toml reads it from here.
__version__ = "0.1.0"

if TYPE_CHECKING:
    from socialcredit.columns import LedgerColumns, columns_from_entries
    from socialcredit.enforcement import Decision, decide
    from socialcredit.engine import (
        Engine,
        NoPolicyError,
        PolicyNotInForceError,
        UnknownSubjectError,
    )
    from socialcredit.errors import SocialCreditError, UnknownServiceError
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
    from socialcredit.scoring import (
        BulkStandings,
        Prepared,
        Standing,
        bulk_standings,
        standing,
    )

_WHERE = {
    "LedgerColumns": "socialcredit.columns",
    "columns_from_entries": "socialcredit.columns",
    "Engine": "socialcredit.engine",
    "NoPolicyError": "socialcredit.engine",
    "PolicyNotInForceError": "socialcredit.engine",
    "UnknownSubjectError": "socialcredit.engine",
    "Decision": "socialcredit.enforcement",
    "decide": "socialcredit.enforcement",
    "SocialCreditError": "socialcredit.errors",
    "UnknownServiceError": "socialcredit.errors",
    "Explanation": "socialcredit.explain",
    "explain": "socialcredit.explain",
    "CompiledPolicy": "socialcredit.policy",
    "LoadedPolicy": "socialcredit.policy",
    "Policy": "socialcredit.policy",
    "PolicyError": "socialcredit.policy",
    "compile_policy": "socialcredit.policy",
    "load_policy": "socialcredit.policy",
    "parse_policy": "socialcredit.policy",
    "BulkStandings": "socialcredit.scoring",
    "Prepared": "socialcredit.scoring",
    "Standing": "socialcredit.scoring",
    "bulk_standings": "socialcredit.scoring",
    "standing": "socialcredit.scoring",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)


class _Package(ModuleType):
    """Keeps ``socialcredit.explain`` the function, as exported, once the submodule of the
    same name is imported (the import system would otherwise set the module there)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "explain" and isinstance(value, ModuleType):
            value = value.explain
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
    "PolicyNotInForceError",
    "Prepared",
    "SocialCreditError",
    "Standing",
    "UnknownServiceError",
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
