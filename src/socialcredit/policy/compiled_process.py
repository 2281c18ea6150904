"""Due process compiled: each distinct process (the policy-wide block, or a record type's or
list's override of it) and which one each record type follows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from socialcredit.policy.model import DueProcessOverride, Policy, Predicate
from socialcredit.spans import Span

ON_OVERDUE = ("delete", "keep", "flag")
DELETE, KEEP, FLAG = range(3)


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


def compile_processes(p: Policy) -> tuple[tuple[CompiledProcess, ...], npt.NDArray[np.int16]]:
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


def type_processes(policy: Policy) -> dict[str, CompiledProcess]:
    """Each record type's due process (``processes[0]``, index 0, is the policy-wide one)."""
    processes, codes = compile_processes(policy)
    return {name: processes[int(codes[i])] for i, name in enumerate(policy.record_types)}
