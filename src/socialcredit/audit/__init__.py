"""The audit log: every write, every read of a person's standing and every check, in a
hash-chained table that an outside auditor can verify (docs/audit.md).

- ``chain``: what an entry holds and how its hash is computed (pure);
- ``verify``: walking the chain and naming the first bad entry (pure);
- ``log``: ``AuditLog``, appending with group commit, reading and verifying the database.

Names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialcredit._lazy import lazy_exports

if TYPE_CHECKING:
    from socialcredit.audit.chain import GENESIS, AuditEntry, AuditEvent, entry_hash
    from socialcredit.audit.log import AuditLog, AuditUnavailable, read_entries, verify_log
    from socialcredit.audit.verify import Anchor, AuditVerification

_WHERE = {
    "GENESIS": "socialcredit.audit.chain",
    "AuditEntry": "socialcredit.audit.chain",
    "AuditEvent": "socialcredit.audit.chain",
    "entry_hash": "socialcredit.audit.chain",
    "AuditLog": "socialcredit.audit.log",
    "AuditUnavailable": "socialcredit.audit.log",
    "read_entries": "socialcredit.audit.log",
    "verify_log": "socialcredit.audit.log",
    "Anchor": "socialcredit.audit.verify",
    "AuditVerification": "socialcredit.audit.verify",
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)

__all__ = [
    "GENESIS",
    "Anchor",
    "AuditEntry",
    "AuditEvent",
    "AuditLog",
    "AuditUnavailable",
    "AuditVerification",
    "entry_hash",
    "read_entries",
    "verify_log",
]
