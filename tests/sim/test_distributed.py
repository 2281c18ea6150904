"""A two-worker Dask LocalCluster gives the single-process result bit for bit, also when it
resumes a run from a checkpoint made in this process."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from socialcredit.examples import example_policy, example_scenario
from socialcredit.policy import compile_policy, load_policy
from socialcredit.sim.distributed import cluster_client, run_chunks
from socialcredit.sim.draws import SimSpec
from socialcredit.sim.fast import evaluate_chunk_events
from socialcredit.sim.run import chunks, simulate
from socialcredit.sim.scenario import load_scenario
from socialcredit.timeutil import parse_timestamp


@pytest.mark.slow
def test_two_workers_equal_one_process(tmp_path: Path) -> None:
    pols = [
        compile_policy(load_policy(example_policy(n))) for n in ("fair-transit", "carrot-rewards")
    ]
    loaded = load_scenario(example_scenario("commuters"))
    spec = SimSpec(3000, 30, 9, parse_timestamp("2026-01-01"))
    local = simulate(pols, loaded, spec, chunk_size=1024)
    # a checkpoint after the first of three chunks, made in this process
    path = tmp_path / "run.npz"
    calls: list[int] = []

    def stop_in_the_second_chunk(agent_days: int) -> None:
        calls.append(agent_days)
        if len(calls) > len(pols):  # told once per policy of each chunk
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate(pols, loaded, spec, 1024, stop_in_the_second_chunk, checkpoint=path,
                 checkpoint_every=0)  # fmt: skip
    with cluster_client(workers=2) as client:
        remote = simulate(pols, loaded, spec, chunk_size=1024, client=client)
        resumed = simulate(pols, loaded, spec, 1024, client=client, checkpoint=path)
        # a window of one chunk in flight: the same chunks, in order
        parts = list(chunks(spec, 1024))
        one_by_one = list(
            run_chunks(
                client, loaded.scenario, spec, pols, parts, evaluate=evaluate_chunk_events, window=1
            )
        )
        # the workers keep glibc's allocator defaults (dask's nannies would set a trim
        # threshold that maps and unmaps every large NumPy temporary: twice the CPU)
        trims = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert set(trims.values()) == {None}, trims
    assert remote.worker_peak_rss_bytes is not None and remote.worker_peak_rss_bytes > 10**7
    assert len(one_by_one) == len(parts) == 3
    for part, got in zip(parts, one_by_one, strict=True):
        want = evaluate_chunk_events(loaded.scenario, spec, pols, part)
        for a, b in zip(want, got, strict=True):
            for name in a.counts:
                assert np.array_equal(a.counts[name], b.counts[name]), name
    assert resumed.resumed_at_chunk == 1
    for a, b in zip(local.metrics, resumed.metrics, strict=True):
        for name in a.counts:
            assert np.array_equal(a.counts[name], b.counts[name]), name
        assert np.array_equal(a.score_keys, b.score_keys)
        assert np.array_equal(a.score_counts, b.score_counts)
    for a, b in zip(local.metrics, remote.metrics, strict=True):
        assert a.counts.keys() == b.counts.keys()
        for name in a.counts:
            assert np.array_equal(a.counts[name], b.counts[name]), name
        assert np.array_equal(a.score_keys, b.score_keys)
        assert np.array_equal(a.score_counts, b.score_counts)
