"""``policy show`` says a rating score, a related component and re-evaluation in words."""

from __future__ import annotations

import pytest

from socialcredit.examples import example_policy
from tests.cli.conftest import call


def test_the_electoral_policy_is_shown_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(capsys, "policy", "show", str(example_policy("electoral-credit")))
    assert code == 0, err
    text = " ".join(out.split())
    assert (
        "score credit: ratings (candidate_rating) from 1 to 5, one per rater and subject a "
        "term (the last given), averaged with a prior of 20 ratings of 3"
    ) in text
    assert "re-evaluated every 1 year from the first day of 2025-01" in text


def test_the_sesame_relationships_dimension_is_shown_in_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = call(capsys, "policy", "show", str(example_policy("sesame-style")))
    assert code == 0, err
    text = " ".join(out.split())
    assert "relationships (the mean sesame score of those one is friend_of, less its base" in text
    assert "category None" not in text
    assert "re-evaluated every 1 month from the first day of 2015-02" in text
