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
from pathlib import Path
from typing import Any

from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.sim.checkpoint import Checkpoint, CheckpointError, run_identity
from socialcredit.sim.draws import BLOCK, SimSpec
from socialcredit.sim.evaluate import evaluate_chunk
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
    # resumed from a checkpoint: the chunks it had done (of ``chunks``) and the earlier
    # runs' own cost (``sim.checkpoint``); 0 and [] for a run from the start
    resumed_at_chunk: int = 0
    chunks: int = 0
    earlier_parts: list[dict[str, Any]] = field(default_factory=list)
    # agent-days of the chunks after ``resumed_at_chunk`` (None: all of them)
    resumed_agent_days: int | None = None

    @property
    def agent_days(self) -> int:
        """Agents x days simulated (once per policy evaluated)."""
        return self.spec.population * self.spec.days * len(self.policies)

    @property
    def agent_days_this_run(self) -> int:
        """The agent-days this run simulated itself (all but a checkpoint's)."""
        return self.agent_days if self.resumed_agent_days is None else self.resumed_agent_days


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
    checkpoint: Path | None = None,
    checkpoint_every: float = 60.0,
) -> SimResult:
    """Simulate ``spec`` under each policy; ``client``: a ``distributed.Client`` to run the
    chunks on (None: in this process). ``progress(agent_days)`` is told as work is done.
    ``evaluator``: a key of ``EVALUATORS``. ``checkpoint``: a file the progress is saved to
    (every ``checkpoint_every`` seconds and at the end) and, when it holds a checkpoint of
    this same run, resumed from (``sim.checkpoint``: the same figures as a run never
    stopped; ``CheckpointError`` when it is of another run)."""
    evaluate = EVALUATORS[evaluator]
    wall, cpu = time.perf_counter(), time.process_time()
    parts = list(chunks(spec, chunk_size))
    total = [PolicyMetrics(spec.days, len(scenario.scenario.groups)) for _ in policies]
    saved = _Saver(checkpoint, checkpoint_every, policies, scenario, spec, chunk_size, evaluator)
    first = 0
    if saved.resumed is not None:
        total, first = saved.resumed.metrics, saved.resumed.chunks_done
        if len(total) != len(policies) or first > len(parts):
            raise CheckpointError(f"{checkpoint}: its chunks do not fit this run")
        if progress is not None and first:
            progress(
                sum(_agents(spec, blocks) for blocks in parts[:first]) * spec.days * len(policies)
            )
    done = first
    workers = "1 process"
    worker_peak = None
    merging = False  # stopped in the middle of adding a chunk up: the sums are half done

    def add(result: list[PolicyMetrics]) -> None:
        nonlocal done, merging
        merging = True
        for mine, theirs in zip(total, result, strict=True):
            mine.merge(theirs)
        done += 1
        merging = False
        saved.maybe(total, done, len(parts), wall, cpu, workers)

    try:
        if client is None:
            for blocks in parts[first:]:
                add(evaluate(scenario.scenario, spec, policies, blocks, progress))
        else:
            from socialcredit.sim.distributed import run_chunks, workers_peak_rss

            info = client.scheduler_info()  # type: ignore[attr-defined]
            workers = f"dask: {len(info.get('workers', {}))} workers at {info.get('address', '?')}"
            for result in run_chunks(
                client, scenario.scenario, spec, policies, parts[first:], progress, evaluate
            ):
                add(result)
            worker_peak = workers_peak_rss(client)
    except KeyboardInterrupt:
        # stopped (Ctrl-C): what was added up is saved, unless stopped while adding
        if not merging:
            saved.maybe(total, done, len(parts), wall, cpu, workers, final=True)
        raise
    for m in total:
        m.finish()
    saved.maybe(total, done, len(parts), wall, cpu, workers, final=True)
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
        resumed_at_chunk=first,
        chunks=len(parts),
        earlier_parts=[] if saved.resumed is None else saved.resumed.parts,
        resumed_agent_days=None
        if not first
        else sum(_agents(spec, blocks) for blocks in parts[first:]) * spec.days * len(policies),
    )


def read_checkpoint(
    path: Path,
    policies: list[CompiledPolicy],
    scenario: LoadedScenario,
    spec: SimSpec,
    chunk_size: int,
    evaluator: str = "events",
) -> Checkpoint | None:
    """The checkpoint in ``path`` that ``simulate`` with these arguments would resume
    from; None when there is no file. ``CheckpointError`` when the file is not a
    checkpoint or is one of another run (a caller can find out before it starts)."""
    if not path.exists():
        return None
    found = Checkpoint.load(path)
    found.check_matches(_identity(policies, scenario, spec, chunk_size, evaluator), path)
    return found


def _identity(
    policies: list[CompiledPolicy],
    scenario: LoadedScenario,
    spec: SimSpec,
    chunk_size: int,
    evaluator: str,
) -> dict[str, Any]:
    return run_identity(
        [p.loaded.content_hash for p in policies],
        scenario.content_hash,
        (spec.population, spec.days, spec.seed, spec.start),
        chunk_size,
        evaluator,
    )


def _agents(spec: SimSpec, blocks: range) -> int:
    return sum(spec.block_range(b)[1] for b in blocks)


class _Saver:
    """Saves a run's checkpoint now and then (and reads the one it resumes from)."""

    def __init__(
        self,
        path: Path | None,
        every: float,
        policies: list[CompiledPolicy],
        scenario: LoadedScenario,
        spec: SimSpec,
        chunk_size: int,
        evaluator: str,
    ) -> None:
        self.path = path
        self.every = every
        self.resumed: Checkpoint | None = None
        self.identity: dict[str, Any] = {}
        self.last = time.perf_counter()
        if path is None:
            return
        self.identity = _identity(policies, scenario, spec, chunk_size, evaluator)
        self.resumed = read_checkpoint(path, policies, scenario, spec, chunk_size, evaluator)

    def maybe(
        self,
        total: list[PolicyMetrics],
        done: int,
        chunks: int,
        wall: float,
        cpu: float,
        workers: str,
        final: bool = False,
    ) -> None:
        if self.path is None:
            return
        now = time.perf_counter()
        if not final and now - self.last < self.every:
            return
        first = 0 if self.resumed is None else self.resumed.chunks_done
        if done == first and self.resumed is not None:
            return  # nothing done since it was read: it stays as it is
        this = {
            "wall_seconds": round(now - wall, 3),
            "cpu_seconds_this_process": round(time.process_time() - cpu, 3),
            "chunks": done - first,
            "workers": workers,
        }
        earlier = [] if self.resumed is None else self.resumed.parts
        Checkpoint(self.identity, done, total, [*earlier, this]).save(self.path)
        self.last = time.perf_counter()
