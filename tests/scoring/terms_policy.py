"""A small policy with terms set per case, extensions, an early end and the railway's
fare-evasion escalation (issue 7, constructs 1 and 6), for the tests of those constructs.

Terms are written in days so that the dates below are exact whatever the calendar rules
(a day is always 86,400 seconds)."""

from __future__ import annotations

from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy

TERMS_POLICY = """
policy: terms-test
version: "1"
meta: {title: Terms and anchored windows}
score: {form: points, base: 1000}
grades:
  - {name: A, at_least: 1000}
  - {name: B}
record_types:
  listing:
    points: -100
    expires_after: P730D
    term:
      min: P365D
      max: P1095D
      extension: {min: P365D, max: P1095D}
    context: courts
    category: judicial
    evidence: court_order
  refuses:
    points: -100
    expires_after: never
    resolvable: true
    context: courts
    category: judicial
    evidence: court_order
  fare_evasion:
    points: 0
    expires_after: P730D
    resolvable: true
    context: transit
    category: conduct
    evidence: official_record
  smoking:
    points: 0
    expires_after: P100D
    context: transit
    category: conduct
    evidence: official_record
lists:
  dishonest:
    kind: black
    display_name: list of dishonest judgment debtors
    when:
      any:
        - records: {type: listing}
        - records: {type: refuses, unresolved: true}
sanctions:
  no_flights:
    when: {list: dishonest}
    service: air_travel
    effect: deny
    reason_code: SPC-DEBTOR
  unpaid_fare:
    when: {records: {type: fare_evasion, unresolved: true}}
    service: train_tickets
    effect: deny
    reason_code: RAIL-FARE
  repeated_fare_evasion:
    when:
      records:
        type: fare_evasion
        at_least: 3
        after: {resolution_of: fare_evasion}
        within: P365D
    duration: {after_resolution: P90D}
    service: train_tickets
    effect: deny
    reason_code: RAIL-FARE-REPEAT
  smoking_after_evasion:
    when:
      records: {type: smoking, at_least: 2, after: {record_of: fare_evasion}, within: P30D}
    service: soft_sleeper
    effect: deny
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: true
"""


def terms_policy() -> CompiledPolicy:
    """The compiled test policy (a new object each time: compiled policies cache)."""
    return compile_policy(parse_policy(TERMS_POLICY, "terms-test.yaml"))
