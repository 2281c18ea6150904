"""``socialcredit serve`` starts the service on uvicorn, with one or several workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import call


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, proc: subprocess.Popen[bytes], within: float = 30.0) -> None:
    """Wait until ``base``/healthz answers 200 (fail if the process dies or time runs out)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise AssertionError(f"the server exited with {proc.returncode}: {stderr[-2000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not become healthy within {within} s")


def start(
    db: str, *extra: str, port: int | None = None, within: float = 30.0
) -> tuple[str, subprocess.Popen[bytes]]:
    """``socialcredit serve --db DB`` on ``port`` (None: a free one), in its own process
    group, once it answers (within ``within`` seconds)."""
    port = free_port() if port is None else port
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialcredit", "serve", "--db", db, "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, within)
    except AssertionError:
        stop(proc)
        raise
    return base, proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server (SIGTERM to its process group, then SIGKILL after 10 s)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_health_openapi_and_metrics(db: str, workers: str) -> None:
    base, proc = start(db, "--workers", workers)
    try:
        assert httpx.get(base + "/openapi.json").json()["info"]["title"] == "socialcredit"
        for _ in range(4):
            httpx.get(base + "/healthz")
        metrics = httpx.get(base + "/metrics").text
        # in multiprocess mode the counts of every worker are summed
        assert 'route="/healthz",status="200"' in metrics
    finally:
        stop(proc)


def test_serve_refuses_a_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = call(capsys, "serve", "--db", str(tmp_path / "none.db"))
    assert code == 2
    assert "socialcredit init" in err


def test_serve_without_the_service_extra_says_what_to_install(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed: import fails
    code, _, err = call(capsys, "serve", "--db", db, "--port", "0")
    assert code == 2
    assert "pip install 'socialcredit[service]'" in err and "Traceback" not in err
