"""The fields of each kind of ledger entry: those a line may give (``ENTRY_FIELDS``, also
listed in the README), those every kind takes, and the names other kinds use for them.
"""

from __future__ import annotations

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
