"""The points-wallet demos (``demo --system mynumber|carrot``): built end to end on a small
population; each worked example's label is true of the person picked, the figures add up,
and the redemptions asked beyond a balance are rejected at ingestion, never stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from socialcredit.demo import load_system
from socialcredit.demo.wallets import WalletDemoReport
from tests.cli.conftest import call


def _run(system: str, where: Path, n: int, seed: int = 3) -> WalletDemoReport:
    with Progress(disable=True) as progress:
        report = load_system(system).run(where, n, seed, None, progress, lambda: 2_000_000_000)
    assert isinstance(report, WalletDemoReport)
    return report


@pytest.mark.parametrize(("system", "n"), [("mynumber", 150), ("carrot", 120)])
def test_a_wallet_demo_tells_the_truth(tmp_path: Path, system: str, n: int) -> None:
    report = _run(system, tmp_path / "d", n)
    assert report.examples and len({ex.decision.subject for _, ex in report.examples}) == len(
        report.examples
    )
    for w in report.wallets:
        assert w.balance == pytest.approx(w.earned - w.redeemed - w.expired, abs=1e-6)
        assert w.balance >= 0
    assert report.redemptions_accepted > 0
    for label, ex in report.examples:
        wallets = [sc.wallet for sc in ex.standing.scores if sc.wallet is not None]
        if "expired" in label:
            assert any(w.expired > 0 for w in wallets), (label, ex.text)
        if "cap" in label:
            assert any(w.forfeited > 0 for w in wallets), (label, ex.text)
        if "refunded" in label or "redeemed" in label or "some spent" in label:
            assert any(w.redeemed > 0 for w in wallets), (label, ex.text)
        if "gold" in label:
            assert ex.standing.grade == "gold", (label, ex.text)
        assert "a balance of" in ex.text
    console = Console(file=io.StringIO(), width=120)
    load_system(system).show(report, console)
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert "redemptions:" in printed and "Traceback" not in printed


def test_the_cli_runs_the_carrot_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(
        capsys, "demo", "--system", "carrot", "--subjects", "40", "--dir", str(tmp_path / "c")
    )
    assert code == 0, err
    assert "carrot-rewards@2.0" in out and "Carrot points" in out
