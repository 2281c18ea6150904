"""A policy with the unnamed score and two named ones (components, caps, weights, a
clean-year reward, an unpublished cut-off), built on ``tests.conftest.TEST_POLICY``."""

from __future__ import annotations

from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy
from tests.conftest import TEST_POLICY

SCORES = """\
scores:
  civic:
    display_name: civic points
    base: 1000
    min: 0
    max: 1200
    components:
      debts:
        types: [debt]
        min: -150
      volunteering:
        types: [volunteering]
        max: 25
      clean_years:
        display_name: clean-year reward
        clean_year: {types: [debt], points: 5, first_year: 2024}
        max: 20
    grades:
      - {name: A, at_least: 1100}
      - {name: B, at_least: unpublished}
      - {name: C, at_least: 900}
      - {name: D}
  weighted:
    display_name: weighted score
    base: 350
    min: 350
    max: 950
    components:
      conduct:
        category: conduct
        base: 300
        min: 0
        max: 600
        weight: 0.35
      civic:
        types: [volunteering, debt]
        base: 300
        min: 0
        max: 600
        weight: 0.65
    grades:
      - {name: good, at_least: 600}
      - {name: poor}
"""

EXTRA_SANCTIONS = """\
  clean_perk:
    when: {score_at_least: {score: civic, value: 1010}}
    service: bike_rental
    effect: benefit
  civic_low_hotels:
    when: {grade_in: {score: civic, grades: [D]}}
    service: luxury_hotel
    effect: deny
    duration: {fixed: P30D}
  weighted_rail:
    when: {score_below: {score: weighted, value: 540}}
    service: rail
    effect: deny
"""


def composite_text() -> str:
    text = TEST_POLICY.replace("record_types:\n", SCORES + "record_types:\n", 1)
    return text.replace("due_process:\n", EXTRA_SANCTIONS + "due_process:\n", 1)


def composite_policy() -> CompiledPolicy:
    return compile_policy(parse_policy(composite_text(), "composite.yaml"))
