"""The ledger's tables (SQLAlchemy Core). Migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()


subjects = Table(
    "subjects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("kind", SmallInteger, nullable=False),  # index into columns.SUBJECT_KINDS
)

entries = Table(
    "entries",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("source", Text, nullable=False),
    Column("entry_id", Text, nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("type", Text),  # record type, relation name, or rectified type
    Column("occurred_at", BigInteger, nullable=False),
    Column("recorded_at", BigInteger, nullable=False),  # when the ledger learned it
    Column("amount", Float),
    Column("evidence", Text),
    Column("target_seq", BigInteger),
    Column("related_subject_id", Integer),
    Column("valid_until", BigInteger),
    Column("details", Text),  # JSON: reason, corrected values
    Column("batch_id", Integer),
    Column("line", Integer),  # line of the batch's input the entry came from
    Column("claimed_recorded_at", BigInteger),  # the recorded_at the source gave, if any
    UniqueConstraint("source", "entry_id", name="uq_entries_source_entry_id"),
)
Index("ix_entries_subject_id", entries.c.subject_id)
Index(
    "ix_entries_target_seq",
    entries.c.target_seq,
    sqlite_where=entries.c.target_seq.isnot(None),
    postgresql_where=entries.c.target_seq.isnot(None),
)

Index(
    "ix_entries_related_subject_id",
    entries.c.related_subject_id,
    sqlite_where=entries.c.related_subject_id.isnot(None),
    postgresql_where=entries.c.related_subject_id.isnot(None),
)

# exemptions and attributes (entry kinds 9 and 10, ``columns.FACT_KINDS``): few rows, read in bulk
Index(
    "ix_entries_facts",
    entries.c.seq,
    sqlite_where=entries.c.kind.in_([9, 10]),
    postgresql_where=entries.c.kind.in_([9, 10]),
)

policies = Table(
    "policies",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=True),
    Column("policy_id", Text, nullable=False),
    Column("declared_version", Text, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("activated_at", BigInteger, nullable=False),
    Column("activated_by", Text),
    Column("recorded_at", BigInteger),  # the ledger's clock when activated (NULL: before 0005)
    # 1: activated_at is before recorded_at (history loaded with an explicit backfill)
    Column("backfill", SmallInteger, nullable=False, server_default=text("0")),
    # the lint gate (0011): findings at activation as JSON, and the override's justification
    Column("lint_findings", Text),
    Column("lint_override", Text),
)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", Text, nullable=False),  # file name or "-"
    Column("started_at", BigInteger, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("conflicts", Integer, nullable=False, server_default=text("0")),
    Column("skipped", Integer, nullable=False, server_default=text("0")),
    Column("backfill", SmallInteger, nullable=False, server_default=text("0")),
    Column("finished_at", BigInteger),  # NULL: interrupted (or still running)
)

# API keys of the HTTP service (``socialcredit.keys``): only a hash of each key's secret is
# kept; a row is never deleted, and ``revoked_at`` is the only column that may change, once
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("role", Text, nullable=False),  # as written: admin, source:court, …
    Column("name", Text),  # who holds it, for people (optional)
    Column("secret_hash", Text, nullable=False),  # hex SHA-256 of the whole token
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),  # NULL: in use
)

# The notices outbox (``socialcredit.notices``): one row per event a subject is told about
# (a measure started or was published, a dispute went overdue). ``event_key`` (a SHA-256 of
# what identifies the event) is unique, so writing a notice twice, from any number of
# processes, stores it once. Rows are never rewritten; only ``delivered_at`` and
# ``read_at`` are set later.
notices = Table(
    "notices",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_key", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("kind", Text, nullable=False),  # measure_started | measure_published | dispute_overdue
    Column("event_at", BigInteger, nullable=False),  # when the event happened
    Column("written_at", BigInteger, nullable=False),  # the clock of the run that wrote it
    Column("policy_version", Text, nullable=False),
    Column("policy_hash", Text, nullable=False),
    Column("service", Text),
    Column("measure", Text),
    Column("reason_code", Text),
    Column("records", Text, nullable=False),  # JSON list of source/id
    Column("until", BigInteger),  # when the measure ends if nothing changes (NULL: no set end)
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON: the structured facts behind the text
    Column("delivered_at", BigInteger),
    Column("read_at", BigInteger),
    UniqueConstraint("event_key", name="uq_notices_event_key"),
)
Index("ix_notices_subject", notices.c.subject, notices.c.id)

# The audit log (``socialcredit.audit``): one row per audited request, hash-chained. ``seq``
# is given by the writer (1, 2, 3 … with no gap) under the chain's lock; ``hash`` is SHA-256
# over ``prev_hash`` and the entry's canonical form (docs/audit.md). Append-only (triggers).
audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("at_us", BigInteger, nullable=False),  # the event's time, epoch microseconds
    Column("key_id", Text),  # NULL: no valid key (a refused request)
    Column("role", Text),
    Column("route", Text, nullable=False),
    Column("subject", Text),
    Column("service", Text),
    Column("decision", Text),
    Column("policy_version", Text),
    Column("status", Integer),  # the HTTP status answered
    Column("check_id", Text),
    Column("details", Text),  # JSON object text, as hashed
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
)
# No index on ``subject`` (dropped by 0013): ``audit_subjects`` indexes it, in bulk.

# Who each entry is about: its own ``subject``, or every subject a batch-check entry lists
# (its own ``subject`` is empty), as (subject, seq) pairs filled in bulk by the audit log's
# indexer thread, so that a search by subject is indexed (migrations 0012, 0013; not hashed).
audit_subjects = Table(
    "audit_subjects",
    metadata,
    Column("subject", Text, primary_key=True),
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
)

# The chain's head: one row (id 1) holding the last entry's seq and hash, updated in the same
# transaction as the entries it covers. It is the lock writers take to extend the chain, and
# what ``verify`` compares the last entry with (removing the last entries is seen there).
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", Text, nullable=False),
    Column("updated_at_us", BigInteger),
)
