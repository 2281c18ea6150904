"""How a score is said to people (``explain_words.number`` and ``signed``): plainly, with
thousands separators, its decimals kept when it has some, never in exponent form (``:g``
wrote ``1.23457e+06`` from a million and cut ``788.3625`` to ``788.362``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from socialcredit.explain_words import number, signed


def test_examples() -> None:
    assert number(1000.0) == "1,000"
    assert number(1234567.0) == "1,234,567"
    assert number(1234567.25) == "1,234,567.25"
    assert number(788.3625) == "788.3625"
    assert number(350 + 141.4 + 45.4 + 150 + 90 + 11.5625) == "788.3625"  # no float noise
    assert number(0.1 + 0.2) == "0.3"
    assert number(-2.5) == "-2.5"
    assert number(-0.0) == "0" and number(-1e-9) == "0"
    assert number(1e20) == "100,000,000,000,000,000,000"
    assert signed(25.0) == "+25" and signed(-60.0) == "-60" and signed(0.0) == "0"
    assert signed(1e6) == "+1,000,000" and signed(-1e-9) == "0"


@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_a_number_is_plain_and_says_the_value(x: float) -> None:
    said = number(x)
    assert "e" not in said.lower() and " " not in said
    assert abs(float(said.replace(",", "")) - x) <= 5e-7 + abs(x) * 1e-15
    whole, _, decimals = said.lstrip("-").partition(".")
    assert all(len(g) == 3 for g in whole.split(",")[1:]) and len(whole.split(",")[0]) <= 3
    assert len(decimals) <= 6 and not decimals.endswith("0")
    assert signed(x).lstrip("+") == said
    assert signed(x).startswith(("+", "-")) or said == "0"


def test_a_list_is_named_as_its_display_name_reads() -> None:
    from socialcredit.explain_words import list_phrase

    assert list_phrase("list of dishonest judgment debtors") == (
        "the list of dishonest judgment debtors"
    )
    assert list_phrase("railway category 2 list") == "the railway category 2 list"
    assert list_phrase("Brawlers") == "the list Brawlers"
    # a name for the members: it was "the list the seated members of parliament"
    assert list_phrase("the seated members of parliament") == (
        "the list of the seated members of parliament"
    )
    assert list_phrase("The railway's list of evaders") == "The railway's list of evaders"
