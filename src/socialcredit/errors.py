"""One base class for every error a person can cause, with how each shell reports it.

The CLI turns a ``SocialCreditError`` into its message and ``exit_code``; the HTTP service
into ``http_status`` with the message as the detail. Anything else escaping to a shell is
a bug in this package, not a problem with the input.

Exit codes (documented in the README): 0 success; 1 the command ran but found problems the
caller asked about (rejected ingestion lines, a policy that fails ``validate``… with
``--strict``-style checks); 2 the input or the request cannot be used (bad option, file,
policy, date, unknown name, no database).
"""

from __future__ import annotations


class SocialCreditError(Exception):
    """A problem with what was asked or given; the message says what and where."""

    exit_code: int = 2
    http_status: int = 400
    cli_hint: str = ""
    """What only a person at the command line can also do (a flag to pass), appended to
    the message there and nowhere else (an HTTP client has no such flag)."""

    @property
    def message(self) -> str:
        """The message for a person (the first argument, or the class's docstring)."""
        return str(self.args[0]) if self.args else (type(self).__doc__ or type(self).__name__)


class NotFoundError(SocialCreditError):
    """Something named does not exist (a subject, a service, a list, a file)."""

    http_status = 404


class ConflictError(SocialCreditError):
    """The request contradicts what is already stored (e.g. a policy version reused)."""

    http_status = 409


class StorageError(SocialCreditError):
    """The database cannot be reached, opened or used."""

    http_status = 503


class UnknownServiceError(NotFoundError, LookupError):
    """A service the policy in force does not know (no measure names it, none is declared)."""


class RequestAttributeError(SocialCreditError):
    """A check's request attributes do not fit what the policy declares for the service: one
    is undeclared, of the wrong type, or missing although a measure on the service tests it."""


__all__ = [
    "ConflictError",
    "NotFoundError",
    "RequestAttributeError",
    "SocialCreditError",
    "StorageError",
    "UnknownServiceError",
]
