"""Sentences of the ranking explanation that must stay true at any precision."""

from __future__ import annotations

from socialcredit.explain_systems import _margin


def test_a_tiny_margin_is_never_said_to_be_zero() -> None:
    assert _margin(0.00019, "above") == ", 0.00019 below yours"
    assert _margin(0.00019, "below") == ", 0.00019 above yours"
    assert _margin(0.987, "above") == ", 0.987 below yours"
    assert _margin(0.0, "below") == ", the same as yours"


def test_a_tiny_rank_margin_is_written_out_not_in_exponent_form() -> None:
    from socialcredit.explain_systems import _margin

    assert _margin(0.0000123, "above") == ", 0.000012 below yours"  # was "1.2e-05"
    assert _margin(0.0004, "below") == ", 0.0004 above yours"
    assert _margin(0.25, "above") == ", 0.25 below yours"
