"""The plain-English text of an explanation: what the person reads.

Services and lists appear by their display names (``CompiledPolicy.service_action``,
``list_name``); record types and relations in words; ids only for records (source/id) and
reason codes, in parentheses. Every sentence is about what holds for the person (or for
whom a measure comes through, named as such).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialcredit.enforcement import NOT_GRANTED, Decision, exemption_words
from socialcredit.explain_eligibility import eligibility_notes
from socialcredit.explain_process import dispute_notes
from socialcredit.explain_words import number, on_list, plural, signed, words
from socialcredit.policy.compiled import (
    NOT_DETERMINABLE,
    CompiledList,
    CompiledPolicy,
    later_one,
)
from socialcredit.policy.model import Predicate
from socialcredit.scoring import Measure, RecordLine, Standing
from socialcredit.scoring.counterfactual import MAX_SET_SIZE
from socialcredit.scoring.results import WalletValue
from socialcredit.scoring.wallets import points_text
from socialcredit.term_words import duration_words
from socialcredit.timeutil import DAY, local_date, to_date

if TYPE_CHECKING:
    from socialcredit.explain import Action, Reason


def record_text(policy: CompiledPolicy, line: RecordLine) -> str:
    """``court/j1 (court judgment unfulfilled, 2026-01-10)``, as the record now stands."""
    notes = [words(line.type), policy.date_of(line.occurred_at) or ""]
    if line.rectified:
        notes.append("as corrected")
    return f"{line.source}/{line.id} ({', '.join(notes)})"


def step_description(kind: str, line: RecordLine, policy: CompiledPolicy) -> str:
    """One step in words."""
    ref = record_text(policy, line)
    if kind == "resolve":
        return f"resolve record {ref}, e.g. by performing the obligation it records"
    if kind == "dispute":
        proc = policy.process_of(line.type)
        days = policy.span_text(proc.review_deadline)
        meanwhile = "keeps counting" if proc.counts_while_disputed else "stops counting"
        if proc.on_overdue == "delete":
            return (
                f"dispute record {ref}: it {meanwhile} while the dispute is open, and is "
                f"deleted if not decided within {days}"
            )
        return (
            f"dispute record {ref}: it {meanwhile} while the dispute is open, which must be "
            f"decided within {days}"
        )
    return f"have record {ref} annulled on appeal, if it is wrong"


def beyond_calendar_note(policy: CompiledPolicy, date: str | None) -> str:
    """`` (working days after 2026 are counted Monday to Friday: …)`` for a date after the
    last year the policy's holiday calendar covers; empty otherwise (or without one). Said
    of the policy's counting, so it is true whether or not working days gave the date."""
    cal = policy.calendar
    if date is None or not cal.name or cal.complete:
        return ""
    last = to_date(cal.last * DAY) or ""  # a local day number: its date
    if date <= last:
        return ""
    return (
        f" (working days after {last[:4]} are counted Monday to Friday: the holiday calendar "
        f"covers {policy.calendar_years()} only, so a holiday after that is not known)"
    )


def number_text(x: float, unit: str = "") -> str:
    """``20,000``, ``12.5``, ``20,000 CNY``."""
    text = f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}" if unit else text


def attribute_condition_text(policy: CompiledPolicy, service: str, cond: dict[str, Any]) -> str:
    """One ``applies_to`` condition of a measure on ``service`` in words: ``the seat class is
    first or business``, ``the annual fee is at least 20,000 CNY``."""
    name = str(cond["attribute"])
    attr = policy.service_attributes(service).get(name)
    shown = (attr.display_name if attr is not None else "") or f"the {words(name)}"
    if cond.get("in") is not None:
        named = attr.value_names if attr is not None else {}
        values = [named.get(v, v) for v in cond["in"]]
        return f"{shown} is {' or '.join(values)}"
    unit = attr.unit if attr is not None else ""
    parts = []
    if cond.get("at_least") is not None:
        parts.append(f"at least {number_text(cond['at_least'], unit)}")
    if cond.get("below") is not None:
        parts.append(f"below {number_text(cond['below'], unit)}")
    return f"{shown} is {' and '.join(parts)}"


def requests_text(policy: CompiledPolicy, service: str, conds: list[dict[str, Any]]) -> str:
    """The requests a measure is limited to: ``when A and B``; empty for every request."""
    if not conds:
        return ""
    return " when " + " and ".join(attribute_condition_text(policy, service, c) for c in conds)


def _known(refs: list[str], lines: dict[str, RecordLine]) -> list[RecordLine]:
    return [lines[r] for r in dict.fromkeys(refs) if r in lines]


def _joined(texts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]


def _records_phrase(policy: CompiledPolicy, refs: list[str], lines: dict[str, RecordLine]) -> str:
    """`` because of record(s) …`` for a list or a score; empty when none is in the breakdown."""
    known = _known(refs, lines)
    if not known:
        return ""
    noun = "record" if len(known) == 1 else "records"
    return f" because of {noun} {_joined([record_text(policy, line) for line in known])}"


def _condition_phrase(
    policy: CompiledPolicy, c: dict[str, Any], who: str, possessive: str, past: bool
) -> str:
    be = ("were" if who == "you" else "was") if past else ("are" if who == "you" else "is")
    have = "had" if past else ("have" if who == "you" else "has")
    is_ = "was" if past else "is"
    kind, name = c["kind"], c["name"]
    if kind == "list":
        return f"{who} {be} on {on_list(policy, name)}"
    if kind in ("records", "category"):
        n = max(len(c["records"]), 1)
        kinds = " or ".join(words(x) for x in name.split(","))
        article = "an" if kinds[:1].lower() in ("a", "e", "i", "o", "u") else "a"
        counted = f"{article} {kinds} record" if n == 1 else plural(n, f"{kinds} record")
        return f"{who} {have} {counted}"
    if kind in ("grade_in", "score_below", "score_at_least"):
        score, _, name = name.rpartition(":")
        shown = score_name(policy, score) if score else ""
        if shown and not shown.lower().endswith("score"):
            shown += " score"
        what = f"{shown} " if shown else ""
        if kind == "grade_in":
            grades = " or ".join(name.split(","))
            on = f" on {score_name(policy, score)}" if score else ""
            return f"{possessive} grade{on} {is_} {grades}"
        noun = what.strip() if what else "score"
        name = _threshold(name)
        if kind == "score_below":
            return f"{possessive} {noun} {is_} below {name}"
        return f"{possessive} {noun} {is_} at least {name}"
    if kind == "rank_top":
        score, _, seats = name.rpartition(":")
        shown = score_name(policy, score) if score else "score"
        return f"{who} {be} among the {seats} candidates with the highest {shown}"
    return f"a negated condition of the policy {'held' if past else 'holds'} for {who}"


def _threshold(said: str) -> str:
    """A score condition's threshold (``600``, ``1000000``) as ``number`` says it."""
    try:
        return number(float(said))
    except ValueError:
        return said


def score_name(policy: CompiledPolicy, name: str) -> str:
    """How people are told a named score's name (its display name)."""
    return policy.scores[policy.score_index(name)].display_name


def score_text(st: Standing) -> str:
    """The score as a sentence says it: a wallet's balance as its points are said
    (``points_text``: ``5,305.92``), any other score as ``number`` says it (``1,000``,
    ``87.5``, ``1,234,567.25``; never in exponent form)."""
    if st.scores and st.scores[0].wallet is not None:
        return points_text(st.score)
    return number(st.score)


def score_sentences(st: Standing) -> list[str]:
    """The scores in words, each component with what it added and why it did not add more:
    ``Jasmine points: 560 (grade C) — 500 to start with; volunteering +50 (3 records; 60 earned,
    held at 50); clean years +20 (2 clean years: 2021 and 2022).`` Empty for a policy with
    one score and no components (its first sentence says the score already)."""
    if len(st.scores) <= 1 and not any(sc.components or sc.wallet for sc in st.scores):
        return []
    out = []
    for k, sc in enumerate(st.scores):
        if sc.wallet is not None:
            out.append(wallet_sentence(sc.display_name, sc.wallet, st.utc_offset))
            continue
        if k == 0 and not sc.named and not sc.components:
            continue  # the first sentence says it
        grade = f"grade {sc.grade}" if sc.grade is not None else f"grade {sc.grade_note}"
        what = sc.display_name if sc.named else "score"
        parts = [f"{number(sc.base)} to start with"] if sc.base or not sc.components else []
        for c in sc.components:
            weighted = f" × {c.weight:g} = {signed(c.contribution)}" if c.weight != 1 else ""
            if c.kind == "related":
                why = "from the scores of the people you are related to"
            elif c.kind == "clean_year":
                n = len(c.clean_years)
                years = f": {_joined([str(y) for y in c.clean_years])}" if n else ""
                why = f"{plural(n, 'clean year')}{years}"
            else:
                why = plural(len(c.records), "record")
            if c.capped:
                bound = c.max if c.max is not None and c.earned > c.value else c.min
                held = number(bound if bound is not None else c.value)
                why += f"; {number(c.earned)} earned, held at {held}"
            parts.append(f"{c.display_name} {signed(c.value)}{weighted} ({why})")
        total = f" — {'; '.join(parts)}" if sc.components else ""
        clamp = ""
        if sc.components:
            summed = sc.base + sum(c.contribution for c in sc.components)
            if abs(summed - sc.value) > 1e-9:
                clamp = (
                    f" (the parts add up to {number(summed)}; the score is held within its bounds)"
                )
        out.append(f"{what[0].upper()}{what[1:]}: {number(sc.value)} ({grade}){total}{clamp}.")
    return out


def wallet_sentence(name: str, w: WalletValue, offset: int) -> str:
    """A points wallet in words: ``Mynapoint: a balance of 2,000 yen — 5,000 earned (the cap
    of 5,000 yen in all was reached on 2025-02-10; 2,000 more not paid), 3,000 redeemed, 0
    expired. Unspent points expire 2 years after the record that earned them; the next
    2,000 yen expire on 2027-02-10.``"""
    u = w.unit
    earned = f"{points_text(w.earned)} earned"
    if w.cap_reached_at is not None:
        day = local_date(w.cap_reached_at, offset)
        caps = " and ".join(w.caps)
        state = "is reached" if w.cap_reached else "was reached"
        earned += f" (the cap of {caps} {state}" + (
            f": last on {day}" if not w.cap_reached else f" since {day}"
        )
        earned += f"; {points_text(w.forfeited)} more not paid)" if w.forfeited >= 0.005 else ")"
    elif w.forfeited >= 0.005:
        earned += f" ({points_text(w.forfeited)} more over the cap not paid)"
    parts = [earned, f"{points_text(w.redeemed)} redeemed", f"{points_text(w.expired)} expired"]
    text = f"{name}: a balance of {points_text(w.balance)} {u} — {', '.join(parts)}."
    if w.shortfall:
        text += (
            f" Redemptions asked {points_text(w.shortfall)} {u} more than the balance at their time "
            "(points they counted on were later annulled or suspended); they spent what there "
            "was."
        )
    if w.expire_after is None:
        text += " Points never expire."
    else:
        text += (
            f" Unspent points expire {w.expire_after} after the record that earned them, "
            "oldest spent first"
        )
        day = local_date(w.next_expiry, offset)
        text += (
            f"; the next {points_text(w.next_expiry_points)} {u} expire on {day}." if day else "."
        )
    return text


def since_text(day: str | None, at_policy_start: bool, label: str, after: str = "") -> str:
    """A start date in words. ``at_policy_start``: the measure or listing began earlier, but
    the policy ``label`` speaks only from when it came into force, which ``day`` is."""
    if day is None:
        return "before the records shown"
    return f"{day}, when policy {label} came into force{after}" if at_policy_start else day


def _benefit_sentences(
    policy: CompiledPolicy, st: Standing, granting: list[Reason], present: bool, asked: str
) -> list[str]:
    """Why each benefit giving ``asked`` is in force, and when it ends if nothing changes."""
    lines = {f"{line.source}/{line.id}": line for line in st.breakdown}
    out: list[str] = []
    for r in granting:
        out.extend(_reason_sentence(policy, st, r, lines, present, asked))
        out.append(
            f"If nothing changes, that benefit (reason code {r.reason_code}) ends on {r.until}."
            if r.until
            else f"If nothing changes, that benefit (reason code {r.reason_code}) has no end date."
        )
    return out


def _reason_sentence(
    policy: CompiledPolicy,
    st: Standing,
    r: Reason,
    lines: dict[str, RecordLine],
    present: bool = True,
    asked: str = "",
) -> list[str]:
    """The sentence for one reason; ``asked``: the service the explanation is about."""
    past = r.trigger_ended is not None
    if r.via_subject and r.via_relation:
        who, possessive = r.via_subject, f"{r.via_subject}'s"
        lead = f"You are recorded as {words(r.via_relation)} {r.via_subject}; "
    else:
        who, possessive, lead = "you", "your", ""
    parts = []
    for c in r.conditions:
        phrase = _condition_phrase(policy, c, who, possessive, past)
        if c["kind"] in ("records", "category"):
            phrase += _window_phrase(policy, c, lines)
            known = _known(c["records"], lines)
            if known:  # the records are the condition: name them, no "because"
                phrase += ": " + _joined([record_text(policy, line) for line in known])
        else:
            phrase += _records_phrase(policy, c["records"], lines)
        parts.append(phrase)
    named = _known([ref for c in r.conditions for ref in c["records"]], lines)
    if not parts:  # conditions are only absent for measures computed without them
        parts = [f"a measure of the policy applies to {who}"]
    said = "; and ".join(parts)
    start = since_text(r.since, r.since_policy_start, st.policy_version)
    if past:
        listed = [c for c in r.conditions if c["kind"] == "list" and c.get("ended")]

        def ended_on(day: str | None) -> str:
            # a date before the policy came into force is not this policy's to state
            if day is None:
                return "earlier"
            before = r.since_policy_start and r.since is not None and day < r.since
            return f"before policy {st.policy_version} came into force" if before else f"on {day}"

        ended = (
            [
                f"that listing ended {ended_on(c['ended'])}"
                if len(listed) == 1
                else f"the listing on {on_list(policy, c['name'])} ended {ended_on(c['ended'])}"
                for c in listed
            ]
            if listed
            else [f"that stopped holding {ended_on(r.trigger_ended)}"]
        )
        kind = (
            "a measure that ends after its records are resolved"
            if r.ends
            else "a fixed-term measure"
        )
        body = (
            f"{lead}{kind} began while {said}; "
            f"{'; '.join(ended)}, but the measure runs from {start}{',' if r.since_policy_start else ''} "
            f"until {r.until or 'no set date'} regardless (reason code {r.reason_code})."
        )
    else:
        # the records named hold the measure at st.at; it may have begun with others
        when = "now" if present else f"on {policy.date_of(st.at)}"
        keeps = (
            ""
            if not named
            else f"That record keeps the measure in force {when}; it"
            if len(named) == 1
            else f"Those records keep the measure in force {when}; it"
        ) or "The measure"
        body = (
            f"{lead}{said}. {keeps} has applied {'to you ' if lead else ''}without a break "
            f"since {start} (reason code {r.reason_code})."
        )
    if asked and r.service and r.service != asked:
        body += (
            f" The measure is on {policy.service_name(r.service)}, which include "
            f"{policy.service_name(asked)}."
        )
    if r.applies_to:
        body += f" It applies only{requests_text(policy, r.service or asked, r.applies_to)}."
    if r.ends is not None:
        body += " " + _ends_sentence(policy, r, lines, present, st.at)
    if r.published_at is not None and r.objections_until is not None:
        body += (
            f" It was published on {r.published_at}; objections could be made until "
            f"{r.objections_until}, and it began when none was pending."
            if r.since != r.objections_until
            else f" It was published on {r.published_at}; objections could be made until "
            f"{r.objections_until}, when it began."
        )
    body += f" Legal basis: {r.legal_basis}." if r.legal_basis else ""
    return ["- " + body[0].upper() + body[1:]]


def _window_phrase(policy: CompiledPolicy, c: dict[str, Any], lines: dict[str, RecordLine]) -> str:
    """`` within 1 year after record rail/f1 (…) was resolved on 2025-01-20`` for a records
    condition with an anchored window (the first anchor that opened a full window)."""
    anchors = _known(c.get("anchors") or [], lines)
    if not anchors:
        return ""
    line = anchors[0]
    within = f" within {duration_words(str(c['within']))}" if c.get("within") else ""
    if c.get("after") == "resolution_of" and line.resolved_at is not None:
        return f"{within} after record {record_text(policy, line)} was resolved on {policy.date_of(line.resolved_at)}"
    return f"{within} after record {record_text(policy, line)}"


def _ends_sentence(
    policy: CompiledPolicy, r: Reason, lines: dict[str, RecordLine], present: bool, at: int
) -> str:
    """When a measure that ends after its triggering records are resolved ends, in words."""
    assert r.ends is not None
    delay = duration_words(str(r.ends["after_resolution"]))
    if r.ends["unresolved"]:
        refs = r.ends["unresolved"]
        known = _known(refs, lines)
        named = _joined([record_text(policy, line) for line in known] if known else refs)
        noun = "that record is" if len(refs) == 1 else "those records are"
        verb = "is" if len(refs) == 1 else "are"
        not_yet = "not resolved yet" if present else f"not resolved on {policy.date_of(at)}"
        return (
            f"It lasts until {delay} after {noun} resolved, whether or not the condition "
            f"still holds then; {named} {verb} {not_yet}."
        )
    resolved = r.ends["resolved_on"]
    held = "whatever happens to the condition meanwhile"
    return (
        f"It lasts until {r.until}, {delay} after the last of the records behind it was "
        f"resolved on {resolved}, {held}."
    )


def _term_notes(policy: CompiledPolicy, behind: list[tuple[str, RecordLine]]) -> list[str]:
    """How the term of each record behind a measure was set, extended or ended, in words."""
    out = []
    for _, line in behind:
        if line.term:
            until = (
                f"counts until {policy.date_of(line.expires_at)}" if line.expires_at else "counts"
            )
            out.append(f"Record {line.source}/{line.id} {until}: {line.term}.")
    return list(dict.fromkeys(out))


def _resolution_notes(
    policy: CompiledPolicy, reasons: list[Reason], lines: dict[str, RecordLine], t: int
) -> list[str]:
    out = []
    for r in reasons:
        for c in r.conditions:
            if c["kind"] != "list":
                continue
            lst = policy.lists[policy.list_index(c["name"])]
            for ref in c["records"]:
                line = lines.get(ref)
                if line is None or line.resolved_at is None or lst.delist_delay.zero:
                    continue
                if not _lifted_by_resolution(policy, lst.when, line.type):
                    continue  # the list counts it resolved or not: no delay to speak of
                lifts = policy.after_one(line.resolved_at, lst.delist_delay)
                if lifts > t:
                    # resolved_at is when the ledger learned of it: the delay runs from then
                    out.append(_delisting_note(policy, lst, ref, line.resolved_at, lifts))
    return list(dict.fromkeys(out))


def _delisting_note(
    policy: CompiledPolicy, lst: CompiledList, ref: str, resolved: int, lifts: int
) -> str:
    delay = lst.delist_delay
    said = f"The resolution of record {ref} was recorded on {policy.date_of(resolved)}; "
    if delay.working_days:
        # a deadline in working days: the last day it allows, in the policy's local time
        note = (
            f"{said}the policy lifts the listing within {policy.span_text(delay)} of a "
            f"resolution, so you will be removed from {on_list(policy, lst.name)} by "
            f"{policy.last_date(lifts)} at the latest"
        )
        if policy.estimated(resolved, delay):
            note += (
                f" (counted Monday to Friday: the holiday calendar covers "
                f"{policy.calendar_years()} only, so a holiday after that is not known)"
            )
        return note + "."
    length = (
        f"{delay.seconds // DAY}-day delisting delay"
        if delay.exact and delay.seconds % DAY == 0
        else f"delisting delay of {policy.span_text(delay)}"
    )
    return (
        f"{said}under the policy's {length} the record counts for "
        f"{on_list(policy, lst.name)} until {policy.date_of(lifts)}."
    )


def _lifted_by_resolution(policy: CompiledPolicy, when: Predicate, rtype: str) -> bool:
    """Whether ``when`` counts records of type ``rtype`` only while unresolved."""
    code = policy.type_code.get(rtype, -1)
    category = policy.category[code] if code >= 0 else None
    return any(
        p.records is not None
        and p.records.unresolved
        and (rtype in p.records.type_names() or p.records.category == category)
        for p in when.walk()
    )


def _objection_period(
    policy: CompiledPolicy, notice_ends: int, records: list[RecordLine], t: int
) -> str:
    """Until when the person may object, completing "nothing is in force yet; …": the end of
    the publicity period, or the close of a record's dispute window if that comes first (an
    objection is a dispute of the record, and a dispute after its window has no effect)."""
    ends = {}
    for x in records:
        closes = later_one(policy, x.recorded_at, policy.process_of(x.type).appeal_window)
        ends[f"{x.source}/{x.id}"] = min(closes, notice_ends)
    notice = policy.date_of(notice_ends)
    if not ends or all(e == notice_ends for e in ends.values()):
        if notice_ends > t:
            return f"you may object until {notice}."
        return f"the period to object ended on {notice}."
    if len(set(ends.values())) == 1:
        end = next(iter(ends.values()))
        noun = "record" if len(ends) == 1 else "records"
        why = (
            f"the window to dispute the {noun} behind it closes on {policy.date_of(end)}, before the "
            f"publicity period ends on {notice}; an objection after that has no effect"
        )
        if end >= t:
            return f"you may object until {policy.date_of(end)} ({why})."
        return f"the period to object ended on {policy.date_of(end)} ({why.replace('closes', 'closed')})."
    parts = []
    for ref, end in ends.items():
        verb = "may be objected to until" if end >= t else "could be objected to until"
        parts.append(f"record {ref} {verb} {policy.date_of(end)}")
    return (
        f"{_joined(parts)}, when the window to dispute it closes (the publicity period ends on "
        f"{notice}); an objection after that has no effect."
    )


def _upcoming_notes(
    policy: CompiledPolicy, st: Standing, service: str, act: str, t: int, present: bool
) -> list[str]:
    """Measures on ``service`` published but not yet in force: the publication, the period
    to object, and when the measure starts and ends if no objection is upheld."""
    out = []
    lines = {f"{x.source}/{x.id}": x for x in st.breakdown if x.status != "annulled or rectified"}
    for u in st.upcoming:
        if not u.covers_service(service) or u.effect != "deny":
            continue
        sanction = next(s for s in policy.sanctions if s.name == u.name)
        named = _known(u.records, lines)
        under = _known(u.blocked_by, lines)
        what = (
            f"because of {'record' if len(named) == 1 else 'records'} "
            f"{_joined([record_text(policy, x) for x in named])}"
            if named
            else "because of record " + _joined([record_text(policy, x) for x in under])
            if under
            else ""
        )
        lead = "" if present else f"On {policy.date_of(t)}, "
        published = (
            f"a measure (reason code {u.reason_code}) was published on "
            f"{policy.date_of(u.published_at)}"
        )
        published += f" {what}" if what else ""
        first = f"{lead}{published}: nothing is in force yet; "
        first += _objection_period(policy, u.objections_until, named or under, t)
        out.append(first[0].upper() + first[1:])
        for x in named or under:
            if x.dispute_late_at is not None:
                closes = later_one(policy, x.recorded_at, policy.process_of(x.type).appeal_window)
                out.append(
                    f"An objection to record {x.source}/{x.id} was made on "
                    f"{policy.date_of(x.dispute_late_at)}, after the window to dispute it closed "
                    f"on {policy.date_of(closes)}: that objection had no effect."
                )
        if u.starts is not None:
            until = f" until {policy.date_of(u.until)}" if u.until is not None else ""
            out.append(
                f"If no objection is upheld, you cannot {act} from {policy.date_of(u.starts)}{until}."
            )
        elif under:
            refs = _joined([f"{x.source}/{x.id}" for x in under])
            term = (
                f" and lasts {policy.span_text(sanction.fixed)}"
                if sanction.fixed is not None
                else ""
            )
            out.append(
                f"An objection to record {refs} is pending: if it is upheld, the measure never "
                f"starts; if the record is upheld, the measure starts then{term}."
            )
        else:
            out.append("The measure does not start: its condition stops holding before then.")
    return out


def plain_text(
    policy: CompiledPolicy,
    st: Standing,
    decision: Decision,
    reasons: list[Reason],
    behind: list[tuple[str, RecordLine]],
    best: Action | None,
    ended: list[Measure],
    t: int,
    present: bool = True,
    not_applying: list[Reason] | None = None,
    beyond_search: int = 0,
    granting: list[Reason] | None = None,
) -> str:
    """The explanation in plain English (see the module docstring). ``present``: ``t`` is
    the present (no ``--at``); otherwise no sentence says "now" of ``t``, but names its date.
    ``not_applying``: for a request (``decision.attributes``), the measures in force on the
    service that its attributes do not match. ``beyond_search``: no set of changes within
    the search's bound ended the denial sooner, and this many records could change (more
    than a set may hold): said, so that the missing "Sooner" line is not read as "nothing
    can". ``granting``: the benefits in force that give the service (an allow): each is
    explained as a denial is, with when it ends."""
    act = policy.service_action(decision.service)

    def limited(service: str, conds: list[dict[str, Any]]) -> str:
        return requests_text(policy, service or decision.service, conds)

    grade = st.grade if st.grade is not None else NOT_DETERMINABLE
    first = st.scores[0] if st.scores else None
    named = first is not None and first.named
    what = (
        f"your score ({first.display_name}) is" if first is not None and named else "your score is"
    )
    lines = [
        f"Under policy {st.policy_version}, on {policy.date_of(st.at)}, {what} "
        f"{score_text(st)} (grade {grade}).",
        *score_sentences(st),
    ]
    for m in ended:  # one measure each: another may still deny the service
        start = since_text(policy.date_of(m.since), m.since_policy_start, st.policy_version, ",")
        conds = [c.model_dump(by_alias=True, exclude_none=True) for c in m.applies_to]
        lines.append(
            f"A measure (reason code {m.reason_code}) under which you could not {act}"
            f"{limited(m.service, conds)} from {start} until {policy.date_of(m.until)} "
            "has ended."
        )
    if decision.attributes:
        declared = policy.service_attributes(decision.service)
        shown = []
        for k, v in decision.attributes.items():
            attr = declared.get(k)
            name = (attr.display_name if attr is not None else "") or words(k)
            if isinstance(v, str):
                shown.append(f"{name}: {attr.value_names.get(v, v) if attr else v}")
            else:
                shown.append(f"{name}: {number_text(v, attr.unit if attr else '')}")
        lines.append(f"This answer is about one request ({'; '.join(shown)}).")
    if decision.exemptions:
        codes = ", ".join(decision.exempted)
        which = "A measure" if len(decision.exempted) == 1 else "Measures"
        lines.append(
            f"{which} in force (reason code{'s' if len(decision.exempted) > 1 else ''} "
            f"{codes}) would stop you, but you are allowed by "
            + "; and by ".join(exemption_words(x, decision.utc_offset) for x in decision.exemptions)
            + ". The exemption changes nothing else: you stay on every list you are on."
        )
    if decision.decision == "allow" and decision.exemptions:
        lines.append(f"You may {act}.")
        lines.extend(eligibility_notes(policy, st))
        return "\n".join(lines)
    service_def = policy.policy.services.get(decision.service)
    granted = service_def is not None and service_def.granted
    if granted and (decision.decision == "allow" or decision.reasons == [NOT_GRANTED]):
        # a service the policy only grants (a perk, a seat): "may" would say too much, and
        # without a benefit the check denies it (NOT-GRANTED), though no measure stops anyone
        if decision.benefits:
            n = len(decision.benefits)
            lines.append(
                f"You may {act}: {'a measure gives' if n == 1 else 'measures give'} it to you "
                f"(reason {'code' if n == 1 else 'codes'} {', '.join(decision.benefits)})."
            )
            lines.extend(_benefit_sentences(policy, st, granting or [], present, decision.service))
        else:
            lines.append(
                f"No measure gives you {policy.service_name(decision.service)} now (the "
                "policy grants it to some): a check answers deny, reason code "
                f"{NOT_GRANTED}."
            )
        lines.extend(eligibility_notes(policy, st))
        return "\n".join(lines)
    if decision.decision == "allow":
        lines.append(f"You may {act}: no measure in force stops you.")
        for r in not_applying or []:
            lines.append(
                f"A measure in force (reason code {r.reason_code}) stops you from doing so"
                f"{limited(r.service, r.applies_to)}; this request does not meet that."
            )
        lines.extend(_upcoming_notes(policy, st, decision.service, act, t, present))
        if decision.benefits:
            n = len(decision.benefits)
            lines.append(
                f"You receive {'a benefit' if n == 1 else 'benefits'} there "
                f"(reason {'code' if n == 1 else 'codes'} {', '.join(decision.benefits)})."
            )
            lines.extend(_benefit_sentences(policy, st, granting or [], present, decision.service))
        lines.extend(eligibility_notes(policy, st))
        return "\n".join(lines)
    when = ""  # every denial limited to some requests: which ones (never say more)
    if all(r.applies_to for r in reasons):
        when = ", or".join(dict.fromkeys(limited(r.service, r.applies_to) for r in reasons))
    lines.append(f"You cannot {act}{when}.")

    def again(day: str | None) -> str:
        note = beyond_calendar_note(policy, day)
        return (
            f"from {day}{note} you may {act}{when}"
            if when
            else f"you may {act} again on {day}{note}"
        )

    record_of: dict[str, RecordLine] = {}
    for _, line in behind:
        record_of.setdefault(f"{line.source}/{line.id}", line)
    for line in st.breakdown:  # records that opened a window are not behind the measure
        if line.status != "annulled or rectified":
            record_of.setdefault(f"{line.source}/{line.id}", line)
    for r in reasons:
        lines.extend(_reason_sentence(policy, st, r, record_of, present, decision.service))
    lines.extend(_resolution_notes(policy, reasons, record_of, t))
    lines.extend(_term_notes(policy, behind))
    if decision.indefinite:
        lines.append("If nothing changes, this has no end date.")
    elif decision.eligible_again_on:
        lines.append(f"If nothing changes, {again(decision.eligible_again_on)}.")
    if best is not None:
        whose = [
            "you" if s == st.subject else s for s in dict.fromkeys(x.subject for x in best.steps)
        ]
        for_whom = "" if whose == ["you"] else ", with records about " + " and about ".join(whose)
        note = beyond_calendar_note(policy, best.eligible_again_on)
        lines.append(
            f"Sooner{for_whom}: {best.description}. You could then "
            + (
                f"{act}{when} from {best.eligible_again_on}{note}."
                if when
                else f"{act} again on {best.eligible_again_on}{note}."
            )
        )
    elif beyond_search:
        lines.append(
            f"This explanation tried changes to up to {MAX_SET_SIZE} of the {beyond_search} "
            "records behind this at a time and found none that ends it sooner; changes to "
            "more of them together might."
        )
    lines.extend(dispute_notes(policy, behind, t, present, st.subject))
    lines.extend(eligibility_notes(policy, st))
    return "\n".join(lines)
