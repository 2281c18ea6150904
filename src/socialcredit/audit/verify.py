"""Checking an audit log's chain: ``verify_chain`` walks entries in seq order and names the
first one that is not what an untouched log would hold there (docs/audit.md says what can
and cannot be detected). Pure: the caller reads the rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from socialcredit.audit.chain import GENESIS, AuditEntry

KINDS = ("changed", "missing", "not_linked", "beyond_head", "truncated", "head", "anchor")
"""What ``AuditVerification.kind`` may say was found (docs/audit.md explains each)."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """A (seq, hash) pair kept outside the database, e.g. from an earlier ``audit verify``:
    the log must still hold entry ``seq`` with this hash."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The outcome of verifying the audit log.

    ``ok``: the chain is intact, links up to the head row and matches every anchor given.
    ``entries``: how many entries were read; ``head_seq``/``head_hash``: the head row (keep
    them elsewhere to detect a later rewrite, see ``Anchor``). When not ``ok``,
    ``first_bad`` is the seq of the first entry found wrong (missing, changed, inserted or
    out of place), ``kind`` one of ``KINDS`` and ``problem`` a sentence saying what is wrong.
    """

    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad: int | None = None
    kind: str | None = None
    problem: str | None = None
    anchors: tuple[Anchor, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The outcome as the JSON object ``audit verify --json`` prints."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_bad": self.first_bad,
            "kind": self.kind,
            "problem": self.problem,
            "anchors_checked": [{"seq": a.seq, "hash": a.hash} for a in self.anchors],
        }


def verify_chain(
    entries: Iterable[AuditEntry],
    head: tuple[int, str] | None,
    anchors: Iterable[Anchor] = (),
) -> AuditVerification:
    """Verify ``entries`` (in seq order, as stored) against the ``head`` row (seq, hash;
    None: the row is missing) and ``anchors``; the first problem found is reported.

    Walking forward, entry ``s`` is expected to have seq ``s`` (a gap: entry ``s`` is
    missing), a hash that its fields and ``prev_hash`` give (else it was changed, or holds
    another entry's content: ``changed``) and a ``prev_hash`` equal to entry ``s-1``'s hash.
    When only that link fails, entry ``s`` is intact and what it followed was replaced: the
    entry before it is named (``not_linked``); when entry ``s`` is not intact either but
    follows the same entry as ``s-1`` does, ``s-1`` was put in before it and is named. Past
    the last entry, the head row must hold the last entry's seq and hash: entries beyond it
    were added outside the writer (``beyond_head``), fewer entries mean the last ones were
    removed (``truncated``). Each anchor's entry must still have the anchor's hash.
    """
    wanted = {a.seq: a for a in anchors}
    expected = 1
    prev_hash = GENESIS
    prev_prev_hash = GENESIS
    count = 0
    head_seq, head_hash = head if head is not None else (-1, "")

    def bad(seq: int, kind: str, problem: str) -> AuditVerification:
        return AuditVerification(
            False, count, head_seq, head_hash, seq, kind, problem, tuple(wanted.values())
        )

    for entry in entries:
        count += 1
        s = entry.seq
        if s != expected:
            return bad(
                expected,
                "missing",
                f"entry {expected} is missing (the next entry stored is {s})",
            )
        intact = entry.computed_hash() == entry.hash
        linked = entry.prev_hash == prev_hash
        if not linked and intact and s > 1:
            return bad(
                s - 1,
                "not_linked",
                f"entry {s - 1} is not the entry that entry {s} followed (entry {s}'s "
                f"prev_hash is {entry.prev_hash[:16]}…, entry {s - 1}'s hash "
                f"{prev_hash[:16]}…): entry {s - 1} was changed or put in",
            )
        if not linked and not intact and s > 1 and entry.prev_hash == prev_prev_hash:
            return bad(
                s - 1,
                "not_linked",
                f"entry {s - 1} was put in before entry {s}: both follow entry {s - 2}",
            )
        if not intact:
            return bad(
                s,
                "changed",
                f"entry {s} was changed: its fields and prev_hash do not give its stored hash",
            )
        if not linked:  # entry 1 not following GENESIS
            return bad(
                s, "changed", f"entry {s} does not start the chain (its prev_hash is not zero)"
            )
        if head is not None and s > head_seq:
            return bad(
                s,
                "beyond_head",
                f"entry {s} is beyond the head row (which records {head_seq} entries): it was "
                "added outside the audit log's writer",
            )
        anchor = wanted.get(s)
        if anchor is not None and anchor.hash != entry.hash:
            return bad(
                s,
                "anchor",
                f"entry {s}'s hash is {entry.hash[:16]}…, not the anchor's {anchor.hash[:16]}…: "
                "the log was rewritten from this entry on",
            )
        prev_prev_hash, prev_hash = prev_hash, entry.hash
        expected += 1
    last = expected - 1
    if head is None:
        return bad(
            last + 1,
            "head",
            "the audit head row is missing: the chain cannot be checked for truncation",
        )
    if head_seq > last:
        return bad(
            last + 1,
            "truncated",
            f"entries {last + 1} to {head_seq} are missing: the head row records {head_seq} "
            f"entries, the log ends at {last}",
        )
    if head_hash != prev_hash:
        return bad(
            last,
            "head",
            f"entry {last}'s hash is not the one the head row records: the last entry was replaced",
        )
    for anchor in wanted.values():
        if anchor.seq > last:
            return bad(
                last + 1,
                "anchor",
                f"the anchor names entry {anchor.seq}, but the log ends at {last}: entries "
                f"from {last + 1} on were removed",
            )
    return AuditVerification(True, count, head_seq, head_hash, anchors=tuple(wanted.values()))


__all__ = ["KINDS", "Anchor", "AuditVerification", "verify_chain"]
