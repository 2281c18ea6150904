"""Chunks on a Dask cluster: a ``LocalCluster`` of K workers or an existing scheduler.

Needs the ``sim`` extra (``pip install 'socialcredit[sim]'``, dask[distributed]). Results
come back in chunk order and are added up there, so they equal the single-process result
bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from socialcredit.errors import SocialCreditError
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.sim.evaluate import evaluate_chunk
from socialcredit.sim.events import SimSpec
from socialcredit.sim.metrics import PolicyMetrics
from socialcredit.sim.scenario import Scenario


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise SocialCreditError(
            "--workers and --scheduler need Dask: pip install 'socialcredit[sim]'"
        ) from None
    return distributed


@contextmanager
def cluster_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: on a new ``LocalCluster`` of ``workers`` single-threaded
    processes, or connected to ``scheduler`` (``tcp://HOST:PORT``); closed on exit."""
    distributed = _distributed()
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except OSError as exc:
            raise SocialCreditError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = distributed.LocalCluster(
        n_workers=workers or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=50,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def run_chunks(
    client: Any,
    scenario: Scenario,
    spec: SimSpec,
    policies: list[CompiledPolicy],
    parts: list[range],
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[PolicyMetrics]]:
    """Evaluate each chunk on the cluster; yield the results in chunk order."""
    distributed = _distributed()
    sc, sp, pol = client.scatter([scenario, spec, policies], broadcast=True)
    futures = [client.submit(evaluate_chunk, sc, sp, pol, blocks, pure=False) for blocks in parts]
    sizes = {
        f.key: sum(spec.block_range(b)[1] for b in blocks)
        for f, blocks in zip(futures, parts, strict=True)
    }
    done: dict[str, list[PolicyMetrics]] = {}
    for future in distributed.as_completed(futures):
        done[future.key] = future.result()
        if progress is not None:
            progress(sizes[future.key] * spec.days * len(policies))
    for future in futures:
        yield done.pop(future.key)
