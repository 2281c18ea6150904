"""Cross-reference checks for the parts of the language issue 11 added: re-evaluation
boundaries, scores of the ``rating`` form, ``rank_top`` conditions and ``related``
components. Each problem is (path as written in the file, message), as in ``checks``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

Path = tuple[str | int, ...]
Problems = list[tuple[Path, str]]


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (declared: {', '.join(known)})" if known else " (none is declared)"


def _names(data: Mapping[str, Any], section: str) -> list[str] | None:
    value = data.get(section, {})
    return [str(k) for k in value] if isinstance(value, Mapping) else None


def _conditions(pred: Any, path: Path) -> Iterator[tuple[Mapping[str, Any], Path]]:
    """Every condition mapping in ``pred`` (through all / any / not), with its path."""
    if not isinstance(pred, Mapping):
        return
    yield pred, path
    for key in ("all", "any"):
        children = pred.get(key)
        if isinstance(children, list):
            for i, child in enumerate(children):
                yield from _conditions(child, (*path, key, i))
    if pred.get("not") is not None:
        yield from _conditions(pred["not"], (*path, "not"))


def _whens(data: Mapping[str, Any]) -> Iterator[tuple[Any, Path]]:
    for section in ("lists", "sanctions"):
        items = data.get(section)
        if isinstance(items, Mapping):
            for name, item in items.items():
                if isinstance(item, Mapping):
                    yield item.get("when"), (section, str(name), "when")


def system_problems(data: Mapping[str, Any]) -> Problems:
    """Names a ranking, a rating score or a related component refers to are declared; a
    ranking and a rating score have re-evaluation boundaries; nothing decays under them."""
    problems: Problems = []
    scores = _names(data, "scores")
    relations = _names(data, "relations")
    types = _names(data, "record_types")
    periodic = data.get("reevaluation") is not None
    for when, path in _whens(data):
        for cond, where in _conditions(when, path):
            rank = cond.get("rank_top")
            if not isinstance(rank, Mapping):
                continue
            named = rank.get("score")
            if isinstance(named, str) and scores is not None and named not in scores:
                problems.append(
                    (
                        (*where, "rank_top", "score"),
                        f"unknown score {named!r}{_hint(named, scores)}",
                    )
                )
            if not periodic:
                problems.append(
                    (
                        (*where, "rank_top"),
                        "a ranking compares everyone at the same times: declare "
                        "'reevaluation' (e.g. {every: 1 year}) so that it is computed at its "
                        "boundaries",
                    )
                )
    declared_scores = data.get("scores")
    if isinstance(declared_scores, Mapping):
        for sname, score in declared_scores.items():
            if not isinstance(score, Mapping):
                continue
            base: Path = ("scores", str(sname))
            rating = score.get("rating")
            if score.get("form") == "rating":
                if not periodic:
                    problems.append(
                        (
                            (*base, "form"),
                            "a rating score counts the ratings of a term: declare "
                            "'reevaluation' (its period is the term)",
                        )
                    )
                if isinstance(rating, Mapping) and isinstance(rating.get("types"), list):
                    for i, t in enumerate(rating["types"]):
                        if isinstance(t, str) and types is not None and t not in types:
                            problems.append(
                                (
                                    (*base, "rating", "types", i),
                                    f"unknown record type {t!r}{_hint(t, types)}",
                                )
                            )
            components = score.get("components")
            if not isinstance(components, Mapping):
                continue
            for cname, comp in components.items():
                related = comp.get("related") if isinstance(comp, Mapping) else None
                if not isinstance(related, Mapping):
                    continue
                where = (*base, "components", str(cname), "related")
                rel = related.get("relation")
                if isinstance(rel, str) and relations is not None and rel not in relations:
                    problems.append(
                        ((*where, "relation"), f"unknown relation {rel!r}{_hint(rel, relations)}")
                    )
                other = related.get("score")
                if isinstance(other, str) and scores is not None and other not in scores:
                    problems.append(
                        ((*where, "score"), f"unknown score {other!r}{_hint(other, scores)}")
                    )
    record_types = data.get("record_types")
    if periodic and isinstance(record_types, Mapping):
        for tname, rt in record_types.items():
            if isinstance(rt, Mapping) and rt.get("decay") == "linear":
                problems.append(
                    (
                        ("record_types", str(tname), "decay"),
                        "a policy re-evaluated at boundaries ('reevaluation') cannot decay "
                        "records between them; remove 'decay: linear' or 'reevaluation'",
                    )
                )
    return problems
