"""No policy file crashes validation (issue 6, item 14, and its policy fuzzing).

Whatever a policy file holds (random text, random YAML, random nesting, random types in
any field of a valid policy, conditions nested to any depth), ``load_policy`` and
``policy validate`` either accept it or raise ``PolicyError`` with file and line; a policy
they accept compiles. Nesting is limited (``MAX_NESTING``) and numbers bounded
(``MAX_POINTS``), so no score or JSON answer can overflow to infinity.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.cli import run
from socialcredit.policy import PolicyError, compile_policy, load_policy, parse_policy
from socialcredit.policy.loader import MAX_NESTING
from socialcredit.policy.model import MAX_POINTS
from tests.policy.test_policy_language import BASE, edit

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE_DATA: dict[str, Any] = yaml.safe_load(BASE)
TROUBLE = "when: {records: {type: misconduct}}"


def outcome(text: str) -> PolicyError | None:
    """Validate ``text``: None if accepted (and it compiles), else the PolicyError.

    Anything else raised (RecursionError, TypeError, …) fails the test.
    """
    try:
        loaded = parse_policy(text, "fuzz.yaml")
    except PolicyError as exc:
        assert exc.problems, "a PolicyError says what is wrong"
        for p in exc.problems:
            assert p.file == "fuzz.yaml" and p.message
            assert p.line is None or p.line >= 1
        return exc
    compile_policy(loaded)
    return None


# --- random text and random YAML -----------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["P30D", "never", "1.7e+308", "-1.0e+400", ".nan", "[/x]", "? a", "&a *a"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4)
    ),
    max_leaves=30,
)


@FUZZ
@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    outcome(text)


@FUZZ
@given(values)
def test_any_yaml_document(data: Any) -> None:
    outcome(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(st.lists(st.sampled_from(["[", "]", "{", "}", "a: ", "- ", "? ", ",", "\n", "  ", "x"])))
def test_any_brackets_and_indentation(pieces: list[str]) -> None:
    outcome("".join(pieces))


# --- a valid policy with one part replaced ---------------------------------------------------


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*here, i))
    return found


BASE_PATHS = _paths(BASE_DATA)[1:]


def _replaced(path: tuple[Any, ...], value: Any) -> Any:
    data = json.loads(json.dumps(BASE_DATA))
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


@FUZZ
@given(st.sampled_from(BASE_PATHS), values)
def test_any_field_of_a_valid_policy_replaced_by_anything(
    path: tuple[Any, ...], value: Any
) -> None:
    outcome(yaml.safe_dump(_replaced(path, value), allow_unicode=True))


conditions = st.recursive(
    st.sampled_from(
        [
            {"records": {"type": "misconduct"}},
            {"score_below": 900},
            {"grade_in": ["C"]},
            {"list": "debtors"},
            {"records": {"types": ["debt"], "at_least": 10**30}},
        ]
    ),
    lambda inner: (
        st.builds(lambda c: {"not": c}, inner)
        | st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"all": cs})
        | st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"any": cs})
    ),
    max_leaves=20,
)


@FUZZ
@given(conditions)
def test_any_condition(condition: dict[str, Any]) -> None:
    data = _replaced(("lists", "troublemakers", "when"), condition)
    outcome(yaml.safe_dump(data))


# --- nesting ---------------------------------------------------------------------------------


def _nested_not(depth: int) -> str:
    return edit(
        TROUBLE, "when: " + "{not: " * depth + "{records: {type: misconduct}}" + "}" * depth
    )


def _nested_all(depth: int) -> str:
    return edit(
        TROUBLE, "when: " + "{all: [" * depth + "{records: {type: misconduct}}" + "]}" * depth
    )


def _too_deep(exc: PolicyError | None) -> int | None:
    assert exc is not None
    (problem,) = exc.problems
    assert f"nested more than {MAX_NESTING} levels deep" in problem.message
    return problem.line


@FUZZ
@given(st.integers(0, 3000), st.booleans())
def test_conditions_nested_to_any_depth(depth: int, with_all: bool) -> None:
    text = (_nested_all if with_all else _nested_not)(depth)
    # below the top mapping, lists and troublemakers (3 levels): each `not` is a mapping, each
    # `all` a mapping and a list, and the innermost {records: {type: …}} two mappings
    levels = 3 + (2 * depth if with_all else depth) + 2
    found = outcome(text)
    if levels <= MAX_NESTING:
        assert found is None
    else:
        assert _too_deep(found) == BASE.splitlines().index("    " + TROUBLE) + 1


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + "]" * 5000,
        "{a: " * 5000 + "1" + "}" * 5000,
        "".join("  " * i + "a:\n" for i in range(5000)) + "  " * 5000 + "b",
        "".join("  " * i + "-\n" for i in range(5000)) + "  " * 5000 + "b",
    ],
    ids=["flow-lists", "flow-maps", "block-maps", "block-lists"],
)
def test_yaml_nested_5000_deep_is_one_clear_problem(text: str) -> None:
    assert _too_deep(outcome(text)) == (1 if text[0] in "[{" else MAX_NESTING + 1)


def test_the_nesting_limit_is_exact() -> None:
    # the deepest policy allowed, and one level more
    depth = MAX_NESTING - 5
    assert outcome(_nested_not(depth)) is None
    assert _too_deep(outcome(_nested_not(depth + 1))) is not None


def _line_of(start: str) -> int:
    return next(i + 1 for i, line in enumerate(BASE.splitlines()) if line.startswith(start))


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("? [a, b]\n: 1\n", 1),
        (BASE + "? [a, b]\n: 1\n", len(BASE.splitlines()) + 1),
        (edit("  child_of: {", "  ? {x: 1}\n  : {"), _line_of("  child_of: {")),
        ("{[a]: 1}", 1),
    ],
)
def test_a_complex_key_is_one_clear_problem(text: str, line: int) -> None:
    exc = outcome(text)
    assert exc is not None
    (problem,) = exc.problems
    assert problem.line == line and "used as a key" in problem.message


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("points: -100", "points: -1.7e+308"),
        ("points: -100", f"points: {MAX_POINTS + 1}"),
        ("points: -100", "points: -" + "9" * 400),
        ("base: 1000", "base: 1.0e+300"),
        ("min: 0", "min: -1.0e+10"),
        ("{name: A, at_least: 1000}", "{name: A, at_least: 1.0e+100}"),
        (TROUBLE, "when: {score_below: -1.0e+200}"),
        (TROUBLE, "when: {records: {type: misconduct, at_least: 100000000000000000000}}"),
    ],
)
def test_numbers_beyond_the_documented_range_are_refused_with_their_line(
    old: str, new: str
) -> None:
    text = edit(old, new)
    exc = outcome(text)
    assert exc is not None
    (problem,) = exc.problems
    assert (
        problem.line
        == text.splitlines().index(
            next(line for line in text.splitlines() if new.split(":")[-1].strip("} ") in line)
        )
        + 1
    )
    assert "1000000000" in problem.message  # it says the limit


def test_the_range_is_inclusive() -> None:
    text = edit("points: -100", f"points: -{MAX_POINTS}")
    text = edit("base: 1000, min: 0, max: 2000", f"base: {MAX_POINTS}", text)
    assert outcome(text) is None


def test_policy_validate_never_crashes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {
        "deep.yaml": "[" * 5000 + "]" * 5000,
        "key.yaml": "? [a, b]\n: 1\n",
        "huge.yaml": edit("points: -100", "points: -1.7e+308"),
        "binary.yaml": "\x00\x01 not yaml",
        "ok.yaml": BASE,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    paths = [str(tmp_path / name) for name in files]
    assert run(["policy", "validate", *paths]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "ok " in out
    assert err.count("error:") == 4
    assert run(["policy", "validate", "--json", *paths]) == 2
    results = json.loads(capsys.readouterr().out)
    assert [r["valid"] for r in results] == [False, False, False, False, True]
    for path in paths[:3]:
        with pytest.raises(PolicyError):
            load_policy(path)
