"""Simulated subjects written into a ledger, to be browsed with ``score`` and ``explain``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from socialcredit.errors import SocialCreditError
from socialcredit.ledger import Ledger
from socialcredit.ledger.results import IngestResult
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.sim.draws import BLOCK, SimSpec, draw_block
from socialcredit.sim.evaluate import evaluate_draws
from socialcredit.sim.events import block_entries
from socialcredit.sim.scenario import LoadedScenario
from socialcredit.timeutil import to_date


def sample_agents(spec: SimSpec, k: int) -> list[int]:
    """``k`` agents drawn without replacement by the run's seed (a stream of its own, so the
    sample does not change the simulation), in agent order."""
    rng = np.random.Generator(
        np.random.Philox(np.random.SeedSequence(spec.seed, spawn_key=(2**32 - 1,)))
    )
    chosen = rng.choice(spec.population, size=min(k, spec.population), replace=False)
    return sorted(int(a) for a in chosen)


def sample_entries(
    policy: CompiledPolicy, loaded: LoadedScenario, spec: SimSpec, agents: list[int]
) -> list[dict[str, object]]:
    """The ledger entries the simulation generated under ``policy`` about ``agents`` and the
    subjects they stand in a relation to (whose measures can reach them), block by block in
    ledger order, as the simulation generated them (with its behaviour response and exits:
    each of their blocks is evaluated again to find them)."""
    out: list[dict[str, object]] = []
    by_block: dict[int, list[int]] = {}
    for a in agents:
        by_block.setdefault(a // BLOCK, []).append(a % BLOCK)
    for block, local in sorted(by_block.items()):
        draws = draw_block(loaded.scenario, spec, block)
        mine = np.array(local, dtype=np.int64)
        related = draws.rel_related[np.isin(draws.rel_subject, mine)]
        wanted = np.union1d(mine, related)
        gone: list[npt.NDArray[np.bool_]] = []
        sc = loaded.scenario
        if (sc.behaviour.while_sanctioned < 1 and sc.behaviour.types) or (
            sc.exit.yearly_while_sanctioned > 0
        ):
            # conduct that a response or an exit prevented never reached the ledger
            evaluate_draws(sc, spec, policy, [draws], suppressed=gone)
        out += block_entries(draws, sc, spec, policy, wanted, suppressed=gone[0] if gone else None)
    return out


def export_sample(
    ledger: Ledger,
    policy: CompiledPolicy,
    loaded: LoadedScenario,
    spec: SimSpec,
    k: int,
    now: int | Callable[[], int],
) -> tuple[list[str], IngestResult]:
    """Write ``k`` sampled subjects' entries (``sample_entries``) into ``ledger`` as history
    (a backfill: each entry counts from its own ``recorded_at``), with ``policy`` activated
    from the simulation's start (a backfill too). Returns the identifiers of the sampled
    subjects that have entries (one with none is not in a ledger) and what the ingestion did; raises ``SocialCreditError`` if any entry is rejected."""
    clock = now() if callable(now) else now
    if spec.end > clock:
        raise SocialCreditError(
            f"--export-sample: the simulated period ends {to_date(spec.end)}, after now; a "
            "ledger holds no entries from the future (choose an earlier --start or fewer --days)"
        )
    agents = sample_agents(spec, k)
    entries = sample_entries(policy, loaded, spec, agents)
    loaded_policy = policy.loaded
    ledger.upgrade()
    ledger.activate_policy(
        loaded_policy.text,
        loaded_policy.policy.policy,
        loaded_policy.policy.version,
        loaded_policy.content_hash,
        spec.start,
        "simulate --export-sample",
        now=now,
        backfill=True,
    )
    lines = ((i, entry, None) for i, entry in enumerate(entries, start=1))
    result = ledger.ingest(lines, "simulate --export-sample", None, now, backfill=True)
    if result.rejected:
        first = "; ".join(f"entry {p.line}: {p.message}" for p in result.problems[:3])
        raise SocialCreditError(f"{result.rejected} simulated entries were rejected ({first})")
    named = {e.get("subject") for e in entries}
    return [name for a in agents if (name := f"A{a:010d}") in named], result
