"""A run stopped part-way and resumed from its checkpoint gives the figures of a run never
stopped, bit for bit; a checkpoint of another run, or a file that is none, is refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.sim.test_simulate import START, policy, same, scenario

from socialcredit.cli import run
from socialcredit.examples import example_policy
from socialcredit.sim.checkpoint import Checkpoint, CheckpointError
from socialcredit.sim.draws import SimSpec
from socialcredit.sim.run import chunks, simulate


class Stop(Exception):
    """Raised from the progress callback: the run dies part-way."""


def _stopped_after(chunks_evaluated: int) -> object:
    seen = []

    def progress(agent_days: int) -> None:
        seen.append(agent_days)
        if len(seen) > chunks_evaluated:  # told at the end of each chunk's evaluation
            raise Stop

    return progress


@pytest.mark.parametrize("stop_after", [2, 5])
def test_a_resumed_run_gives_the_figures_of_one_never_stopped(
    tmp_path: Path, stop_after: int
) -> None:
    pols = [policy("fair-transit"), policy("carrot-rewards")]
    loaded = scenario("commuters")
    spec = SimSpec(5000, 30, 4, START)
    whole = simulate(pols, loaded, spec, chunk_size=1024)
    path = tmp_path / "run.ckpt.npz"
    with pytest.raises(Stop):
        simulate(
            pols, loaded, spec, 1024, _stopped_after(stop_after),  # type: ignore[arg-type]
            checkpoint=path, checkpoint_every=0,
        )  # fmt: skip
    saved = Checkpoint.load(path)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # as any new file, not 0600
    # each policy's chunk is told as evaluated: the stop falls inside a chunk's policies
    assert saved.chunks_done == stop_after // len(pols)
    told: list[int] = []
    resumed = simulate(pols, loaded, spec, 1024, told.append, checkpoint=path, checkpoint_every=0)
    assert resumed.resumed_at_chunk == saved.chunks_done
    assert sum(told) == spec.population * spec.days * len(pols)  # the bar starts where it was
    same(whole, resumed)
    assert resumed.metrics[0].read_by == whole.metrics[0].read_by
    n_chunks = len(list(chunks(spec, 1024)))
    assert Checkpoint.load(path).chunks_done == n_chunks
    # the finished checkpoint resumed once more: nothing left to do, the same figures
    again = simulate(pols, loaded, spec, 1024, checkpoint=path)
    assert again.resumed_at_chunk == n_chunks
    same(whole, again)


def test_a_checkpoint_of_another_run_is_refused(tmp_path: Path) -> None:
    pols = [policy("fair-transit")]
    loaded = scenario("fair-transit")
    path = tmp_path / "run.npz"
    simulate(pols, loaded, SimSpec(1500, 10, 1, START), 1024, checkpoint=path)
    with pytest.raises(CheckpointError, match="its seed differs"):
        simulate(pols, loaded, SimSpec(1500, 10, 2, START), 1024, checkpoint=path)
    with pytest.raises(CheckpointError, match="its chunk size differs"):
        simulate(pols, loaded, SimSpec(1500, 10, 1, START), 2048, checkpoint=path)
    with pytest.raises(CheckpointError, match="its policies"):
        simulate([policy("carrot-rewards")], scenario("carrot-rewards"),
                 SimSpec(1500, 10, 1, START), 1024, checkpoint=path)  # fmt: skip
    garbage = tmp_path / "notes.txt"
    garbage.write_text("not a checkpoint\n")
    with pytest.raises(CheckpointError, match="not a simulation checkpoint"):
        simulate(pols, loaded, SimSpec(1500, 10, 1, START), 1024, checkpoint=garbage)
    assert garbage.read_text() == "not a checkpoint\n"  # left as it was


def test_the_command_resumes_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "simulate", "--policy", str(example_policy("fair-transit")),
        "--population", "2100", "--days", "8", "--seed", "5",
        "--chunk-size", "1024", "--checkpoint", str(tmp_path / "c.npz"),
    ]  # fmt: skip
    assert run([*args, "--report", str(tmp_path / "first")]) == 0
    capsys.readouterr()
    assert run([*args, "--report", str(tmp_path / "again")]) == 0
    assert "resumed from" in capsys.readouterr().err
    first = json.loads((tmp_path / "first/summary.json").read_text())
    again = json.loads((tmp_path / "again/summary.json").read_text())
    assert first["headline"] == again["headline"]
    assert again["cost"]["resumed_at_chunk"] == again["cost"]["chunks"] == 3
    assert again["cost"]["agent_days_this_run"] == 0
    assert len(again["cost"]["earlier_parts"]) == 1
    assert (
        "Resumed from a checkpoint after 3 of 3 chunks"
        in (tmp_path / "again/report.html").read_text()
    )
    other = [a if a != "5" else "6" for a in args]
    assert run([*other, "--report", str(tmp_path / "other")]) == 2
    err = capsys.readouterr().err
    assert "a checkpoint of another run: its seed differs (5 there, 6 here)" in err
    assert "Traceback" not in err and not (tmp_path / "other").exists()


def test_ctrl_c_saves_what_was_added_up(tmp_path: Path) -> None:
    """Stopped by Ctrl-C long before the minute's save: the chunks added up by then are
    saved all the same, and the run goes on from them to the figures of one never stopped."""
    pols = [policy("fair-transit")]
    loaded = scenario("fair-transit")
    spec = SimSpec(4100, 12, 3, START)
    path = tmp_path / "c.npz"
    seen: list[int] = []

    def interrupt_in_the_third_chunk(agent_days: int) -> None:
        seen.append(agent_days)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate(pols, loaded, spec, 1024, interrupt_in_the_third_chunk, checkpoint=path)
    assert Checkpoint.load(path).chunks_done == 2
    resumed = simulate(pols, loaded, spec, 1024, checkpoint=path)
    assert resumed.resumed_at_chunk == 2
    same(simulate(pols, loaded, spec, 1024), resumed)
