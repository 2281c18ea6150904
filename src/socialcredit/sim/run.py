"""Running a simulation: chunks of blocks, in this process or on a Dask cluster, added up.

The result depends only on the policies, the scenario and ``SimSpec`` (population, days,
seed, start): chunks are whole blocks with their own random streams, and every metric is an
integer count added up in chunk order, so the chunk size and the number of workers change
nothing (a test compares them bit for bit).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.sim.evaluate import evaluate_chunk
from socialcredit.sim.events import BLOCK, SimSpec
from socialcredit.sim.fast import evaluate_chunk_events
from socialcredit.sim.metrics import PolicyMetrics
from socialcredit.sim.scenario import LoadedScenario

DEFAULT_CHUNK = 16 * BLOCK

EVALUATORS = {"events": evaluate_chunk_events, "reference": evaluate_chunk}
"""How chunks are read: ``events`` (each agent on the days its standing can change,
``sim.fast``) or ``reference`` (everyone on every day with ``bulk_standings``); the same
metrics bit for bit."""


@dataclass
class SimResult:
    """A finished simulation: its inputs, one ``PolicyMetrics`` per policy, and its cost."""

    spec: SimSpec
    scenario: LoadedScenario
    policies: list[CompiledPolicy]
    metrics: list[PolicyMetrics]
    chunk_size: int
    workers: str
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_bytes: int = 0
    # the largest peak resident memory of a Dask worker (None: no workers)
    worker_peak_rss_bytes: int | None = None
    evaluator: str = "events"
    notes: list[str] = field(default_factory=list)

    @property
    def agent_days(self) -> int:
        """Agents x days simulated (once per policy evaluated)."""
        return self.spec.population * self.spec.days * len(self.policies)


def chunks(spec: SimSpec, chunk_size: int) -> Iterator[range]:
    """The block ranges of chunks of about ``chunk_size`` agents (rounded up to whole blocks)."""
    per = max(1, -(-chunk_size // BLOCK))
    for first in range(0, spec.blocks, per):
        yield range(first, min(first + per, spec.blocks))


def simulate(
    policies: list[CompiledPolicy],
    scenario: LoadedScenario,
    spec: SimSpec,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
    client: object | None = None,
    evaluator: str = "events",
) -> SimResult:
    """Simulate ``spec`` under each policy; ``client``: a ``distributed.Client`` to run the
    chunks on (None: in this process). ``progress(agent_days)`` is told as work is done.
    ``evaluator``: a key of ``EVALUATORS``."""
    evaluate = EVALUATORS[evaluator]
    wall, cpu = time.perf_counter(), time.process_time()
    parts = list(chunks(spec, chunk_size))
    total = [PolicyMetrics(spec.days, len(scenario.scenario.groups)) for _ in policies]
    if client is None:
        for blocks in parts:
            for mine, theirs in zip(
                total,
                evaluate(scenario.scenario, spec, policies, blocks, progress),
                strict=True,
            ):
                mine.merge(theirs)
        workers = "1 process"
        worker_peak = None
    else:
        from socialcredit.sim.distributed import run_chunks, workers_peak_rss

        for result in run_chunks(
            client, scenario.scenario, spec, policies, parts, progress, evaluate
        ):
            for mine, theirs in zip(total, result, strict=True):
                mine.merge(theirs)
        info = client.scheduler_info()  # type: ignore[attr-defined]
        workers = f"dask: {len(info.get('workers', {}))} workers at {info.get('address', '?')}"
        worker_peak = workers_peak_rss(client)
    for m in total:
        m.finish()
    return SimResult(
        spec=spec,
        scenario=scenario,
        policies=policies,
        metrics=total,
        chunk_size=chunk_size,
        workers=workers,
        wall_seconds=time.perf_counter() - wall,
        cpu_seconds=time.process_time() - cpu,
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        worker_peak_rss_bytes=worker_peak,
        evaluator=evaluator,
    )
