"""Time travel evaluates under the policy that was in force then (issue 5, item 1).

Two versions of the test policy are activated one after the other: v1 on 2026-01-01 (one
unpaid debt puts a subject on the debtors list, -100 points) and v2 on 2026-06-01 (two unpaid
debts are needed, and a debt costs 200 points). One debt recorded on 2026-02-01. Every
expected value below follows from those rules by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.engine import Engine, NoPolicyError, PolicyNotInForceError
from socialcredit.ledger import Ledger, PolicyVersion
from socialcredit.policy import parse_policy
from socialcredit.timeutil import parse_timestamp
from tests.conftest import TEST_POLICY

V1 = TEST_POLICY
V2 = (
    TEST_POLICY.replace('version: "1"', 'version: "2"')
    .replace(
        "when: {records: {type: debt, unresolved: true}}",
        "when: {records: {type: debt, unresolved: true, at_least: 2}}",
    )
    .replace("points: -100", "points: -200")
)
T1 = parse_timestamp("2026-01-01")
T2 = parse_timestamp("2026-06-01")
HASH1 = parse_policy(V1).content_hash
HASH2 = parse_policy(V2).content_hash

DEBT = {
    "id": "d1",
    "source": "court",
    "subject": "wang",
    "type": "debt",
    "occurred_at": "2026-02-01",
    "recorded_at": "2026-02-01",
}


def activate(ledger: Ledger, text: str, at: int) -> None:
    loaded = parse_policy(text)
    ledger.activate_policy(
        loaded.text,
        loaded.policy.policy,
        loaded.policy.version,
        loaded.content_hash,
        at,
        "test",
        now=at,
    )


def build(path: Path) -> Ledger:
    ledger = Ledger.open(str(path))
    ledger.upgrade()
    activate(ledger, V1, T1)
    activate(ledger, V2, T2)
    result = ledger.ingest_entries([DEBT], now=parse_timestamp("2026-02-01"))
    assert result.accepted == 1
    return ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = build(tmp_path / "history.db")
    yield ledger
    ledger.close()


def at(day: str) -> int:
    return parse_timestamp(day)


def test_standing_between_activations_uses_the_first_version(ledger: Ledger) -> None:
    engine = Engine.open(ledger, lambda: at("2026-11-25"))
    st = engine.standing("wang", at("2026-03-01"))
    # v1: 1000 - 100 = 900, band B (900 <= s < 1000); one unpaid debt lists her
    assert st.score == 900 and st.grade == "B"
    assert [m.name for m in st.lists] == ["debtors"]
    assert st.policy_version == "test-policy@1" and st.policy_hash == HASH1


def test_standing_after_the_second_activation_uses_the_second(ledger: Ledger) -> None:
    engine = Engine.open(ledger, lambda: at("2026-11-25"))
    st = engine.standing("wang", at("2026-07-01"))
    # v2: 1000 - 200 = 800, band C; one debt is not enough for the list any more
    assert st.score == 800 and st.grade == "C"
    assert st.lists == []
    assert st.policy_version == "test-policy@2" and st.policy_hash == HASH2
    # the current policy is the latest one in force now
    assert engine.policy.version_label == "test-policy@2"
    assert engine.standing("wang").policy_hash == HASH2


def test_activation_instant_belongs_to_the_new_version(ledger: Ledger) -> None:
    engine = Engine.open(ledger, lambda: at("2026-11-25"))
    assert engine.policy_at(T2 - 1).loaded.content_hash == HASH1
    assert engine.policy_at(T2).loaded.content_hash == HASH2
    assert engine.policy_version_at(T2 - 1).declared_version == "1"


def test_check_and_explain_follow_the_policy_in_force(ledger: Ledger) -> None:
    engine = Engine.open(ledger, lambda: at("2026-11-25"))
    before = engine.check("wang", "air_travel", at("2026-03-01"))
    assert before.decision == "deny" and before.reasons == ["DEBTOR"]
    assert (before.policy_version, before.policy_hash) == ("test-policy@1", HASH1)
    after = engine.check("wang", "air_travel", at("2026-07-01"))
    assert after.decision == "allow"
    assert (after.policy_version, after.policy_hash) == ("test-policy@2", HASH2)
    ex = engine.explain("wang", "air_travel", at("2026-03-01"))
    assert ex.decision.decision == "deny"
    assert ex.standing.policy_hash == HASH1
    # v2 gives grade C, and grade C is denied luxury hotels; v1's grade B is not
    assert engine.check("wang", "luxury_hotel", at("2026-03-01")).decision == "allow"
    assert engine.check("wang", "luxury_hotel", at("2026-07-01")).decision == "deny"


def test_recompute_uses_the_policy_in_force(ledger: Ledger) -> None:
    engine = Engine.open(ledger, lambda: at("2026-11-25"))
    then = engine.recompute(at("2026-03-01"))
    assert then.policy.loaded.content_hash == HASH1
    debtors = then.policy.list_index("debtors")
    assert then.lists[debtors].tolist() == [True]
    later = engine.recompute(at("2026-07-01"))
    assert later.policy.loaded.content_hash == HASH2
    assert later.lists[debtors].tolist() == [False]


def test_before_the_first_activation_is_an_error_naming_its_date(ledger: Ledger) -> None:
    engine = Engine.open(ledger, lambda: at("2026-11-25"))
    for call in (
        lambda: engine.standing("wang", at("2025-12-31")),
        lambda: engine.check("wang", "air_travel", at("2025-12-31")),
        lambda: engine.explain("wang", "air_travel", at("2025-12-31")),
        lambda: engine.recompute(at("2025-12-31")),
    ):
        with pytest.raises(PolicyNotInForceError) as info:
            call()
        message = info.value.message
        assert "2026-01-01" in message and "test-policy@1" in message
        assert "--policy" in info.value.cli_hint and "--policy" not in message
        assert info.value.exit_code == 2
        assert isinstance(info.value, NoPolicyError)


def test_a_policy_file_overrides_the_history(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "v1.yaml"
    path.write_text(V1)
    engine = Engine.open(ledger, lambda: at("2026-11-25"), str(path))
    # before any activation, and after v2: always the given file
    st = engine.standing("wang", at("2025-12-31"))
    assert st.policy_hash == HASH1 and st.lists == []  # the debt was not known yet
    st = engine.standing("wang", at("2026-07-01"))
    assert st.policy_hash == HASH1 and [m.name for m in st.lists] == ["debtors"]
    assert engine.activated_version is None


def test_compiled_policies_are_cached_by_content(ledger: Ledger) -> None:
    engine = Engine.open(ledger, lambda: at("2026-11-25"))
    assert engine.policy_at(at("2026-03-01")) is engine.policy_at(at("2026-04-01"))
    # the same body activated again later compiles once
    activate(ledger, V1, at("2026-09-01"))
    engine = Engine.open(ledger, lambda: at("2026-11-25"))
    assert engine.policy_at(at("2026-03-01")) is engine.policy_at(at("2026-10-01"))
    assert engine.policy.loaded.content_hash == HASH1
    assert engine.activated_version == 3


def test_no_activation_at_all_is_the_no_policy_error(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path / "empty.db"))
    ledger.upgrade()
    try:
        with pytest.raises(NoPolicyError) as info:
            Engine.open(ledger, lambda: T1)
        assert "no active policy" in info.value.message
    finally:
        ledger.close()


# ------------------------------------------------------------ the choice, as a property


@given(
    starts=st.lists(st.integers(0, 50), min_size=1, max_size=8),
    t=st.integers(-5, 60),
)
def test_the_policy_in_force_is_the_latest_activation_at_or_before_t(
    starts: list[int], t: int
) -> None:
    # version numbers in activation order; times may repeat or go backwards (a library
    # caller may record any time): the latest time wins, then the latest version
    history = [
        PolicyVersion(i + 1, "p", str(i), f"h{i}", s, None, "") for i, s in enumerate(starts)
    ]
    engine = Engine(None, lambda: t, history=history)  # type: ignore[arg-type]
    candidates = [pv for pv in history if pv.activated_at <= t]
    if not candidates:
        with pytest.raises(PolicyNotInForceError):
            engine.policy_version_at(t)
        return
    expected = max(candidates, key=lambda pv: (pv.activated_at, pv.version))
    assert engine.policy_version_at(t) == expected
