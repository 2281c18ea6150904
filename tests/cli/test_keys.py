"""``keys create|list|revoke`` on SQLite and PostgreSQL: the token printed once and never
again, lists without secrets, revocation seen by another process within a second, and bad
roles, unknown services and unknown keys refused in one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from socialcredit.keys import KeyStore, Role
from socialcredit.ledger import Ledger
from tests.cli.conftest import CHINA, call, init_china
from tests.ledger.conftest import pg_url  # noqa: F401  (a fixture)


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[str]:  # noqa: F811
    """A URL whose tables live in a fresh PostgreSQL schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{pg_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL (not yet a ledger) on each database."""
    if request.param == "sqlite":
        return str(tmp_path / "keys.db")
    url: str = request.getfixturevalue("pg_db")
    return url


def _create(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[str, str]:
    code, out, err = call(capsys, "keys", "create", "--db", db, *args)
    assert code == 0, err
    return out, err


def test_create_prints_the_token_once_and_it_works(
    capsys: pytest.CaptureFixture[str], any_db: str
) -> None:
    assert init_china(capsys, any_db)[0] == 0
    out, err = _create(capsys, any_db, "--role", "enforcer:air_travel", "--name", "Gate 3")
    token = out.strip()
    assert out == token + "\n" and token.startswith("sck_")  # alone on stdout, for $(…)
    key_id = token.split("_")[1]
    said = " ".join(err.split())
    assert f"created key {key_id} (enforcer:air_travel, held by Gate 3) in " in said
    assert "shown only now" in said and "cannot be shown again" in said
    assert f"`socialcredit keys revoke {key_id}` ends it" in said
    with Ledger.open(any_db) as ledger:
        key = KeyStore(ledger).authenticate(token)
    assert key is not None and key.role == Role("enforcer", "air_travel")
    assert key.key_id == key_id and key.name == "Gate 3"
    # never shown again: not in the list, in text or JSON
    for args in (["keys", "list"], ["keys", "list", "--json"]):
        code, listed, _ = call(capsys, *args, "--db", any_db)
        assert code == 0 and key_id in listed
        assert token.split("_", 2)[2] not in listed and "hash" not in listed


def test_create_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    out, _ = _create(capsys, db, "--role", "subject:P00000042", "--json")
    data = json.loads(out)
    assert set(data) == {"key", "token", "database", "warnings"}
    # made as asked, but the (empty) ledger has never heard of P00000042: a mistyped id
    # would give a key that reads nothing, and nothing said so
    assert data["warnings"] == [
        "the ledger has no entry about subject 'P00000042' yet: this key reads nothing until "
        "one arrives (its reads answer 404); `keys revoke` ends a key made for a mistyped id"
    ]
    assert data["key"]["role"] == "subject:P00000042" and data["key"]["revoked_at"] is None
    assert data["token"].startswith(f"sck_{data['key']['key_id']}_")


def test_list_and_revoke(capsys: pytest.CaptureFixture[str], any_db: str) -> None:
    admin = _create(capsys, any_db, "--role", "admin")[0].strip()
    source = _create(capsys, any_db, "--role", "source:court", "--name", "Court")[0].strip()
    admin_id, source_id = admin.split("_")[1], source.split("_")[1]
    code, out, err = call(capsys, "keys", "revoke", admin_id, "--db", any_db)
    assert code == 0, err
    assert out.startswith(f"revoked key {admin_id} (admin) at ")
    code, out, _ = call(capsys, "keys", "list", "--db", any_db, "--json")
    listed = {k["key_id"]: k for k in json.loads(out)}
    assert set(listed) == {admin_id, source_id}
    assert listed[admin_id]["revoked_at"] is not None
    assert listed[source_id] == {
        "key_id": source_id,
        "role": "source:court",
        "role_kind": "source",
        "role_name": "court",
        "name": "Court",
        "created_at": listed[source_id]["created_at"],
        "revoked_at": None,
    }
    code, out, _ = call(capsys, "keys", "list", "--db", any_db)
    assert code == 0
    assert admin_id in out and source_id in out and "Court" in out
    # the source's key works; the admin's says when it was revoked (the column said
    # "revoked_at: in use" of a key never revoked, used or not)
    revoked_at = listed[admin_id]["revoked_at"]
    assert "in use" not in out and "revoked_at" not in out
    assert out.count("active") == 1 and "active" in _row(out, source_id)
    assert f"revoked on {revoked_at}" in _row(out, admin_id)
    with Ledger.open(any_db) as ledger:
        store = KeyStore(ledger)
        assert store.authenticate(admin) is None
        assert store.authenticate(source) is not None


def _row(out: str, key_id: str) -> str:
    # the table's row (a block of lines when the output is not a terminal) of ``key_id``
    blocks = re.split(r"\n  (?=\S)", out)
    (found,) = [b for b in blocks if b.startswith(key_id)]
    return " ".join(found.split())


def test_no_keys(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    assert call(capsys, "init", "--db", db)[0] == 0
    assert call(capsys, "keys", "list", "--db", db) == (0, "API keys: none\n", "")
    assert call(capsys, "keys", "list", "--db", db, "--json") == (0, "[]\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss"], "unknown role kind 'boss': roles are admin, source:<name>"),
        (["--role", "enforcer"], "role 'enforcer' needs a service"),
        (["--role", "admin:root"], "role 'admin' takes no name"),
        (["--role", "admin", "--name", " "], "a key's name, when given, must not be blank"),
        (
            ["--role", "enforcer:air_travle"],
            "role enforcer:air_travle: unknown service 'air_travle': policy china-scs@",
        ),
        (
            ["--role", "source:courts"],
            "role source:courts: unknown source 'courts': policy china-scs@2026.3 does not "
            "declare it (did you mean 'court'?)",
        ),
    ],
)
def test_bad_creations_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    db = str(tmp_path / "k.db")
    assert init_china(capsys, db)[0] == 0
    code, out, err = call(capsys, "keys", "create", "--db", db, *args)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1 and message in " ".join(err.split())
    assert call(capsys, "keys", "list", "--db", db, "--json")[1] == "[]\n"


def test_a_bad_role_creates_no_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    code, _, err = call(capsys, "keys", "create", "--db", str(db), "--role", "root")
    assert code == 2 and "unknown role kind 'root'" in err
    assert not db.exists()


def test_revoking_an_unknown_or_revoked_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "k.db")
    key_id = _create(capsys, db, "--role", "reviewer")[0].split("_")[1]
    code, out, err = call(capsys, "keys", "revoke", "0000000000000000", "--db", db)
    assert (code, out) == (2, "")
    assert err == "error: no key has id '0000000000000000' (`socialcredit keys list` lists them)\n"
    assert call(capsys, "keys", "revoke", key_id, "--db", db)[0] == 0
    code, out, err = call(capsys, "keys", "revoke", key_id, "--db", db)
    assert (code, out) == (2, "")
    assert f"key {key_id} was revoked already, at " in err


def test_a_revocation_by_another_process_stops_the_key_within_a_second(
    capsys: pytest.CaptureFixture[str], any_db: str
) -> None:
    token = _create(capsys, any_db, "--role", "enforcer:air_travel")[0].strip()
    with Ledger.open(any_db) as ledger:
        store = KeyStore(ledger)  # as a server process holds it: real clock, 1 s refresh
        assert store.authenticate(token) is not None
        revoke = [sys.executable, "-m", "socialcredit", "keys", "revoke", token.split("_")[1]]
        done = subprocess.run([*revoke, "--db", any_db], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        revoked = time.monotonic()  # the revocation is committed by now
        while store.authenticate(token) is not None:
            assert time.monotonic() - revoked < 1.0, "still authenticates a second later"
            time.sleep(0.005)


@pytest.mark.parametrize(
    ("role", "said"),
    [
        ("enforcer:air_travle", "service 'air_travle' was not checked"),
        ("source:courts", "source 'courts' was not checked"),
    ],
)
def test_without_a_policy_a_service_or_source_is_accepted_with_a_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, role: str, said: str
) -> None:
    # keys may be made before the first policy: the key is made, and the person told that
    # nothing checked its service or source and what follows from a wrong one
    db = str(tmp_path / "k.db")
    assert call(capsys, "init", "--db", db)[0] == 0
    code, out, err = call(capsys, "keys", "create", "--role", role, "--db", db)
    assert code == 0 and out.startswith("sck_")
    text = " ".join(err.split())
    assert f"warning: no policy is active, so {said}" in text
    assert "`keys revoke` ends a key made for the wrong one" in text
    code, out, _ = call(capsys, "keys", "create", "--role", role, "--db", db, "--json")
    assert code == 0
    (warning,) = json.loads(out)["warnings"]
    assert said in warning
    # roles that name no service or source have nothing to check: no warning
    code, _, err = call(capsys, "keys", "create", "--role", "reviewer", "--db", db)
    assert code == 0 and "warning" not in err
    # once a policy is active the same role is refused
    fair = str(Path(CHINA).with_name("fair-transit.yaml"))
    assert call(capsys, "policy", "activate", fair, "--db", db)[0] == 0
    code, _, err = call(capsys, "keys", "create", "--role", role, "--db", db)
    assert code == 2 and "unknown" in err and "fair-transit@1.1 does not" in " ".join(err.split())


def test_a_key_for_a_known_subject_has_no_warning(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = _create(capsys, db, "--role", "subject:debtor")
    assert out.startswith("sck_") and "warning" not in err
    out, err = _create(capsys, db, "--role", "subject:debtr")
    assert "warning: the ledger has no entry about subject 'debtr' yet" in " ".join(err.split())
