"""Points wallets in a policy (``form: wallet`` on a named score): points that records earn
and redemptions spend, with caps per period and expiry of unspent points.

A wallet's balance is a score like any other (conditions test it with ``score_at_least``),
but it is not a sum of what counts now: it is the result of earning, spending and expiring
in time order. The rules, in full:

- **Earning.** A record of a type under ``earn`` earns, when it occurred, either fixed
  ``points`` or ``rate`` times its ``amount`` (e.g. 25 % of a purchase). It earns once the
  ledger knows it and for as long as it is not annulled, rectified away, deleted or
  suspended while disputed; it keeps what it earned after its record type's
  ``expires_after`` (the wallet's ``expire_after`` says when points expire).
- **Caps.** Each cap limits the points earned in a period (a calendar ``year`` or ``month``
  in the policy's local time, or the wallet's ``lifetime``): a record earns what is left
  under every cap of its period, and nothing once a cap is reached. Records are taken in the
  order they occurred (ties in ledger order).
- **Expiry.** Points expire ``expire_after`` after the record that earned them occurred,
  unless spent before. Redemptions spend the oldest points first (first in, first out), so
  the points that expire first are spent first.
- **Redemption.** A record of a type under ``redeem`` spends its ``amount`` in points when
  it occurred. Ingestion rejects one the balance then cannot cover (with the redemptions
  already accepted); should the balance later fall short of one anyway (a record that
  earned the points was annulled), it spends what there is and never takes the balance
  below zero; the explanation says by how much it fell short.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from socialcredit.policy.checks_names import hint
from socialcredit.policy.durations import OptionalDuration
from socialcredit.policy.fields import Name, Number, StrictModel, exactly_one_of


class WalletEarn(StrictModel):
    """What one record of a type earns: fixed ``points``, or ``rate`` times its amount."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of(("points", "rate")))

    points: Number | None = Field(None, description="Points for each record (above 0).")
    rate: Number | None = Field(
        None,
        description="Points per unit of the record's amount (0.25: 25 % back; above 0); "
        "records of the type must then give a positive amount.",
    )

    @model_validator(mode="after")
    def _one(self) -> WalletEarn:
        if (self.points is None) == (self.rate is None):
            raise ValueError("give exactly one of 'points' or 'rate'")
        for key in ("points", "rate"):
            value = getattr(self, key)
            if value is not None and value <= 0:
                raise ValueError(f"{key}: must be above 0 (a wallet's records earn; got {value:g})")
        return self


class WalletCap(StrictModel):
    """At most ``points`` earned in each period ``per``."""

    points: Number = Field(gt=0, description="The most points earned in one period.")
    per: Literal["year", "month", "lifetime"] = Field(
        description="The period: a calendar year or month (the policy's local time), or the "
        "whole life of the wallet."
    )


class Wallet(StrictModel):
    """The rules of a points wallet (see the module docstring)."""

    unit: str = Field(
        "points",
        min_length=1,
        max_length=20,
        description="What the points are called in explanations, e.g. 'points' or 'yen'.",
    )
    earn: dict[Name, WalletEarn] = Field(
        min_length=1, description="The record types that earn points, and what each earns."
    )
    redeem: list[Name] = Field(
        default_factory=list,
        description="The record types whose records spend points (their amount).",
    )
    caps: list[WalletCap] = Field(default_factory=list)
    expire_after: OptionalDuration = Field(
        description="How long after the record that earned them unspent points expire; "
        "'never' must be explicit."
    )

    def describe(self) -> str:
        """The wallet's rules in one line (``policy show``)."""
        from socialcredit.term_words import duration_words

        def amount(x: float) -> str:
            return f"{x:,.0f}" if x == int(x) else f"{x:,g}"

        earns = ", ".join(
            f"{t} +{amount(e.points)}" if e.points is not None else f"{t} {e.rate:g} × amount"
            for t, e in self.earn.items()
        )
        per = {"year": "a year", "month": "a month", "lifetime": "in all"}
        parts = [f"a points wallet in {self.unit}: earn {earns}"]
        if self.redeem:
            parts.append(f"spend by {', '.join(self.redeem)} (their amount)")
        parts += [f"at most {amount(c.points)} {per[c.per]}" for c in self.caps]
        life = self.expire_after
        parts.append(
            "points never expire"
            if life is None
            else f"unspent points expire {duration_words(life)} after they are earned, oldest "
            "spent first"
        )
        return "; ".join(parts)


def wallet_problems(
    types: list[str] | None, name: str, score: Mapping[str, Any]
) -> list[tuple[tuple[str | int, ...], str]]:
    """A wallet's record types are declared, and none both earns and spends."""
    wallet = score.get("wallet")
    if not isinstance(wallet, Mapping) or types is None:
        return []
    problems: list[tuple[tuple[str | int, ...], str]] = []
    base: tuple[str | int, ...] = ("scores", name, "wallet")
    earn = wallet.get("earn")
    earning = [str(t) for t in earn] if isinstance(earn, Mapping) else []
    for t in earning:
        if t not in types:
            problems.append(((*base, "earn", t), f"unknown record type {t!r}{hint(t, types)}"))
    redeem = wallet.get("redeem")
    if isinstance(redeem, list):
        for i, t in enumerate(redeem):
            if not isinstance(t, str):
                continue
            if t not in types:
                problems.append(
                    ((*base, "redeem", i), f"unknown record type {t!r}{hint(t, types)}")
                )
            elif t in earning:
                problems.append(
                    (
                        (*base, "redeem", i),
                        f"record type {t!r} already earns points in this wallet; a type "
                        "either earns or spends",
                    )
                )
    return problems
