"""A simulated population as a ledger: its relations, records and corrections as entries.

``sim.draws`` makes every random choice once per block (``BlockDraws``); this module turns
the draws into ledger entries under one policy: the dispute and review times depend on that
policy's own appeal window and reinvestigation deadline, and record types the policy does
not declare are left out. Several policies thus see the same population and the same
conduct (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.columns import (
    ANNUL,
    DISPUTE,
    RESOLVE,
    SUBJECT_KINDS,
    UPHOLD,
    LedgerColumns,
)
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.sim.draws import RELATIONS_FROM_DAYS, BlockDraws, SimSpec
from socialcredit.sim.scenario import Scenario
from socialcredit.timeutil import DAY, to_date, to_iso

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Corrections:
    """The corrections of a block's records under one policy (``target`` indexes records)."""

    target: I64
    action: npt.NDArray[np.int8]
    at: I64


def corrections(
    draws: BlockDraws,
    scenario: Scenario,
    spec: SimSpec,
    policy: CompiledPolicy,
    suppressed: Mask | None = None,
) -> Corrections:
    """Disputes, their decisions (annul a wrong record the review finds, else uphold) and
    resolutions, timed within ``policy``'s own limits: a dispute within the record type's
    appeal window (or the scenario's ``within_days``, if shorter) of the record being known,
    a decision within its reinvestigation deadline (or, for the late share, up to
    ``late_days`` after it). Only those known before the simulated period ends."""
    d = scenario.disputes
    tgt: list[I64] = []
    act: list[npt.NDArray[np.int8]] = []
    at: list[I64] = []
    for ti, tname in enumerate(draws.types):
        code = policy.type_code.get(tname)
        if code is None:
            continue
        sel = np.flatnonzero((draws.type == ti) & draws.disputed)
        if len(sel):
            process = policy.process_of(tname)
            rec = draws.recorded[sel]
            window_end = np.minimum(
                policy.after(rec, process.appeal_window), rec + int(d.within_days * DAY)
            )
            room = np.maximum(window_end - rec - 1, 0)
            filed = rec + 1 + (draws.file_u[sel] * room).astype(np.int64)
            due = policy.after(filed, process.review_deadline)
            inside = (
                filed + 1 + (draws.decide_u[sel] * np.maximum(due - filed - 1, 0)).astype(np.int64)
            )
            late = due + 1 + (draws.decide_u[sel] * d.late_days * DAY).astype(np.int64)
            decided = np.where(draws.on_time[sel], inside, late)
            annul = draws.wrong[sel] & draws.finds[sel]
            tgt += [sel, sel]
            act += [
                np.full(len(sel), DISPUTE, np.int8),
                np.where(annul, ANNUL, UPHOLD).astype(np.int8),
            ]
            at += [filed, decided]
        if policy.resolvable[code]:
            res = np.flatnonzero((draws.type == ti) & (draws.resolve_at >= 0))
            tgt.append(res)
            act.append(np.full(len(res), RESOLVE, np.int8))
            at.append(draws.resolve_at[res])
    if not tgt:
        return Corrections(np.empty(0, np.int64), np.empty(0, np.int8), np.empty(0, np.int64))
    target, action, when = np.concatenate(tgt), np.concatenate(act), np.concatenate(at)
    keep = when < spec.end
    if suppressed is not None and len(target):
        keep &= ~suppressed[target]
    return Corrections(target[keep].astype(np.int64), action[keep], when[keep])


def _many_corrections(
    blocks: list[BlockDraws],
    which: list[int],
    scenario: Scenario,
    spec: SimSpec,
    policy: CompiledPolicy,
    suppressed: list[Mask] | None = None,
) -> list[Corrections]:
    """``corrections`` of each block ``blocks[b]`` for ``b`` in ``which``: the same, from one
    call on their records put end to end (per block, its corrections come in the same order:
    by type, then kind, then record, as the merged call lists them, block by block within)."""
    if len(which) < 2:
        return [
            corrections(
                blocks[b], scenario, spec, policy, None if suppressed is None else suppressed[b]
            )
            for b in which
        ]
    mine = [blocks[b] for b in which]
    sizes = np.array([len(d.type) for d in mine], dtype=np.int64)
    starts = np.cumsum(sizes) - sizes

    def cat(name: str) -> npt.NDArray[Any]:
        return np.concatenate([getattr(d, name) for d in mine])

    merged = replace(
        mine[0],
        type=cat("type"),
        disputed=cat("disputed"),
        recorded=cat("recorded"),
        file_u=cat("file_u"),
        decide_u=cat("decide_u"),
        on_time=cat("on_time"),
        wrong=cat("wrong"),
        finds=cat("finds"),
        resolve_at=cat("resolve_at"),
    )
    gone = None if suppressed is None else np.concatenate([suppressed[b] for b in which])
    cor = corrections(merged, scenario, spec, policy, gone)
    owner = np.searchsorted(starts, cor.target, side="right") - 1
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(len(mine) + 1))
    out = []
    for k in range(len(mine)):
        at = order[bounds[k] : bounds[k + 1]]
        out.append(Corrections(cor.target[at] - starts[k], cor.action[at], cor.at[at]))
    return out


def known_records(
    draws: BlockDraws, spec: SimSpec, policy: CompiledPolicy, suppressed: Mask | None = None
) -> Mask:
    """Which of the block's records the policy's ledger holds: of a declared type, known
    before the simulated period ends, and not ``suppressed`` (conduct that did not happen
    because of a behaviour response or an exit)."""
    declared = np.array([t in policy.type_code for t in draws.types] + [False])
    known = declared[draws.type] & (draws.recorded < spec.end)
    if suppressed is not None:
        known &= ~suppressed
    return np.asarray(known, dtype=np.bool_)


def source_of(policy: CompiledPolicy, type_name: str) -> str:
    """The source that submits records of ``type_name`` under ``policy`` (its ``sources:``
    section), or ``simulator`` when it names none."""
    for name, spec in policy.policy.sources.items():
        if type_name in spec.record_types:
            return str(name)
    return "simulator"


ACTION_NAMES = {DISPUTE: "dispute", ANNUL: "annul", UPHOLD: "uphold", RESOLVE: "resolve"}


def block_entries(
    draws: BlockDraws,
    scenario: Scenario,
    spec: SimSpec,
    policy: CompiledPolicy,
    agents: npt.NDArray[np.integer] | None = None,
    suppressed: Mask | None = None,
) -> list[dict[str, object]]:
    """The block's ledger entries under ``policy`` in the ingestion format, in the order the
    ledger learns them (the order ``columns`` gives them seqs in): relations, attributes,
    then records and corrections by the time they are known. ``agents`` (local indices):
    only entries about them (and the records their corrections target). ``suppressed`` (per
    record): records left out, with their corrections (see ``evaluate_draws``)."""
    names = draws.names()
    order = _entry_order(draws, scenario, spec, policy, suppressed)
    cor = corrections(draws, scenario, spec, policy, suppressed)
    wanted = None if agents is None else set(np.asarray(agents).tolist())
    out: list[dict[str, object]] = []
    rel_names = [r.relation for r in scenario.relations]
    groups = list(scenario.groups.values())
    for kind_code, i in order:
        if kind_code == _REL:
            s, r = int(draws.rel_subject[i]), int(draws.rel_related[i])
            if wanted is not None and s not in wanted:
                continue
            if rel_names[int(draws.rel_rule[i])] not in policy.relation_names:
                continue
            when = to_iso(spec.start - RELATIONS_FROM_DAYS * DAY)
            out.append(
                {
                    "kind": "relation",
                    "id": f"rel-{draws.block}-{i}",
                    "source": "registry",
                    "subject": names[s],
                    "subject_kind": SUBJECT_KINDS[draws.kind[s]],
                    "relation": rel_names[int(draws.rel_rule[i])],
                    "related_subject": names[r],
                    "related_kind": SUBJECT_KINDS[draws.kind[r]],
                    "valid_from": when,
                    "recorded_at": when,
                }
            )
        elif kind_code == _ATT:
            a, attr = divmod(i, _ATT_SLOTS)
            if wanted is not None and a not in wanted:
                continue
            name, value, valid = _attribute(draws, scenario, groups, a, attr)
            if name is None or name not in policy.policy.attributes:
                continue
            out.append(
                {
                    "kind": "attribute",
                    "id": f"att-{draws.block}-{a}-{attr}",
                    "source": "registry",
                    "subject": names[a],
                    "subject_kind": SUBJECT_KINDS[draws.kind[a]],
                    "attribute": name,
                    "value": value,
                    "valid_from": to_iso(valid),
                    "recorded_at": to_iso(valid),
                }
            )
        elif kind_code == _REC:
            s = int(draws.subject[i])
            if wanted is not None and s not in wanted:
                continue
            tname = draws.types[int(draws.type[i])]
            entry: dict[str, object] = {
                "id": f"rec-{draws.block}-{i}",
                "source": source_of(policy, tname),
                "subject": names[s],
                "subject_kind": SUBJECT_KINDS[draws.kind[s]],
                "type": tname,
                "occurred_at": to_iso(int(draws.occurred[i])),
                "recorded_at": to_iso(int(draws.recorded[i])),
            }
            if draws.amount[i] == draws.amount[i]:
                entry["amount"] = float(draws.amount[i])
            out.append(entry)
        else:
            t = int(cor.target[i])
            if wanted is not None and int(draws.subject[t]) not in wanted:
                continue
            tname = draws.types[int(draws.type[t])]
            action = ACTION_NAMES[int(cor.action[i])]
            src = source_of(policy, tname)
            out.append(
                {
                    "kind": action,
                    "id": f"{action}-{draws.block}-{i}",
                    "source": f"{src}-review" if action in ("annul", "uphold") else src,
                    "target_source": src,
                    "target_id": f"rec-{draws.block}-{t}",
                    "occurred_at": to_iso(int(cor.at[i])),
                    "recorded_at": to_iso(int(cor.at[i])),
                    "reason": _REASONS[action],
                }
            )
    return out


_REASONS = {
    "dispute": "the subject contests the record",
    "annul": "the review found the record concerns another subject",
    "uphold": "the review confirmed the record",
    "resolve": "obligation performed",
}

_REL, _ATT, _REC, _COR = 0, 1, 2, 3
_ATT_SLOTS = 64  # attribute slots per agent: birth date first, then the group's attributes


@dataclass(frozen=True)
class AttributeTable:
    """Every attribute entry of a block, sorted by ``code`` (agent x ``_ATT_SLOTS`` + slot:
    the birth date in slot 0, the group's attributes from slot 1, in their order)."""

    code: I64
    name: npt.NDArray[np.object_]
    value: npt.NDArray[np.object_]
    valid: I64


def _filled(n: int, value: object) -> npt.NDArray[np.object_]:
    """``np.full(n, value, dtype=object)``, many times faster."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


_DATE_TABLE: tuple[int, npt.NDArray[np.object_]] = (0, np.empty(0, dtype=object))


def _date_texts(days: I64) -> npt.NDArray[np.object_]:
    """The ISO dates (``np.datetime_as_string``'s) of day numbers (days since 1970-01-01),
    as Python strings: read from a table of every day from the earliest to the latest asked
    so far in this process (writing each block's dates anew costs ten times more)."""
    if not len(days):
        return np.empty(0, dtype=object)
    global _DATE_TABLE
    first, texts = _DATE_TABLE
    lo, hi = int(days.min()), int(days.max())
    if lo < first or hi >= first + len(texts):
        if len(texts):
            lo, hi = min(lo, first), max(hi, first + len(texts) - 1)
        every = np.arange(lo, hi + 1, dtype=np.int64).astype("datetime64[D]")
        first, texts = lo, np.datetime_as_string(every, unit="D").astype(object)
        _DATE_TABLE = (first, texts)
    found: npt.NDArray[np.object_] = texts[days - first]
    return found


def attribute_table(draws: BlockDraws, scenario: Scenario) -> AttributeTable:
    """The block's attribute entries (see ``AttributeTable``), built column-wise; the same
    entries ``_attribute`` describes one at a time."""
    codes: list[I64] = []
    names: list[npt.NDArray[np.object_]] = []
    values: list[npt.NDArray[np.object_]] = []
    valid: list[I64] = []
    agents = np.arange(draws.n, dtype=np.int64)
    if scenario.birth_date_attribute is not None:
        born = agents[draws.birth >= 0]
        codes.append(born * _ATT_SLOTS)
        names.append(_filled(len(born), scenario.birth_date_attribute))
        values.append(_date_texts(draws.birth[born] // DAY))
        valid.append(draws.birth[born])
    for gi, g in enumerate(scenario.groups.values()):
        members = agents[draws.group == gi]
        for slot, (name, value) in enumerate(g.attributes.items(), start=1):
            codes.append(members * _ATT_SLOTS + slot)
            names.append(_filled(len(members), name))
            values.append(_filled(len(members), value))
            valid.append(draws.since[members])
    if not codes:
        empty = np.empty(0, dtype=object)
        return AttributeTable(np.empty(0, np.int64), empty, empty, np.empty(0, np.int64))
    code = np.concatenate(codes)
    order = np.argsort(code, kind="stable")
    return AttributeTable(
        code[order],
        np.concatenate(names)[order],
        np.concatenate(values)[order],
        np.concatenate(valid)[order].astype(np.int64),
    )


def _attribute(
    draws: BlockDraws, scenario: Scenario, groups: object, a: int, slot: int
) -> tuple[str | None, str, int]:
    """Attribute ``slot`` of agent ``a``: (name, value, valid from); name None: none."""
    g = list(scenario.groups.values())[int(draws.group[a])]
    if slot == 0:
        if scenario.birth_date_attribute is None or draws.birth[a] < 0:
            return None, "", 0
        born = int(draws.birth[a])
        return scenario.birth_date_attribute, str(to_date(born)), born
    items = list(g.attributes.items())
    if slot - 1 >= len(items):
        return None, "", 0
    name, value = items[slot - 1]
    return name, value, int(draws.since[a])


def _entry_order(
    draws: BlockDraws,
    scenario: Scenario,
    spec: SimSpec,
    policy: CompiledPolicy,
    suppressed: Mask | None = None,
) -> list[tuple[int, int]]:
    """(entry kind, index) of every entry of the block, in ledger order: by the time it is
    known, records before corrections at the same second, then by index."""
    att = attribute_table(draws, scenario)
    cor = corrections(draws, scenario, spec, policy, suppressed)
    k, i = _entry_arrays(draws, spec, policy, att, cor, suppressed)
    return list(zip(k.tolist(), i.tolist(), strict=True))


def _entry_arrays(
    draws: BlockDraws,
    spec: SimSpec,
    policy: CompiledPolicy,
    att: AttributeTable,
    cor: Corrections,
    suppressed: Mask | None = None,
) -> tuple[I64, I64]:
    """``_entry_order`` as two arrays (kind, index), given the block's attribute table and
    corrections."""
    nrel = len(draws.rel_subject)
    known = np.flatnonzero(known_records(draws, spec, policy, suppressed))
    k = np.concatenate(
        [
            np.full(nrel, _REL, dtype=np.int64),
            np.full(len(att.code), _ATT, dtype=np.int64),
            np.full(len(known), _REC, dtype=np.int64),
            np.full(len(cor.target), _COR, dtype=np.int64),
        ]
    )
    i = np.concatenate([np.arange(nrel), att.code, known, np.arange(len(cor.target))]).astype(
        np.int64
    )
    t = np.concatenate(
        [
            np.full(nrel, spec.start - RELATIONS_FROM_DAYS * DAY, dtype=np.int64),
            att.valid,
            draws.recorded[known],
            cor.at,
        ]
    ).astype(np.int64)
    order = _order_of(t, k, i)
    return k[order], i[order]


def _order_of(t: I64, k: I64, i: I64) -> I64:
    """``np.lexsort((i, k, t))`` for distinct (k, i) pairs, k in 0..3: by one integer per
    entry when its range fits (a sort of one key is several times faster than of three)."""
    if not len(t):
        return np.zeros(0, dtype=np.int64)
    low, width = int(t.min()), int(i.max()) + 1
    if int(i.min()) < 0 or (int(t.max()) - low + 1) * 4 * width >= 2**62:
        return np.lexsort((i, k, t)).astype(np.int64)
    # (the keys are distinct, so any sort gives this order; the stable one is the faster)
    key = (t - low) * (4 * width) + k * width + i
    order: I64 = np.argsort(key, kind="stable").astype(np.int64)
    return order


@dataclass(frozen=True)
class BlockParts:
    """A block's subject names, attribute table, corrections and entries in ledger order."""

    names: list[str]
    att: AttributeTable
    cor: Corrections
    kind: I64
    index: I64


@dataclass
class ChunkCache:
    """What ``chunk_columns`` works out about a chunk's blocks, kept for another call on the
    same blocks, scenario, spec, policy and ``suppressed``: each block's parts, and every
    entry of the chunk in ledger order."""

    blocks: dict[int, BlockParts] = field(default_factory=dict)
    entries: ChunkEntries | None = None


@dataclass(frozen=True)
class ChunkEntries:
    """Every entry of a chunk, blocks in order, each block's in ledger order: its kind
    (``kind``: relation, attribute, record or correction), the agent of the chunk it is
    about, whether it is a wrongly attributed record or a correction of one, whether the
    policy leaves it out whatever is asked (a relation it does not declare, an attribute it
    does not know); per record its number among the chunk's records (``rec_id``), per
    correction that of its record (``cor_record``); and per kind the ledger columns of every
    entry of that kind, in order (``columns[kind]``), but their seqs."""

    names: list[str]
    subject_kind: npt.NDArray[np.int8]
    kind: I64
    about: I64
    wrong: Mask
    left_out: Mask
    rec_id: I64
    cor_record: I64
    n_records: int
    columns: dict[int, dict[str, npt.NDArray[Any]]]
    type_names: tuple[str, ...]


def _chunk_entries(
    blocks: list[BlockDraws],
    scenario: Scenario,
    spec: SimSpec,
    policy: CompiledPolicy,
    suppressed: list[Mask] | None,
    cache: ChunkCache | None,
) -> ChunkEntries:
    """The ``ChunkEntries`` of ``blocks`` (see ``chunk_columns``)."""
    names: list[str] = []
    subject_kinds: list[npt.NDArray[np.int8]] = []
    kinds: list[I64] = []
    abouts: list[I64] = []
    wrongs: list[Mask] = []
    left_outs: list[Mask] = []
    rec_ids: list[I64] = []
    cor_records: list[I64] = []
    cols: dict[int, dict[str, list[npt.NDArray[Any]]]] = {
        kind: {} for kind in (_REL, _ATT, _REC, _COR)
    }
    offset = 0
    rec_base = 0
    type_code: dict[str, int] = {}
    rel_names = [r.relation for r in scenario.relations]
    rel_ok = np.array([name in policy.relation_names for name in rel_names] + [False])
    rel_types = np.array([*rel_names, ""], dtype=object)
    attribute_names = list(policy.policy.attributes)

    def put(kind: int, **values: npt.NDArray[Any]) -> None:
        for key, value in values.items():
            cols[kind].setdefault(key, []).append(value)

    # per (group, attribute slot, as attribute_table numbers them): whether the policy
    # declares that attribute (a lookup per entry rather than comparing names)
    declared = np.zeros((len(scenario.groups), _ATT_SLOTS), dtype=bool)
    for gi, g in enumerate(scenario.groups.values()):
        declared[gi, 0] = scenario.birth_date_attribute in attribute_names
        for slot, name in enumerate(list(g.attributes)[: _ATT_SLOTS - 1], start=1):
            declared[gi, slot] = name in attribute_names
    missing = [b for b in range(len(blocks)) if cache is None or b not in cache.blocks]
    cors = dict(
        zip(
            missing,
            _many_corrections(blocks, missing, scenario, spec, policy, suppressed),
            strict=True,
        )
    )
    for b, draws in enumerate(blocks):
        subject_kinds.append(draws.kind)
        gone = suppressed[b] if suppressed is not None else None
        found = cache.blocks.get(b) if cache is not None else None
        if found is None:
            att = attribute_table(draws, scenario)
            cor = cors[b]
            k, i = _entry_arrays(draws, spec, policy, att, cor, gone)
            found = BlockParts(draws.names(), att, cor, k, i)
            if cache is not None:
                cache.blocks[b] = found
        names += found.names
        att, cor, k, i = found.att, found.cor, found.kind, found.index
        is_rel, is_att, is_rec, is_cor = k == _REL, k == _ATT, k == _REC, k == _COR
        ri, ai, ci, li = i[is_rec], i[is_att], i[is_cor], i[is_rel]
        about = np.zeros(len(k), dtype=np.int64)
        about[is_rec] = draws.subject[ri]
        about[is_cor] = draws.subject[cor.target[ci]]
        about[is_rel] = draws.rel_subject[li]
        about[is_att] = ai // _ATT_SLOTS
        wrong = np.zeros(len(k), dtype=bool)
        wrong[is_rec] = draws.wrong[ri]
        wrong[is_cor] = draws.wrong[cor.target[ci]]
        left_out = np.zeros(len(k), dtype=bool)
        left_out[is_rel] = ~rel_ok[draws.rel_rule[li]]
        rows = np.minimum(np.searchsorted(att.code, ai), max(len(att.code) - 1, 0))
        left_out[is_att] = ~declared[draws.group[ai // _ATT_SLOTS], ai % _ATT_SLOTS]
        kinds.append(k)
        abouts.append(offset + about)
        wrongs.append(wrong)
        left_outs.append(left_out)
        rec_ids.append(rec_base + ri)
        cor_records.append(rec_base + cor.target[ci])
        put(
            _REL,
            rel_subject=(offset + draws.rel_subject[li]).astype(np.int32),
            rel_related=(offset + draws.rel_related[li]).astype(np.int32),
            rel_type=rel_types[draws.rel_rule[li]],
        )
        put(
            _ATT,
            att_subject=(offset + ai // _ATT_SLOTS).astype(np.int32),
            att_name=att.name[rows] if len(att.code) else np.empty(0, dtype=object),
            att_value=att.value[rows] if len(att.code) else np.empty(0, dtype=object),
            att_valid_from=att.valid[rows] if len(att.code) else np.empty(0, np.int64),
        )
        # record types as codes into the chunk's distinct names (no string per record)
        local = np.array(
            [type_code.setdefault(t, len(type_code)) for t in (*draws.types, "")],
            dtype=np.int32,
        )
        put(
            _REC,
            rec_subject=(offset + draws.subject[ri]).astype(np.int32),
            rec_type_code=local[draws.type[ri]],
            rec_occurred_at=draws.occurred[ri],
            rec_recorded_at=draws.recorded[ri],
            rec_amount=draws.amount[ri],
        )
        put(_COR, cor_action=cor.action[ci], cor_at=cor.at[ci])
        offset += draws.n
        rec_base += len(draws.subject)
    columns = {
        kind: {key: np.concatenate(values) for key, values in by_key.items()}
        for kind, by_key in cols.items()
    }
    return ChunkEntries(
        names=names,
        subject_kind=np.concatenate(subject_kinds) if subject_kinds else np.empty(0, np.int8),
        kind=np.concatenate(kinds) if kinds else np.empty(0, np.int64),
        about=np.concatenate(abouts) if abouts else np.empty(0, np.int64),
        wrong=np.concatenate(wrongs) if wrongs else np.empty(0, dtype=bool),
        left_out=np.concatenate(left_outs) if left_outs else np.empty(0, dtype=bool),
        rec_id=np.concatenate(rec_ids) if rec_ids else np.empty(0, np.int64),
        cor_record=np.concatenate(cor_records) if cor_records else np.empty(0, np.int64),
        n_records=rec_base,
        columns=columns,
        type_names=tuple(type_code),
    )


def chunk_columns(
    blocks: list[BlockDraws],
    scenario: Scenario,
    spec: SimSpec,
    policy: CompiledPolicy,
    with_errors: bool = True,
    only: Mask | None = None,
    suppressed: list[Mask] | None = None,
    cache: ChunkCache | None = None,
) -> LedgerColumns:
    """The ledger of a chunk of blocks under ``policy`` as columns, one subject per agent in
    agent order, with the entries ``block_entries`` gives, seq by seq. ``with_errors=False``:
    the same ledger without the wrongly attributed records and their corrections (the
    world as it would be without data errors). ``only`` (one flag per agent of the chunk):
    only the entries about those agents (every agent is still a subject). ``suppressed``
    (per block, per record): records left out with their corrections. ``cache``: what the
    chunk's entries are, kept for another call on the same blocks, scenario, spec, policy
    and ``suppressed`` (with or without errors, for any ``only``)."""
    if not blocks:
        return LedgerColumns.from_named([], np.empty(0, np.int8), {})
    entries = cache.entries if cache is not None else None
    if entries is None:
        entries = _chunk_entries(blocks, scenario, spec, policy, suppressed, cache)
        if cache is not None:
            cache.entries = entries
    e = entries
    keep = ~e.left_out
    if only is not None:
        keep &= only[e.about]
    if not with_errors:
        keep &= ~e.wrong
    # entries are numbered in ledger order from 1, those left out not counted
    seq = np.cumsum(keep)
    columns: dict[str, npt.NDArray[Any]] = {}
    picked: dict[int, Mask] = {}
    for kind in (_REL, _ATT, _REC, _COR):
        at = e.kind == kind
        mine = keep[at]
        picked[kind] = mine
        columns[("rel", "att", "rec", "cor")[kind] + "_seq"] = seq[at][mine]
        for key, values in e.columns[kind].items():
            columns[key] = values[mine]
    n_rel = len(columns["rel_seq"])
    start = spec.start - RELATIONS_FROM_DAYS * DAY
    columns.update(
        rel_valid_from=np.full(n_rel, start),
        rel_valid_until=np.full(n_rel, 2**62),
        rel_recorded_at=np.full(n_rel, start),
        rel_source=_filled(n_rel, "registry"),
    )
    n_att = len(columns["att_seq"])
    columns.update(
        att_valid_until=np.full(n_att, 2**62),
        att_recorded_at=columns["att_valid_from"].copy(),
        att_source=_filled(n_att, "registry"),
        att_id=_filled(n_att, ""),
    )
    # a correction names its record by the record's seq (-1: the record is left out)
    rec_seq_of = np.full(e.n_records, -1, dtype=np.int64)
    rec_seq_of[e.rec_id[picked[_REC]]] = columns["rec_seq"]
    at = columns.pop("cor_at")
    n_cor = len(at)
    columns.update(
        cor_target=rec_seq_of[e.cor_record[picked[_COR]]],
        cor_occurred_at=at,
        cor_recorded_at=at.copy(),
        cor_type=_filled(n_cor, ""),
        cor_new_occurred_at=np.full(n_cor, -1, dtype=np.int64),
        cor_amount=np.full(n_cor, np.nan),
        cor_source=_filled(n_cor, ""),
        cor_id=_filled(n_cor, ""),
        cor_reason=_filled(n_cor, ""),
    )
    codes = columns.pop("rec_type_code")
    return LedgerColumns.from_named(
        e.names, e.subject_kind, columns, rec_type_codes=(codes, e.type_names)
    )
