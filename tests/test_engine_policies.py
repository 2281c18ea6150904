"""Stored policies are read back exactly as activated, on a fast path that falls back to the
full validator whenever the stored body is not what its recorded hash says."""

from __future__ import annotations

import pytest

from socialcredit.engine import parse_stored
from socialcredit.examples import example_policies
from socialcredit.ledger import PolicyVersion
from socialcredit.policy import PolicyError, load_policy, parse_policy
from tests.conftest import TEST_POLICY


def stored(body: str, recorded_hash: str) -> PolicyVersion:
    return PolicyVersion(1, "p", "1", recorded_hash, 0, None, body)


@pytest.mark.parametrize("path", example_policies(), ids=lambda p: p.stem)
def test_the_fast_path_reads_what_the_validator_reads(path: object) -> None:
    loaded = load_policy(str(path))
    fast = parse_stored(stored(loaded.text, loaded.content_hash))
    assert fast.policy == loaded.policy
    assert fast.content_hash == loaded.content_hash and fast.text == loaded.text


def test_a_body_that_does_not_match_its_recorded_hash_is_fully_validated() -> None:
    loaded = parse_policy(TEST_POLICY)
    other = TEST_POLICY.replace("points: -100", "points: -150")
    result = parse_stored(stored(other, loaded.content_hash))
    # the body's own rules, with its own hash: never the recorded one for different rules
    assert result.content_hash == parse_policy(other).content_hash != loaded.content_hash


def test_a_stored_body_with_a_repeated_key_is_refused_as_the_validator_would() -> None:
    body = TEST_POLICY.replace("base: 1000, min: 0", "base: 1000, base: 900, min: 0")
    with pytest.raises(PolicyError) as info:
        parse_stored(stored(body, "0" * 64))
    assert "given twice" in str(info.value.problems[0])
    assert "<policy v1 activated 1970-01-01" in str(info.value.problems[0])
