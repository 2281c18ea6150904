"""The checks a chunk goes through before it is written: subject kinds as first seen,
claims against the ledger, and repeated entries (corrections' targets and disputes'
windows: ``correction_checks``).

``ChunkChecks`` holds the state of one ingest that these checks read and update (the
result so far, the subjects whose kind a rejected line gave, the line that first named
each new subject); ``correction_checks.CorrectionChecks`` adds the corrections' checks
and ``writing._Writer`` builds on that and does the writing.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

from socialcredit.columns import FACT_KINDS, RECORD, RELATION, SUBJECT_KINDS, is_fact
from socialcredit.ledger.entries import a_kind, relation_kind_problem
from socialcredit.ledger.parsing import (
    IngestProblem,
    PreparedChunk,
    Row,
    conflict_message,
    content_differences,
    content_of,
    details_content,
    fact_content,
    term_content,
)
from socialcredit.ledger.refusals import insert_keeping, names_in
from socialcredit.ledger.results import IngestResult
from socialcredit.ledger.rules import IngestRules
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("socialcredit.ledger")

_KIND_ROUNDS = 6  # checks of a chunk's subject kinds (again when a first line was rejected)
# subject kinds an ingest remembers (``ChunkChecks.known_kinds``): ~100 bytes each
KNOWN_KINDS_LIMIT = 2_000_000


def key_order(row: Row) -> tuple[str, str]:
    """The order (source, id) in which rows are written on PostgreSQL, so that concurrent
    ingests of the same keys take their locks in the same order (no deadlock)."""
    return (row[0], row[1])


class ChunkChecks:
    """The state of one ingest and the checks of each chunk against it and the ledger."""

    def __init__(self, engine: Engine, origin: str, now: int, rules: IngestRules | None) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.p = "?" if self.is_sqlite else "%s"
        self.origin = origin
        self.now = now
        self.rules = rules
        self.result = IngestResult()
        self.batch_id = 0
        self.withheld: dict[str, int] = {}  # subjects only rejected lines named, so far
        self.first_lines: dict[str, int] = {}  # the line that first named each new subject
        self.since: dict[str, str] = {}  # see ``_since``
        # lines of the chunk being written that the database refused, with its reason
        self.refused: dict[int, str] = {}
        # subject name -> kind, as stored in the ledger (read, or stored by a committed
        # chunk of this ingest); see ``_stored_kinds``
        self.known_kinds: dict[str, int] = {}
        self.known_others: set[str] = set()  # those of them not persons (``_others``)

    def _state(self) -> tuple[Any, ...]:
        result = self.result
        return (
            result.accepted,
            result.duplicates,
            len(result.problems),
            len(result.conflict_lines),
            len(result.no_effect_lines),
            dict(self.withheld),
            dict(self.first_lines),
            dict(self.since),
        )

    def _restore(self, saved: tuple[Any, ...]) -> None:
        result = self.result
        accepted, duplicates, problems, conflicts, notes, withheld, first, since = saved
        result.accepted = accepted
        result.duplicates = duplicates
        del result.problems[problems:]
        del result.conflict_lines[conflicts:]
        del result.no_effect_lines[notes:]
        self.withheld = withheld
        self.first_lines = first
        self.since = since

    def _insert(
        self, conn: Connection, sql: str, rows: list[Row], chunk: PreparedChunk | None = None
    ) -> tuple[int, list[Row]]:
        """Execute ``sql`` for ``rows`` (entries: the line last; with ``chunk``, subjects
        as (name, kind)); lines the database refuses go to ``self.refused`` (a refused
        subject: every line of the chunk that names it). Returns the rowcount and the rows
        not refused."""

        def refused(row: Row, reason: str) -> None:
            if chunk is None:
                self.refused.setdefault(int(row[-1]), reason)
                return
            name = row[0]
            for entry in (*chunk.rows, *chunk.relations):
                if name in names_in(entry):
                    self.refused.setdefault(int(entry[-1]), f"(subject {name}) {reason}")

        return insert_keeping(conn, sql, rows, refused)

    def _kinds_fit(
        self, conn: Connection, chunk: PreparedChunk, new: dict[str, int]
    ) -> tuple[list[Row], list[Row]]:
        """The chunk's records and relations whose subject kinds fit (``_claims_fit``,
        ``_stored_kinds_fit``); the others become problems. ``new``: the subjects this
        ingest stores first, with their kinds, updated here. A subject's kind is the one
        the first line naming it that is kept gives it (a rejected line fixes nothing):
        when that line is rejected, the chunk is checked again with the next line's."""
        excluded: set[int] = set()  # lines rejected although they fixed a kind
        reasons: dict[int, IngestProblem] = {}  # why, with the kinds they gave
        if self.withheld:  # their kinds came from rejected lines: this chunk's first line's
            self._take_first_kinds(chunk, excluded, self.withheld.keys(), new)
        saved = self._state()
        for round_ in range(1, _KIND_ROUNDS + 1):
            rows, relations = chunk.rows, chunk.relations
            if chunk.record_kinds or chunk.claims or chunk.kind_exceptions:
                rows, relations = self._claims_fit(conn, chunk, new)
            if relations and self.rules is not None:
                relations = self._stored_kinds_fit(conn, relations, new)
            if round_ == _KIND_ROUNDS or (
                len(rows) == len(chunk.rows) and len(relations) == len(chunk.relations)
            ):
                break
            kept = {r[-1] for r in rows} | {r[-1] for r in relations}
            lines = {r[-1] for r in chunk.rows} | {r[-1] for r in chunk.relations}
            first = {self.first_lines.get(name) for name in new}
            wrong = (lines - kept) & first - excluded
            if not wrong:
                break
            excluded |= wrong
            # their reasons as they stand now, when the kinds they give were in force
            found = self.result.problems[saved[2] :]
            for problem in found:
                if problem.line in wrong:
                    reasons.setdefault(problem.line, problem)
            self._restore(saved)
            self._take_first_kinds(chunk, excluded, list(new), new)
            saved = self._state()
        problems = self.result.problems
        for i in range(saved[2], len(problems)):
            problems[i] = reasons.get(problems[i].line, problems[i])
        return rows, relations

    def _take_first_kinds(
        self,
        chunk: PreparedChunk,
        excluded: set[int],
        names: Collection[str],
        new: dict[str, int],
    ) -> None:
        """For each of ``names`` that a record or relation of the chunk not ``excluded``
        names, set its kind in ``new`` and its first line to the first such line's."""
        rules = self.rules
        wanted = set(names)
        stated: dict[tuple[int, int], int] = {}  # (relation line, 0/1) -> stated kind
        for (_, kind, which), claimed in chunk.claims.items():
            for line in claimed:
                stated[(line, which)] = kind
        found: dict[str, tuple[int, int]] = {}

        def give(name: str, kind: int, line: int) -> None:
            if name in wanted and (name not in found or line < found[name][1]):
                found[name] = (kind, line)

        for row in chunk.rows:
            name, line = row[3], int(row[-1])
            if name not in wanted or line in excluded:
                continue
            exception = chunk.kind_exceptions.get(line)
            code = exception[1] if exception is not None else chunk.record_kinds.get(name, -1)
            if code < 0:  # none stated: a person, if its type applies to persons
                if rules is not None and 0 not in rules.record_types.get(row[4], (0,)):
                    continue
                code = 0
            give(name, code, line)
        for row in chunk.relations:
            line = int(row[-1])
            if line in excluded:
                continue
            if is_fact(row[2]):  # an exemption or attribute: a person unless it says
                give(row[3], stated.get((line, 0), 0), line)
                continue
            declared = rules.relations.get(row[4], (0, 0)) if rules is not None else (0, 0)
            for which, name in ((0, row[3]), (1, row[9])):
                give(name, stated.get((line, which), declared[which]), line)
        for name, (kind, line) in found.items():
            new[name] = kind
            self.first_lines[name] = line

    def _stored_kinds(self, conn: Connection, names: Collection[str]) -> dict[str, int]:
        """The kinds the ledger records for those of ``names`` it knows: a mapping to read,
        not to change, which may hold other names too (the remembered kinds themselves).

        A subject's kind never changes once stored (the ledger is append-only), so what was
        read or stored before in this ingest is remembered (``known_kinds``) and only the
        other names are looked up: a large ingest names most subjects again and again."""
        known = self.known_kinds
        missing = sorted(set(names).difference(known))
        if not missing:
            return known
        found: dict[str, int] = {}
        cursor = conn.connection.cursor()
        try:
            if not self.is_sqlite:  # one query, the names as one array
                cursor.execute("SELECT name, kind FROM subjects WHERE name = ANY(%s)", (missing,))
                found.update(cursor.fetchall())
            for start in range(0, len(missing) if self.is_sqlite else 0, 900):
                part = missing[start : start + 900]  # SQLite takes up to 999 parameters
                cursor.execute(
                    f"SELECT name, kind FROM subjects WHERE name IN ({','.join('?' * len(part))})",
                    tuple(part),
                )
                found.update(cursor.fetchall())
        finally:
            cursor.close()
        if len(known) < KNOWN_KINDS_LIMIT:
            self._remember_kinds(found.items())
            return known
        kinds = {name: known[name] for name in names if name in known}
        kinds.update(found)
        return kinds

    def _remember_kinds(self, kinds: Iterable[tuple[str, int]]) -> None:
        """Remember subjects' stored kinds (``known_kinds``, and ``known_others``: the
        names remembered with a kind other than person)."""
        for name, kind in kinds:
            self.known_kinds[name] = kind
            if kind != 0:
                self.known_others.add(name)

    def _others(self, stored: dict[str, int], names: set[str], pending: dict[str, int]) -> set[str]:
        """Those of ``names`` whose kind is known and not person: stored (``stored``, from
        ``_stored_kinds``), else given by the line that first named them (``pending``).
        Found with set operations, not a look per name: most names are stored persons."""
        if stored is self.known_kinds:
            found = names & self.known_others
        else:
            found = {name for name in names if stored.get(name, 0) != 0}
        unstored = names.difference(stored)
        found.update(name for name in unstored if pending.get(name, 0) != 0)
        return found

    def _remember_stored(self, subjects: list[tuple[str, int]], inserted: int) -> None:
        """After a chunk's commit: the kinds of the subjects it stored, when it stored every
        one it named as new (``inserted``, the insert's row count); otherwise another
        writer stored some first, perhaps with other kinds, and they are read when next
        needed."""
        if inserted == len(subjects) and len(self.known_kinds) < KNOWN_KINDS_LIMIT:
            self._remember_kinds(subjects)

    def _claims_fit(
        self, conn: Connection, chunk: PreparedChunk, pending: dict[str, int]
    ) -> tuple[list[Row], list[Row]]:
        """The chunk's records and relations without the lines whose subject kinds (stated,
        or a record type's kinds when none is stated) do not fit the kind of the subject:
        the ledger's, else the one given by the line that first named it in this input
        (``pending``), else person. The others become problems. Kinds are compared once
        per distinct subject; rows are looked at only for the subjects that do not fit."""
        exceptions = chunk.kind_exceptions
        claims = chunk.claims
        record_kinds = chunk.record_kinds
        names = set(record_kinds)
        names.update(name for name, _ in exceptions.values())
        names.update(claim[0] for claim in claims)
        stored = self._stored_kinds(conn, names)
        rules = self.rules
        suspect = {name for name, _ in exceptions.values()}
        # Suspect: a record whose stated kind differs from the subject's (stored, else
        # given by the line that first named it); or that states none (a person's types
        # were checked when parsing) about a subject that is not a person, under rules.
        # Records stating person (most), and under rules those stating none, are suspect
        # exactly when their subject's kind is known and not person: found with sets.
        stating = {name: code for name, code in record_kinds.items() if code != 0}
        persons = record_kinds.keys() - stating.keys()
        if rules is not None:
            persons.update(name for name, code in stating.items() if code < 0)
        suspect |= self._others(stored, persons, pending)
        for name, code in stating.items():
            if code < 0:
                continue  # above (under rules), or never suspect
            have = stored.get(name, pending.get(name))
            if have is not None and have != code:
                suspect.add(name)
        bad: dict[int, tuple[str, str]] = {}  # line -> field, reason
        if suspect:
            for row in chunk.rows:
                name = row[3]
                if name not in suspect:
                    continue
                line = row[-1]
                code = exceptions[line][1] if line in exceptions else chunk.record_kinds[name]
                have = stored.get(name, pending.get(name))
                problem = self._record_kind_problem(conn, name, code, have, row[4], stored)
                if problem is not None:
                    bad[line] = ("subject_kind", problem)
        for (name, code, which), lines in claims.items():
            have = stored.get(name, pending.get(name))
            if have is None or have == code:
                continue
            field = ("subject_kind", "related_kind")[which]
            message = (
                f"{name} is recorded as {a_kind(have)} {self._since(conn, name, stored)}; "
                f"this line gives {field} {SUBJECT_KINDS[code]}"
            )
            for line in lines:
                bad.setdefault(line, (field, message))
        if not bad:
            return chunk.rows, chunk.relations
        self.result.problems.extend(
            IngestProblem(self.origin, line, field, message)
            for line, (field, message) in bad.items()
        )
        return (
            [r for r in chunk.rows if r[-1] not in bad],
            [r for r in chunk.relations if r[-1] not in bad],
        )

    def _record_kind_problem(
        self,
        conn: Connection,
        name: str,
        code: int,
        have: int | None,
        type_name: str,
        stored: dict[str, int],
    ) -> str | None:
        """Why a record about ``name`` stating kind ``code`` (-1: none) does not fit the
        subject's kind ``have`` (None: unknown), or None."""
        if code >= 0:
            if have is None or have == code:
                return None
            return (
                f"{name} is recorded as {a_kind(have)} {self._since(conn, name, stored)}; "
                f"this line gives subject_kind {SUBJECT_KINDS[code]}"
            )
        rules = self.rules
        if rules is None or (0 if have is None else have) in rules.record_types[type_name]:
            return None
        applies = " and ".join(rules.kind_names(type_name))
        if have is None:
            return (
                f"record type {type_name!r} applies to {applies} subjects only; the ledger "
                f"does not know {name}, and without subject_kind a new subject is a person: "
                "give subject_kind"
            )
        return (
            f"record type {type_name!r} applies to {applies} subjects only; {name} is "
            f"recorded as {a_kind(have)} {self._since(conn, name, stored)}"
        )

    def _since(self, conn: Connection, name: str, stored: dict[str, int]) -> str:
        """Since when the ledger records ``name``'s kind, as a phrase ("since line 3 of
        this input", "since 2025-01-03T00:00:00Z (ingest batch 2, line 5)")."""
        phrase = self.since.get(name)
        if phrase is None:
            phrase = self.since[name] = self._find_since(conn, name, stored)
        return phrase

    def _find_since(self, conn: Connection, name: str, stored: dict[str, int]) -> str:
        if name not in stored:
            line = self.first_lines.get(name)
            return f"since line {line} of this input" if line is not None else "in this input"
        p = self.p
        first = None
        for column in ("subject_id", "related_subject_id"):
            first = conn.exec_driver_sql(
                "SELECT b.started_at, e.batch_id, e.line FROM entries e "
                "LEFT JOIN ingest_batches b ON b.id = e.batch_id "
                f"WHERE e.{column} = (SELECT id FROM subjects WHERE name = {p}) "
                "ORDER BY e.seq LIMIT 1",
                (name,),
            ).first()
            if first is not None:
                break
        if first is None or first[1] is None:
            return "in the ledger"
        started, batch, line = first
        if batch == self.batch_id:
            return f"since line {line} of this input"
        where = f"ingest batch {batch}" + (f", line {line}" if line is not None else "")
        return f"since {to_iso(int(started))} ({where})"

    def _stored_kinds_fit(
        self, conn: Connection, relations: list[Row], pending: dict[str, int]
    ) -> list[Row]:
        """The relations whose subjects the ledger knows (or will know, from ``pending``:
        names first seen in this input, with their kinds) as the declared kinds; the others
        become problems (the line's own kinds were checked when parsing)."""
        assert self.rules is not None
        # facts (exemptions, attributes): their kinds are claims, checked before
        facts = [r for r in relations if r[2] in FACT_KINDS]
        if facts:
            relations = [r for r in relations if r[2] not in FACT_KINDS]
        names = sorted({r[3] for r in relations} | {r[9] for r in relations})
        stored = self._stored_kinds(conn, names)
        kinds = {name: stored[name] for name in names if name in stored}
        for name in names:
            if name not in kinds and name in pending:
                kinds[name] = pending[name]
        kept = []
        declarations = self.rules.relations
        for row in relations:
            declared = declarations.get(row[4])
            if declared is None or (
                kinds.get(row[3], declared[0]) == declared[0]
                and kinds.get(row[9], declared[1]) == declared[1]
            ):
                kept.append(row)  # only declared relations get here; these fit
                continue
            for which, name, want in (
                ("subject", row[3], declared[0]),
                ("related subject", row[9], declared[1]),
            ):
                have = kinds.get(name, want)
                if have != want:
                    self.result.problems.append(
                        IngestProblem(
                            self.origin,
                            row[-1],
                            "subject" if which == "subject" else "related_subject",
                            relation_kind_problem(row[4], which, have, want, name),
                        )
                    )
                    break
            else:
                kept.append(row)
        return kept + facts if facts else kept

    def _settle_repeats(self, conn: Connection, rows: list[Row]) -> set[tuple[str, str]]:
        """Sort rows the insert left out, and repeats within a chunk, into duplicates and
        conflicts (compared with what is stored); returns the keys of the rows among
        ``rows`` that were stored by this very line."""
        log.debug("%s: %d rows repeat stored entries; comparing content", self.origin, len(rows))
        p = self.p
        sql = (
            "SELECT e.kind, s.name, e.type, e.occurred_at, e.recorded_at, e.amount, e.evidence, "
            "r.name, e.valid_until, e.details, t.source, t.entry_id, e.batch_id, e.line, "
            "e.claimed_recorded_at "
            "FROM entries e JOIN subjects s ON s.id = e.subject_id "
            "LEFT JOIN subjects r ON r.id = e.related_subject_id "
            "LEFT JOIN entries t ON t.seq = e.target_seq "
            f"WHERE e.source = {p} AND e.entry_id = {p}"
        )
        stored_here: set[tuple[str, str]] = set()
        cursor = conn.connection.cursor()
        try:
            for row in rows:
                cursor.execute(sql, (row[0], row[1]))
                stored = cursor.fetchone()
                if stored is None:  # a repeat of an earlier line of the chunk, rejected
                    self.result.problems.append(
                        IngestProblem(
                            self.origin,
                            row[-1],
                            "id",
                            f"{row[0]}/{row[1]} repeats an earlier line of this input that "
                            "was rejected; this line is not stored either",
                        )
                    )
                    continue
                batch, line = stored[12], stored[13]
                if batch == self.batch_id and line == row[-1]:
                    stored_here.add((row[0], row[1]))
                    continue
                differences = content_differences(
                    content_of(row), stored_content(stored), self.now, "in the ledger"
                )
                if not differences:
                    self.result.duplicates += 1
                    continue
                first = (
                    f"on line {line}"
                    if batch == self.batch_id
                    else f"in an earlier ingest (batch {batch}, line {line})"
                    if line is not None
                    else "in an earlier ingest"
                )
                self.result.conflict_lines.append(
                    IngestProblem(
                        self.origin,
                        row[-1],
                        "",
                        conflict_message(row[0], row[1], differences, first),
                    )
                )
        finally:
            cursor.close()
        return stored_here


def stored_content(stored: Any) -> dict[str, Any]:
    """The comparable content (as ``parsing.content_of``) of a stored entry's row."""
    kind, subject, typ, occurred, recorded, amount, evidence, related, until, details = stored[:10]
    claimed = stored[14]
    kind = int(kind)
    if is_fact(kind):
        return {
            "kind": kind,
            "subject": subject,
            "attribute": typ,
            "valid_from": occurred,
            "recorded_at": recorded,
            "claimed_recorded_at": claimed,
            "valid_until": until,
            **fact_content(details),
        }
    if kind == RECORD:
        return {
            "kind": kind,
            "subject": subject,
            "type": typ,
            "occurred_at": occurred,
            "recorded_at": recorded,
            "claimed_recorded_at": claimed,
            "amount": amount,
            "evidence": evidence,
            **term_content(details),
        }
    if kind == RELATION:
        return {
            "kind": kind,
            "subject": subject,
            "relation": typ,
            "valid_from": occurred,
            "recorded_at": recorded,
            "claimed_recorded_at": claimed,
            "related_subject": related,
            "valid_until": until,
        }
    return {
        "kind": kind,
        "target": f"{stored[10]}/{stored[11]}",
        "type": typ,
        "occurred_at": occurred,
        "recorded_at": recorded,
        "claimed_recorded_at": claimed,
        "amount": amount,
        **details_content(details),
    }
