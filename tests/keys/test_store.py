"""API keys on both databases: tokens, hashes, revocation (here at once, elsewhere within
the refresh interval), the append-only table, roles checked against the policy in force,
and migration of an older ledger."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.keys import (
    REFRESH_INTERVAL,
    ApiKey,
    ApiKeyError,
    KeyRevokedError,
    KeyStore,
    Role,
    RoleError,
    UnknownKeyError,
)
from socialcredit.ledger import Ledger
from socialcredit.policy import CompiledPolicy
from tests.ledger.conftest import policy_body

NOW = 1_790_000_000  # 2026-09-21T14:13:20Z


class FakeClock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_new_key_authenticates_and_only_its_hash_is_stored(ledger: Ledger) -> None:
    store = KeyStore(ledger)
    key, token = store.create("source:court", "Court of Rongcheng", NOW)
    assert key == ApiKey(key.key_id, Role("source", "court"), "Court of Rongcheng", NOW, None)
    prefix, key_id, secret = token.split("_", 2)
    assert (prefix, key_id) == ("sck", key.key_id)
    assert len(key_id) == 16 and int(key_id, 16) >= 0
    assert len(secret) >= 43  # 256 bits in URL-safe base64
    assert store.authenticate(token) == key
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM api_keys")).mappings().all()
    assert len(rows) == 1
    row = dict(rows[0])
    assert row["secret_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(row) and secret not in repr(row)
    assert row["role"] == "source:court" and row["revoked_at"] is None
    # another process (a new store over a new connection) knows it too
    other = Ledger.open(ledger.url)
    try:
        assert KeyStore(other).authenticate(token) == key
    finally:
        other.close()


def test_list_shows_every_key_never_a_secret(ledger: Ledger) -> None:
    store = KeyStore(ledger)
    a, token_a = store.create(Role("admin"), None, NOW)
    b, _ = store.create("enforcer:air_travel", "Gate 3", NOW + 5)
    store.revoke(a.key_id, NOW + 10)
    listed = store.list()
    assert [k.key_id for k in listed] == [a.key_id, b.key_id]
    assert listed[0].revoked_at == NOW + 10 and not listed[0].active and listed[1].active
    shown = listed[0].to_json()
    assert shown == {
        "key_id": a.key_id,
        "role": "admin",
        "role_kind": "admin",
        "role_name": None,
        "name": None,
        "created_at": "2026-09-21T14:13:20Z",
        "revoked_at": "2026-09-21T14:13:30Z",
    }
    assert token_a.split("_", 2)[2] not in repr(listed)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],  # a character short
        lambda t: t + "A",
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the secret's last character
        lambda t: t.replace("sck_", "SCK_"),
        lambda t: t.upper(),
        lambda t: " " + t,
        lambda t: t + "\n",
        lambda t: "Bearer " + t,
        lambda t: t.split("_", 2)[0] + "_" + t.split("_", 2)[1],  # no secret
        lambda t: t.split("_", 2)[0] + "_" + t.split("_", 2)[1] + "_",
        lambda t: "sck__" + t.split("_", 2)[2],  # no key id
        lambda t: t + "é",
        lambda t: t + "\udc80",  # a lone surrogate: not even encodable
        lambda t: t[:-1] + "é",  # the right length, not ASCII
        lambda t: t[:-1] + "\udc80",
        lambda t: t[:4] + "Z" + t[5:],  # a key id no key has, the right secret
        lambda t: t * 2,
    ],
)
def test_anything_but_the_token_is_refused(sqlite_ledger: Ledger, mangle: object) -> None:
    store = KeyStore(sqlite_ledger)
    _, token = store.create("reviewer", None, NOW)
    assert callable(mangle)
    assert store.authenticate(mangle(token)) is None
    assert store.authenticate(token) is not None


@pytest.mark.parametrize("token", [None, 42, b"sck_x_y", ["sck_a_b"], "", "sck_", "sck___"])
def test_non_tokens_are_refused_without_an_error(sqlite_ledger: Ledger, token: object) -> None:
    assert KeyStore(sqlite_ledger).authenticate(token) is None


def test_the_secret_of_one_key_does_not_open_another(ledger: Ledger) -> None:
    store = KeyStore(ledger)
    _, token_a = store.create("admin", None, NOW)
    b, token_b = store.create("auditor", None, NOW)
    swapped = f"sck_{b.key_id}_{token_a.split('_', 2)[2]}"
    assert store.authenticate(swapped) is None
    assert store.authenticate(token_b) == b


def test_a_revoked_key_fails_at_once_in_this_process(ledger: Ledger) -> None:
    clock = FakeClock()
    store = KeyStore(ledger, clock=clock)
    twin = KeyStore(Ledger.open(ledger.url), clock=clock)  # e.g. the API's own store
    key, token = store.create("enforcer:air_travel", None, NOW)
    assert store.authenticate(token) == key and twin.authenticate(token) == key
    revoked = store.revoke(key.key_id, NOW + 60)
    assert revoked.revoked_at == NOW + 60
    # the clock has not moved: no refresh was due, and still neither store lets it in
    assert store.authenticate(token) is None
    assert twin.authenticate(token) is None
    twin.ledger.close()


def test_a_revocation_by_another_process_is_seen_within_the_interval(ledger: Ledger) -> None:
    clock = FakeClock()
    store = KeyStore(ledger, clock=clock)
    key, token = store.create("enforcer:air_travel", None, NOW)
    assert store.authenticate(token) == key  # cached
    # another process revokes: a write this process's stores are not told about
    with ledger.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE api_keys SET revoked_at = {NOW + 1}"))
    clock.t += REFRESH_INTERVAL - 0.01
    assert store.authenticate(token) == key  # served from memory: no read was due yet
    clock.t += 0.01
    assert store.authenticate(token) is None  # the interval is up: revocations are read
    clock.t += 100
    assert store.authenticate(token) is None


def test_revoking_twice_or_an_unknown_key_is_an_error(ledger: Ledger) -> None:
    store = KeyStore(ledger)
    key, _ = store.create("admin", None, NOW)
    store.revoke(key.key_id, NOW + 1)
    with pytest.raises(KeyRevokedError, match=r"revoked already, at 2026-09-21T14:13:21Z"):
        store.revoke(key.key_id, NOW + 2)
    assert store.get(key.key_id) == ApiKey(key.key_id, Role("admin"), None, NOW, NOW + 1)
    with pytest.raises(UnknownKeyError, match="no key has id 'nope'"):
        store.revoke("nope", NOW)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM api_keys",
        "UPDATE api_keys SET role = 'admin'",
        "UPDATE api_keys SET secret_hash = 'x'",
        "UPDATE api_keys SET created_at = 0",
        "UPDATE api_keys SET revoked_at = NULL",  # un-revoking the revoked one
        "UPDATE api_keys SET revoked_at = 5 WHERE revoked_at IS NOT NULL",
    ],
)
def test_keys_are_never_deleted_or_rewritten(ledger: Ledger, sql: str) -> None:
    store = KeyStore(ledger)
    first, _ = store.create("admin", None, NOW)
    store.create("source:court", None, NOW)
    store.revoke(first.key_id, NOW + 1)
    before = store.list()
    refused = pytest.raises(sa.exc.DatabaseError, match="only revoked once")
    with refused, ledger.engine.begin() as conn:
        conn.execute(sa.text(sql))
    assert store.list() == before
    if not ledger.is_sqlite:
        refused = pytest.raises(sa.exc.DatabaseError, match="only revoked once")
        with refused, ledger.engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE api_keys"))
        assert store.list() == before


def test_enforcer_services_are_checked_against_a_policy(
    sqlite_ledger: Ledger, policy: CompiledPolicy
) -> None:
    store = KeyStore(sqlite_ledger)
    with pytest.raises(RoleError, match=r"unknown service 'air_travle'.*did you mean 'air_travel'"):
        store.create("enforcer:air_travle", None, NOW, policy=policy)
    key, _ = store.create("enforcer:air_travel", None, NOW, policy=policy)
    assert key.role == Role("enforcer", "air_travel")
    assert [k.key_id for k in store.list()] == [key.key_id]  # the refused one was not stored


def test_the_active_policy_is_used_when_there_is_one(ledger: Ledger) -> None:
    store = KeyStore(ledger)
    before, _ = store.create("enforcer:anything", None, NOW)  # no policy yet: nothing to check
    assert "service 'anything' was not checked" in str(
        store.unchecked_role_warning("enforcer:anything")
    )
    assert store.unchecked_role_warning("reviewer") is None
    body, digest = policy_body("1.0")
    ledger.activate_policy(body, "fair-transit", "1.0", digest, NOW, now=NOW)
    with pytest.raises(RoleError, match=r"unknown service 'anything': policy fair-transit@1.0"):
        store.create("enforcer:anything", None, NOW)
    key, _ = store.create("enforcer:high_speed_rail", None, NOW)
    assert store.unchecked_role_warning("enforcer:high_speed_rail") is None  # checked
    # both made at NOW: list() orders them by key id (random), after created_at
    assert [k.key_id for k in store.list()] == sorted([before.key_id, key.key_id])
    with pytest.raises(RoleError, match=r"unknown source 'court': policy fair-transit@1.0"):
        store.create("source:court", None, NOW)
    source, _ = store.create("source:transit-operator", None, NOW)
    listed = {k.key_id for k in store.list()}
    assert listed == {before.key_id, key.key_id, source.key_id}


def test_a_source_needs_a_policy_that_declares_it(
    sqlite_ledger: Ledger, policy: CompiledPolicy
) -> None:
    # the test policy has no sources section: no source may submit under it
    with pytest.raises(RoleError, match="declares no sources, so no source may submit"):
        KeyStore(sqlite_ledger).create("source:court", None, NOW, policy=policy)
    assert KeyStore(sqlite_ledger).list() == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "must not be blank"),
        ("  ", "must not be blank"),
        ("x" * 201, "at most 200"),
        ("a\x1bb", "control or invisible"),
    ],
)
def test_bad_key_names_are_refused(sqlite_ledger: Ledger, name: str, message: str) -> None:
    with pytest.raises(ApiKeyError, match=message):
        KeyStore(sqlite_ledger).create("admin", name, NOW)
    assert KeyStore(sqlite_ledger).list() == []


_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
WELL_FORMED = st.builds(
    lambda key_id, secret: f"sck_{key_id}_{secret}",
    st.text("0123456789abcdef", min_size=16, max_size=16),
    st.text(_URLSAFE, min_size=43, max_size=43),
)
"""Strings of a token's exact form (most name no key; those that do have the wrong secret)."""

_ROLES = st.sampled_from(["admin", "reviewer", "auditor", "source:court", "subject:P1"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.lists(st.tuples(_ROLES, st.booleans()), min_size=1, max_size=6),
    strangers=st.lists(st.one_of(st.text(max_size=80), WELL_FORMED), max_size=5),
)
def test_only_issued_unrevoked_tokens_authenticate(
    ledger: Ledger, plan: list[tuple[str, bool]], strangers: list[str]
) -> None:
    clock = FakeClock()
    store = KeyStore(ledger, clock=clock)
    elsewhere = KeyStore(Ledger.open(ledger.url), clock=clock)
    issued: dict[str, tuple[ApiKey, bool]] = {}
    for role, revoke in plan:
        key, token = store.create(role, None, NOW)
        assert elsewhere.authenticate(token) == key  # cached there before the revocation
        if revoke:
            store.revoke(key.key_id, NOW + 1)
        issued[token] = (key, revoke)
    clock.t += REFRESH_INTERVAL
    for token, (key, revoked) in issued.items():
        assert store.authenticate(token) == (None if revoked else key)
        assert elsewhere.authenticate(token) == (None if revoked else key)
        # the same key id with any other secret
        for stranger in strangers:
            forged = token.rsplit("_", 1)[0] + "_" + stranger
            if forged != token:
                assert store.authenticate(forged) is None
    for stranger in strangers:
        if stranger not in issued:
            assert store.authenticate(stranger) is None
    elsewhere.ledger.close()


def test_migration_adds_the_table_to_an_older_ledger(ledger: Ledger) -> None:
    from alembic import command
    from alembic.config import Config

    from socialcredit.ledger.database import MIGRATIONS, schema_versions

    versions = schema_versions()
    ours = next(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("*_api_keys.py"))
    older = versions[versions.index(ours) - 1]
    record = {"id": "d", "source": "court", "subject": "p", "type": "debt"}
    ledger.ingest_entries([{**record, "occurred_at": "2025-01-01"}], now=NOW)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:  # the ledger as the revision before ours left it
        config.attributes["connection"] = conn
        command.downgrade(config, older)
    with ledger.engine.connect() as conn:
        assert "api_keys" not in sa.inspect(conn).get_table_names()
    reopened = Ledger.open(ledger.url)
    try:
        with pytest.raises(Exception, match="older than this socialcredit"):
            KeyStore(reopened).list()
        reopened.upgrade()  # what `init` does, everything kept
        store = KeyStore(reopened)
        key, token = store.create("admin", None, NOW)
        assert store.authenticate(token) == key
        assert [e["id"] for e in reopened.iter_entries()] == ["d"]
        refused = pytest.raises(sa.exc.DatabaseError, match="only revoked once")
        with refused, reopened.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM api_keys"))
    finally:
        reopened.close()
