"""Points wallets, evaluated: earning, caps, redemptions and expiry in time order.

The rules are in ``policy.wallets``. One function (``run_wallets``) computes every group's
wallet at its time, for one subject or a nation alike; the score form ``wallet_form`` (in
``scoring.forms``) and ingestion's check of redemptions (``shortfalls``) both call it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.policy.compiled_scores import CompiledWallet
from socialcredit.timeutil import NEVER

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

_EPS = 1e-9  # amounts are money-like: a difference below this is rounding, not a shortfall


def points_text(x: float) -> str:
    """An amount of points as said to people: ``1,234``, ``1,234.5``, ``0.25`` (never in
    exponent form)."""
    rounded = round(x, 2)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{rounded:,.2f}".rstrip("0")


@dataclass(frozen=True)
class WalletTotals:
    """Per group: the wallet at its time. ``balance = earned - redeemed - expired``."""

    balance: F64
    earned: F64  # points credited (within the caps)
    redeemed: F64  # points actually spent
    expired: F64  # points that expired unspent
    forfeited: F64  # points records would have earned beyond a cap
    shortfall: F64  # what redemptions asked beyond the balance at their time
    cap_reached_at: I64  # when a cap was last reached (-1: never)
    cap_reached: Bools  # a cap of the period the group's time is in is reached
    next_expiry: I64  # when the oldest unspent points expire (NEVER: none do)
    next_expiry_points: F64  # how many expire then
    entry_points: F64  # per entry: what it earned (+) or spent (-)
    entry_short: F64  # per entry: what a redemption asked beyond the balance


def _periods(policy: CompiledPolicy, times: I64, per: str) -> I64:
    if per == "lifetime":
        return np.zeros(len(times), dtype=np.int64)
    local = np.asarray(times, dtype=np.int64) + policy.calendar.offset
    unit = "datetime64[Y]" if per == "year" else "datetime64[M]"
    out: I64 = local.astype("datetime64[s]").astype(unit).astype(np.int64)
    return out


def _by_group_and_time(idx: I64, group: I64, occurred: I64) -> I64:
    """``idx`` ordered by group, then time, then itself (one stable sort of one key)."""
    if not len(idx):
        return idx
    occ = occurred[idx]
    low = int(occ.min())
    span = int(occ.max()) - low + 1
    g = group[idx]
    if (int(g.max()) + 1) * span < 2**62:
        out: I64 = idx[np.argsort(g * span + (occ - low), kind="stable")]
        return out
    return idx[np.lexsort((idx, occ, g))]


def _per_group(g: I64, values: I64, n: int, empty: int, ufunc: np.ufunc) -> I64:
    """Per group (``g`` sorted): ``ufunc`` (np.maximum, np.minimum) over its ``values``;
    ``empty`` for a group without any."""
    out = np.full(n, empty, dtype=np.int64)
    if not len(g):
        return out
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    out[g[starts]] = ufunc.reduceat(values, starts)
    return out


def _plain_wallets(
    policy: CompiledPolicy,
    wallet: CompiledWallet,
    idx: I64,
    group: I64,
    occurred: I64,
    value: F64,
    ends: I64,
    at: I64,
    periods: list[I64],
    now_periods: list[I64],
    out: tuple[F64, F64, F64, F64, I64, Bools, I64, F64],
    entry_points: F64,
) -> None:
    """``run_wallets`` for groups that spend nothing and a wallet with at most one cap,
    vectorised: what each record earns is what is left under the cap of its period (the
    running total held at the cap); a lot expires whole."""
    balance, earned, expired, forfeited, cap_at, cap_now, next_at, next_pts = out
    if not len(idx):
        return
    n = len(at)
    order = _by_group_and_time(idx, group, occurred) if wallet.caps else idx
    g = group[order]
    raw = value[order]
    if wallet.caps:
        cap = wallet.caps[0][0]
        period = periods[0][order]
        key_change = np.ones(len(order), dtype=np.bool_)
        key_change[1:] = (g[1:] != g[:-1]) | (period[1:] != period[:-1])
        starts = np.flatnonzero(key_change)
        total = np.cumsum(raw)
        before = np.repeat(total[starts] - raw[starts], np.diff(np.append(starts, len(order))))
        running = total - before  # earned in the period so far, as if there were no cap
        held = np.minimum(running, cap)
        credit = held - np.minimum(running - raw, cap)
        reached = (running - raw < cap - _EPS) & (running >= cap - _EPS)
        last = _per_group(g, np.where(reached, occurred[order], -1), n, -1, np.maximum)
        cap_at[:] = np.where(last >= 0, last, cap_at)
        # the period of each group's time: reached when its running total is at the cap
        now_key = now_periods[0][g] == period
        full = np.zeros(n, dtype=np.bool_)
        full[g[now_key & (held >= cap - _EPS)]] = True
        cap_now |= full
    else:
        credit = raw  # without a cap, what each record earns does not depend on order
    credit = np.maximum(credit, 0.0)
    if not wallet.caps:
        by_group = np.argsort(g, kind="stable")  # for the per-group minimum below
        order, g = order[by_group], g[by_group]
        credit, raw = credit[by_group], raw[by_group]
    entry_points[order] = credit
    gone = ends[order] <= at[g]
    earned += np.bincount(g, weights=credit, minlength=n)
    lost = raw - credit
    forfeited += np.bincount(g, weights=np.where(lost > _EPS, lost, 0.0), minlength=n)
    expired += np.bincount(g, weights=np.where(gone, credit, 0.0), minlength=n)
    left = ~gone & (credit > _EPS)
    balance += np.bincount(g[left], weights=credit[left], minlength=n)
    if left.any():
        first = _per_group(g, np.where(left, ends[order], NEVER), n, NEVER, np.minimum)
        next_at[:] = np.minimum(next_at, first)
        soon = left & (ends[order] == first[g])
        next_pts += np.bincount(g[soon], weights=credit[soon], minlength=n)


def run_wallets(
    policy: CompiledPolicy,
    wallet: CompiledWallet,
    code: I64,
    amount: F64,
    group: I64,
    occurred: I64,
    happened: Bools,
    at: I64,
    vectorised: bool = True,
    ends: I64 | None = None,
) -> WalletTotals:
    """Every group's wallet at its time ``at[g]``, from its entries (``code``, ``amount``,
    ``occurred`` per entry; ``happened``: the entry earned or spent, as known then: it counts
    or counted until its record expired). Entries are taken in the order they occurred,
    ties in the order given (ledger order); at one instant points expire first, then
    records earn, then redemptions spend. ``ends``: per entry, ``occurred`` plus the
    wallet's ``expire_after`` (computed here when not given). ``vectorised``: groups that spend nothing are
    worked out together (False: one by one, as the others; a test compares the two)."""
    n = len(at)
    m = len(code)
    earns = wallet.earns[code]
    redeems = wallet.redeems[code]
    amt = np.nan_to_num(np.asarray(amount, dtype=np.float64), nan=0.0)
    active = happened & (earns | redeems) & (occurred <= at[group])
    value = np.where(earns, wallet.earn_points[code] + wallet.earn_rate[code] * amt, 0.0)
    spend = np.where(redeems, np.maximum(amt, 0.0), 0.0)
    lifetime = wallet.expire_after
    if ends is None:  # when each entry's points expire (the caller may know it already)
        ends = (
            policy.after(occurred, lifetime)
            if lifetime is not None and m
            else np.full(m, NEVER, dtype=np.int64)
        )
    periods = [_periods(policy, occurred, per) for _, per in wallet.caps]
    now_periods = [_periods(policy, at, per) for _, per in wallet.caps]

    balance = np.zeros(n)
    earned = np.zeros(n)
    redeemed = np.zeros(n)
    expired = np.zeros(n)
    forfeited = np.zeros(n)
    shortfall = np.zeros(n)
    cap_at = np.full(n, -1, dtype=np.int64)
    cap_now = np.zeros(n, dtype=np.bool_)
    next_at = np.full(n, NEVER, dtype=np.int64)
    next_pts = np.zeros(n)
    entry_points = np.zeros(m)
    entry_short = np.zeros(m)

    idx = np.flatnonzero(active)
    if vectorised and len(wallet.caps) <= 1:
        # a group that spends nothing is worked out for all such groups at once
        spends = np.zeros(n, dtype=np.bool_)
        spends[group[idx[redeems[idx]]]] = True
        plain = idx[~spends[group[idx]]]
        idx = idx[spends[group[idx]]]
        _plain_wallets(
            policy,
            wallet,
            plain,
            group,
            occurred,
            value,
            ends,
            at,
            periods,
            now_periods,
            (balance, earned, expired, forfeited, cap_at, cap_now, next_at, next_pts),
            entry_points,
        )
    # by group, then time; redemptions after earnings at one instant; then ledger order
    order = idx[np.lexsort((idx, redeems[idx], occurred[idx], group[idx]))]
    g_list = group[order].tolist()
    t_list = occurred[order].tolist()
    r_list = redeems[order].tolist()
    v_list = value[order].tolist()
    s_list = spend[order].tolist()
    e_list = ends[order].tolist()
    p_lists = [p[order].tolist() for p in periods]
    caps = [c for c, _ in wallet.caps]

    def close(lots: deque[list[float]], until: int, totals: list[float]) -> None:
        while lots and lots[0][0] <= until:
            totals[3] += lots.popleft()[1]

    pos = 0
    count = len(order)
    while pos < count:
        g = g_list[pos]
        lots: deque[list[float]] = deque()  # [expires at, points left], oldest first
        totals = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # earned, redeemed, forfeited, expired, short
        used: list[dict[int, float]] = [{} for _ in caps]
        last_cap = -1
        while pos < count and g_list[pos] == g:
            t = t_list[pos]
            close(lots, t, totals)
            if r_list[pos]:
                want = s_list[pos]
                left = want
                while left > _EPS and lots:
                    lot = lots[0]
                    take = min(lot[1], left)
                    lot[1] -= take
                    left -= take
                    if lot[1] <= _EPS:
                        lots.popleft()
                spent = want - max(left, 0.0)
                totals[1] += spent
                entry_points[order[pos]] = -spent
                if left > _EPS:
                    totals[4] += left
                    entry_short[order[pos]] = left
            else:
                gain = v_list[pos]
                room = gain
                for j, cap in enumerate(caps):
                    key = p_lists[j][pos]
                    room = min(room, cap - used[j].get(key, 0.0))
                room = max(room, 0.0)
                for j in range(len(caps)):
                    key = p_lists[j][pos]
                    before = used[j].get(key, 0.0)
                    used[j][key] = before + room
                    if before < caps[j] - _EPS <= before + room:
                        last_cap = t  # this record reached the cap
                totals[0] += room
                totals[2] += gain - room if gain - room > _EPS else 0.0
                entry_points[order[pos]] = room
                if room > 0:
                    lots.append([e_list[pos], room])
            pos += 1
        close(lots, int(at[g]), totals)
        earned[g], redeemed[g], forfeited[g], expired[g], shortfall[g] = totals[:5]
        balance[g] = sum(lot[1] for lot in lots)
        cap_at[g] = last_cap
        cap_now[g] = any(
            used[j].get(int(now_periods[j][g]), 0.0) >= caps[j] - _EPS for j in range(len(caps))
        )
        if lots:
            first = lots[0][0]
            next_at[g] = int(first)
            next_pts[g] = sum(lot[1] for lot in lots if lot[0] == first)
    return WalletTotals(
        balance=balance,
        earned=earned,
        redeemed=redeemed,
        expired=expired,
        forfeited=forfeited,
        shortfall=shortfall,
        cap_reached_at=cap_at,
        cap_reached=cap_now,
        next_expiry=next_at,
        next_expiry_points=next_pts,
        entry_points=entry_points,
        entry_short=entry_short,
    )
