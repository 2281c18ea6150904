"""The README's "Lint a policy" sample is what the command prints (80 columns, no colour).

When a change to china-scs.yaml or to the rules' wording changes it, regenerate it with
``COLUMNS=80 socialcredit policy lint examples/policies/china-scs.yaml --select SC301,SC4``.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.cli.conftest import ROOT


def test_readme_lint_sample_is_real_output() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Lint a policy", 1)[1].split("\n## ", 1)[0]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    command, expected = block.split("\n", 1)
    assert command.startswith("$ socialcredit policy lint ")
    args = command.removeprefix("$ socialcredit ").split()
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env["COLUMNS"] = "80"
    done = subprocess.run(
        [sys.executable, "-m", "socialcredit", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1  # the sample shows errors
    assert done.stdout == expected
