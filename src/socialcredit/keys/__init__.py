"""API keys and roles for the HTTP service: who may do what (``roles``), and the keys that
carry a role, stored as hashes in the ledger's database (``store``).

``KeyStore(ledger).create(role, name, now)`` returns a key and its token (shown once);
``authenticate(token)`` is what every request calls: the key, or None for a missing, bad or
revoked token.
"""

from socialcredit.keys.roles import (
    MAX_ROLE_NAME,
    NAMED_KINDS,
    ROLE_KINDS,
    Role,
    RoleError,
    RoleKind,
    parse_role,
)
from socialcredit.keys.store import (
    REFRESH_INTERVAL,
    ApiKey,
    ApiKeyError,
    KeyRevokedError,
    KeyStore,
    UnknownKeyError,
    check_role,
    split_token,
)

__all__ = [
    "MAX_ROLE_NAME",
    "NAMED_KINDS",
    "REFRESH_INTERVAL",
    "ROLE_KINDS",
    "ApiKey",
    "ApiKeyError",
    "KeyRevokedError",
    "KeyStore",
    "Role",
    "RoleError",
    "RoleKind",
    "UnknownKeyError",
    "check_role",
    "parse_role",
    "split_token",
]
