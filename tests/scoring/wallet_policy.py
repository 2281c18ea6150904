"""A small points-wallet policy for tests: purchases earn 50 % of their amount, at most 100
points a calendar year (UTC); unspent points expire after a year; ``spend`` redeems."""

from __future__ import annotations

from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy

WALLET_POLICY = """\
policy: wallet-test
version: "1"
meta: {title: wallet test}
scores:
  points:
    display_name: shop points
    form: wallet
    wallet:
      unit: points
      earn:
        purchase: {rate: 0.5}
        bonus: {points: 5}
      redeem: [spend]
      caps:
        - {points: 100, per: year}
      expire_after: P1Y
    grades:
      - {name: gold, at_least: 50}
      - {name: member}
record_types:
  purchase: {expires_after: P1Y, context: commerce, category: financial, evidence: official_record}
  bonus: {expires_after: P1Y, context: commerce, category: financial, evidence: official_record}
  spend: {expires_after: never, context: commerce, category: financial, evidence: official_record}
sanctions:
  gold_lounge:
    when: {score_at_least: {score: points, value: 50}}
    service: lounge
    effect: benefit
due_process:
  notice_before_sanction: true
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
  human_review: true
"""


def wallet_policy() -> CompiledPolicy:
    """The policy above, compiled."""
    return compile_policy(parse_policy(WALLET_POLICY))
