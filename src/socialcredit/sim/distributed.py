"""Chunks on a Dask cluster: a ``LocalCluster`` of K workers or an existing scheduler.

Needs the ``sim`` extra (``pip install 'socialcredit[sim]'``, dask[distributed]). Results
come back in chunk order and are added up there, so they equal the single-process result
bit for bit.
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from socialcredit.errors import SocialCreditError
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.sim.draws import SimSpec
from socialcredit.sim.evaluate import evaluate_chunk
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
    import dask

    # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536; setting it turns off
    # glibc's dynamic mmap threshold, so every NumPy temporary over 128 KiB is mapped and
    # unmapped anew and its pages faulted in: a china-scs chunk took 330-440 ms of a
    # worker's CPU against 185 ms in this process. Unset (None), the workers keep glibc's
    # defaults, as this process does. (A cluster given by --scheduler keeps its own.)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
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
    evaluate: Callable[..., list[PolicyMetrics]] = evaluate_chunk,
    window: int | None = None,
) -> Iterator[list[PolicyMetrics]]:
    """Evaluate each chunk on the cluster with ``evaluate``; yield the results in chunk
    order. At most ``window`` chunks (default: twice the workers, at least 2) are submitted
    or held finished and not yet yielded at once, so memory does not grow with the
    population."""
    distributed = _distributed()
    if window is None:
        window = max(2, 2 * len(client.scheduler_info().get("workers", {})))
    queue = distributed.as_completed()
    index: dict[str, int] = {}
    done: dict[int, list[PolicyMetrics]] = {}
    submitted = 0
    to_yield = 0

    # The scenario, spec and policies are scattered once, to one worker, and each task
    # names them: passed inside each task instead, the scheduler kept every task's copy
    # (~1 MB a chunk of china-scs: the main process grew by 1 GB in 3 minutes of the
    # national run, which has 86,000 chunks). Not scattered with broadcast=True: replicating
    # to every worker up front never finished once in CI here (a worker spinning in
    # get_data_from_worker; dask/distributed#4907); the other workers fetch them as any
    # task's inputs, once each.
    inputs = client.scatter([scenario, spec, policies], hash=False)

    def submit_more() -> None:
        nonlocal submitted
        while submitted < len(parts) and submitted < to_yield + window:
            future = client.submit(evaluate, *inputs, parts[submitted], pure=False)
            index[future.key] = submitted
            queue.add(future)
            submitted += 1

    submit_more()
    while to_yield < len(parts):
        future = next(queue)
        i = index.pop(future.key)
        done[i] = future.result()
        future.release()
        if progress is not None:
            progress(sum(spec.block_range(b)[1] for b in parts[i]) * spec.days * len(policies))
        ready = []
        while to_yield in done:
            ready.append(done.pop(to_yield))
            to_yield += 1
        submit_more()  # before handing results on: the workers keep busy meanwhile
        yield from ready


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def workers_peak_rss(client: Any) -> int | None:
    """The largest peak resident memory (bytes) of the cluster's workers, or None."""
    try:
        found = client.run(_peak_rss)
    except Exception:  # a worker gone or a cluster that forbids run: not known
        return None
    return max(found.values()) if found else None
