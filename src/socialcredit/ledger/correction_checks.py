"""The checks of a chunk's corrections (disputes, upholds, rectifies, extends...) before
they are written: their targets, a rectify's new type and an extend's length against the
record type, and whether a dispute falls inside the appeal window (or applies for
reconsideration) and is the first to do so.

``CorrectionChecks`` adds these to ``chunk_checks.ChunkChecks`` (the state of one ingest);
``writing._Writer`` builds on it and does the writing.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import orjson

from socialcredit.columns import KIND_CODES, RECORD
from socialcredit.ledger.chunk_checks import ChunkChecks, key_order
from socialcredit.ledger.entries import a_kind, extension_problem
from socialcredit.ledger.parsing import IngestProblem, PreparedChunk, Row, target_problem
from socialcredit.spans import Span, parse_span
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_DISPUTE = KIND_CODES["dispute"]
_UPHOLD = KIND_CODES["uphold"]
_RECTIFY = KIND_CODES["rectify"]
_EXTEND = KIND_CODES["extend"]


class CorrectionChecks(ChunkChecks):
    """The checks of each chunk's corrections against the ledger and the input."""

    def _write_corrections(self, conn: Connection, chunk: PreparedChunk, before: int) -> None:
        p = self.p
        rows: list[Row] = []
        notes: dict[tuple[str, str], IngestProblem] = {}
        window = self.rules if self.rules is not None and self.rules.appeal_window else None
        disputed: dict[int, tuple[int, str, str]] = {}  # target seq -> earliest in-time dispute
        # this chunk's upholds (target seq -> recorded_at) and reconsiderations (target seq ->
        # the first application): a reconsideration in the same input as the review's uphold
        # is one, as the engine counts it
        upheld: dict[int, list[int]] = {}
        reconsidered: dict[int, tuple[int, str, str]] = {}
        # this chunk's corrections (inserted after all are checked): (source, id) -> target
        here = {(c[4][0], c[4][1]): (c[1], c[2], c[3]) for c in chunk.corrections}
        cursor = conn.connection.cursor()  # plain DBAPI
        try:
            targets = self._correction_targets(cursor, {(c[2], c[3]) for c in chunk.corrections})
            disputed_seqs = set()
            if window is not None:
                for c in chunk.corrections:
                    if (
                        c[1] == _DISPUTE
                        and (disputed_target := targets.get((c[2], c[3]))) is not None
                    ):
                        disputed_seqs.add(int(disputed_target[0]))
            decisions = StoredDecisions(cursor, self.is_sqlite, disputed_seqs)
            for number, kind, target_source, target_id, values, earlier in chunk.corrections:
                target: Any = targets.get((target_source, target_id))
                if target is not None and not earlier and int(target[0]) > before:
                    target = None  # only a later line of this input: not there yet
                corrects = None
                if target is None and earlier and (target_source, target_id) in here:
                    its_kind, *its_target = here[(target_source, target_id)]
                    target = (0, 0, its_kind, 0, 0, None)  # a correction on an earlier line
                    corrects = (its_target[0], its_target[1])
                elif target is not None and target[5] is not None:
                    # the entry the target corrects (NULL source: it is not stored)
                    corrects = (str(target[9]), str(target[10])) if target[9] is not None else None
                problem = target_problem(
                    target, kind, target_source, target_id, int(values[4]), corrects
                )
                if problem is None and kind == _RECTIFY and values[3] is not None:
                    assert target is not None
                    problem = self._rectified_type_problem(conn, target, str(values[3]))
                if problem is None and kind == _EXTEND and self.rules is not None:
                    assert target is not None
                    problem = self._extension_problem(target, values[7])
                if problem:
                    self.result.problems.append(IngestProblem(self.origin, number, *problem))
                    continue
                assert target is not None
                if kind == _DISPUTE and window is not None and int(target[2]) == RECORD:
                    assert self.rules is not None
                    note = self._dispute_note(
                        decisions,
                        values,
                        target,
                        self.rules.window_of(str(target[8])),
                        (disputed, upheld, reconsidered),
                        f"{target_source}/{target_id}",
                    )
                    if note is not None:
                        notes[(values[0], values[1])] = IngestProblem(
                            self.origin, number, "recorded_at", note
                        )
                if kind == _UPHOLD and int(target[2]) == RECORD:
                    at = self.now if values[5] is None else int(values[5])
                    upheld.setdefault(int(target[0]), []).append(at)
                rows.append((*values, int(target[1]), int(target[0]), number))
        finally:
            cursor.close()
        if not rows:
            return
        if not self.is_sqlite:
            rows.sort(key=key_order)  # see ``_write_chunk``
        inserted, rows = self._insert(
            conn,
            "INSERT INTO entries (source, entry_id, kind, type, occurred_at, recorded_at, "
            "amount, details, claimed_recorded_at, subject_id, target_seq, batch_id, line) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, COALESCE({p}, {self.now}), {p}, {p}, {p}, {p}, "
            f"{p}, {self.batch_id}, {p}) ON CONFLICT (source, entry_id) DO NOTHING",
            rows,
        )
        self.result.accepted += inserted
        if inserted < len(rows):
            # as repeats: values, then the target's source and id, then the line
            by_key = {(c[4][0], c[4][1]): (c[2], c[3]) for c in chunk.corrections}
            repeated = [(*r[:9], *by_key[(r[0], r[1])], r[-1]) for r in rows]
            kept = self._settle_repeats(conn, repeated)
            notes = {key: note for key, note in notes.items() if key in kept}
        self.result.no_effect_lines.extend(notes.values())

    def _correction_targets(
        self, cursor: Any, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], Any]:
        """The stored entries of ``keys`` (source, id): (source, id) -> (seq, subject_id,
        kind, recorded_at, occurred_at, target_seq, subject's kind, subject's name, type,
        source and id of the entry it corrects). PostgreSQL: one query for all (a round
        trip per correction would cost more than the rest of the chunk); SQLite: one point
        query each (in-process, cheaper than building one)."""
        select = (
            "SELECT e.source, e.entry_id, e.seq, e.subject_id, e.kind, e.recorded_at, "
            "e.occurred_at, e.target_seq, s.kind, s.name, e.type, t.source, t.entry_id "
            "FROM entries e JOIN subjects s ON s.id = e.subject_id "
            "LEFT JOIN entries t ON t.seq = e.target_seq "
        )
        if not keys:
            return {}
        if self.is_sqlite:
            found = []
            for key in keys:
                cursor.execute(select + "WHERE e.source = ? AND e.entry_id = ?", key)
                found.extend(cursor.fetchall())
        else:
            sources, ids = zip(*keys, strict=True)
            cursor.execute(
                select + "JOIN unnest(%s::text[], %s::text[]) AS k(source, entry_id) "
                "ON e.source = k.source AND e.entry_id = k.entry_id",
                (list(sources), list(ids)),
            )
            found = cursor.fetchall()
        return {(row[0], row[1]): row[2:] for row in found}

    def _extension_problem(self, target: Any, details: str | None) -> tuple[str, str] | None:
        """Why an extend cannot lengthen its target record by its ``by``: the record's type
        declares no extension, or the extension lies outside the type's bounds."""
        assert self.rules is not None
        if int(target[2]) != RECORD:
            return None
        by = (orjson.loads(details) if details else {}).get("by")
        if by is None:
            return None
        problem = extension_problem(str(target[8]), parse_span(by), self.rules)
        return ("by", problem) if problem is not None else None

    def _rectified_type_problem(
        self, conn: Connection, target: Any, type_name: str
    ) -> tuple[str, str] | None:
        """Why a rectify cannot give its target record the type ``type_name``: the type
        does not apply to the kind the ledger records for the record's subject."""
        rules = self.rules
        have, name = int(target[6]), str(target[7])
        if rules is None or have in rules.record_types.get(type_name, (have,)):
            return None
        applies = " and ".join(rules.kind_names(type_name))
        return (
            "type",
            f"record type {type_name!r} applies to {applies} subjects only; {name} is "
            f"recorded as {a_kind(have)} {self._since(conn, name, {name: have})}",
        )

    def _dispute_note(
        self,
        decisions: StoredDecisions,
        values: Row,
        target: Any,
        windows: tuple[Span | None, Span | None],
        here: tuple[
            dict[int, tuple[int, str, str]], dict[int, list[int]], dict[int, tuple[int, str, str]]
        ],
        target_name: str,
    ) -> str | None:
        """Why a dispute changes nothing, or None. The rule is the scoring rule
        (``scoring.rows.fold``): a dispute counts iff it was recorded no later than the
        target record's recorded_at plus the appeal window, and only the first such one.
        Both are the times the ledger received them (a source's claimed times cannot put
        a dispute inside the window after the fact; see ``Ledger.ingest``). Under a due
        process with reconsideration, a dispute after the review upheld the record and
        within the period to apply is the reconsideration (``windows``: the record type's
        appeal window and that period). ``here``: this input's earliest in-time disputes,
        upholds and reconsiderations by target, not stored yet."""
        disputed, upheld, reconsidered = here
        window, reconsider = windows
        assert window is not None
        recorded = self.now if values[5] is None else int(values[5])
        target_seq, target_recorded = int(target[0]), int(target[3])
        assert self.rules is not None
        closes = self.rules.closes(target_recorded, window)
        if reconsider is not None:
            note = self._reconsideration_note(
                decisions,
                values,
                (target_seq, closes, recorded),
                reconsider,
                (disputed.get(target_seq), upheld.get(target_seq, []), reconsidered),
                target_name,
            )
            if note != "":
                return note
        if recorded > closes:
            claimed = values[8]
            dated = (
                f" (the source dates it {to_iso(int(claimed))}; the window runs on the times "
                "the ledger received the record and the dispute)"
                if claimed is not None and int(claimed) != recorded
                else ""
            )
            return (
                f"the dispute of {target_name} is recorded on {to_iso(recorded)}{dated}, after "
                f"the appeal window closed on {to_iso(closes)}: it is kept in the ledger but "
                "has no effect on the record"
            )
        earliest = disputed.get(target_seq)
        stored = decisions.first(target_seq, _DISPUTE, None, closes)
        if stored is not None and (earliest is None or stored[0] <= earliest[0]):
            earliest = stored
        if earliest is not None and earliest[0] <= recorded and earliest[1:] != values[:2]:
            return (
                f"{target_name} is already disputed (by {earliest[1]}/{earliest[2]}, recorded "
                f"on {to_iso(earliest[0])}): another dispute is kept in the ledger but has no "
                "effect"
            )
        if earliest is None or recorded < earliest[0]:
            disputed[target_seq] = (recorded, str(values[0]), str(values[1]))
        return None

    def _reconsideration_note(
        self,
        decisions: StoredDecisions,
        values: Row,
        times: tuple[int, int, int],
        reconsider: Span,
        here: tuple[tuple[int, str, str] | None, list[int], dict[int, tuple[int, str, str]]],
        target_name: str,
    ) -> str | None:
        """For a dispute recorded after a review upheld its record (the rule of
        ``scoring.rows.fold``): None when it applies for reconsideration, a note when it
        changes nothing; ``""`` when no review has upheld the record by then (the dispute
        is then an ordinary one). ``here``: this input's first in-time dispute of the record,
        its upholds, and the reconsiderations applied for in it (by target), not stored yet."""
        target_seq, closes, recorded = times
        first_here, upheld_here, reconsidered = here
        stored_first = decisions.first(target_seq, _DISPUTE, None, closes)
        firsts = [stored_first[0]] if stored_first is not None else []
        if first_here is not None and first_here[1:] != tuple(values[:2]):
            firsts.append(first_here[0])
        if not firsts:
            return ""
        first = min(firsts)
        stored_uphold = decisions.first(target_seq, _UPHOLD, first, None)
        upholds = [stored_uphold[0]] if stored_uphold is not None else []
        upholds += [u for u in upheld_here if u >= first]
        if not upholds or min(upholds) > recorded:
            return ""
        decided = min(upholds)
        assert self.rules is not None
        ends = self.rules.closes(decided, reconsider)
        if recorded > ends:
            return (
                f"the reconsideration of {target_name} is applied for on {to_iso(recorded)}, "
                f"after the period to apply closed on {to_iso(ends)}: it is kept in the ledger "
                "but has no effect on the record"
            )
        earlier = decisions.first(target_seq, _DISPUTE, decided, ends)
        mine = reconsidered.get(target_seq)
        if mine is not None and (earlier is None or mine[0] < earlier[0]):
            earlier = mine
        if earlier is not None and earlier[1:] != tuple(values[:2]) and earlier[0] <= recorded:
            return (
                f"reconsideration of {target_name} was already applied for (by "
                f"{earlier[1]}/{earlier[2]}, recorded on {to_iso(earlier[0])}): another "
                "dispute is kept in the ledger but has no effect"
            )
        if mine is None or recorded < mine[0]:
            reconsidered[target_seq] = (recorded, str(values[0]), str(values[1]))
        return None


class StoredDecisions:
    """The stored disputes and upholds of some records, read in one query (PostgreSQL; on
    SQLite one point query per record): what the dispute checks ask of the ledger."""

    def __init__(self, cursor: Any, is_sqlite: bool, targets: Collection[int]) -> None:
        self.by_target: dict[int, list[tuple[int, int, int, str, str]]] = {}
        if not targets:
            return
        select = (
            "SELECT target_seq, recorded_at, seq, kind, source, entry_id FROM entries "
            f"WHERE kind IN ({_DISPUTE}, {_UPHOLD}) AND target_seq "
        )
        found: list[Any] = []
        if is_sqlite:
            for target in targets:
                cursor.execute(select + "= ?", (target,))
                found.extend(cursor.fetchall())
        else:
            cursor.execute(select + "= ANY(%s)", (list(targets),))
            found = cursor.fetchall()
        for target, recorded, seq, kind, source, entry_id in found:
            self.by_target.setdefault(int(target), []).append(
                (int(recorded), int(seq), int(kind), str(source), str(entry_id))
            )
        for stored in self.by_target.values():
            stored.sort()  # ORDER BY recorded_at, seq

    def first(
        self, target: int, kind: int, low: int | None, high: int | None
    ) -> tuple[int, str, str] | None:
        """The earliest (by recorded_at, then seq) stored ``kind`` of ``target`` recorded
        within [low, high] (None: unbounded), as (recorded_at, source, id), or None."""
        for recorded, _, its_kind, source, entry_id in self.by_target.get(target, ()):
            if its_kind != kind or (low is not None and recorded < low):
                continue
            if high is not None and recorded > high:
                return None
            return (recorded, source, entry_id)
        return None
