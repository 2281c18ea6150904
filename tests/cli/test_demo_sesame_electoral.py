"""``demo --system sesame`` and ``demo --system electoral`` on small populations: what the
system did and three worked explanations, each true of the ledger the demo built."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.engine import Engine
from socialcredit.ledger import Ledger
from tests.cli.conftest import call


@pytest.mark.slow
def test_the_electoral_demo_seats_150_and_explains_three_places(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = tmp_path / "d"
    code, out, err = call(
        capsys, "demo", "--system", "electoral", "--subjects", "3000", "--dir", str(where)
    )
    assert code == 0, err
    assert "electoral-credit@0.1" in out
    assert "refused at ingestion: 12 lines (field source)" in out  # the self-ratings
    assert "nobody rates themselves" in out
    assert out.count("you ranked ") == 3
    assert "within the 150 seats" in out and "outside the 150 seats" in out
    assert "you hold the last of the 150 seats" in out
    with Ledger.open(f"sqlite:///{where / 'demo.db'}") as ledger:
        at = 1_793_491_200  # 2026-11-01, the demo's report time
        bulk = Engine.open(ledger, lambda: at).recompute(at)
        assert int(bulk.lists[0].sum()) == 150
    for citizen in ("C0000001", "C0000002"):  # no rater is named in an explanation
        assert citizen not in out


@pytest.mark.slow
def test_the_sesame_demo_scores_bands_perks_and_explains_what_moved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = call(
        capsys, "demo", "--system", "sesame", "--subjects", "400", "--dir", str(tmp_path / "d")
    )
    assert code == 0, err
    assert "sesame-style@2015.1" in out and "SC303" in out
    for band in ("extremely good", "excellent", "good", "fair", "poor"):
        assert band in out
    assert (
        out.count("At the re-evaluation of 2026-11-01 your Sesame-style score moved")
        + out.count("At the re-evaluation of 2026-11-01 nothing moved")
        == 3
    )


@pytest.mark.parametrize("size", [1, 40])
def test_the_sesame_heading_names_the_population_at_any_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], size: int
) -> None:
    code, out, err = call(
        capsys, "demo", "--system", "sesame", "--subjects", str(size), "--dir", str(tmp_path)
    )
    assert code == 0, err
    heading = out.strip().splitlines()[0]
    users = int(heading.split()[0].replace(",", ""))
    noun = "app user in" if users == 1 else "app users in"
    assert f" {noun} the ledger (of a synthetic population of {size})" in heading
    with Ledger.open(f"sqlite:///{tmp_path / 'demo.db'}") as ledger:
        assert users == len(ledger.subject_names()) <= size


@pytest.mark.parametrize(("seed", "ranked"), [(1, 0), (3, 3)])
def test_the_electoral_demo_of_one_citizen_ranks_few_or_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int, ranked: int
) -> None:
    # one citizen, seed 1: no rating of 2025 counted, nobody ranked (it was an IndexError
    # traceback); seed 3: 3 candidates for 150 seats, none of them "in the last seat"
    where = tmp_path / "d"
    args = ("--system", "electoral", "--subjects", "1", "--seed", str(seed), "--dir", str(where))
    code, out, err = call(capsys, "demo", *args)
    assert code == 0, err
    assert "Traceback" not in out + err
    assert "in the last seat" not in out and "nan" not in out
    if ranked == 0:
        assert "credit of the last seat (nobody was ranked)" in out
        assert "you ranked " not in out
    else:
        assert "credit of the last seated (fewer candidates than seats)" in out
        assert f"Seated, the last of the {ranked} ranked (fewer candidates than seats)" in out
        assert out.count("you ranked ") == 2
