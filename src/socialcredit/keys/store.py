"""API keys in the ledger's database: create, list, revoke, and authenticate a token.

A token is ``sck_<key_id>_<secret>``: ``key_id`` is 16 hex digits (it names the key in
lists, audit entries and ``keys revoke``; it is not secret), ``secret`` 256 random bits
from ``secrets`` (43 URL-safe characters). Only the hex SHA-256 of the whole token is
stored; the token is shown once, when the key is created.

Why a plain SHA-256 and not a slow password hash (bcrypt, scrypt, Argon2): those make
guessing a *low-entropy* secret (a password a person chose) expensive when the hashes leak.
Here the secret is 256 random bits: a leaked hash cannot be reversed or the secret guessed
by any number of SHA-256 evaluations, so slowness would buy nothing, while costing tens of
milliseconds on every request (the service answers thousands of checks a second, each
authenticated). Hashing the whole token binds the hash to its key id. Hashes are compared
with ``hmac.compare_digest`` (time independent of where they differ).

``authenticate`` is on the hot path of every request: a key seen once is kept in memory, and
a token that authenticated once is remembered (token -> key, valid tokens only, so at most
one entry per key), so a valid key's next requests cost one dict lookup, no SHA-256. The
lookup compares the token with the remembered ones by Python's randomised string hash
first and by value only on a full hash match, so its timing tells nothing usable about a
token's secret. Revocations made through any ``KeyStore`` of the same database in this
process are seen at once (the remembered tokens are forgotten); those made by another
process are read with one cheap query at most once per ``refresh_interval`` (1 s), before
answering, so a revoked key stops working everywhere within that interval.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from socialcredit.errors import ConflictError, NotFoundError, SocialCreditError
from socialcredit.keys.roles import Role, RoleError, parse_role
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from socialcredit.ledger import Ledger
    from socialcredit.policy import CompiledPolicy

PREFIX = "sck_"
TOKEN_LENGTH = 64
"""Every token's length: ``sck_`` + 16 hex digits + ``_`` + 43 characters (256 bits in
URL-safe base64); a string of any other length is refused without hashing it."""
MAX_KEY_NAME = 200
REFRESH_INTERVAL = 1.0
"""Seconds between reads of the revoked keys: the longest a key revoked by another process
may still authenticate here."""
MISSING_KEPT = 10_000
"""How many unknown key ids are remembered (for at most ``REFRESH_INTERVAL``), so that a
flood of made-up tokens does not read the database once per request."""


class ApiKeyError(SocialCreditError):
    """A key cannot be created or revoked as asked; the message says why."""


class UnknownKeyError(NotFoundError, LookupError):
    """No key has this id."""


class KeyRevokedError(ConflictError):
    """The key was revoked already (a revocation is never undone)."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as stored: never its token or hash. ``created_at`` and ``revoked_at`` are
    epoch seconds (``revoked_at`` None while the key is in use)."""

    key_id: str
    role: Role
    name: str | None
    created_at: int
    revoked_at: int | None = None

    @property
    def active(self) -> bool:
        """Whether the key may be used (not revoked)."""
        return self.revoked_at is None

    def to_json(self) -> dict[str, Any]:
        """The key as ``keys list --json`` prints it (times in ISO 8601, UTC)."""
        return {
            "key_id": self.key_id,
            "role": str(self.role),
            "role_kind": self.role.kind,
            "role_name": self.role.name,
            "name": self.name,
            "created_at": to_iso(self.created_at),
            "revoked_at": to_iso(self.revoked_at),
        }


def token_hash(token: str) -> bytes:
    """The SHA-256 of ``token`` (ASCII), as stored (hex) for the key it belongs to."""
    return hashlib.sha256(token.encode("ascii")).digest()


def split_token(token: object) -> str | None:
    """The key id a string of the token's form names (``sck_``, 16 hex digits, ``_``, 43
    URL-safe characters: 64 ASCII characters in all), or None for anything else."""
    if (
        type(token) is not str
        or len(token) != TOKEN_LENGTH
        or token[20] != "_"
        or not token.startswith(PREFIX)
        or not token.isascii()
    ):
        return None
    return token[4:20]


@dataclass(slots=True)
class _Cached:
    digest: bytes
    key: ApiKey


# every KeyStore of this process, by database, so that a revocation reaches them all at once
_STORES: dict[str, weakref.WeakSet[KeyStore]] = {}
_STORES_LOCK = threading.Lock()


def _parse_stored_role(key_id: str, text: str) -> Role:
    try:
        return parse_role(text)
    except RoleError as exc:  # only a hand-edited row gets here: never a silent allow
        raise ApiKeyError(f"key {key_id} has a role that cannot be used: {exc.message}") from None


class KeyStore:
    """The API keys in ``ledger``'s database (its schema must be current: ``init`` makes it).

    ``clock``: a monotonic clock in seconds (default ``time.monotonic``) that paces the
    reads of revocations made elsewhere (tests pass their own). Safe to share between
    threads.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        clock: Callable[[], float] = time.monotonic,
        refresh_interval: float = REFRESH_INTERVAL,
    ) -> None:
        self.ledger = ledger
        self._clock = clock
        self._interval = refresh_interval
        self._cache: dict[str, _Cached] = {}
        self._tokens: dict[str, ApiKey] = {}  # tokens that authenticated, keys not revoked
        self._missing: dict[str, float] = {}  # unknown key id -> until when it is believed
        self._next_refresh = float("-inf")
        self._lock = threading.Lock()
        self._mark = "?" if ledger.is_sqlite else "%s"
        with _STORES_LOCK:
            _STORES.setdefault(ledger.url, weakref.WeakSet()).add(self)

    # ------------------------------------------------------------------ writing

    def create(
        self,
        role: Role | str,
        name: str | None,
        now: int,
        *,
        policy: CompiledPolicy | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key for ``role`` (a ``Role`` or its text, see ``parse_role``), held by
        ``name`` (optional, for people), created at ``now`` (epoch seconds); returns the key
        and its token, which is not stored and cannot be shown again.

        The role's source or service is checked against ``policy``, or, when None, the
        ledger's active policy if there is one (``check_role``): an unknown service, or a
        source its ``sources:`` section does not declare, is an error (``RoleError``),
        never a key that silently allows nothing or everything. Without any policy nothing
        is checked and the key is made as asked (keys may be made before the first policy
        is activated; ``unchecked_role_warning`` says what to tell the person making it:
        the CLI and the HTTP route both pass it on). Raises ``ApiKeyError`` for an unusable name.
        """
        role = parse_role(role) if isinstance(role, str) else role
        if name is not None:
            name = _checked_name(name)
        if policy is None:
            policy = self._active_policy()
        if policy is not None:
            check_role(policy, role)
        self.ledger._check()
        from sqlalchemy.exc import IntegrityError

        from socialcredit.ledger.schema import api_keys

        for _ in range(3):  # a clash of 64 random bits is all but impossible; retried anyway
            key_id = secrets.token_hex(8)
            token = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
            key = ApiKey(key_id, role, name, int(now))
            row = {
                "key_id": key_id,
                "role": str(role),
                "name": name,
                "secret_hash": token_hash(token).hex(),
                "created_at": int(now),
                "revoked_at": None,
            }
            try:
                with self.ledger.engine.begin() as conn:
                    conn.execute(api_keys.insert().values(**row))
            except IntegrityError:
                continue
            self._missing.pop(key_id, None)
            return key, token
        raise ApiKeyError("could not choose a new key id; try again")  # pragma: no cover

    def revoke(self, key_id: str, now: int) -> ApiKey:
        """Revoke key ``key_id`` at ``now`` (epoch seconds) and return it; from then on its
        token authenticates nowhere (in this process at once, elsewhere within
        ``REFRESH_INTERVAL``). A revocation is never undone. Raises ``UnknownKeyError`` for
        an id no key has, ``KeyRevokedError`` (saying when) for a key revoked already.
        """
        self.ledger._check()
        from sqlalchemy import update

        from socialcredit.ledger.schema import api_keys

        with self.ledger.engine.begin() as conn:
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=int(now))
            ).rowcount
        key = self.get(key_id)
        if key is None:
            raise UnknownKeyError(f"no key has id {key_id!r} (`socialcredit keys list` lists them)")
        if not done:
            raise KeyRevokedError(f"key {key_id} was revoked already, at {to_iso(key.revoked_at)}")
        with _STORES_LOCK:
            stores = list(_STORES.get(self.ledger.url, ()))
        for store in stores:
            store._revoked_here(key)
        return key

    def _revoked_here(self, key: ApiKey) -> None:
        with self._lock:
            cached = self._cache.get(key.key_id)
            if cached is not None:
                self._cache[key.key_id] = _Cached(cached.digest, key)
            self._tokens = {}

    # ------------------------------------------------------------------ reading

    def get(self, key_id: str) -> ApiKey | None:
        """The key ``key_id`` as stored now, or None if there is none."""
        row = self._row(key_id)
        return None if row is None else row[1]

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first (keys created in the same second
        by id)."""
        self.ledger._check()
        with self.ledger.reading() as conn:
            cursor = conn.cursor()
            cursor.execute(
                "SELECT key_id, role, name, created_at, revoked_at FROM api_keys "
                "ORDER BY created_at, key_id"
            )
            rows = cursor.fetchall()
        return [ApiKey(k, _parse_stored_role(k, r), n, int(c), _opt(v)) for k, r, n, c, v in rows]

    def _row(self, key_id: str) -> tuple[bytes, ApiKey] | None:
        self.ledger._check()
        with self.ledger.reading() as conn:
            cursor = conn.cursor()
            cursor.execute(
                "SELECT secret_hash, role, name, created_at, revoked_at FROM api_keys "
                f"WHERE key_id = {self._mark}",
                (key_id,),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        digest, role, name, created, revoked = row
        key = ApiKey(key_id, _parse_stored_role(key_id, role), name, int(created), _opt(revoked))
        return bytes.fromhex(digest), key

    # ------------------------------------------------------------------ the hot path

    def authenticate(self, token: object) -> ApiKey | None:
        """The key ``token`` belongs to, or None: for anything that is not a token of a key
        in this database (not a string, malformed, unknown id, wrong secret) and for a
        revoked key. Never raises for any token; a database that cannot be read raises
        ``StorageError`` (so no revoked key is let through when revocations cannot be
        read).
        """
        now = self._clock()
        if now >= self._next_refresh:
            self._refresh(now)
        if type(token) is not str:
            return None
        known = self._tokens.get(token)
        if known is not None:
            return known
        # the token's form, checked inline
        if len(token) != TOKEN_LENGTH or token[20] != "_":
            return None
        if not token.startswith(PREFIX):
            return None
        key_id = token[4:20]
        cached = self._cache.get(key_id)
        if cached is None:
            cached = self._load(key_id, now)
            if cached is None:
                return None
        try:
            digest = hashlib.sha256(token.encode("ascii")).digest()
        except UnicodeEncodeError:
            return None
        if not hmac.compare_digest(digest, cached.digest):
            return None
        key = cached.key
        if key.revoked_at is not None:
            return None
        with self._lock:  # not while a refresh forgets the remembered tokens
            if self._cache.get(key_id) is cached:
                self._tokens[token] = key
        return key

    def _load(self, key_id: str, now: float) -> _Cached | None:
        until = self._missing.get(key_id)
        if until is not None and now < until:
            return None
        row = self._row(key_id)
        if row is None:
            if len(self._missing) >= MISSING_KEPT:
                self._missing.clear()
            self._missing[key_id] = now + self._interval
            return None
        cached = _Cached(*row)
        self._cache[key_id] = cached
        return cached

    def _refresh(self, now: float) -> None:
        """Read which keys are revoked (at most once per interval, whichever thread comes
        first); keys in the cache that were revoked elsewhere are marked so."""
        with self._lock:
            if now < self._next_refresh:
                return
            started = self._clock()
            self.ledger._check()
            with self.ledger.reading() as conn:
                cursor = conn.cursor()
                cursor.execute(
                    "SELECT key_id, revoked_at FROM api_keys WHERE revoked_at IS NOT NULL"
                )
                revoked = cursor.fetchall()
            for key_id, at in revoked:
                cached = self._cache.get(key_id)
                if cached is not None and cached.key.revoked_at is None:
                    self._cache[key_id] = _Cached(
                        cached.digest, replace(cached.key, revoked_at=int(at))
                    )
                    self._tokens = {}
            self._next_refresh = started + self._interval

    def unchecked_role_warning(self, role: Role | str) -> str | None:
        """What to tell whoever creates a key for ``role`` while no policy is active (its
        service or source could not be checked, so the key is made as asked), or for a
        subject the ledger has no entry about yet; None otherwise: the role names no
        service, source or subject, a policy is active (``create`` checked it), or the
        ledger knows the subject. The key works once a policy that declares its service or
        source is in force, or once an entry about its subject arrives."""
        role = parse_role(role) if isinstance(role, str) else role
        if role.kind == "subject" and role.name is not None:
            if self.ledger.has_subject(role.name):
                return None
            # made as asked (the subject's records may come later), but a mistyped id
            # would give a key that reads nothing: say so
            return (
                f"the ledger has no entry about subject {role.name!r} yet: this key reads "
                "nothing until one arrives (its reads answer 404); `keys revoke` ends a key "
                "made for a mistyped id"
            )
        if role.kind not in ("enforcer", "source") or self.ledger.active_policy() is not None:
            return None
        if role.kind == "enforcer":
            return (
                f"no policy is active, so service {role.name!r} was not checked: until a "
                "policy that declares it is in force, checks with this key are refused "
                "(404, unknown service); `socialcredit policy show` lists a policy's "
                "services, and `keys revoke` ends a key made for the wrong one"
            )
        return (
            f"no policy is active, so source {role.name!r} was not checked: until a policy "
            "whose sources: section declares it is in force, this key can submit no entry; "
            "`socialcredit policy show` lists a policy's sources, and `keys revoke` ends a "
            "key made for the wrong one"
        )

    def _active_policy(self) -> CompiledPolicy | None:
        pv = self.ledger.active_policy()
        if pv is None:
            return None
        from socialcredit.engine import parse_stored
        from socialcredit.policy import compile_policy

        return compile_policy(parse_stored(pv))


def check_role(policy: CompiledPolicy, role: Role) -> None:
    """Raise ``RoleError`` unless ``policy`` knows the service of an ``enforcer`` role and
    declares the source of a ``source`` role under ``sources:`` (an unknown name is an
    error, with the closest known one)."""
    if role.kind == "source":
        from socialcredit.policy.sources import unknown_source

        assert role.name is not None
        problem = unknown_source(policy.policy, role.name)
        if problem is not None:
            raise RoleError(f"role {role}: {problem}")
    if role.kind == "enforcer":
        from socialcredit.enforcement import require_service
        from socialcredit.errors import UnknownServiceError

        assert role.name is not None
        try:
            require_service(policy, role.name)
        except UnknownServiceError as exc:
            raise RoleError(f"role {role}: {exc.message}") from None


def _checked_name(name: str) -> str:
    if not name.strip():
        raise ApiKeyError("a key's name, when given, must not be blank")
    if len(name) > MAX_KEY_NAME:
        raise ApiKeyError(f"a key's name is at most {MAX_KEY_NAME} characters")
    if not name.isprintable():
        raise ApiKeyError(f"a key's name must not hold control or invisible characters: {name!r}")
    return name


def _opt(value: Any) -> int | None:
    return None if value is None else int(value)
