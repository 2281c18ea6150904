"""Whole-policy checks of due process: a list's delisting after resolution, publicity
periods (``starts_after``) and the appeal windows of the records behind them, and the due
process a list gives the record types it counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialcredit.policy.checks_conditions import tests_unresolved
from socialcredit.policy.checks_names import Problems, span_of


def delist_problems(name: str, lst: Mapping[str, Any]) -> Problems:
    """A ``delist_after_resolution`` delay on a list whose condition never tests
    ``unresolved: true`` would silently do nothing: the delay only ends such tests."""
    delay = span_of(lst.get("delist_after_resolution"))
    if delay is None or delay.zero or tests_unresolved(lst.get("when")) is not False:
        return []
    return [
        (
            ("lists", name, "delist_after_resolution"),
            "has no effect: the delay applies only to records: {unresolved: true} tests, and "
            "this list's condition has none; add unresolved: true to the records test (the "
            "listing then ends this long after the records are resolved) or remove "
            "delist_after_resolution",
        )
    ]


_SCORE_KEYS = ("score_below", "score_at_least", "grade_in", "rank_top")


def _uses_score(pred: Any, lists: Mapping[str, Any], depth: int = 0) -> bool:
    """Whether a condition (as parsed) or a list it names depends on the score or grade."""
    stack = [pred]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            if any(item.get(k) is not None for k in _SCORE_KEYS):
                return True
            named = item.get("list")
            if isinstance(named, str) and depth == 0:
                lst = lists.get(named)
                if isinstance(lst, Mapping) and _uses_score(lst.get("when"), lists, 1):
                    return True
            stack.extend(v for k, v in item.items() if k in ("all", "any", "not"))
    return False


def publicity_problems(data: Mapping[str, Any]) -> Problems:
    """A publicity period publishes records: a measure with one must not depend on the score."""
    sanctions = data.get("sanctions")
    lists = data.get("lists")
    if not isinstance(sanctions, Mapping):
        return []
    problems: Problems = []
    for name, sanction in sanctions.items():
        if not isinstance(sanction, Mapping) or sanction.get("starts_after") is None:
            continue
        duration = sanction.get("duration")
        if isinstance(duration, Mapping) and duration.get("after_resolution") is not None:
            problems.append(
                (
                    ("sanctions", str(name), "starts_after"),
                    "a publicity period cannot be combined with a duration that ends after "
                    "resolution; give the measure a fixed term or none",
                )
            )
        problems += _notice_problems(data, str(name), sanction)
        if _uses_score(sanction.get("when"), lists if isinstance(lists, Mapping) else {}):
            problems.append(
                (
                    ("sanctions", str(name), "starts_after"),
                    "a publicity period needs a condition on records (or on lists of "
                    "records): this measure's condition depends on the score or grade, and "
                    "there would be no record to object to",
                )
            )
    return problems


def _window_of(data: Mapping[str, Any], type_name: str, via: list[str]) -> Any:
    """The appeal window (as written) of records of ``type_name``: the record type's own, a
    list's among ``via`` that counts it, else the policy-wide one."""
    types, lists = data.get("record_types"), data.get("lists")
    blocks = [types.get(type_name) if isinstance(types, Mapping) else None]
    for name in via:
        lst = lists.get(name) if isinstance(lists, Mapping) else None
        if isinstance(lst, Mapping) and type_name in _types_named(data, lst.get("when")):
            blocks.append(lst)
    blocks.append(data)
    for block in blocks:
        dp = block.get("due_process") if isinstance(block, Mapping) else None
        if isinstance(dp, Mapping) and dp.get("appeal_window") is not None:
            return dp["appeal_window"]
    return None


def _notice_problems(data: Mapping[str, Any], name: str, sanction: Mapping[str, Any]) -> Problems:
    """A publicity period longer than the appeal window of a record behind the measure: the
    person would be told they may object while a dispute of that record no longer has any
    effect (an objection is a dispute)."""
    starts = sanction.get("starts_after")
    given = starts.get("notice") if isinstance(starts, Mapping) else None
    notice = span_of(given)
    if notice is None:
        return []
    when = sanction.get("when")
    via: list[str] = []
    stack = [when]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            if isinstance(item.get("list"), str):
                via.append(item["list"])
            stack.extend(v for k, v in item.items() if k in ("all", "any", "not"))
    lists = data.get("lists")
    named = _types_named(data, when)
    for lst in via:
        got = lists.get(lst) if isinstance(lists, Mapping) else None
        if isinstance(got, Mapping):
            named += [t for t in _types_named(data, got.get("when")) if t not in named]
    problems: Problems = []
    for t in named:
        written = _window_of(data, t, via)
        window = span_of(written)
        if window is not None and notice > window:
            problems.append(
                (
                    ("sanctions", name, "starts_after", "notice"),
                    f"the publicity period ({given}) is longer than the appeal "
                    f"window ({written}) of record type {t!r}: an objection is a dispute of the "
                    "record, and one after its appeal window has no effect; make the notice "
                    "no longer than the appeal window, or lengthen the window",
                )
            )
    return problems


def _types_named(data: Mapping[str, Any], pred: Any) -> list[str]:
    """The record types a condition (as parsed) names by type or category, in declaration order."""
    names: set[str] = set()
    categories: set[str] = set()
    stack = [pred]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            records = item.get("records")
            if isinstance(records, Mapping):
                for key in ("type", "types"):
                    value = records.get(key)
                    given = value if isinstance(value, list) else [value]
                    names.update(v for v in given if isinstance(v, str))
                if isinstance(records.get("category"), str):
                    categories.add(records["category"])
            stack.extend(v for k, v in item.items() if k in ("all", "any", "not"))
    types = data.get("record_types")
    if not isinstance(types, Mapping):
        return sorted(names)
    return [
        str(n)
        for n, rt in types.items()
        if n in names or (isinstance(rt, Mapping) and rt.get("category") in categories)
    ]


def list_process_problems(data: Mapping[str, Any]) -> Problems:
    """A list's due process must apply to some record type, and a record type counted by two
    lists with different due processes must declare its own (else which applies is unclear)."""
    lists = data.get("lists")
    types = data.get("record_types")
    if not isinstance(lists, Mapping):
        return []
    problems: Problems = []
    claimed: dict[str, tuple[str, Any]] = {}
    for name, lst in lists.items():
        if not isinstance(lst, Mapping) or not isinstance(lst.get("due_process"), Mapping):
            continue
        path = ("lists", str(name), "due_process")
        named = _types_named(data, lst.get("when"))
        if not named:
            problems.append(
                (
                    path,
                    "this list's condition names no record type (by type or category), so "
                    "its due process would apply to no record; give it to record types instead",
                )
            )
        for t in named:
            own = types.get(t) if isinstance(types, Mapping) else None
            if isinstance(own, Mapping) and own.get("due_process") is not None:
                continue  # the record type's own block decides
            if t in claimed and claimed[t][1] != lst["due_process"]:
                problems.append(
                    (
                        path,
                        f"record type {t!r} is also counted by list {claimed[t][0]!r}, whose "
                        "due process differs; give the record type its own due_process",
                    )
                )
            claimed.setdefault(t, (str(name), lst["due_process"]))
    return problems
