"""Shared fixtures: a small policy whose every number the tests reason about by hand."""

from __future__ import annotations

import pytest
from hypothesis import settings

from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy

# Hypothesis' per-example deadline measures the machine, not the code: on a loaded two-core
# machine (CI, parallel runs) a first example that compiles a policy can take longer than
# 200 ms and fail a correct test. Examples still stop at hypothesis' other limits.
settings.register_profile("socialcredit", deadline=None)
settings.load_profile("socialcredit")

# Every rule the engine knows appears here once, with round numbers so expected values can
# be worked out by hand in each test.
TEST_POLICY = """
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


@pytest.fixture(scope="session")
def policy() -> CompiledPolicy:
    """The compiled test policy."""
    return compile_policy(parse_policy(TEST_POLICY, "test-policy.yaml"))
