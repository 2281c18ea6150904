"""Counterfactuals: when a denial would end if one action on one record were taken now."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from socialcredit.columns import LedgerColumns
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.rows import RelationRows, Rows
from socialcredit.scoring.standing import measures_of, relations_at
from socialcredit.scoring.timeline import timelines
from socialcredit.timeutil import NEVER

_ROW_FIELDS = [f.name for f in fields(Rows)]


_CHANGE_FIELDS = {"resolve": "resolved", "dispute": "disputed", "appeal": "hidden_from"}


def counterfactual_ends(
    prep: Prepared, subject: int, service: str, t: int, changes: list[tuple[str, int]]
) -> list[int | None]:
    """For each single change (resolve, dispute or annul-on-appeal of one record row, made at
    ``t``), when the last denial of ``service`` would end (None: nothing would deny it).

    All scenarios are evaluated in one batch: each gets its own copy of the subject and its
    related subjects as pseudo-subjects, so the timelines of every scenario come from one
    vectorised evaluation.
    """
    if not changes:
        return []
    policy, rows, rels = prep.policy, prep.rows, prep.relations
    sanctions = [s for s in policy.sanctions if s.service == service]
    rel_idx = np.flatnonzero(relations_at(prep, t) & (rels.subject == subject))
    if not any(s.reach for s in sanctions):
        rel_idx = rel_idx[:0]
    involved = [subject, *sorted({int(rels.related[i]) for i in rel_idx})]
    local = np.full(max(prep.columns.n_subjects, 1), -1, dtype=np.int64)
    local[involved] = np.arange(len(involved))
    base = np.flatnonzero(np.isin(rows.subject, involved)).astype(np.int64)
    n_inv, k = len(involved), len(changes)
    take = np.tile(base, k)
    scenario = np.repeat(np.arange(k, dtype=np.int64), len(base))
    values = {name: getattr(rows, name)[take].copy() for name in _ROW_FIELDS}
    values["subject"] = (scenario * n_inv + local[rows.subject[take]]).astype(np.int32)
    for j, (kind, row) in enumerate(changes):
        hit = (scenario == j) & (rows.record[take] == rows.record[row])
        values[_CHANGE_FIELDS[kind]][hit] = t
    batch_rows = Rows(**values)
    rel_take = np.tile(rel_idx, k)
    rel_scenario = np.repeat(np.arange(k, dtype=np.int64), len(rel_idx))
    batch_rels = RelationRows(
        subject=(rel_scenario * n_inv).astype(np.int32),
        related=(rel_scenario * n_inv + local[rels.related[rel_take]]).astype(np.int32),
        type_code=rels.type_code[rel_take],
        valid_from=rels.valid_from[rel_take],
        valid_until=rels.valid_until[rel_take],
        known=rels.known[rel_take],
        hidden_from=rels.hidden_from[rel_take],
        relation=rels.relation[rel_take],
    )
    names = [prep.columns.subjects[s] for s in involved] * k
    columns = LedgerColumns(subjects=names, subject_kind=np.zeros(len(names), dtype=np.int8))
    batch = Prepared(policy, columns, batch_rows, batch_rels)
    tls = timelines(policy, batch_rows, list(range(n_inv * k)), t)
    ends: list[int | None] = []
    for j in range(k):
        mine = np.flatnonzero(batch_rels.subject == j * n_inv)
        denied = [
            m for m in measures_of(batch, j * n_inv, t, tls, mine, sanctions) if m.effect == "deny"
        ]
        ends.append(
            max(m.until if m.until is not None else NEVER for m in denied) if denied else None
        )
    return ends
