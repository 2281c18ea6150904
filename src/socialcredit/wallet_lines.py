"""What one record did in a points wallet, in one plain sentence (a standing's breakdown
row for a record a wallet reads): what it earned, or what it spent, on which date, and when
the wallet's rule lets its points expire.

A record type's own term (``expires_after``) says how long the record is kept; it is not
when its points expire, which is the wallet's ``expire_after`` from the day the record
happened (oldest points spent first). A record whose term has ended still earned what it
earned, so the breakdown's "expired" status and its points (a points wallet gives the type
none) say nothing true of a wallet's record; these sentences replace them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialcredit.scoring.wallets import points_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from socialcredit.policy.compiled import CompiledPolicy
    from socialcredit.policy.compiled_scores import CompiledScore, CompiledWallet
    from socialcredit.scoring import RecordLine

_HAPPENED = ("counts", "expired")  # the record earned or spent (its term may be over since)
_PER = {"month": "a month", "year": "a year", "lifetime": "in all"}
_EPSILON = 0.005  # amounts are said to the cent


def _caps(wallet: CompiledWallet) -> str:
    said = [f"{points_text(points)} {wallet.unit} {_PER[per]}" for points, per in wallet.caps]
    return "the cap of " + " and ".join(said)


def wallet_lines(policy: CompiledPolicy, lines: Sequence[RecordLine], at: int) -> list[str | None]:
    """Each of a subject's record ``lines`` (its breakdown at ``at``) in words as the wallet
    that reads it sees it (``wallet_line``); None for a record no wallet of ``policy`` reads.

    What each record earned or spent is worked out here, wallet by wallet, over the lines'
    records that happened (a breakdown line's contribution is the first score's only)."""
    import numpy as np

    from socialcredit.scoring.wallets import run_wallets

    unknown = len(policy.type_names)
    code = np.array([policy.type_code.get(x.type, unknown) for x in lines], dtype=np.int64)
    amount = np.array([np.nan if x.amount is None else x.amount for x in lines])
    occurred = np.array([x.occurred_at for x in lines], dtype=np.int64)
    happened = np.array([x.status in _HAPPENED for x in lines], dtype=np.bool_)
    out: list[str | None] = [None] * len(lines)
    for sc in policy.wallets:
        wallet = sc.wallet
        assert wallet is not None
        mine = np.flatnonzero(wallet.earns[code] | wallet.redeems[code])
        if not len(mine):
            continue
        totals = run_wallets(
            policy,
            wallet,
            code[mine],
            amount[mine],
            np.zeros(len(mine), dtype=np.int64),
            occurred[mine],
            happened[mine],
            np.array([at], dtype=np.int64),
        )
        for j, points in zip(mine.tolist(), totals.entry_points.tolist(), strict=True):
            if out[j] is None:  # a record two wallets read is said by the first
                out[j] = wallet_line(policy, sc, lines[j], points, at)
    return out


def wallet_line(
    policy: CompiledPolicy, sc: CompiledScore, line: RecordLine, points: float, at: int
) -> str:
    """``line``'s record in words as the wallet ``sc`` sees it at ``at``, where it earned
    (+) or spent (-) ``points``: e.g. ``Earned 10 points in Carrot points on 2018-02-02; any
    of them still unspent expired on 2019-02-02.``"""
    code = policy.type_code[line.type]
    wallet = sc.wallet
    assert wallet is not None
    name, unit, day = sc.display_name, wallet.unit, policy.date_of(line.occurred_at)
    if line.status not in _HAPPENED:
        return f"Nothing in {name}: the record is {line.status}."
    if wallet.redeems[code]:
        spent = max(-points, 0.0)
        text = f"Spent {points_text(spent)} {unit} from {name} on {day}."
        asked = line.amount or 0.0
        if asked - spent >= _EPSILON:
            text = (
                f"Asked to spend {points_text(asked)} {unit} from {name} on {day}; "
                f"{points_text(spent)} spent, all the balance there was then."
            )
        return text
    full = float(wallet.earn_points[code] + wallet.earn_rate[code] * (line.amount or 0.0))
    got = max(points, 0.0)
    if got < _EPSILON:
        why = f": {_caps(wallet)} was already reached" if wallet.caps and full else ""
        return f"Earned nothing in {name} on {day}{why}."
    text = f"Earned {points_text(got)} {unit} in {name} on {day}"
    if full - got >= _EPSILON:
        text = (
            f"Earned {points_text(got)} of its {points_text(full)} {unit} in {name} on {day} "
            f"({_caps(wallet)} was reached)"
        )
    if wallet.expire_after is None:
        return text + "; they never expire."
    ends = policy.after_one(line.occurred_at, wallet.expire_after)
    verb = "expired" if ends <= at else "expire"
    return text + f"; any of them still unspent {verb} on {policy.date_of(ends)}."
