"""A small policy with structured services: parents, contexts, request attributes."""

from __future__ import annotations

from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy

# Line numbers matter to the loader tests: keep the layout.
STRUCTURED = """\
policy: structured-services
version: "1"
meta: {title: Services with structure}
score: {form: points, base: 1000}
grades:
  - {name: A, at_least: 1000}
  - {name: C}
record_types:
  debt:
    points: -100
    expires_after: P1000D
    context: courts
    category: judicial
    evidence: court_order
    resolvable: true
  seat_fight:
    points: 0
    expires_after: P180D
    context: transit
    category: conduct
    evidence: official_record
lists:
  debtors:
    kind: black
    display_name: list of dishonest judgment debtors
    when: {records: {type: debt, unresolved: true}}
services:
  rail_tickets:
    display_name: train tickets
    action: buy train tickets
    context: transit
    attributes:
      price: {type: number, display_name: the ticket price, unit: CNY}
  g_train_seats:
    display_name: G-series train seats
    action: buy seats on G-series high-speed trains
    parent: rail_tickets
    context: transit
  d_train_seats:
    display_name: D-series train seats
    action: buy seats on D-series trains
    parent: rail_tickets
    context: transit
    attributes:
      class:
        type: one_of
        values: [second, first, business]
        display_name: the seat class
        value_names: {second: second class, first: first class, business: business class}
  private_school:
    display_name: private school places
    action: pay for a child's place at a private school
    context: education
    attributes:
      annual_fee: {type: number, display_name: the annual fee, unit: CNY}
      payer:
        type: one_of
        values: [debtor, other]
        display_name: the payer of the fees
        value_names: {debtor: you, other: someone else}
      school: {type: text}
  hotels:
    display_name: hotel rooms
    action: stay at a hotel
    context: commerce
    attributes:
      stars: {type: number, display_name: the hotel's star rating}
sanctions:
  rail_ban:
    when: {records: {type: seat_fight}}
    service: rail_tickets
    effect: deny
    duration: {fixed: P180D}
    reason_code: RAIL-CAT1
  no_g_trains:
    when: {list: debtors}
    service: g_train_seats
    effect: deny
    reason_code: SPC-G
  no_d_first:
    when: {list: debtors}
    service: d_train_seats
    effect: deny
    applies_to: [{attribute: class, in: [first, business]}]
    reason_code: SPC-D1
  no_costly_school:
    when: {list: debtors}
    service: private_school
    effect: deny
    applies_to:
      - {attribute: annual_fee, at_least: 20000}
      - {attribute: payer, in: [debtor]}
    reason_code: SPC-SCHOOL
  no_star_hotels:
    when: {list: debtors}
    service: hotels
    effect: deny
    applies_to: [{attribute: stars, at_least: 1}]
    reason_code: SPC-HOTEL
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
"""


def structured() -> CompiledPolicy:
    """The compiled policy above."""
    return compile_policy(parse_policy(STRUCTURED, "structured.yaml"))
