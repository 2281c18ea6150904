"""Policy versions in the ledger: which policy bodies were activated, when and by whom.

A (policy id, declared version) pair names one body forever: activating a different body
under a pair already used is refused, so a version label in a decision always means the
same rules. The same body may be activated again later (e.g. going back to an earlier
version); each activation is a new row of the history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from socialcredit.errors import ConflictError, SocialCreditError, StorageError
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from socialcredit.policy.model import Policy

log = logging.getLogger("socialcredit.ledger")


@dataclass(frozen=True)
class PolicyVersion:
    """A policy as activated in this ledger."""

    version: int
    policy_id: str
    declared_version: str
    content_hash: str
    activated_at: int
    activated_by: str | None
    body: str
    recorded_at: int | None = None  # the ledger's clock when activated (None: not recorded)
    backfill: bool = False  # activated_at is before recorded_at: history, loaded explicitly
    lint_findings: str | None = None  # the lint findings at activation, JSON (None: not linted)
    lint_override: str | None = None  # the justification for activating despite lint errors

    def findings(self) -> list[dict[str, Any]]:
        """The lint findings recorded with the activation (empty: none, or not linted)."""
        import json

        return list(json.loads(self.lint_findings)) if self.lint_findings else []


class PolicyVersionConflict(ConflictError):
    """A different policy body under a (policy id, declared version) already activated."""


def _bumped(version: str) -> str:
    """An example of a next version label: the last number one higher ("1.0" → "1.1";
    "2026.1" → "2026.2"), or "-2" appended when the label ends in no number."""
    import re

    m = re.search(r"(\d+)(\D*)$", version)
    if m is None:
        return f"{version}-2"
    return f"{version[: m.start(1)]}{int(m.group(1)) + 1}{m.group(2)}"


class PastActivationError(SocialCreditError):
    """An activation dated before the time it is made, without ``backfill``."""


_COLUMNS = (
    "version",
    "policy_id",
    "declared_version",
    "content_hash",
    "activated_at",
    "activated_by",
    "body",
    "recorded_at",
    "backfill",
    "lint_findings",
    "lint_override",
)


class PolicyIntegrityError(StorageError):
    """A stored policy body no longer matches the content hash recorded when it was activated."""


# bodies already found to match their hashes in this process, with the policy each
# describes (a body is parsed and validated once)
_VERIFIED: dict[tuple[str, str], Policy] = {}


def verified(pv: PolicyVersion) -> PolicyVersion:
    """``pv``, once its body is found to have the content hash recorded at its activation.

    The hash is computed again from the body (as ``socialcredit.policy.content_hash`` does
    when a policy is loaded): a body edited in the database, or one that no longer reads
    as a policy, raises ``PolicyIntegrityError`` naming the version; nothing uses it.
    """
    stored_policy(pv)
    return pv


def stored_policy(pv: PolicyVersion) -> Policy:
    """The policy ``pv``'s body describes, once the body is found to have the content hash
    recorded at its activation (``PolicyIntegrityError`` otherwise; see ``verified``)."""
    key = (pv.content_hash, pv.body)
    if key in _VERIFIED:
        return _VERIFIED[key]
    policy = _policy_of_body(pv.body)
    found = None if policy is None else _content_hash(policy)
    if found != pv.content_hash and policy is not None and _legacy_hash(policy) == pv.content_hash:
        found = pv.content_hash  # stored before calendar spans: the same body, unaltered
    if found != pv.content_hash:
        what = f"policy version {pv.version} ({pv.policy_id} {pv.declared_version})"
        if found is None:
            raise PolicyIntegrityError(
                f"{what} cannot be checked: its stored body no longer reads as a policy, so "
                f"it cannot be shown to match its content hash sha256:{pv.content_hash}; "
                "refusing to use it"
            )
        raise PolicyIntegrityError(
            f"{what} has been altered in the database: its body no longer matches its "
            f"content hash sha256:{pv.content_hash}; refusing to use it"
        )
    assert policy is not None
    _VERIFIED[key] = policy
    return policy


def _content_hash(policy: Policy) -> str:
    from socialcredit.policy.loader import content_hash

    return content_hash(policy)


def _legacy_hash(policy: Policy) -> str:
    from socialcredit.policy.loader import legacy_content_hash

    return legacy_content_hash(policy)


def _policy_of_body(body: str) -> Policy | None:
    """The policy ``body`` describes (read on libyaml's fast path when available; it was
    fully checked when activated), or None if it describes none."""
    import yaml

    from socialcredit.policy.model import Policy

    try:
        data = yaml.load(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return Policy.model_validate(data)
    except Exception:  # whatever it is, it is not the body that was activated
        return None


_SELECT = (
    "SELECT version, policy_id, declared_version, content_hash, activated_at, activated_by, "
    "body, recorded_at, backfill, lint_findings, lint_override FROM policies ORDER BY version"
)


def _version(row: Any) -> PolicyVersion:
    version, policy_id, declared, content_hash, activated_at, activated_by, body = row[:7]
    recorded_at, backfill, lint_findings, lint_override = row[7:11]
    return PolicyVersion(
        int(version),
        str(policy_id),
        str(declared),
        str(content_hash),
        int(activated_at),
        None if activated_by is None else str(activated_by),
        str(body),
        None if recorded_at is None else int(recorded_at),
        bool(backfill),
        None if lint_findings is None else str(lint_findings),
        None if lint_override is None else str(lint_override),
    )


def history(conn: Any) -> list[PolicyVersion]:
    """Every activation, oldest first, read through the DBAPI connection ``conn``; each
    body checked against its content hash (see ``verified``)."""
    cursor = conn.cursor()
    try:
        cursor.execute(_SELECT)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [verified(_version(row)) for row in rows]


def active(conn: Any) -> PolicyVersion | None:
    """The most recent activation, if any, read through the DBAPI connection ``conn``; its
    body checked against its content hash (see ``verified``)."""
    cursor = conn.cursor()
    try:
        cursor.execute(_SELECT + " DESC LIMIT 1")
        row = cursor.fetchone()
    finally:
        cursor.close()
    return verified(_version(row)) if row is not None else None


def activate(
    engine: Engine,
    body: str,
    policy_id: str,
    declared_version: str,
    content_hash: str,
    activated_at: int,
    activated_by: str | None,
    now: int,
    backfill: bool = False,
    earlier_hash: str | None = None,
    lint_findings: str | None = None,
    lint_override: str | None = None,
) -> PolicyVersion:
    """Record an activation made at ``now`` (see ``Ledger.activate_policy``)."""
    same = {content_hash} | ({earlier_hash} if earlier_hash else set())
    from sqlalchemy import insert, select

    from socialcredit.ledger.schema import policies

    with engine.begin() as conn:
        latest = conn.execute(select(policies).order_by(policies.c.version.desc()).limit(1)).first()
        if latest is not None and latest.content_hash in same:
            return _version(tuple(latest._mapping[c] for c in _COLUMNS))
        if activated_at < now and not backfill:
            raise PastActivationError(
                f"policy {policy_id!r} version {declared_version!r} would be in force from "
                f"{to_iso(activated_at)}, before now ({to_iso(now)}): that would change "
                "answers already given about that time. Activate it from now, or, to load "
                "history (e.g. the policy a migrated ledger was under), activate it as a "
                "backfill (recorded as such)"
            )
        first = conn.execute(
            select(policies.c.content_hash, policies.c.activated_at)
            .where(policies.c.policy_id == policy_id)
            .where(policies.c.declared_version == declared_version)
            .where(policies.c.content_hash.not_in(same))
            .order_by(policies.c.version)
            .limit(1)
        ).first()
        if first is not None:
            raise PolicyVersionConflict(
                f"policy {policy_id!r} version {declared_version!r} was first activated on "
                f"{to_iso(int(first.activated_at))} with a different body (content hash "
                f"{first.content_hash[:12]}…), and this file declares {declared_version!r} "
                "again with other content: a changed policy needs a new version — bump "
                f"`version:` in the file (e.g. {_bumped(declared_version)!r}) and activate it again"
            )
        conn.execute(
            insert(policies).values(
                policy_id=policy_id,
                declared_version=declared_version,
                content_hash=content_hash,
                body=body,
                activated_at=activated_at,
                activated_by=activated_by,
                recorded_at=now,
                backfill=1 if activated_at < now else 0,
                lint_findings=lint_findings,
                lint_override=lint_override,
            )
        )
    log.info("activated policy %s@%s (%s)", policy_id, declared_version, content_hash[:12])
    with engine.connect() as conn:
        found = active(conn.connection)
    assert found is not None
    return found
