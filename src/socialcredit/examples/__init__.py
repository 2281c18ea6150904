"""The example policies shipped with the package (also reachable as ``examples/policies`` in a
checkout): ``china-scs.yaml`` (the seed system), ``fair-transit.yaml`` and ``carrot-rewards.yaml``.
"""

from __future__ import annotations

from pathlib import Path

POLICIES = Path(__file__).resolve().parent / "policies"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def example_policy(name: str) -> Path:
    """The path of the shipped example policy ``name`` (with or without ``.yaml``)."""
    stem = name.removesuffix(".yaml")
    return POLICIES / f"{stem}.yaml"


def example_policies() -> list[Path]:
    """Every shipped example policy, sorted by name."""
    return sorted(POLICIES.glob("*.yaml"))


def example_scenario(name: str) -> Path:
    """The path of the shipped simulation scenario ``name`` (with or without ``.yaml``): the
    default scenario of the example policy of that name, or ``commuters``."""
    stem = name.removesuffix(".yaml")
    return SCENARIOS / f"{stem}.yaml"
