"""The policy reader's structure check on libyaml's events (fast) gives PyYAML's answer: the
same policy and field lines for a text either accepts, the same problems for a text
either refuses (libyaml accepts texts PyYAML refuses: tabs, '?' in flow mappings)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.examples import example_policies
from socialcredit.policy import PolicyError, parse_policy
from socialcredit.policy import loader as reader

pytestmark = pytest.mark.skipif(reader._C_EVENTS is None, reason="no libyaml in this PyYAML")


def _python(text: str) -> PolicyError | tuple[Any, dict[Any, int]]:
    saved = reader._C_EVENTS
    reader._C_EVENTS = None
    try:
        loaded = parse_policy(text, "p.yaml")
    except PolicyError as exc:
        return exc
    finally:
        reader._C_EVENTS = saved
    return loaded.policy, loaded.lines


def _fast(text: str) -> PolicyError | tuple[Any, dict[Any, int]]:
    try:
        loaded = parse_policy(text, "p.yaml")
    except PolicyError as exc:
        return exc
    return loaded.policy, loaded.lines


def _same(text: str) -> None:
    a, b = _python(text), _fast(text)
    if isinstance(a, PolicyError) or isinstance(b, PolicyError):
        assert isinstance(a, PolicyError) and isinstance(b, PolicyError), (a, b)
        assert [str(p) for p in a.problems] == [str(p) for p in b.problems]
    else:
        assert a == b


@pytest.mark.parametrize("path", example_policies(), ids=lambda p: p.stem)
def test_examples_read_the_same(path: Any) -> None:
    text = path.read_text(encoding="utf-8")
    _same(text)
    _same(text.replace("version:", "version: &a", 1))  # an anchor
    _same(text.replace("record_types:", "record_types:\n  x: [\n", 1))  # broken YAML
    _same(text.replace("\npolicy:", "\npolicy: a\npolicy:", 1))  # a key twice
    _same(text.replace("record_types:", "record_types:\n  ? [a, b]\n  :", 1))  # a list as a key
    _same(text.replace("record_types:", "record_types:" + " [" * 70 + "]" * 70, 1))  # deep


EXAMPLE = example_policies()[0].read_text(encoding="utf-8")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, len(EXAMPLE)),
    st.text(
        alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#%@`,?\t\n\r \x85\u2028\ufeff\x00ab1")),
        max_size=6,
    ),
)
def test_edited_policies_read_the_same(at: int, insert: str) -> None:
    _same(EXAMPLE[:at] + insert + EXAMPLE[at:])
