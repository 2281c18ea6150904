"""Roles: what the holder of an API key may do, written ``kind`` or ``kind:name``.

- ``admin``: policies and keys;
- ``source:<name>``: submits entries whose ``source`` is ``<name>``, of the record types the
  policy's ``sources:`` section lets that source submit;
- ``enforcer:<service>``: checks for that service only;
- ``subject:<id>``: reads that subject's own standing, explanation, notices and records, and
  disputes its own records;
- ``reviewer``: decides disputes;
- ``auditor``: reads and verifies the audit log, reads aggregates.

A role is data, parsed strictly: an unknown kind, a kind that needs a name given none, or a
name given to a kind that takes none is an error (``RoleError``), never a guess.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal, get_args

from socialcredit.errors import SocialCreditError

RoleKind = Literal["admin", "source", "enforcer", "subject", "reviewer", "auditor"]
ROLE_KINDS: tuple[RoleKind, ...] = get_args(RoleKind)
NAMED_KINDS: dict[str, str] = {"source": "name", "enforcer": "service", "subject": "id"}
"""The kinds that take a name, and what the name is (as the role is written: ``source:<name>``)."""

MAX_ROLE_NAME = 500
"""The longest name in a role (the ledger's limit on a text field: sources, subjects)."""


class RoleError(SocialCreditError):
    """A role that cannot be used: the message says what is wrong and what the roles are."""


def _written() -> str:
    return ", ".join(f"{k}:<{NAMED_KINDS[k]}>" if k in NAMED_KINDS else k for k in ROLE_KINDS)


@dataclass(frozen=True, slots=True)
class Role:
    """A role: its ``kind`` and, for ``source``, ``enforcer`` and ``subject``, the ``name`` of
    the source, service or subject it is limited to (None for the other kinds)."""

    kind: RoleKind
    name: str | None = None

    def __post_init__(self) -> None:
        problem = _problem(self.kind, self.name)
        if problem:
            raise RoleError(problem)

    def __str__(self) -> str:
        return self.kind if self.name is None else f"{self.kind}:{self.name}"


def _problem(kind: str, name: str | None) -> str | None:
    """What is wrong with a role of ``kind`` named ``name``, or None."""
    if kind not in ROLE_KINDS:
        close = difflib.get_close_matches(kind, ROLE_KINDS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown role kind {kind!r}: {hint}roles are {_written()}"
    if kind not in NAMED_KINDS:
        if name is not None:
            return f"role {kind!r} takes no name (got {kind}:{name}); write it as {kind!r}"
        return None
    what = NAMED_KINDS[kind]
    if name is None or name == "":
        article = "an" if what[0] in "aeiou" else "a"
        return f"role {kind!r} needs {article} {what}: write it as '{kind}:<{what}>'"
    if name != name.strip():
        return f"the {what} in role {kind}:{name!r} has spaces at its start or end"
    if len(name) > MAX_ROLE_NAME:
        return f"the {what} in role {kind!r} is longer than {MAX_ROLE_NAME} characters"
    if not name.isprintable():
        return f"the {what} in role {kind}:{name!r} holds a control or invisible character"
    return None


def parse_role(text: str) -> Role:
    """The role ``text`` writes (``admin``, ``source:court``, ``subject:P00000042`` …).

    The kind is everything before the first ``:``; the name, everything after it (a subject
    id may itself hold a ``:``). Raises ``RoleError`` saying what is wrong: an unknown kind
    (with the closest known one), a missing or empty name for ``source``/``enforcer``/
    ``subject``, a name for a kind that takes none, spaces around or control characters in
    a name, or a name longer than ``MAX_ROLE_NAME``.
    """
    if not isinstance(text, str) or not text.strip():
        raise RoleError(f"a role is needed: one of {_written()}")
    kind, sep, name = text.partition(":")
    if kind != kind.strip():
        raise RoleError(f"role {text!r} has spaces around its kind {kind.strip()!r}")
    problem = _problem(kind, name if sep else None)
    if problem:
        raise RoleError(problem)
    return Role(kind, name if sep else None)  # type: ignore[arg-type]  # checked just above


__all__ = [
    "MAX_ROLE_NAME",
    "NAMED_KINDS",
    "ROLE_KINDS",
    "Role",
    "RoleError",
    "RoleKind",
    "parse_role",
]
