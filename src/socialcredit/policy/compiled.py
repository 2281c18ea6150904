"""A policy compiled to arrays and small closures, for evaluation one subject or a nation at a time.

Compilation does not add rules: every number here is read from the ``Policy`` model, so the
live scorer, the bulk recompute and (later) the simulator all evaluate the same objects.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.calendars import NONE, holiday_calendar
from socialcredit.errors import RequestAttributeError
from socialcredit.policy.loader import LoadedPolicy
from socialcredit.policy.model import (
    AfterResolution,
    AttributeCondition,
    CalendarDef,
    DueProcessOverride,
    FixedDuration,
    Grade,
    NamedScore,
    Policy,
    Predicate,
    ServiceAttribute,
)
from socialcredit.spans import Calendar, Span, estimated, last_day, shift, shift_one, shift_span
from socialcredit.timeutil import DAY, NEVER, to_date

I64 = npt.NDArray[np.int64]

ON_OVERDUE = ("delete", "keep", "flag")
DELETE, KEEP, FLAG = range(3)


def later(policy: CompiledPolicy, start: I64, span: Span) -> I64:
    """``start`` plus the duration ``span`` (NEVER stays NEVER), by the policy's calendar:
    ``CompiledPolicy.after``."""
    return policy.after(np.asarray(start, dtype=np.int64), span)


def span_bound(policy: CompiledPolicy, span: Span) -> int:
    """An upper bound, in seconds, of how long ``span`` can last from any start."""
    del policy
    return span.longest()


def later_one(policy: CompiledPolicy, start: int, span: Span) -> int:
    """``later`` for one time (``CompiledPolicy.after_one``)."""
    return policy.after_one(start, span)


@dataclass(frozen=True)
class CompiledProcess:
    """The due process that applies to a record: the policy-wide block, or a record type's
    (or list's) override of it, field by field.

    ``origin``: ``""`` for the policy-wide block, else ``record type NAME`` / ``list NAME``.
    """

    index: int
    appeal_window: Span
    review_deadline: Span
    counts_while_disputed: bool
    on_overdue: str  # delete | keep | flag
    reconsider_within: Span | None  # how long after an upheld review one may apply
    reconsider_deadline: Span | None  # how long a reconsideration may take
    origin: str = ""

    @property
    def overdue_code(self) -> int:
        """``DELETE``, ``KEEP`` or ``FLAG``."""
        return ON_OVERDUE.index(self.on_overdue)


@dataclass(frozen=True)
class CompiledList:
    """A list ready for evaluation."""

    index: int
    name: str
    kind: str  # black | red
    when: Predicate
    delist_delay: Span
    description: str
    legal_basis: str


@dataclass(frozen=True)
class CompiledSanction:
    """A sanction or reward ready for evaluation."""

    index: int
    name: str
    service: str
    effect: str  # deny | benefit
    when: Predicate
    fixed: Span | None  # None for while_triggered
    max_duration: Span | None
    reach: tuple[str, ...]
    reason_code: str
    description: str
    legal_basis: str
    lists: tuple[str, ...]  # lists named in the trigger
    uses_score: bool
    # ``duration: {after_resolution: D}``: the measure ends D after the records that
    # triggered it are resolved (None: another duration rule)
    after_resolution: Span | None = None
    # the requests it is limited to (every condition holds); empty: every request
    applies_to: tuple[AttributeCondition, ...] = ()
    # the services it covers: its own and every service declared under it (parent chain)
    covers: tuple[str, ...] = ()

    def applies(self, attributes: Mapping[str, float | str] | None) -> bool:
        """Whether the measure covers a request with ``attributes`` (validated by
        ``CompiledPolicy.request``). ``None`` means no particular request: every measure
        applies (what a description of the measures in force says). An attribute the
        measure tests but the request lacks raises ``RequestAttributeError``: a missing
        attribute never allows silently."""
        if attributes is None or not self.applies_to:
            return True
        for cond in self.applies_to:
            if cond.attribute not in attributes:
                raise RequestAttributeError(
                    f"measure {self.name} ({self.reason_code}) on service {self.service!r} "
                    f"applies only to some requests: the check needs attribute "
                    f"{cond.attribute!r}"
                )
            if not cond.holds(attributes[cond.attribute]):
                return False
        return True

    # a publicity period (``starts_after``): its length, and whether a pending objection
    # holds the start back; None: the measure starts when its condition begins to hold
    notice: Span | None = None
    objection_blocks: bool = False


@dataclass(frozen=True)
class CompiledComponent:
    """One component of a score: the records it counts (per type code, the last entry a
    type the policy does not know) or a clean-year reward, its bounds and weight."""

    name: str
    display_name: str
    counts: npt.NDArray[np.bool_]  # per type code (+1): the component counts these records
    base: float
    low: float
    high: float
    weight: float
    clean_points: float | None = None  # a clean-year reward: points per clean year
    first_year: int = 0

    @property
    def clean_year(self) -> bool:
        """Whether this is a clean-year reward (else it sums the points of its records)."""
        return self.clean_points is not None

    @property
    def capped(self) -> bool:
        """Whether the component has a lower or upper bound."""
        return bool(np.isfinite(self.low) or np.isfinite(self.high))


@dataclass(frozen=True)
class CompiledScore:
    """One score: base, bounds, components (none: every record's points count) and grades.

    ``name`` is None for the unnamed score (``score:`` with ``grades:``).
    """

    index: int
    name: str | None
    display_name: str
    form: str
    base: float
    low: float
    high: float
    components: tuple[CompiledComponent, ...]
    grade_names: tuple[str, ...]
    grade_floor: npt.NDArray[np.float64]  # descending; the last band's floor is -inf
    unpublished: npt.NDArray[np.bool_]  # per band: its cut-off is not published

    @property
    def key(self) -> str:
        """The name the score is reported under (``score`` for the unnamed one)."""
        return self.name if self.name is not None else "score"

    def grade_of(self, score: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Grade band index (0 = highest) for each score; -1 where it cannot be decided
        because the score may fall in a band whose cut-off is unpublished."""
        if not self.unpublished.any():
            # grade_floor is descending; the band index is the number of floors above the score
            plain: npt.NDArray[np.int64] = np.searchsorted(
                -self.grade_floor[:-1], -score, side="left"
            ).astype(np.int64)
            return plain
        # the first band with a published floor at or below the score (else the last band)
        known = np.append(np.flatnonzero(~self.unpublished[:-1]), len(self.grade_names) - 1)
        pos = np.searchsorted(-self.grade_floor[known[:-1]], -score, side="left")
        band = known[pos].astype(np.int64)
        # a band with an unpublished floor just above it might hold the score instead
        above_unknown = np.concatenate([[False], self.unpublished[:-1]])
        out: npt.NDArray[np.int64] = np.where(above_unknown[band], -1, band).astype(np.int64)
        return out

    def grade_label(self, index: int) -> str | None:
        """The grade's name, None for -1 (not determinable)."""
        return self.grade_names[index] if index >= 0 else None


NOT_DETERMINABLE = "not determinable: the cut-offs are unpublished"
"""What a person is told instead of a grade their score may or may not reach."""


@dataclass(frozen=True)
class CompiledPolicy:
    """Arrays indexed by record-type code, plus the lists and sanctions in declaration order."""

    loaded: LoadedPolicy
    type_names: tuple[str, ...]
    type_code: dict[str, int]
    points: npt.NDArray[np.float64]
    lifetimes: tuple[Span | None, ...]  # per type; None: never expires
    decays: npt.NDArray[np.bool_]
    resolvable: npt.NDArray[np.bool_]
    category: tuple[str, ...]
    base: float
    score_min: float
    score_max: float
    grade_names: tuple[str, ...]
    grade_floor: npt.NDArray[np.float64]  # descending; the last band's floor is -inf
    lists: tuple[CompiledList, ...]
    sanctions: tuple[CompiledSanction, ...]
    relation_names: tuple[str, ...]
    appeal_window: Span
    reinvestigation_deadline: Span
    disputed_records_count: bool
    any_decay: bool
    # terms set per case (per type code; NEVER = no end): a record's own term is clamped
    # into [term_min, term_max], the sum of its extensions to at most ext_max
    # (spans per type code; None = no end; for explanations, the arithmetic uses ``tables``)
    term_min: tuple[Span | None, ...] = ()
    term_max: tuple[Span | None, ...] = ()
    ext_min: tuple[Span, ...] = ()
    ext_max: tuple[Span, ...] = ()
    calendar: Calendar = field(default_factory=Calendar)
    # per-type spans as arrays by type code (months, seconds, working days, never), one more
    # entry for a type the policy does not know (never ends): "life" (expires_after),
    # "term_min", "term_max", "ext_max"
    tables: dict[str, tuple[I64, I64, I64, npt.NDArray[np.bool_]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # due process: ``processes[0]`` is the policy-wide block; ``type_process[code]`` the
    # process of records of type ``code`` (the last entry: types the policy does not know)
    processes: tuple[CompiledProcess, ...] = ()
    type_process: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(1, dtype=np.int16))
    scores: tuple[CompiledScore, ...] = ()  # the first is the one reported as ``score``
    # derived lookup tables, filled on first use (evaluation asks for the same ones often)
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    # --- durations: every duration the engine adds goes through these ---------------------

    def after(self, times: I64, span: Span) -> I64:
        """``times`` (epoch seconds) plus ``span``, by the policy's calendar: calendar
        months, exact days and hours, working days. ``NEVER`` stays ``NEVER``."""
        return shift_span(times, span, self.calendar)

    def after_one(self, time: int, span: Span) -> int:
        """One time plus ``span`` (the same computation as ``after``)."""
        return shift_one(time, span, self.calendar)

    def after_per_type(
        self, times: I64, code: npt.NDArray[np.integer[Any]], table: str = "life"
    ) -> I64:
        """``times`` plus, element by element, the span ``table`` gives the type ``code``
        (-1 or unknown: never), by the policy's calendar; ``NEVER`` where it has no end."""
        months, seconds, working, never = self.tables[table]
        n = len(self.type_names)
        safe = np.where((code >= 0) & (code < n), code, n)
        t = np.asarray(times, dtype=np.int64)
        if not (months.any() or working.any()):
            out: I64 = np.where(never[safe], NEVER, np.minimum(t + seconds[safe], NEVER))
            return np.where(t >= NEVER, NEVER, out)
        moved = shift(t, months[safe], seconds[safe], working[safe], self.calendar)
        result: I64 = np.where(never[safe], NEVER, moved)
        return result

    def expiry(self, occurred: I64, code: npt.NDArray[np.integer[Any]]) -> I64:
        """When records of type ``code`` (-1 or an unknown code: never) that occurred at
        ``occurred`` stop counting by the type's ``expires_after``; ``NEVER`` for types that
        never expire. (``Rows.expires`` adds a record's own term and extensions.)"""
        return self.after_per_type(occurred, code, "life")

    def expiry_one(self, occurred: int, code: int) -> int:
        """``expiry`` of one record."""
        return int(self.expiry(np.array([occurred], np.int64), np.array([code], np.int64))[0])

    def estimated(self, time: int, span: Span) -> bool:
        """Whether ``time`` + ``span`` counted working days the holiday calendar does not
        cover (Monday to Friday were counted there); explanations must say so."""
        return estimated(time, span, self.calendar)

    def last_date(self, end: int) -> str:
        """The last local date (ISO) a period ending at ``end`` (exclusive) includes: for a
        deadline in working days, the day it falls on ("by 2026-02-24 at the latest")."""
        return to_date(last_day(end, self.calendar) * DAY) or ""

    def deadline_date(self, start: int, span: Span) -> str:
        """The date by which something due ``span`` after ``start`` must happen: for working
        days the last working day (local), said to be counted Monday to Friday where the
        holiday calendar does not reach; otherwise the date the period ends."""
        end = self.after_one(start, span)
        if not span.working_days:
            return to_date(end) or "never"
        text = self.last_date(end)
        if self.estimated(start, span):
            text += (
                f" (counted Monday to Friday: the holiday calendar covers "
                f"{self.calendar_years()} only)"
            )
        return text

    def span_text(self, span: Span) -> str:
        """A span in plain words, as written: ``2 years``, ``3 working days``."""
        return span.describe()

    def calendar_years(self) -> str:
        """The years the holiday calendar covers, e.g. ``2015-2026`` ("" without one)."""
        if not self.calendar.name or self.calendar.complete:
            return ""
        return holiday_calendar(self.calendar.name).covered_years()

    def calendar_note(self) -> str:
        """What days a working-day period counts, for explanations."""
        if not self.calendar.name or self.calendar.complete:
            return "working days are Monday to Friday"
        data = holiday_calendar(self.calendar.name)
        return (
            f"working days follow the {data.title} for {data.covered_years()} (holidays and "
            "the weekend days declared working days)"
        )

    @property
    def policy(self) -> Policy:
        """The validated policy model this was compiled from."""
        return self.loaded.policy

    @property
    def version_label(self) -> str:
        """``policy@version``, named by every decision."""
        return self.loaded.label

    def list_index(self, name: str) -> int:
        """Position of list ``name``."""
        for lst in self.lists:
            if lst.name == name:
                return lst.index
        raise KeyError(name)

    @property
    def uniform_process(self) -> bool:
        """Every record has the policy-wide due process, without a reconsideration stage or
        another rule for overdue reviews (evaluation then takes today's short path)."""
        return len(self.processes) <= 1 and (
            not self.processes
            or (
                self.processes[0].reconsider_within is None
                and self.processes[0].on_overdue == "delete"
            )
        )

    @property
    def any_reconsideration(self) -> bool:
        """Some record's due process has a reconsideration stage."""
        return any(p.reconsider_within is not None for p in self.processes)

    def process_of(self, type_name: str) -> CompiledProcess:
        """The due process of records of type ``type_name`` (the policy-wide one when unknown)."""
        code = self.type_code.get(type_name, -1)
        return self.processes[int(self.type_process[code])]

    def process_codes(self, type_codes: npt.NDArray[np.int32]) -> npt.NDArray[np.int16]:
        """Per record-type code (-1: a type the policy does not know), its process index."""
        result: npt.NDArray[np.int16] = self.type_process[type_codes]
        return result

    def grade_of(self, score: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Grade band index (0 = highest) of the first score for each score; -1: not
        determinable (see ``CompiledScore.grade_of``)."""
        return self.scores[0].grade_of(score)

    def grade_label(self, index: int) -> str | None:
        """The first score's grade name for a band index, None for -1 (not determinable)."""
        return self.scores[0].grade_label(index)

    def score_index(self, name: str | None) -> int:
        """Position of the score ``name`` (None: the first score)."""
        if name is None:
            return 0
        for sc in self.scores:
            if sc.name == name:
                return sc.index
        raise KeyError(name)

    @property
    def clean_year_components(self) -> list[CompiledComponent]:
        """Every clean-year reward of every score (their year ends are breakpoints)."""
        found: list[CompiledComponent] | None = self.cache.get("clean_year_components")
        if found is None:
            found = [c for sc in self.scores for c in sc.components if c.clean_year]
            self.cache["clean_year_components"] = found
        return found

    @property
    def plain_score(self) -> bool:
        """Whether the policy has one score, without components (as before named scores)."""
        return len(self.scores) == 1 and not self.scores[0].components

    def services(self) -> list[str]:
        """Every service the policy knows: named by a measure or declared, sorted."""
        return sorted({s.service for s in self.sanctions} | set(self.policy.services))

    def service_name(self, service: str) -> str:
        """The service's display name (policy-declared), falling back to its id."""
        declared = self.policy.services.get(service)
        if declared is not None and declared.display_name:
            return declared.display_name
        return service.replace("_", " ")

    def service_action(self, service: str) -> str:
        """What a person does at ``service``, to complete "You cannot …" / "You may …"."""
        declared = self.policy.services.get(service)
        if declared is not None and declared.action:
            return declared.action
        return f"use {self.service_name(service)}"

    # ------------------------------------------------------------- service structure

    def service_parent(self, service: str) -> str | None:
        """The declared parent of ``service`` (None for a top-level or undeclared service)."""
        declared = self.policy.services.get(service)
        return declared.parent if declared is not None else None

    def service_chain(self, service: str) -> tuple[str, ...]:
        """``service`` and its ancestors, nearest first (validation refuses cycles)."""
        chain = [service]
        parent = self.service_parent(service)
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = self.service_parent(parent)
        return tuple(chain)

    def covering(self, service: str) -> tuple[CompiledSanction, ...]:
        """The measures that cover ``service``: on it or on one of its ancestors (a ban on
        train tickets covers G-train seats; a ban on G-train seats does not cover tickets)."""
        key = ("covering", service)
        found: tuple[CompiledSanction, ...] | None = self.cache.get(key)
        if found is None:
            chain = self.service_chain(service)
            found = tuple(s for s in self.sanctions if s.service in chain)
            self.cache[key] = found
        return found

    def sanctions_on(
        self, service: str, attributes: Mapping[str, float | str] | None = None
    ) -> tuple[CompiledSanction, ...]:
        """The measures that decide a request for ``service`` with ``attributes`` (validated
        by ``request``): those covering it whose ``applies_to`` holds. ``None``: no
        particular request, every covering measure."""
        covering = self.covering(service)
        if attributes is None or not any(s.applies_to for s in covering):
            return covering
        return tuple(s for s in covering if s.applies(attributes))

    def service_attributes(self, service: str) -> dict[str, ServiceAttribute]:
        """The request attributes declared for ``service`` and its ancestors."""
        out: dict[str, ServiceAttribute] = {}
        for s in self.service_chain(service):
            declared = self.policy.services.get(s)
            if declared is not None:
                for name, attr in declared.attributes.items():
                    out.setdefault(name, attr)
        return out

    def required_attributes(self, service: str) -> tuple[str, ...]:
        """The attributes every check on ``service`` must carry: those a measure covering
        it tests. It depends on the policy and the service only, never on the subject (an
        error for a missing one tells a service point nothing about the person)."""
        return tuple(
            dict.fromkeys(c.attribute for s in self.covering(service) for c in s.applies_to)
        )

    def request(self, service: str, attributes: Mapping[str, Any] | None) -> dict[str, float | str]:
        """``attributes`` of a check on ``service``, validated: each declared for the
        service (or an ancestor), of its declared type, and every required one given.
        Raises ``RequestAttributeError`` naming the attribute."""
        declared = self.service_attributes(service)
        given = dict(attributes or {})
        out: dict[str, float | str] = {}
        for name, value in given.items():
            attr = declared.get(str(name))
            if attr is None:
                listing = ", ".join(sorted(declared)) or "none"
                close = difflib.get_close_matches(str(name), list(declared), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"its attributes: {listing}"
                raise RequestAttributeError(
                    f"attribute {name!r} is not declared for service {service!r} under policy "
                    f"{self.version_label} ({hint})"
                )
            out[str(name)] = _typed(service, str(name), attr, value)
        missing = [a for a in self.required_attributes(service) if a not in out]
        if missing:
            raise RequestAttributeError(
                f"a check on service {service!r} needs attribute"
                f"{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}: a measure "
                f"of policy {self.version_label} applies only to requests it describes; give "
                + ", ".join(f"{a}=VALUE" for a in missing)
            )
        return out

    def attributes_from_text(self, service: str, pairs: Mapping[str, str]) -> dict[str, Any]:
        """Command-line ``name=value`` texts as typed values (a number attribute's text is
        read as a number); then validate with ``request``."""
        declared = self.service_attributes(service)
        out: dict[str, Any] = {}
        for name, text in pairs.items():
            attr = declared.get(name)
            if attr is not None and attr.type == "number":
                try:
                    number = float(text.replace("_", "").replace(",", ""))
                except ValueError:
                    number = math.nan
                if not math.isfinite(number):
                    raise RequestAttributeError(
                        f"attribute {name!r} of service {service!r} is a number; got {text!r}"
                    )
                out[name] = number
            else:
                out[name] = text
        return out

    def list_name(self, name: str) -> str:
        """The list's display name (policy-declared), falling back to its id."""
        declared = self.policy.lists.get(name)
        if declared is not None and declared.display_name:
            return declared.display_name
        return name.replace("_", " ")


def _typed(service: str, name: str, attr: ServiceAttribute, value: Any) -> float | str:
    if attr.type == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value):
            raise RequestAttributeError(
                f"attribute {name!r} of service {service!r} is a number; got {value!r}"
            )
        return float(value)
    if not isinstance(value, str):
        raise RequestAttributeError(
            f"attribute {name!r} of service {service!r} is text; got {value!r}"
        )
    if attr.type == "one_of" and value not in (attr.values or []):
        raise RequestAttributeError(
            f"attribute {name!r} of service {service!r} is one of "
            f"{', '.join(attr.values or [])}; got {value!r}"
        )
    return value


def _lists_named(pred: Predicate) -> tuple[str, ...]:
    return tuple(p.on_list for p in pred.walk() if p.on_list is not None)


def _process(
    index: int,
    policy: Policy,
    overrides: list[DueProcessOverride],
    origin: str,
) -> CompiledProcess:
    """The policy-wide block with ``overrides`` applied in order (later ones win)."""
    dp = policy.due_process
    window, deadline, counts = (
        dp.appeal_window,
        dp.reinvestigation_deadline,
        dp.disputed_records_count,
    )
    on_overdue, recon = dp.on_overdue, dp.reconsideration
    for o in overrides:
        window = o.appeal_window if o.appeal_window is not None else window
        deadline = (
            o.reinvestigation_deadline if o.reinvestigation_deadline is not None else deadline
        )
        counts = o.disputed_records_count if o.disputed_records_count is not None else counts
        on_overdue = o.on_overdue if o.on_overdue is not None else on_overdue
        recon = o.reconsideration if o.reconsideration is not None else recon
    return CompiledProcess(
        index,
        window,
        deadline,
        counts,
        on_overdue,
        recon.file_within if recon is not None else None,
        recon.decide_within if recon is not None else None,
        origin,
    )


def list_types(policy: Policy, when: Predicate) -> list[str]:
    """The record types a condition names, by type or by category, in declaration order."""
    names: set[str] = set()
    categories: set[str] = set()
    for p in when.walk():
        if p.records is not None:
            names.update(p.records.type_names())
            if p.records.category is not None:
                categories.add(p.records.category)
    return [n for n, rt in policy.record_types.items() if n in names or rt.category in categories]


def _processes(p: Policy) -> tuple[tuple[CompiledProcess, ...], npt.NDArray[np.int16]]:
    """The distinct due processes and each record type's (see ``CompiledPolicy``)."""
    by_list: dict[str, tuple[str, DueProcessOverride]] = {}
    for name, lst in p.lists.items():
        if lst.due_process is not None:
            for t in list_types(p, lst.when):
                by_list.setdefault(t, (name, lst.due_process))  # checks refuse conflicts
    processes = [_process(0, p, [], "")]
    seen = {processes[0]: 0}
    codes = []
    for name, rt in p.record_types.items():
        overrides: list[DueProcessOverride] = []
        origin = ""
        if name in by_list:
            overrides.append(by_list[name][1])
            origin = f"list {by_list[name][0]}"
        if rt.due_process is not None:
            overrides.append(rt.due_process)
            origin = f"record type {name}"
        proc = _process(0, p, overrides, "")
        if proc == processes[0]:
            codes.append(0)  # an override equal to the policy-wide block changes nothing
            continue
        if proc not in seen:
            seen[proc] = len(processes)
            processes.append(replace(proc, index=len(processes), origin=origin))
        codes.append(seen[proc])
    codes.append(0)  # a record type the policy does not know
    return tuple(processes), np.array(codes, dtype=np.int16)


def sanction_types(policy: CompiledPolicy, sanction: CompiledSanction) -> set[str]:
    """The record types the condition of ``sanction`` (and the lists it names) counts."""
    key = ("sanction_types", sanction.index)
    cached = policy.cache.get(key)
    if cached is None:
        preds = [sanction.when] + [lst.when for lst in policy.lists if lst.name in sanction.lists]
        cached = {name for pred in preds for name in list_types(policy.policy, pred)}
        policy.cache[key] = cached
    result: set[str] = cached
    return result


def type_processes(policy: Policy) -> dict[str, CompiledProcess]:
    """Each record type's due process (``processes[0]``, index 0, is the policy-wide one)."""
    processes, codes = _processes(policy)
    return {name: processes[int(codes[i])] for i, name in enumerate(policy.record_types)}


def _floors(grades: list[Grade]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    floors = [g.at_least if isinstance(g.at_least, int | float) else -np.inf for g in grades]
    return (
        np.array(floors, dtype=np.float64),
        np.array([g.unpublished for g in grades], dtype=np.bool_),
    )


def _bound(value: float | None, default: float) -> float:
    return float(value) if value is not None else default


def _compile_score(
    index: int,
    name: str | None,
    sc: NamedScore,
    names: tuple[str, ...],
    categories: Sequence[str],
) -> CompiledScore:
    components = []
    for cname, comp in sc.components.items():
        source = comp.clean_year if comp.clean_year is not None else comp
        wanted = set(source.types or [])
        counts = np.array(
            [n in wanted or categories[i] == source.category for i, n in enumerate(names)]
            + [False],
            dtype=np.bool_,
        )
        components.append(
            CompiledComponent(
                name=cname,
                display_name=comp.display_name or cname.replace("_", " "),
                counts=counts,
                base=float(comp.base),
                low=_bound(comp.min, -np.inf),
                high=_bound(comp.max, np.inf),
                weight=float(comp.weight),
                clean_points=float(comp.clean_year.points) if comp.clean_year else None,
                first_year=comp.clean_year.first_year if comp.clean_year else 0,
            )
        )
    floors, unpublished = _floors(sc.grades)
    return CompiledScore(
        index=index,
        name=name,
        display_name=sc.display_name or (name or "score").replace("_", " "),
        form=sc.form,
        base=float(sc.base),
        low=_bound(sc.min, -np.inf),
        high=_bound(sc.max, np.inf),
        components=tuple(components),
        grade_names=tuple(g.name for g in sc.grades),
        grade_floor=floors,
        unpublished=unpublished,
    )


def _table(spans: list[Span | None]) -> tuple[I64, I64, I64, npt.NDArray[np.bool_]]:
    ends = [*spans, None]  # the extra entry: a type the policy does not know never ends
    return (
        np.array([sp.months if sp else 0 for sp in ends], dtype=np.int64),
        np.array([sp.seconds if sp else 0 for sp in ends], dtype=np.int64),
        np.array([sp.working_days if sp else 0 for sp in ends], dtype=np.int64),
        np.array([sp is None for sp in ends], dtype=np.bool_),
    )


def compile_calendar(spec: CalendarDef | None) -> Calendar:
    """The day-counting rules of a policy's ``calendar:`` block (UTC, Monday to Friday when
    there is none)."""
    if spec is None:
        return Calendar(complete=True)
    offset = spec.offset_seconds()
    if spec.holidays == NONE:
        return Calendar(
            offset=offset, first_day_counted=spec.first_day_counted, name=NONE, complete=True
        )
    data = holiday_calendar(spec.holidays)
    return Calendar(
        offset=offset,
        working=data.working,
        first=data.first,
        last=data.last,
        first_day_counted=spec.first_day_counted,
        name=data.name,
    )


def compile_policy(loaded: LoadedPolicy) -> CompiledPolicy:
    """Compile a validated policy; the result is immutable and safe to share."""
    p = loaded.policy
    names = tuple(p.record_types)
    rts = [p.record_types[n] for n in names]
    lists = tuple(
        CompiledList(
            i, name, d.kind, d.when, d.delist_after_resolution, d.description, d.legal_basis
        )
        for i, (name, d) in enumerate(p.lists.items())
    )
    list_uses_score = {lst.name: lst.when.uses_score() for lst in lists}
    children: dict[str, list[str]] = {}
    for child, d in p.services.items():
        if d.parent is not None:
            children.setdefault(d.parent, []).append(child)

    def covers(service: str) -> tuple[str, ...]:
        out, todo = [service], [service]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in out:
                    out.append(child)
                    todo.append(child)
        return tuple(out)

    sanctions = []
    for i, (name, s) in enumerate(p.sanctions.items()):
        named = _lists_named(s.when)
        sanctions.append(
            CompiledSanction(
                index=i,
                name=name,
                service=s.service,
                effect=s.effect,
                when=s.when,
                fixed=s.duration.fixed if isinstance(s.duration, FixedDuration) else None,
                max_duration=s.max_duration,
                reach=tuple(r.relation for r in s.reach),
                reason_code=s.reason_code or name.upper(),
                description=s.description,
                legal_basis=s.legal_basis,
                lists=named,
                uses_score=s.when.uses_score() or any(list_uses_score[n] for n in named),
                applies_to=tuple(s.applies_to),
                covers=covers(s.service),
                after_resolution=s.duration.after_resolution
                if isinstance(s.duration, AfterResolution)
                else None,
                notice=s.starts_after.notice if s.starts_after is not None else None,
                objection_blocks=s.starts_after is not None and s.starts_after.objection_blocks,
            )
        )
    bounds = [rt.term_bounds() for rt in rts]

    processes, type_process = _processes(p)
    declared: list[tuple[str | None, NamedScore]] = []
    if p.score is not None and p.grades is not None:
        unnamed = NamedScore(
            form=p.score.form, base=p.score.base, min=p.score.min, max=p.score.max, grades=p.grades
        )
        declared.append((None, unnamed))
    declared += list(p.scores.items())
    categories = [rt.category for rt in rts]
    scores = tuple(
        _compile_score(i, name, sc, names, categories) for i, (name, sc) in enumerate(declared)
    )
    first = scores[0]
    lives = [rt.expires_after for rt in rts]
    return CompiledPolicy(
        loaded=loaded,
        type_names=names,
        type_code={n: i for i, n in enumerate(names)},
        points=np.array([rt.points for rt in rts], dtype=np.float64),
        lifetimes=tuple(lives),
        decays=np.array([rt.decay == "linear" for rt in rts], dtype=np.bool_),
        resolvable=np.array([rt.resolvable for rt in rts], dtype=np.bool_),
        category=tuple(rt.category for rt in rts),
        base=first.base,
        score_min=first.low,
        score_max=first.high,
        grade_names=first.grade_names,
        grade_floor=first.grade_floor,
        lists=lists,
        sanctions=tuple(sanctions),
        relation_names=tuple(p.relations),
        appeal_window=p.due_process.appeal_window,
        reinvestigation_deadline=p.due_process.reinvestigation_deadline,
        disputed_records_count=p.due_process.disputed_records_count,
        any_decay=bool(any(rt.decay == "linear" for rt in rts)),
        term_min=tuple(b[0] for b in bounds),
        term_max=tuple(b[1] for b in bounds),
        ext_min=tuple(b[2] for b in bounds),
        ext_max=tuple(b[3] for b in bounds),
        calendar=compile_calendar(p.calendar),
        tables={
            "life": _table(lives),
            "term_min": _table([b[0] for b in bounds]),
            "term_max": _table([b[1] for b in bounds]),
            "ext_max": _table([b[3] for b in bounds]),
        },
        processes=processes,
        type_process=type_process,
        scores=scores,
    )
