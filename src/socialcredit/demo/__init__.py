"""The demos: for each system the engine can run, a seeded synthetic population loaded into
a real ledger, what the system did to it and three worked explanations.

``socialcredit demo --system NAME`` runs one. Each system is a module of this package,
registered in ``SYSTEMS`` by name with one line saying what it is; it provides
(``DemoSystem``):

- ``DEFAULT_SUBJECTS``: the population size when ``--subjects`` is not given;
- ``run(directory, n_subjects, seed, policy_file, progress, clock=wall_clock)``: build the
  demo in ``directory`` (``common.prepare_directory``), return a report;
- ``show(report, console)``: print it.

A new system plugs in by adding its module and one line to ``SYSTEMS``. Importing this
package imports no system (the command line lists them cheaply); the China demo's names
(``run_demo``, ``print_report``, ``DemoReport``, ``default_policy``) are importable from here
as before.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from socialcredit.demo.common import (
    DEMO_FILES,
    DEMO_MARKER,
    DemoError,
    prepare_directory,
    wall_clock,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from socialcredit.demo.china import DemoReport, default_policy, print_report, run_demo

__all__ = [
    "DEFAULT_SYSTEM",
    "DEMO_FILES",
    "DEMO_MARKER",
    "SYSTEMS",
    "DemoError",
    "DemoReport",
    "DemoSystem",
    "default_policy",
    "describe_systems",
    "load_system",
    "prepare_directory",
    "print_report",
    "run_demo",
    "wall_clock",
]

SYSTEMS: dict[str, tuple[str, str]] = {
    "china": ("socialcredit.demo.china", "China's court list, rail and air bans, redlists"),
    "sesame": ("socialcredit.demo.sesame", "a Sesame-style 350-950 score, re-evaluated monthly"),
    "mynumber": ("socialcredit.demo.mynumber", "Japan's My Number points wallets"),
    "carrot": ("socialcredit.demo.carrot", "Carrot Rewards, points for healthy behaviour"),
    "electoral": (
        "socialcredit.demo.electoral",
        "citizens rate candidates; the top 150 are seated",
    ),
}
"""Each demo system's name (``--system``): the module that runs it, and what it is."""

DEFAULT_SYSTEM = "china"


class DemoSystem(Protocol):
    """What a demo system's module provides (see the module docstring)."""

    DEFAULT_SUBJECTS: int

    def run(
        self,
        directory: Path,
        n_subjects: int,
        seed: int,
        policy_file: Path | None,
        progress: Progress,
        clock: Callable[[], int] = ...,
    ) -> Any: ...

    def show(self, report: Any, console: Console) -> None: ...


def load_system(name: str) -> DemoSystem:
    """The demo system called ``name``; an unknown name is a ``DemoError`` that lists the
    valid ones (and the closest, when one is close)."""
    found = SYSTEMS.get(name)
    if found is None:
        names = ", ".join(SYSTEMS)
        close = difflib.get_close_matches(name, list(SYSTEMS), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise DemoError(f"--system {name}: no such demo system (choose one of {names}){hint}")
    return cast(DemoSystem, importlib.import_module(found[0]))


def describe_systems() -> str:
    """Each system by name with what it is, for ``--help``."""
    return "; ".join(f"{name}: {what}" for name, (_, what) in SYSTEMS.items())


_CHINA = frozenset({"DemoReport", "default_policy", "print_report", "run_demo"})


def __getattr__(name: str) -> Any:
    if name in _CHINA:  # the China demo's names, imported when first asked for
        return getattr(importlib.import_module("socialcredit.demo.china"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
