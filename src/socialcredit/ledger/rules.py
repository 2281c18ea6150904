"""What the active policy lets ingestion accept: record types, relations, the appeal window.

One ``IngestRules`` object is derived from a policy and handed to ingestion (also to the
processes that parse large files), so every check comes from the same declaration.
Without rules (None) ingestion checks only the entry format, as for a ledger that has no
active policy yet.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from socialcredit.columns import SUBJECT_KINDS
from socialcredit.spans import UTC_CALENDAR, Calendar, Span, seconds_span, shift_one

if TYPE_CHECKING:
    from socialcredit.policy.model import Policy
    from socialcredit.policy.sources import SourceGrant


@dataclass(frozen=True)
class IngestRules:
    """Ingestion checks derived from one policy.

    ``record_types``: each declared record type and the subject kinds (codes into
    ``SUBJECT_KINDS``) it may be about. ``relations``: each declared relation and the kinds
    (codes) of its subject and related subject. ``appeal_window``: how long after a record
    is recorded a dispute of it has an effect (None = not reported), added by the policy's
    ``calendar`` (see ``window_closes``).
    """

    record_types: Mapping[str, frozenset[int]]
    relations: Mapping[str, tuple[int, int]]
    appeal_window: Span | None = None
    # record types that declare term bounds: (shortest own term, longest own term, shortest
    # extension, longest extensions together) as spans, None = never; a type not here
    # takes no term of its own and no extension
    terms: Mapping[str, tuple[Span | None, Span | None, Span, Span]] = field(default_factory=dict)
    # record types whose due process differs from the policy-wide one: (appeal window,
    # how long after a review upheld a record a reconsideration may be applied for or None)
    processes: Mapping[str, tuple[Span, Span | None]] = field(default_factory=dict)
    calendar: Calendar = UTC_CALENDAR  # the policy's, for adding the periods above

    def window_of(self, record_type: str) -> tuple[Span | None, Span | None]:
        """The appeal window and reconsideration filing period of records of ``record_type``."""
        return self.processes.get(record_type, (self.appeal_window, self._reconsider))

    _reconsider: Span | None = None  # the policy-wide reconsideration filing period

    def closes(self, start: int, span: Span) -> int:
        """``start`` plus ``span`` by the policy's calendar, as the scorer adds it
        (``CompiledPolicy.after``)."""
        return shift_one(start, span, self.calendar)

    # the services an exemption may name (None: any); the attributes the policy declares:
    # name -> (type: date | number | text, subject kind codes it applies to)
    services: frozenset[str] | None = None
    # (None: any attribute, as text)
    attributes: Mapping[str, tuple[str, frozenset[int]]] | None = None
    # the date attributes the policy counts an age from (age_at_least): a value of one
    # cannot lie after the time its line was recorded (nobody is born in the future)
    ages: frozenset[str] = frozenset()
    # record types whose records must give a positive amount, with why (a wallet pays a
    # share of it, or spends it); see ``policy.wallets``
    amounts: Mapping[str, str] = field(default_factory=dict)
    # wallets that redemptions are checked against at ingestion (``ledger.wallet_checks``):
    # the policy, compiled when first needed (None: no wallet spends)
    wallet_policy: Policy | None = None
    # a submitter restriction: every line must be this source's, of what the policy's
    # ``sources:`` section lets it submit (None: any source, any declared name)
    submitter: SourceGrant | None = None
    # record types a rating score counts: their range (lowest, highest); a rating needs an
    # amount within it and a source other than its subject
    ratings: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def from_policy(cls, policy: Policy, submitter: str | None = None) -> IngestRules:
        """The rules a policy declares: its record types, relations, appeal window, due
        process per record type, services and attributes.

        ``submitter``: restrict the ingest to the entries this one source may submit under
        the policy's ``sources:`` section (``SourceGrant.refusal``; a source the policy
        does not declare may submit nothing); each other line is rejected with its reason.
        """
        from socialcredit.policy.compiled import compile_calendar, type_processes
        from socialcredit.policy.sources import grant_of

        wide = policy.due_process
        recon = wide.reconsideration.file_within if wide.reconsideration else None
        services = {s.service for s in policy.sanctions.values()} | set(policy.services)
        return cls(
            record_types={
                name: frozenset(SUBJECT_KINDS.index(k) for k in rt.subject_kinds)
                for name, rt in policy.record_types.items()
            },
            relations={
                name: (SUBJECT_KINDS.index(rel.from_kind), SUBJECT_KINDS.index(rel.to_kind))
                for name, rel in policy.relations.items()
            },
            appeal_window=policy.due_process.appeal_window,
            terms={
                name: rt.term_bounds()
                for name, rt in policy.record_types.items()
                if rt.term is not None
            },
            processes={
                name: (proc.appeal_window, proc.reconsider_within)
                for name, proc in type_processes(policy).items()
                if proc.index != 0
            },
            _reconsider=recon,
            services=frozenset(services),
            attributes={
                name: (a.type, frozenset(SUBJECT_KINDS.index(k) for k in a.subject_kinds))
                for name, a in policy.attributes.items()
            },
            ages=frozenset(
                cond.attribute
                for conditions in (
                    *(rt.eligible for rt in policy.record_types.values()),
                    *(lst.eligible for lst in policy.lists.values()),
                )
                for cond in conditions
                if cond.age_at_least is not None
            ),
            calendar=compile_calendar(policy.calendar),
            amounts=_amounts(policy),
            wallet_policy=policy
            if any(sc.wallet is not None and sc.wallet.redeem for sc in policy.scores.values())
            else None,
            submitter=None if submitter is None else grant_of(policy, submitter),
            ratings={
                t: (float(sc.rating.lowest), float(sc.rating.highest))
                for sc in policy.scores.values()
                if sc.rating is not None
                for t in sc.rating.types
            },
        )

    @classmethod
    def for_record_types(
        cls,
        types: Collection[str] | Mapping[str, Collection[str]],
        relations: Mapping[str, tuple[str, str]] | None = None,
        appeal_window: Span | int | None = None,
    ) -> IngestRules:
        """Rules from plain names (for tests and callers without a policy object).

        ``types``: record type names, or a mapping of type name to subject kind names (a
        plain collection allows every kind). ``relations``: relation name to (from kind,
        to kind) names; None declares no relation. Services and attributes: none checked.
        ``appeal_window``: a span, or exact seconds.
        """
        if isinstance(appeal_window, int):
            appeal_window = seconds_span(appeal_window)
        every = frozenset(range(len(SUBJECT_KINDS)))
        if isinstance(types, Mapping):
            record_types = {
                name: frozenset(SUBJECT_KINDS.index(k) for k in kinds)
                for name, kinds in types.items()
            }
        else:
            record_types = dict.fromkeys(types, every)
        return cls(
            record_types=record_types,
            relations={
                name: (SUBJECT_KINDS.index(a), SUBJECT_KINDS.index(b))
                for name, (a, b) in (relations or {}).items()
            },
            appeal_window=appeal_window,
        )

    def kind_names(self, record_type: str) -> list[str]:
        """The subject kinds a record type may be about, by name, in declaration order."""
        return [k for i, k in enumerate(SUBJECT_KINDS) if i in self.record_types[record_type]]


def _amounts(policy: Policy) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, sc in policy.scores.items():
        wallet = sc.wallet
        if wallet is None:
            continue
        for type_name, earn in wallet.earn.items():
            if earn.rate is not None:
                out[type_name] = f"wallet {name!r} pays {earn.rate:g} {wallet.unit} per unit of it"
        for type_name in wallet.redeem:
            out[type_name] = f"it is the number of {wallet.unit} spent from wallet {name!r}"
    return out
