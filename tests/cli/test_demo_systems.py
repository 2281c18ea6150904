"""``demo --system``: one demo per system, found in a registry; an unknown name is refused
in one line that lists the valid ones, and nothing is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.demo import DEFAULT_SYSTEM, SYSTEMS, DemoError, load_system
from tests.cli.conftest import call


def test_an_unknown_system_is_refused_naming_every_valid_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = tmp_path / "d"
    code, out, err = call(capsys, "demo", "--system", "chnia", "--dir", str(where))
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "--system chnia" in err and "did you mean 'china'" in err
    for name in SYSTEMS:
        assert name in err
    assert not where.exists()


def test_every_registered_system_provides_a_demo() -> None:
    assert DEFAULT_SYSTEM == "china"
    for name in SYSTEMS:
        system = load_system(name)
        assert system.DEFAULT_SUBJECTS > 0
        assert callable(system.run) and callable(system.show)
    with pytest.raises(DemoError, match="choose one of"):
        load_system("")


def test_china_is_the_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(capsys, "demo", "--dir", str(tmp_path / "d"), "--subjects", "30")
    assert code == 0, err
    assert "china-scs" in out
