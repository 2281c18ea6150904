"""A run builds only the command it invokes, and reads exactly as with the whole app."""

from __future__ import annotations

import pytest

from socialcredit.cli import app, app_for, run
from socialcredit.cli.common import _main

COMMANDS = ["check", "score", "explain", "subjects", "export", "ingest", "init", "demo", "examples"]


def test_a_named_command_is_the_only_one_built() -> None:
    narrowed = app_for(["check", "P1", "air_travel"])
    assert [c.callback.__name__ for c in narrowed.registered_commands if c.callback] == ["check"]
    assert narrowed.registered_groups == []
    assert narrowed.registered_callback is app.registered_callback
    assert narrowed.registered_callback.callback is _main  # type: ignore[union-attr]
    policy = app_for(["policy", "validate", "x.yaml"])
    assert policy.registered_commands == []
    assert [g.name for g in policy.registered_groups] == ["policy"]
    # the module's app keeps every command
    assert len(app.registered_commands) > 1 and app.registered_groups


@pytest.mark.parametrize(
    "args", [[], ["--version"], ["-h"], ["chek", "P1"], ["--db", "x", "check"]]
)
def test_anything_but_a_command_name_first_gets_the_whole_app(args: list[str]) -> None:
    assert app_for(args) is app


def _whole(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    try:
        code: object = app(args, standalone_mode=False)
    except SystemExit as exc:  # pragma: no cover - help exits through Click in some versions
        code = exc.code
    except Exception as exc:  # usage errors: compare their message
        code = type(exc).__name__ + str(exc)
    out, err = capsys.readouterr()
    return code, out, err


def _narrowed(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    try:
        code: object = app_for(args)(args, standalone_mode=False)
    except SystemExit as exc:  # pragma: no cover
        code = exc.code
    except Exception as exc:
        code = type(exc).__name__ + str(exc)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "args",
    [[name, "-h"] for name in COMMANDS]
    + [["policy", "-h"], ["policy", "validate", "-h"], ["policy", "activate", "-h"]]
    + [["check"], ["check", "P1"], ["explain", "--bogus"], ["policy", "nope"]],
)
def test_help_and_usage_errors_read_as_with_the_whole_app(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _narrowed(args, capsys) == _whole(args, capsys)


def test_run_uses_the_narrowed_app(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["check", "-h"]) == 0
    out, _ = capsys.readouterr()
    assert "What a service point learns" in out
