"""A seeded synthetic population and two years of records about it, for demos and benchmarks.

The behaviour model is deliberately simple and every rate is stated here: each subject has
a propensity for each record type (most people never get a court judgment; some volunteer
every month), events arrive as a Poisson process, some debts are paid and some records are
wrong and get disputed and annulled. Every person has a birth date and a residence from the
civil registry (some are minors, some moved less than a year ago), and the rest agrees with
it: no record is about someone younger than its type's ``min_age``, parents are 18-45 years
older than their children and legal representatives were adults when they took office. The record types are
those of examples/policies/china-scs.yaml. Same seed, same population, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.timeutil import DAY, parse_timestamp

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Behaviour:
    """How often one record type happens: the share of subjects prone to it and their rate."""

    type: str
    source: str
    person_share: float
    org_share: float
    mean_events: float  # per prone subject over the whole period
    resolved_share: float = 0.0  # of resolvable records, paid within the period
    amount_median: float = 0.0  # CNY; 0 = no amount
    min_age: float = 18.0  # years: no record of this type is about a younger person


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour("traffic_offence", "traffic-police", 0.65, 0.0, 4.0),
    Behaviour("volunteering", "civic-volunteer-office", 0.40, 0.0, 15.0, min_age=14.0),
    Behaviour("blood_donation", "blood-centre", 0.15, 0.0, 4.0),
    Behaviour("charity_donation", "charity-federation", 0.30, 0.30, 5.0, min_age=16.0),
    Behaviour("rc_late_public_service_fees", "utility-company", 0.06, 0.0, 1.5),
    Behaviour("rc_bank_loan_arrears", "bank", 0.04, 0.0, 3.0),
    Behaviour("rc_contract_nonperformance", "market-regulator", 0.01, 0.0, 1.2),
    Behaviour("fare_evasion", "railway", 0.08, 0.0, 1.5, 0.90, min_age=14.0),
    Behaviour("major_tax_violation", "tax-bureau", 0.005, 0.03, 1.0),
    Behaviour("court_judgment_unfulfilled", "court", 0.02, 0.10, 1.2, 0.45, 60_000.0),
    Behaviour("obstructing_enforcement", "court", 0.002, 0.01, 1.0),
    Behaviour("consumption_order_breach", "court", 0.002, 0.0, 1.0),
    Behaviour("consumption_restriction_order", "court", 0.004, 0.02, 1.0, 0.30),
    Behaviour("rail_serious_misconduct", "railway", 0.006, 0.0, 1.0),
    Behaviour("aviation_serious_misconduct", "civil-aviation", 0.002, 0.0, 1.0),
)
# resolved_share is 0 for the types the policy does not let anyone resolve (a fixed term).

ERROR_RATE = 0.015  # share of adverse records that are about the wrong person
DISPUTE_IF_WRONG = 0.6  # how often a wrongly recorded person notices and disputes in time
DISPUTE_IF_RIGHT = 0.02  # how often a correctly recorded person disputes anyway
ADVERSE = {b.type for b in BEHAVIOURS} - {"volunteering", "blood_donation", "charity_donation"}
PERSONS_ONLY = {"traffic_offence", "volunteering", "blood_donation", "fare_evasion"} | {
    b.type for b in BEHAVIOURS if b.type.startswith("rc_") or "misconduct" in b.type
}
RONGCHENG_SHARE = 0.7  # persons registered as Rongcheng residents; the others in Weihai
CHILD_AGE_YEARS = (0, 30)  # ages of persons recorded as someone's child (some are minors)
ADULT_AGE_YEARS = (18, 85)  # ages of everyone else
PARENT_GAP_YEARS = (18, 45)  # a parent is this much older than the child
REPRESENTATIVE_MIN_AGE = 18  # years, when the person became an organisation's legal representative
YEAR = int(365.25 * DAY)


@dataclass(frozen=True)
class PopulationSpec:
    """What to generate; every field has a reproducible default."""

    subjects: int = 107_000  # about 94% appear in the ledger: over 100,000 subjects with entries
    org_share: float = 0.05
    start: int = parse_timestamp("2024-11-01")
    end: int = parse_timestamp("2026-11-01")
    seed: int = 2026
    child_share: float = 0.25  # persons recorded as child_of another person


def subject_names(spec: PopulationSpec) -> tuple[list[str], npt.NDArray[np.bool_]]:
    """Subject identifiers (P… persons, O… organisations) and which are organisations."""
    n_org = int(spec.subjects * spec.org_share)
    n_person = spec.subjects - n_org
    names = [f"P{i:08d}" for i in range(n_person)] + [f"O{i:06d}" for i in range(n_org)]
    is_org = np.zeros(spec.subjects, dtype=bool)
    is_org[n_person:] = True
    return names, is_org


@dataclass(frozen=True)
class _Drawn:
    """Everything ``generate`` and ``generate_jsonl`` write, drawn once from the seed: each
    field a list by entry (text already formatted), the records' and corrections' in the
    order they were drawn (``order`` gives the order the ledger learns them)."""

    child: list[str]  # child_of relations: the child, the parent, since (birth)
    parent: list[str]
    child_since: list[str]
    rep: list[str]  # legal_representative_of relations: the person, the organisation, since
    org: list[str]
    rep_since: list[str]
    person: list[str]  # attributes: each person, born (a date), moved in (a time), where
    born: list[str]
    moved: list[str]
    place: list[str]
    rec_id: list[str]  # records
    rec_src: list[str]
    rec_name: list[str]
    rec_kind: list[str]
    rec_type: list[str]
    occurred: list[str]
    amount: list[float]  # NaN: none
    seq: list[int]
    times: list[str]  # recorded_at: each record's, then each correction's
    target: list[int]  # corrections: the record (index) and the action (_ACTIONS)
    action: list[int]
    order: list[int]  # over records then corrections: the order the ledger learns them


def _draw(spec: PopulationSpec) -> _Drawn:
    """Draw the population of ``spec`` (``generate`` says what it is)."""
    rng = np.random.default_rng(spec.seed)
    names, is_org = subject_names(spec)
    n = spec.subjects
    persons = np.flatnonzero(~is_org)
    orgs = np.flatnonzero(is_org)
    span = spec.end - spec.start

    # Birth dates first: every relation and record below is consistent with them.
    children = rng.choice(persons, size=int(len(persons) * spec.child_share), replace=False)
    born = _birth_dates(spec, rng, n, persons, children)

    # Relations: a child's from birth, to a parent 18-45 years older; a legal representative's
    # from some time before the period starts, when the representative was already an adult.
    parents, has_parent = _parents(rng, persons, children, born)
    kids = children[has_parent]
    rel_from = spec.start - rng.integers(365, 20 * 365, size=len(orgs)) * DAY
    grown_up = persons[born[persons] + REPRESENTATIVE_MIN_AGE * YEAR < spec.start - DAY]
    if not len(grown_up):  # a population too small to have an adult: nobody represents
        orgs = orgs[:0]
    reps = rng.choice(grown_up, size=len(orgs)) if len(orgs) else orgs
    adult_from = -(-(born[reps] + REPRESENTATIVE_MIN_AGE * YEAR) // DAY) * DAY  # rounded up
    rep_from = np.maximum(rel_from[: len(orgs)], adult_from)
    person, born_iso, moved_iso, place = _attributes(spec, rng, names, persons, born)

    parts: dict[str, list[npt.NDArray[np.generic]]] = {
        k: [] for k in ("subj", "beh", "occ", "rec", "amount", "seq")
    }
    fixes: dict[str, list[npt.NDArray[np.generic]]] = {k: [] for k in ("target", "action", "at")}
    offset = 0
    for bi, b in enumerate(BEHAVIOURS):
        share = np.where(is_org, b.org_share, b.person_share)
        prone = np.flatnonzero(rng.random(n) < share)
        subj = np.repeat(prone, rng.poisson(b.mean_events, size=len(prone)))
        m = len(subj)
        occurred = spec.start + rng.integers(0, span, size=m)
        recorded = np.minimum(occurred + rng.integers(0, 10 * DAY, size=m), spec.end)
        amount = (
            np.round(rng.lognormal(np.log(b.amount_median), 1.0, size=m), 2)
            if b.amount_median
            else np.full(m, np.nan)
        )
        wrong = (rng.random(m) < ERROR_RATE) if b.type in ADVERSE else np.zeros(m, dtype=bool)
        anyone = persons if b.type in PERSONS_ONLY else np.arange(n)
        subj = np.where(wrong, rng.choice(anyone, size=m), subj)
        # nobody has a record from before they were old enough (organisations have no age)
        old_enough = is_org[subj] | (occurred - born[subj] >= int(b.min_age * YEAR))
        subj, occurred, recorded = subj[old_enough], occurred[old_enough], recorded[old_enough]
        amount, wrong = amount[old_enough], wrong[old_enough]
        m = len(subj)
        resolve_at = recorded + rng.integers(30 * DAY, 400 * DAY, size=m)
        resolved = (rng.random(m) < b.resolved_share) & ~wrong & (resolve_at < spec.end)
        dispute_p = np.where(wrong, DISPUTE_IF_WRONG, DISPUTE_IF_RIGHT if b.type in ADVERSE else 0)
        dispute_at = recorded + rng.integers(1 * DAY, 6 * DAY, size=m)
        disputed = (rng.random(m) < dispute_p) & (dispute_at < spec.end)
        decided_at = dispute_at + rng.integers(5 * DAY, 40 * DAY, size=m)
        decided = disputed & (decided_at < spec.end)
        counter_base = sum(
            len(p)
            for p, bb in zip(parts["subj"], BEHAVIOURS, strict=False)
            if bb.source == b.source
        )
        parts["subj"].append(subj)
        parts["beh"].append(np.full(m, bi))
        parts["occ"].append(occurred)
        parts["rec"].append(recorded)
        parts["amount"].append(amount)
        parts["seq"].append(counter_base + np.arange(m))
        idx = offset + np.arange(m)
        for mask, action, when in (
            (disputed, _DISPUTE, dispute_at),
            (decided & wrong, _ANNUL, decided_at),
            (decided & ~wrong, _UPHOLD, decided_at),
            (resolved, _RESOLVE, resolve_at),
        ):
            fixes["target"].append(idx[mask])
            fixes["action"].append(np.full(int(mask.sum()), action))
            fixes["at"].append(when[mask])
        offset += m

    rec = {k: np.concatenate(v) for k, v in parts.items()}
    fix = {k: np.concatenate(v) for k, v in fixes.items()}
    times = np.concatenate([rec["rec"], fix["at"]])
    sources = [b.source for b in BEHAVIOURS]
    types = [b.type for b in BEHAVIOURS]
    # each record's fields as lists, made by comprehensions (a loop step per record costs
    # more); the entries are then taken in the order the ledger learns them
    beh = rec["beh"].tolist()
    rec_src = [sources[b] for b in beh]
    seq = rec["seq"].tolist()
    subj_l = rec["subj"].tolist()
    org_l = is_org.tolist()
    return _Drawn(
        child=[names[c] for c in kids.tolist()],
        parent=[names[p] for p in parents[has_parent].tolist()],
        child_since=_iso(born[kids]),
        rep=[names[r] for r in reps.tolist()],
        org=[names[o] for o in orgs.tolist()],
        rep_since=_iso(rep_from),
        person=person,
        born=born_iso,
        moved=moved_iso,
        place=place,
        rec_id=[f"{src}-{q}" for src, q in zip(rec_src, seq, strict=True)],
        rec_src=rec_src,
        rec_name=[names[s] for s in subj_l],
        rec_kind=["organisation" if org_l[s] else "person" for s in subj_l],
        rec_type=[types[b] for b in beh],
        occurred=_iso(rec["occ"]),
        amount=rec["amount"].tolist(),
        seq=seq,
        times=_iso(times),
        target=fix["target"].tolist(),
        action=fix["action"].tolist(),
        order=np.argsort(times, kind="stable").tolist(),  # records precede their corrections
    )


def generate(spec: PopulationSpec = PopulationSpec()) -> Iterator[dict[str, object]]:
    """Every ledger entry of the synthetic population, in the order the ledger learns them."""
    d = _draw(spec)
    for i, (c, p, since) in enumerate(zip(d.child, d.parent, d.child_since, strict=True)):
        yield {
            "kind": "relation",
            "id": f"hh-{i}",
            "source": "household-registry",
            "subject": c,
            "subject_kind": "person",
            "relation": "child_of",
            "related_subject": p,
            "related_kind": "person",
            "valid_from": since,
            "recorded_at": since,
        }
    for i, (r, o, since) in enumerate(zip(d.rep, d.org, d.rep_since, strict=True)):
        yield {
            "kind": "relation",
            "id": f"biz-{i}",
            "source": "business-registry",
            "subject": r,
            "subject_kind": "person",
            "relation": "legal_representative_of",
            "related_subject": o,
            "related_kind": "organisation",
            "valid_from": since,
            "recorded_at": since,
        }
    for i, (p, b, mv, pl) in enumerate(zip(d.person, d.born, d.moved, d.place, strict=True)):
        yield {
            "kind": "attribute",
            "id": f"birth-{i}",
            "source": "civil-registry",
            "subject": p,
            "subject_kind": "person",
            "attribute": "birth_date",
            "value": b,
            "valid_from": b,
            "recorded_at": b,
        }
        yield {
            "kind": "attribute",
            "id": f"residence-{i}",
            "source": "civil-registry",
            "subject": p,
            "subject_kind": "person",
            "attribute": "residence",
            "value": pl,
            "valid_from": mv,
            "recorded_at": mv,
        }
    n_rec = len(d.rec_id)
    for i in d.order:
        if i < n_rec:
            src = d.rec_src[i]
            entry: dict[str, object] = {
                "id": d.rec_id[i],
                "source": src,
                "subject": d.rec_name[i],
                "subject_kind": d.rec_kind[i],
                "type": d.rec_type[i],
                "occurred_at": d.occurred[i],
                "recorded_at": d.times[i],
            }
            amount = d.amount[i]
            if amount == amount:  # not NaN
                entry["amount"] = amount
            if src == "court":
                entry["evidence"] = f"enforcement case {d.seq[i]}"
            yield entry
        else:
            j = i - n_rec
            t = d.target[j]
            src = d.rec_src[t]
            kind, why, reviewer = _ACTIONS[d.action[j]]
            yield {
                "kind": kind,
                "id": f"{kind}-{d.rec_id[t]}",
                "source": f"{src}-review" if reviewer else src,
                "target_source": src,
                "target_id": d.rec_id[t],
                "occurred_at": d.times[i],
                "recorded_at": d.times[i],
                "reason": why,
            }


def generate_jsonl(
    spec: PopulationSpec = PopulationSpec(), block: int = 100_000
) -> Iterator[tuple[bytes, int, int]]:
    """The entries of ``generate(spec)`` as JSON Lines, byte for byte what ``orjson.dumps``
    writes of each (a test checks this), made without a dict per entry: blocks of up to
    ``block`` lines, each with how many lines it holds and how many of them are records
    (the others have a ``kind``). Every text written here is made of letters, digits and
    punctuation that JSON needs no escape for (names, ids, ISO times, fixed words)."""
    d = _draw(spec)
    lines = [
        f'{{"kind":"relation","id":"hh-{i}","source":"household-registry","subject":"{c}",'
        f'"subject_kind":"person","relation":"child_of","related_subject":"{p}",'
        f'"related_kind":"person","valid_from":"{t}","recorded_at":"{t}"}}\n'
        for i, (c, p, t) in enumerate(zip(d.child, d.parent, d.child_since, strict=True))
    ]
    lines += [
        f'{{"kind":"relation","id":"biz-{i}","source":"business-registry","subject":"{r}",'
        f'"subject_kind":"person","relation":"legal_representative_of","related_subject":"{o}",'
        f'"related_kind":"organisation","valid_from":"{t}","recorded_at":"{t}"}}\n'
        for i, (r, o, t) in enumerate(zip(d.rep, d.org, d.rep_since, strict=True))
    ]
    for i, (p, b, mv, pl) in enumerate(zip(d.person, d.born, d.moved, d.place, strict=True)):
        lines.append(
            f'{{"kind":"attribute","id":"birth-{i}","source":"civil-registry","subject":"{p}",'
            f'"subject_kind":"person","attribute":"birth_date","value":"{b}","valid_from":"{b}",'
            f'"recorded_at":"{b}"}}\n'
        )
        lines.append(
            f'{{"kind":"attribute","id":"residence-{i}","source":"civil-registry","subject":"{p}",'
            f'"subject_kind":"person","attribute":"residence","value":"{pl}","valid_from":"{mv}",'
            f'"recorded_at":"{mv}"}}\n'
        )
    facts = len(lines)
    n_rec = len(d.rec_id)
    entries = [
        f'{{"id":"{i}","source":"{s}","subject":"{n}","subject_kind":"{k}","type":"{t}",'
        f'"occurred_at":"{o}","recorded_at":"{r}"}}\n'
        for i, s, n, k, t, o, r in zip(
            d.rec_id,
            d.rec_src,
            d.rec_name,
            d.rec_kind,
            d.rec_type,
            d.occurred,
            d.times,
            strict=False,  # times: the records' then the corrections'
        )
    ]
    # the few records with an amount or evidence: their line again, with those fields
    for i, (a, src) in enumerate(zip(d.amount, d.rec_src, strict=True)):
        if a == a or src == "court":  # an amount (not NaN), or evidence
            extra = f',"amount":{a!r}' if a == a else ""
            if src == "court":
                extra += f',"evidence":"enforcement case {d.seq[i]}"'
            entries[i] = entries[i][:-2] + extra + "}\n"
    for j, (t, action) in enumerate(zip(d.target, d.action, strict=True)):
        kind, why, reviewer = _ACTIONS[action]
        src = d.rec_src[t]
        when = d.times[n_rec + j]
        entries.append(
            f'{{"kind":"{kind}","id":"{kind}-{d.rec_id[t]}",'
            f'"source":"{src + "-review" if reviewer else src}","target_source":"{src}",'
            f'"target_id":"{d.rec_id[t]}","occurred_at":"{when}","recorded_at":"{when}",'
            f'"reason":"{why}"}}\n'
        )
    lines += [entries[i] for i in d.order]
    del entries
    is_record = np.concatenate([np.zeros(facts, dtype=bool), np.array(d.order) < n_rec])
    for first in range(0, len(lines), block):
        part = lines[first : first + block]
        yield "".join(part).encode(), len(part), int(is_record[first : first + block].sum())


def _birth_dates(
    spec: PopulationSpec,
    rng: np.random.Generator,
    n: int,
    persons: npt.NDArray[np.int64],
    children: npt.NDArray[np.int64],
) -> I64:
    """Each person's birth (midnight UTC) by index over all subjects; organisations get 0,
    which nothing reads."""
    is_child = np.zeros(n, dtype=bool)
    is_child[children] = True
    lo = np.where(is_child[persons], CHILD_AGE_YEARS[0], ADULT_AGE_YEARS[0])
    hi = np.where(is_child[persons], CHILD_AGE_YEARS[1], ADULT_AGE_YEARS[1])
    age = lo + rng.random(len(persons)) * (hi - lo)
    born = np.zeros(n, dtype=np.int64)
    born[persons] = (spec.end - age * YEAR).astype(np.int64) // DAY * DAY
    return born


def _parents(
    rng: np.random.Generator,
    persons: npt.NDArray[np.int64],
    children: npt.NDArray[np.int64],
    born: I64,
) -> tuple[I64, npt.NDArray[np.bool_]]:
    """A parent for each child, drawn among the persons born PARENT_GAP_YEARS earlier, and
    whether there was anyone (there always is but for the oldest children)."""
    by_birth = persons[np.argsort(born[persons], kind="stable")]
    births = born[by_birth]
    first = np.searchsorted(births, born[children] - PARENT_GAP_YEARS[1] * YEAR, "left")
    stop = np.searchsorted(births, born[children] - PARENT_GAP_YEARS[0] * YEAR, "right")
    has_parent = stop > first
    pick = first + (rng.random(len(children)) * np.maximum(stop - first, 1)).astype(np.int64)
    parents = by_birth[np.minimum(pick, len(by_birth) - 1)]
    return parents, has_parent


def _attributes(
    spec: PopulationSpec,
    rng: np.random.Generator,
    names: list[str],
    persons: npt.NDArray[np.int64],
    born_all: I64,
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Every person's birth date and residence (Rongcheng or Weihai), as the civil registry
    records them: the birth date from birth, the residence from when the person moved there
    (some within the last year, so not yet scored under Rongcheng's one-year rule). By
    person: the name, the birth date, when they moved in, where."""
    born = born_all[persons]
    moved = (spec.end - rng.random(len(persons)) * 20 * YEAR).astype(np.int64) // DAY * DAY
    moved = np.maximum(moved, born)
    place: list[str] = np.where(
        rng.random(len(persons)) < RONGCHENG_SHARE, "rongcheng", "weihai"
    ).tolist()
    born_iso = [t[:10] for t in _iso(born)]
    return [names[p] for p in persons.tolist()], born_iso, _iso(moved), place


_DISPUTE, _ANNUL, _UPHOLD, _RESOLVE = range(4)
_ACTIONS = (
    ("dispute", "the subject contests the record", False),
    ("annul", "reinvestigation found the record concerns another person", True),
    ("uphold", "reinvestigation confirmed the record", True),
    ("resolve", "obligation performed", False),
)


def _iso(times: I64) -> list[str]:
    text: list[str] = np.datetime_as_string(
        times.astype("datetime64[s]"), unit="s", timezone="UTC"
    ).tolist()
    return text
