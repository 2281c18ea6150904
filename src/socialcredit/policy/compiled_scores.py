"""Scores compiled: each score's base, bounds, components and grade bands, as arrays for
evaluating one subject or a nation at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from socialcredit.policy.model import Grade, NamedScore
from socialcredit.spans import Span


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
    # a component valued by related subjects' scores: (relation code, score index); None: not
    related: tuple[int, int] | None = None

    @property
    def clean_year(self) -> bool:
        """Whether this is a clean-year reward (else it sums the points of its records)."""
        return self.clean_points is not None

    @property
    def capped(self) -> bool:
        """Whether the component has a lower or upper bound."""
        return bool(np.isfinite(self.low) or np.isfinite(self.high))


@dataclass(frozen=True)
class CompiledWallet:
    """A points wallet (``policy.wallets``), per record type code (the last entry a type the
    policy does not know): what a record earns (fixed points, or a rate of its amount),
    whether it spends, the caps and how long points last."""

    unit: str
    earn_points: npt.NDArray[np.float64]  # fixed points per record (0: none)
    earn_rate: npt.NDArray[np.float64]  # points per unit of amount (0: none)
    redeems: npt.NDArray[np.bool_]
    caps: tuple[tuple[float, str], ...]  # (points, per: year | month | lifetime)
    expire_after: Span | None  # None: points never expire

    @property
    def earns(self) -> npt.NDArray[np.bool_]:
        """Per type code: records of it earn points."""
        out: npt.NDArray[np.bool_] = (self.earn_points > 0) | (self.earn_rate > 0)
        return out


@dataclass(frozen=True)
class CompiledRating:
    """A ``rating`` score's rule: which record types are ratings (per type code, the last
    entry a type the policy does not know), their range and the prior."""

    counts: npt.NDArray[np.bool_]
    lowest: float
    highest: float
    prior_mean: float
    prior_weight: float


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
    wallet: CompiledWallet | None = None  # form "wallet": its rules
    rating: CompiledRating | None = None  # form ``rating``: its ratings and prior

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
        # the first band with a published floor at or below the score (else the last band),
        # but -1 where a band with an unpublished floor just above it might hold the score
        floors, bands = self._published_bands
        out: npt.NDArray[np.int64] = bands[np.searchsorted(floors, -score, side="left")]
        return out

    @cached_property
    def _published_bands(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """(the published floors, negated: ascending; per position among them, the band
        ``grade_of`` gives), worked out once per score."""
        known = np.append(np.flatnonzero(~self.unpublished[:-1]), len(self.grade_names) - 1)
        band = known.astype(np.int64)
        above_unknown = np.concatenate([[False], self.unpublished[:-1]])
        bands = np.where(above_unknown[band], -1, band).astype(np.int64)
        bands.flags.writeable = False
        floors = -self.grade_floor[known[:-1]]
        floors.flags.writeable = False
        return floors, bands

    def grade_label(self, index: int) -> str | None:
        """The grade's name, None for -1 (not determinable)."""
        return self.grade_names[index] if index >= 0 else None


NOT_DETERMINABLE = "not determinable: the cut-offs are unpublished"
"""What a person is told instead of a grade their score may or may not reach."""


def _floors(grades: list[Grade]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    floors = [g.at_least if isinstance(g.at_least, int | float) else -np.inf for g in grades]
    return (
        np.array(floors, dtype=np.float64),
        np.array([g.unpublished for g in grades], dtype=np.bool_),
    )


def _bound(value: float | None, default: float) -> float:
    return float(value) if value is not None else default


def compile_score(
    index: int,
    name: str | None,
    sc: NamedScore,
    names: tuple[str, ...],
    categories: Sequence[str],
    relations: Sequence[str] = (),
    score_names: Sequence[str | None] = (),
) -> CompiledScore:
    """One declared score (``name`` None: the unnamed one), over the record types ``names``
    with their ``categories``; ``relations`` and ``score_names`` (every declared score, in
    order) for components valued by related subjects' scores."""
    components = []
    for cname, comp in sc.components.items():
        source = comp.clean_year if comp.clean_year is not None else comp
        wanted = set(source.types or []) if comp.related is None else set()
        category = source.category if comp.related is None else None
        counts = np.array(
            [n in wanted or categories[i] == category for i, n in enumerate(names)] + [False],
            dtype=np.bool_,
        )
        related = (
            (
                list(relations).index(comp.related.relation),
                list(score_names).index(comp.related.score),
            )
            if comp.related is not None
            else None
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
                related=related,
            )
        )
    rating = None
    if sc.rating is not None:
        rated = set(sc.rating.types)
        rating = CompiledRating(
            counts=np.array([n in rated for n in names] + [False], dtype=np.bool_),
            lowest=float(sc.rating.lowest),
            highest=float(sc.rating.highest),
            prior_mean=float(sc.rating.prior_mean),
            prior_weight=float(sc.rating.prior_weight),
        )
    floors, unpublished = _floors(sc.grades)
    wallet = None
    if sc.wallet is not None:
        earn = sc.wallet.earn
        wallet = CompiledWallet(
            unit=sc.wallet.unit,
            earn_points=np.array(
                [float(earn[n].points or 0) if n in earn else 0.0 for n in names] + [0.0]
            ),
            earn_rate=np.array(
                [float(earn[n].rate or 0) if n in earn else 0.0 for n in names] + [0.0]
            ),
            redeems=np.array([n in sc.wallet.redeem for n in names] + [False], dtype=np.bool_),
            caps=tuple((float(c.points), c.per) for c in sc.wallet.caps),
            expire_after=sc.wallet.expire_after,
        )
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
        wallet=wallet,
        rating=rating,
    )
