"""The fields of each kind of ledger entry: those a line may give (``ENTRY_FIELDS``, also
listed in the README), those every kind takes, the names other kinds use for them, and
those each kind requires (``missing_fields``).
"""

from __future__ import annotations

from typing import Any

_CORRECTION_FIELDS = {
    "target_source",
    "target_id",
    "occurred_at",
    "recorded_at",
    "claimed_recorded_at",
    "reason",
}
ENTRY_FIELDS: dict[str, set[str]] = {
    "record": {
        "subject",
        "subject_kind",
        "type",
        "occurred_at",
        "recorded_at",
        "claimed_recorded_at",
        "amount",
        "evidence",
        "term",
    },
    "relation": {
        "subject",
        "subject_kind",
        "relation",
        "related_subject",
        "related_kind",
        "valid_from",
        "valid_until",
        "recorded_at",
        "claimed_recorded_at",
    },
    "resolve": _CORRECTION_FIELDS,
    "annul": _CORRECTION_FIELDS,
    "dispute": _CORRECTION_FIELDS,
    "uphold": _CORRECTION_FIELDS,
    "rectify": _CORRECTION_FIELDS | {"type", "corrected_occurred_at", "amount"},
    "extend": _CORRECTION_FIELDS | {"by"},
    "end": _CORRECTION_FIELDS,
    "exemption": {
        "subject",
        "subject_kind",
        "services",
        "valid_from",
        "valid_until",
        "reason",
        "approved_by",
        "approved_at",
        "recorded_at",
        "claimed_recorded_at",
    },
    "attribute": {
        "subject",
        "subject_kind",
        "attribute",
        "value",
        "valid_from",
        "valid_until",
        "recorded_at",
        "claimed_recorded_at",
    },
}
ALWAYS_FIELDS = {"kind", "id", "source"}
# fields a line of another kind would give, and what this kind calls them
FIELD_INSTEAD = {
    ("exemption", "occurred_at"): "valid_from",
    ("exemption", "service"): "services",
    ("exemption", "until"): "valid_until",
    ("attribute", "occurred_at"): "valid_from",
    ("attribute", "name"): "attribute",
    ("attribute", "type"): "attribute",
}
# the fields each kind requires besides source and id, in the order they are checked
_CORRECTION_REQUIRED = ("occurred_at", "target_source", "target_id")
_REQUIRED = {
    "record": ("type", "occurred_at", "subject"),
    "relation": ("valid_from", "subject", "related_subject", "relation"),
    "exemption": ("subject", "services", "valid_from", "reason", "approved_by"),
    "attribute": ("subject", "attribute", "value", "valid_from"),
    "extend": ("occurred_at", "by", "target_source", "target_id"),
}


def missing_fields(obj: Any, first: str) -> list[str]:
    """The fields ``obj``'s kind of entry requires that it lacks, in the order they are
    checked, when ``first`` (the field a check refused) is one of them; else none."""
    if type(obj) is not dict:
        return []
    kind_name = obj.get("kind") or "record"
    if type(kind_name) is not str or kind_name not in ENTRY_FIELDS:
        return []
    required = ("source", "id", *_REQUIRED.get(kind_name, _CORRECTION_REQUIRED))
    missing = [name for name in required if obj.get(name) in (None, "", [])]
    return missing if first in missing else []
