"""A policy that does not use the second edition's service constructs keeps its content
hash: a ledger refuses a stored policy whose hash no longer matches ("altered"), so a new
field with a default must never change an old policy's hash."""

from __future__ import annotations

from socialcredit.policy import parse_policy
from tests.policy.services.policy import STRUCTURED

# tests/conftest.py's TEST_POLICY as of c252cd9 (before issue 7), frozen, and its hash then
FROZEN = """
policy: test-policy
version: "1"
meta: {title: Test policy}
score: {form: points, base: 1000, min: 0, max: 2000}
grades:
  - {name: A, at_least: 1000}
  - {name: B, at_least: 900}
  - {name: C}
record_types:
  debt:
    points: -100
    expires_after: P1000D
    context: courts
    category: judicial
    evidence: court_order
    resolvable: true
  fine:
    points: -60
    expires_after: P100D
    decay: linear
    context: transit
    category: conduct
    evidence: official_record
  misconduct:
    points: 0
    expires_after: P180D
    context: transit
    category: conduct
    evidence: official_record
  volunteering:
    points: 10
    expires_after: P365D
    context: civic
    category: prosocial
    evidence: official_record
relations:
  child_of: {description: subject is a child of the related subject}
lists:
  debtors:
    kind: black
    when: {records: {type: debt, unresolved: true}}
    delist_after_resolution: P3D
  troublemakers:
    kind: black
    when: {records: {type: misconduct}}
  volunteers:
    kind: red
    when: {records: {type: volunteering, at_least: 2, within: P365D}}
sanctions:
  no_flights:
    when: {list: debtors}
    service: air_travel
    effect: deny
    reach: [{relation: child_of}]
    reason_code: DEBTOR
  no_school:
    when: {list: debtors}
    service: private_school
    effect: deny
    max_duration: P500D
  low_grade_no_hotels:
    when: {grade_in: [C]}
    service: luxury_hotel
    effect: deny
  rail_ban:
    when: {list: troublemakers}
    service: rail
    effect: deny
    duration: {fixed: P30D}
  bike_perk:
    when: {list: volunteers}
    service: bike_rental
    effect: benefit
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
"""
FROZEN_HASH = "fe4c7b679058a76a79250f359c40b3a84ccd489c603a8b2862851115775c83a8"


def test_an_old_policy_keeps_its_content_hash() -> None:
    assert parse_policy(FROZEN).content_hash == FROZEN_HASH


def test_new_fields_at_their_defaults_do_not_change_the_hash() -> None:
    explicit = FROZEN.replace(
        "    reason_code: DEBTOR\n", "    reason_code: DEBTOR\n    applies_to: []\n"
    )
    explicit = explicit.replace(
        "relations:\n",
        "services:\n  air_travel: {attributes: {}}\n  private_school: {}\n  luxury_hotel: {}\n"
        "  rail: {}\n  bike_rental: {}\nrelations:\n",
    )
    assert explicit != FROZEN
    without = FROZEN.replace(
        "relations:\n",
        "services:\n  air_travel: {}\n  private_school: {}\n  luxury_hotel: {}\n"
        "  rail: {}\n  bike_rental: {}\nrelations:\n",
    )
    assert parse_policy(explicit).content_hash == parse_policy(without).content_hash


def test_the_new_constructs_are_part_of_the_hash() -> None:
    plain = parse_policy(STRUCTURED).content_hash
    for old, new in (
        ("[{attribute: stars, at_least: 1}]", "[{attribute: stars, at_least: 2}]"),
        ("    context: commerce\n", ""),
        ("    parent: rail_tickets\n    context: transit\n    attributes:", "    attributes:"),
    ):
        assert parse_policy(STRUCTURED.replace(old, new, 1)).content_hash != plain
