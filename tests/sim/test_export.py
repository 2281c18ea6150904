"""Sampled simulated subjects written into a ledger stand there as in the simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from socialcredit.engine import Engine
from socialcredit.errors import SocialCreditError
from socialcredit.examples import example_policy, example_scenario
from socialcredit.ledger import Ledger
from socialcredit.policy import compile_policy, load_policy
from socialcredit.scoring import Prepared, bulk_standings
from socialcredit.sim.draws import BLOCK, SimSpec, draw_block
from socialcredit.sim.events import chunk_columns
from socialcredit.sim.export import export_sample
from socialcredit.sim.scenario import load_scenario
from socialcredit.timeutil import parse_timestamp

NOW = parse_timestamp("2026-11-01")


def test_exported_subjects_stand_as_simulated(tmp_path: Path) -> None:
    policy = compile_policy(load_policy(example_policy("china-scs")))
    loaded = load_scenario(example_scenario("china-scs"))
    spec = SimSpec(2 * BLOCK, 300, 5, parse_timestamp("2025-01-01"))
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        names, result = export_sample(ledger, policy, loaded, spec, 40, NOW)
        assert 30 <= len(names) <= 40 and result.rejected == 0 and result.accepted > 0
        engine = Engine.open(ledger, lambda: NOW)
        draws = [draw_block(loaded.scenario, spec, b) for b in range(spec.blocks)]
        prep = Prepared.build(chunk_columns(draws, loaded.scenario, spec, policy), policy)
        for day in (30, 299):
            t = spec.day_end(day)
            bulk = bulk_standings(prep, t)
            for name in names:
                i = int(name[1:])
                live = engine.standing(name, t)
                assert live.score == pytest.approx(float(bulk.score[i]))
                want = {policy.sanctions[k].name for k in np.flatnonzero(bulk.measures[:, i])}
                assert {m.name for m in live.measures} == want
                on = {policy.lists[k].name for k in np.flatnonzero(bulk.lists[:, i])}
                assert {m.name for m in live.lists} == on
    finally:
        ledger.close()


def test_a_period_not_over_yet_is_refused(tmp_path: Path) -> None:
    policy = compile_policy(load_policy(example_policy("fair-transit")))
    loaded = load_scenario(example_scenario("fair-transit"))
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(SocialCreditError, match="after now"):
            export_sample(ledger, policy, loaded, SimSpec(100, 365, 1, NOW - 10 * 86400), 5, NOW)
    finally:
        ledger.close()
