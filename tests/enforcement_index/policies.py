"""A policy with every kind of measure period the index must reproduce: while a condition
holds, a fixed term after a publicity period (objections hold it back), an end after
resolution, a maximum duration, through a relation, limited to some requests, on a parent
service, a reward, and a condition on a score with linearly decaying records."""

from __future__ import annotations

EVERY_PERIOD = """\
policy: index-test
version: "1"
meta: {title: Every kind of period}
score: {form: points, base: 1000, min: 0, max: 2000}
grades:
  - {name: A, at_least: 1000}
  - {name: B, at_least: 900}
  - {name: C}
record_types:
  debt:
    points: -100
    expires_after: P400D
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
  fare_dodging:
    points: 0
    expires_after: P2Y
    context: transit
    category: conduct
    evidence: official_record
    resolvable: true
  volunteering:
    points: 10
    expires_after: P200D
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
  volunteers:
    kind: red
    when: {records: {type: volunteering, at_least: 2, within: P365D}}
services:
  rail_tickets:
    context: transit
    attributes:
      price: {type: number}
  g_train_seats:
    parent: rail_tickets
    context: transit
  d_train_seats:
    parent: rail_tickets
    context: transit
    attributes:
      class: {type: one_of, values: [second, first]}
  air_travel: {context: transit}
  private_school:
    context: education
    attributes:
      payer: {type: one_of, values: [debtor, other]}
  luxury_hotel: {context: commerce}
  bike_rental: {context: transit}
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
    applies_to: [{attribute: payer, in: [debtor]}]
    reach: [{relation: child_of}]
    max_duration: P200D
    reason_code: DEBTOR-SCHOOL
  no_first_class:
    when: {list: debtors}
    service: d_train_seats
    effect: deny
    applies_to: [{attribute: class, in: [first]}]
    reason_code: DEBTOR-D1
  rail_ban:
    when: {records: {type: misconduct}}
    service: rail_tickets
    effect: deny
    duration: {fixed: P30D}
    starts_after: {notice: P7D, objection_blocks: true}
    reason_code: RAIL-30
  dear_tickets:
    when: {records: {type: fare_dodging, unresolved: true}}
    service: rail_tickets
    effect: deny
    applies_to: [{attribute: price, at_least: 300}]
    reason_code: FARE
  repeat_dodgers:
    when: {records: {type: fare_dodging, at_least: 2, within: P1Y}}
    service: g_train_seats
    effect: deny
    duration: {after_resolution: P60D}
    reason_code: FARE-REPEAT
  low_grade_no_hotels:
    when: {grade_in: [C]}
    service: luxury_hotel
    effect: deny
    reason_code: GRADE-C
  bike_perk:
    when: {list: volunteers}
    service: bike_rental
    effect: benefit
    reason_code: REDLIST
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
"""
