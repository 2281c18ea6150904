"""The points-wallet form in the policy language: errors name file, line and field; the
JSON Schema knows it; a policy without a wallet keeps its content hash."""

from __future__ import annotations

import pytest

from socialcredit.policy import policy_json_schema
from tests.policy.test_policy_language import one_problem
from tests.scoring.wallet_policy import WALLET_POLICY


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "message"),
    [
        (
            "purchase: {rate: 0.5}",
            "purchase: {rate: 0.5, points: 2}",
            "purchase: {rate",
            "scores.points.wallet.earn.purchase",
            "exactly one of 'points' or 'rate'",
        ),
        (
            "purchase: {rate: 0.5}",
            "purchse: {rate: 0.5}",
            "purchse:",
            "scores.points.wallet.earn.purchse",
            "unknown record type 'purchse'",
        ),
        (
            "redeem: [spend]",
            "redeem: [bonus]",
            "redeem: [bonus]",
            "scores.points.wallet.redeem[0]",
            "already earns points",
        ),
        (
            "- {points: 100, per: year}",
            "- {points: 100, per: week}",
            "per: week",
            "scores.points.wallet.caps[0].per",
            "",
        ),
        (
            "expire_after: P1Y\n",
            "expire_after: soon\n",
            "expire_after: soon",
            "scores.points.wallet.expire_after",
            "",
        ),
        (
            "form: wallet\n",
            "form: wallet\n    base: 10\n",
            "  points:",
            "scores.points",
            "base do not apply to form 'wallet'",
        ),
    ],
)
def test_wallet_problems_name_file_line_and_field(
    old: str, new: str, needle: str, path: str, message: str
) -> None:
    assert old in WALLET_POLICY
    text = WALLET_POLICY.replace(old, new, 1)
    line, where, said = one_problem(text)
    assert where == path and message in said, (where, said)
    assert line is not None and abs(line - _line(text, needle)) <= 1


def test_a_wallet_needs_its_block_and_the_block_needs_the_form() -> None:
    text = WALLET_POLICY.replace("    form: wallet\n", "", 1)
    assert "needs 'form: wallet'" in one_problem(text)[2]


def test_the_schema_describes_the_wallet() -> None:
    schema = str(policy_json_schema())
    assert "expire_after" in schema and "'lifetime'" in schema and "'wallet'" in schema


def test_policy_show_says_the_wallet_in_words() -> None:
    from socialcredit.policy import parse_policy

    wallet = parse_policy(WALLET_POLICY).policy.scores["points"].wallet
    assert wallet is not None
    assert wallet.describe() == (
        "a points wallet in points: earn purchase 0.5 × amount, bonus +5; spend by spend "
        "(their amount); at most 100 a year; unspent points expire 1 year after they are "
        "earned, oldest spent first"
    )
