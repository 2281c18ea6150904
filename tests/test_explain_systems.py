"""Sentences of the ranking explanation that must stay true at any precision."""

from __future__ import annotations

from socialcredit.explain_systems import _margin


def test_a_tiny_margin_is_never_said_to_be_zero() -> None:
    assert _margin(0.00019, "above") == ", 0.00019 below yours"
    assert _margin(0.00019, "below") == ", 0.00019 above yours"
    assert _margin(0.987, "above") == ", 0.987 below yours"
    assert _margin(0.0, "below") == ", the same as yours"
