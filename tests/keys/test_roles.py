"""Roles are parsed strictly: every kind, its name rules, and clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.errors import SocialCreditError
from socialcredit.keys import ROLE_KINDS, Role, RoleError, parse_role


@pytest.mark.parametrize(
    ("text", "kind", "name"),
    [
        ("admin", "admin", None),
        ("reviewer", "reviewer", None),
        ("auditor", "auditor", None),
        ("source:court", "source", "court"),
        ("source:traffic-police", "source", "traffic-police"),
        ("enforcer:air_travel", "enforcer", "air_travel"),
        ("subject:P00000042", "subject", "P00000042"),
        ("subject:urn:x:1", "subject", "urn:x:1"),  # the name is all after the first ':'
    ],
)
def test_each_kind_parses(text: str, kind: str, name: str | None) -> None:
    role = parse_role(text)
    assert (role.kind, role.name) == (kind, name)
    assert str(role) == text
    assert parse_role(str(role)) == role


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("boss", "unknown role kind 'boss': roles are admin, source:<name>, enforcer:<service>"),
        ("admn", "unknown role kind 'admn': did you mean 'admin'?"),
        ("Admin", "unknown role kind 'Admin'"),
        ("source", "role 'source' needs a name: write it as 'source:<name>'"),
        ("source:", "role 'source' needs a name"),
        ("enforcer", "role 'enforcer' needs a service: write it as 'enforcer:<service>'"),
        ("subject:", "role 'subject' needs an id: write it as 'subject:<id>'"),
        ("admin:root", "role 'admin' takes no name (got admin:root); write it as 'admin'"),
        ("auditor:", "role 'auditor' takes no name"),
        ("reviewer:x", "role 'reviewer' takes no name"),
        ("", "a role is needed: one of admin, source:<name>"),
        ("   ", "a role is needed"),
        (" admin", "role ' admin' has spaces around its kind 'admin'"),
        ("source: court", "has spaces at its start or end"),
        ("subject:P1\x1b[2J", "holds a control or invisible character"),
        ("source:" + "x" * 501, "longer than 500 characters"),
    ],
)
def test_bad_roles_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(RoleError) as caught:
        parse_role(text)
    assert message in caught.value.message
    assert isinstance(caught.value, SocialCreditError) and caught.value.exit_code == 2


def test_a_role_cannot_be_made_wrong_directly() -> None:
    with pytest.raises(RoleError, match="needs a service"):
        Role("enforcer")
    with pytest.raises(RoleError, match="takes no name"):
        Role("admin", "x")
    with pytest.raises(RoleError, match="unknown role kind"):
        Role("root")  # type: ignore[arg-type]


@given(st.text(max_size=40))
def test_any_text_is_a_role_or_a_role_error(text: str) -> None:
    try:
        role = parse_role(text)
    except RoleError as exc:
        assert exc.message
        return
    assert role.kind in ROLE_KINDS
    assert str(role) == text  # nothing is dropped or changed on the way
