"""A policy compiled to arrays and small closures, for evaluation one subject or a nation at a time.

Compilation does not add rules: every number here is read from the ``Policy`` model, so the
live scorer, the bulk recompute and (later) the simulator all evaluate the same objects.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.calendars import NONE, holiday_calendar
from socialcredit.errors import RequestAttributeError
from socialcredit.policy.compiled_measures import (
    CompiledList,
    CompiledSanction,
    lists_named,
    sanction_types,
)
from socialcredit.policy.compiled_process import (
    DELETE,
    FLAG,
    KEEP,
    ON_OVERDUE,
    CompiledProcess,
    compile_processes,
    list_types,
    type_processes,
)
from socialcredit.policy.compiled_scores import (
    NOT_DETERMINABLE,
    CompiledComponent,
    CompiledScore,
    compile_score,
)
from socialcredit.policy.loader import LoadedPolicy
from socialcredit.policy.model import (
    AfterResolution,
    CalendarDef,
    FixedDuration,
    NamedScore,
    Policy,
    ServiceAttribute,
)
from socialcredit.policy.reevaluation import period_ceil, period_start
from socialcredit.policy.sources import SourceGrant, compile_sources
from socialcredit.spans import Calendar, Span, estimated, last_day, shift, shift_one, shift_span
from socialcredit.timeutil import DAY, NEVER, local_date, to_date

__all__ = [
    "DELETE",
    "FLAG",
    "KEEP",
    "NOT_DETERMINABLE",
    "ON_OVERDUE",
    "CompiledComponent",
    "CompiledList",
    "CompiledPolicy",
    "CompiledProcess",
    "CompiledSanction",
    "CompiledScore",
    "compile_calendar",
    "compile_policy",
    "later",
    "later_one",
    "list_types",
    "sanction_types",
    "span_bound",
    "type_processes",
]

I64 = npt.NDArray[np.int64]
FEW_TIMES = 12
"""Up to this many times, ``CompiledPolicy.after`` adds a calendar span to each on its own."""


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
    # what each source may submit (``sources:``; empty when the policy has none)
    sources: Mapping[str, SourceGrant] = field(default_factory=dict)
    # ``reevaluation:`` (period in months, anchor month index); None: answers move at once
    reevaluation: tuple[int, int] | None = None
    # derived lookup tables, filled on first use (evaluation asks for the same ones often)
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    # --- re-evaluation boundaries (``reevaluation:``) ---------------------------------------

    def as_evaluated(self, times: I64) -> I64:
        """The time each answer about ``times`` is computed at: the last re-evaluation
        boundary at or before it (the times themselves without ``reevaluation``)."""
        if self.reevaluation is None:
            return times
        months, anchor = self.reevaluation
        return period_start(times, months, anchor, self.calendar.offset)

    def next_evaluation(self, times: I64) -> I64:
        """The first re-evaluation boundary at or after each time (the times themselves
        without ``reevaluation``): when a change at that time shows in the answers."""
        if self.reevaluation is None:
            return times
        months, anchor = self.reevaluation
        return period_ceil(times, months, anchor, self.calendar.offset)

    def previous_evaluation(self, times: I64) -> I64:
        """The re-evaluation boundary one period before ``as_evaluated(times)``."""
        assert self.reevaluation is not None
        months, anchor = self.reevaluation
        start = period_start(times, months, anchor, self.calendar.offset)
        return period_start(start - 1, months, anchor, self.calendar.offset)

    # --- durations: every duration the engine adds goes through these ---------------------

    def after(self, times: I64, span: Span) -> I64:
        """``times`` (epoch seconds) plus ``span``, by the policy's calendar: calendar
        months, exact days and hours, working days. ``NEVER`` stays ``NEVER``."""
        if not span.exact and np.ndim(times) == 1 and len(times) <= FEW_TIMES:
            # a few times (one person's records): one by one on Python ints, the same
            # arithmetic (``after_one``) without the fixed cost of a dozen array operations
            return np.array(
                [self.after_one(x, span) for x in np.asarray(times).tolist()], dtype=np.int64
            )
        return shift_span(times, span, self.calendar)

    def after_one(self, time: int, span: Span) -> int:
        """One time plus ``span`` (the same computation as ``after``)."""
        if span.working_days and not span.months and not span.seconds and -NEVER < time < NEVER:
            # a count of working days ends at a local midnight that depends only on the
            # local day it starts from: remembered per day (timelines ask for many times)
            day = (time + self.calendar.offset) // DAY
            key = ("working_days_after", span.working_days, day)
            found: int | None = self.cache.get(key)
            if found is None:
                found = self.cache[key] = shift_one(time, span, self.calendar)
            return found
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

    def date_of(self, ts: int | None) -> str | None:
        """The date (ISO) of the instant ``ts`` in the policy's local time (``calendar.
        utc_offset``; UTC without a calendar block), as every date said to a person or a
        counter is given: an end at local midnight is the local date it begins. ``None``
        and ``NEVER`` give ``None``, like ``to_date``."""
        return local_date(ts, self.calendar.offset)

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
            return self.date_of(end) or "never"
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
    def rankings(self) -> tuple[Any, ...]:
        """Every ``rank_top`` condition of the policy's lists and measures (cached)."""
        found = self.cache.get("rankings")
        if found is None:
            preds = [lst.when for lst in self.lists] + [s.when for s in self.sanctions]
            found = tuple(p.rank_top for pred in preds for p in pred.walk() if p.rank_top)
            self.cache["rankings"] = found
        result: tuple[Any, ...] = found
        return result

    @property
    def related_components(self) -> bool:
        """Whether a score has a component valued by related subjects' scores."""
        return any(c.related is not None for sc in self.scores for c in sc.components)

    @property
    def rating_scores(self) -> bool:
        """Whether a score is of the ``rating`` form (it needs each record's source)."""
        return any(sc.rating is not None for sc in self.scores)

    @property
    def across_subjects(self) -> bool:
        """Whether a subject's answer depends on other subjects' records: a ranking (on
        everyone's scores) or a component valued by related subjects' scores."""
        return bool(self.rankings) or self.related_components

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
        return len(self.scores) == 1 and not self.scores[0].components and not self.wallets

    @property
    def wallets(self) -> list[CompiledScore]:
        """The scores that are points wallets (``form: wallet``)."""
        return [sc for sc in self.scores if sc.wallet is not None]

    def services(self) -> list[str]:
        """Every service the policy knows: named by a measure or declared, sorted."""
        found: tuple[str, ...] | None = self.cache.get("services")
        if found is None:  # (every standing names them)
            found = tuple(sorted({s.service for s in self.sanctions} | set(self.policy.services)))
            self.cache["services"] = found
        return list(found)

    def granted_services(self) -> tuple[str, ...]:
        """The services declared ``granted``: each is what a benefit gives (a seat, a
        deposit-free rental), so a check allows it only while a benefit covering it is in
        force, and otherwise denies it with reason code ``NOT-GRANTED``."""
        found: tuple[str, ...] | None = self.cache.get("granted_services")
        if found is None:
            found = tuple(sorted(n for n, s in self.policy.services.items() if s.granted))
            self.cache["granted_services"] = found
        return found

    def service_name(self, service: str) -> str:
        """The service's display name (policy-declared), falling back to its id."""
        return self.policy.service_name(service)

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

    def attributes_from_pairs(
        self, service: str | None, pairs: Sequence[str] | None, option: str
    ) -> dict[str, Any] | None:
        """``name=value`` texts given as ``option`` (``--attr`` on the command line, ``attr``
        in a query string) as the typed request attributes of ``service``; None when none is
        given. A malformed or repeated pair, or pairs without a service, raise
        ``RequestAttributeError`` naming ``option``."""
        if not pairs:
            return None
        if service is None:
            service_option = "--service" if option.startswith("--") else "service"
            raise RequestAttributeError(
                f"{option} describes a request for one service: give {service_option} too"
            )
        texts: dict[str, str] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            name = name.strip()
            if not sep or not name:
                sep_example = " " if option.startswith("--") else "="
                raise RequestAttributeError(
                    f"{option} {pair!r}: write name=value, e.g. {option}{sep_example}class=first"
                )
            if name in texts:
                raise RequestAttributeError(f"{option}: attribute {name!r} is given twice")
            texts[name] = value.strip()
        return self.attributes_from_text(service, texts)

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
        named = lists_named(s.when)
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

    processes, type_process = compile_processes(p)
    declared: list[tuple[str | None, NamedScore]] = []
    if p.score is not None and p.grades is not None:
        unnamed = NamedScore(
            form=p.score.form, base=p.score.base, min=p.score.min, max=p.score.max, grades=p.grades
        )
        declared.append((None, unnamed))
    declared += list(p.scores.items())
    categories = [rt.category for rt in rts]
    score_names = [name for name, _ in declared]
    scores = tuple(
        compile_score(i, name, sc, names, categories, tuple(p.relations), score_names)
        for i, (name, sc) in enumerate(declared)
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
        sources=compile_sources(p),
        reevaluation=(
            (p.reevaluation.months(), p.reevaluation.anchor()) if p.reevaluation else None
        ),
    )
