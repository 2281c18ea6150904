"""Ingestion's check of redemptions: a redemption the wallet cannot cover is rejected.

A record of a type a wallet's ``redeem`` names spends its amount when it occurred
(``policy.wallets``). Once a chunk's lines are written (not yet committed), the wallets of
the subjects its redemption lines name are evaluated with everything the ledger then holds
(its earlier entries, the earlier chunks of the input and this chunk), by the scorer itself
(``scoring.wallets``); the earliest redemption line of this ingest (per subject) that the balance at its time
could not cover is rejected with its line number and the balance, and the chunk is written
again without it and checked again (``writing._Writer``): a later redemption is judged
without the rejected one. A redemption dated before others already accepted that leaves
one of those short is not rejected; the short one then spends what there is, and its
explanation says by how much it fell short.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from socialcredit.ledger.parsing import Row
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from socialcredit.columns import LedgerColumns
    from socialcredit.ledger.rules import IngestRules
    from socialcredit.policy.compiled import CompiledPolicy

_COMPILED: dict[int, CompiledPolicy] = {}


def _compiled(rules: IngestRules) -> CompiledPolicy:
    from socialcredit.policy.compiled import compile_policy
    from socialcredit.policy.loader import LoadedPolicy

    assert rules.wallet_policy is not None
    key = id(rules.wallet_policy)
    found = _COMPILED.get(key)
    if found is None or found.policy is not rules.wallet_policy:
        found = compile_policy(LoadedPolicy(rules.wallet_policy, "", "ingest rules"))
        _COMPILED.clear()  # one policy at a time: an ingest's
        _COMPILED[key] = found
    return found


def redeeming_types(rules: IngestRules) -> frozenset[str]:
    """The record types some wallet of the rules' policy spends by."""
    policy = rules.wallet_policy
    if policy is None:
        return frozenset()
    return frozenset(
        t for sc in policy.scores.values() if sc.wallet is not None for t in sc.wallet.redeem
    )


def overdrawn(
    conn: Connection, is_sqlite: bool, rules: IngestRules, rows: Sequence[Row], batch: int
) -> dict[int, str]:
    """Line -> reason for each redemption in ``rows`` (written by batch ``batch``) that a
    wallet could not cover at its time."""
    spends = redeeming_types(rules)
    mine = [r for r in rows if r[4] in spends]
    if not mine:
        return {}
    from socialcredit.ledger.loading import load_subjects

    lines = {(str(r[0]), str(r[1])): int(r[-1]) for r in mine}
    written = _written_here(conn, is_sqlite, batch, sorted(lines.values()))
    lines = {key: line for key, line in lines.items() if (key, line) in written}
    if not lines:
        return {}

    @contextmanager
    def connect() -> Iterator[Any]:
        yield conn.connection  # this transaction: it sees the chunk's own rows

    names = sorted({str(r[3]) for r in mine})
    policy = _compiled(rules)
    found: dict[int, str] = {}
    for start in range(0, len(names), _SUBJECTS_AT_ONCE):
        part = names[start : start + _SUBJECTS_AT_ONCE]
        cols = load_subjects(connect, is_sqlite, part, follow_relations=False)
        found.update(_short(policy, cols, lines))
    return found


_SUBJECTS_AT_ONCE = 2000  # subjects read in one query (SQLite limits its parameters)


def _short(
    policy: CompiledPolicy, cols: LedgerColumns, lines: dict[tuple[str, str], int]
) -> dict[int, str]:
    """Line -> reason for the earliest short redemption of each subject in ``cols`` that is
    one of ``lines`` ((source, id) -> line)."""
    from socialcredit.scoring.evaluate import evaluate_subjects_at
    from socialcredit.scoring.prepared import Prepared
    from socialcredit.scoring.wallets import points_text

    prep = Prepared.build(cols, policy)
    rows_ = prep.rows
    latest = [int(cols.rec_recorded_at.max()) if len(cols.rec_recorded_at) else 0]
    if len(cols.cor_recorded_at):
        latest.append(int(cols.cor_recorded_at.max()))
    at = max(latest)
    ev = evaluate_subjects_at(policy, rows_, len(cols.subjects), at)
    # per subject, the earliest redemption short: one that is rejected; later ones are
    # checked again without it (they may be covered then)
    first: dict[int, tuple[int, int, str]] = {}
    for sc in policy.wallets:
        totals = ev.wallets[sc.index]
        assert totals is not None and sc.wallet is not None
        unit = sc.wallet.unit
        for i in np.flatnonzero(totals.entry_short > 0).tolist():
            rec = int(rows_.record[i])
            key = (str(cols.rec_source[rec]), str(cols.rec_id[rec]))
            line = lines.get(key)
            if line is None:
                continue
            asked = float(rows_.amount[i])
            short = float(totals.entry_short[i])
            when = (int(rows_.occurred[i]), line)
            subject = int(rows_.subject[i])
            if subject in first and first[subject][:2] <= when:
                continue
            first[subject] = (
                *when,
                (
                    f"redeems {points_text(asked)} {unit} from wallet {sc.key!r} on "
                    f"{to_iso(int(rows_.occurred[i]))}, but the balance then was "
                    f"{points_text(asked - short)} {unit} (the ledger's entries and this input's); "
                    "a redemption cannot take a wallet below zero"
                ),
            )
    return {line: reason for _, line, reason in first.values()}


def _written_here(
    conn: Connection, is_sqlite: bool, batch: int, lines: list[int]
) -> set[tuple[tuple[str, str], int]]:
    """The (source, id) and line of the entries batch ``batch`` wrote at ``lines``."""
    p = "?" if is_sqlite else "%s"
    found: set[tuple[tuple[str, str], int]] = set()
    for start in range(0, len(lines), 500):
        part = lines[start : start + 500]
        marks = ", ".join([p] * len(part))
        result = conn.exec_driver_sql(
            f"SELECT source, entry_id, line FROM entries WHERE batch_id = {p} "
            f"AND line IN ({marks})",
            (batch, *part),
        )
        found.update(((str(s), str(e)), int(n)) for s, e, n in result)
    return found
