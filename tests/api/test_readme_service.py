"""The README's "Run the service" commands run as written (on a small ledger instead of the
demo's, on a free port): a real server, one key per role, an entry, a check, a dispute."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import ROOT
from tests.cli.test_serve import free_port

README = (ROOT / "README.md").read_text()


def block(n: int) -> str:
    section = README.split("## Run the service", 1)[1].split("\n## ", 1)[0]
    return section.split("```bash", n + 1)[n + 1].split("```", 1)[0]


@pytest.mark.slow  # a server and six `keys create` processes: minutes on a loaded machine
def test_the_service_walkthrough_runs(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "demo.db"
    shutil.copyfile(sqlite_template, db)
    port = str(free_port())
    script = block(0).replace("demo-data/demo.db", str(db)).replace("8000", port)
    assert "socialcredit serve" in script and "kill %1" in script
    # every curl's answer on a line of its own, with its status
    script = script.replace("curl -s ", "curl -s -w '\\n%{http_code}\\n' ")
    bindir = Path(sys.executable).parent
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "PATH": f"{bindir}:{os.environ['PATH']}",
    }
    # its own process group: a server the script started is stopped even if the script fails
    proc = subprocess.Popen(
        ["bash", "-e", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=900)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == 0, stderr[-3000:]
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    lines = [x for x in done.stdout.splitlines() if x.strip()]
    answers = [
        (json.loads(body), int(code)) for body, code in zip(lines[::2], lines[1::2], strict=True)
    ]
    statuses = [code for _, code in answers]
    assert statuses == [200, 200, 200, 201, 200, 200], done.stdout[-3000:]
    entries, check, explanation, dispute, queue, verification = (a for a, _ in answers)
    assert entries["accepted"] == 1
    assert check["decision"] in ("allow", "deny") and check["check_id"]
    assert explanation["service"] == "air_travel" and explanation["explanation"]
    assert dispute["stage"] == "review" and dispute["record"] == "court/case-42"
    assert [d["record"] for d in queue["disputes"]] == ["court/case-42"]
    assert queue["next_after"] is None
    assert verification["ok"] is True


def test_the_postgres_line_names_the_options_serve_has() -> None:
    line = block(1).strip()
    for option in ("--db postgresql://", "--workers", "--host", "--public-url"):
        assert option in line
    help_text = subprocess.run(
        [sys.executable, "-m", "socialcredit", "serve", "-h"], capture_output=True, text=True
    ).stdout
    for option in ("--workers", "--host", "--public-url", "--port", "--db"):
        assert option in help_text
