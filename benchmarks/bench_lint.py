"""Linting the largest example policy (china-scs.yaml) after start-up: the issue's target
is under 200 ms. Times, in CPU seconds of this process (``time.process_time``: on a shared
machine wall-clock figures are meaningless), the best of ``--repeat`` runs of: reading and
validating the file (``load_policy``), linting the loaded policy (``lint_policy``), both
together, and the impact sentences of ``--explain``. The first lint (cold: nothing cached)
is reported apart.

    .venv/bin/python benchmarks/bench_lint.py [--repeat 20] [--policy FILE]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from _common import machine
from socialcredit.examples import example_policy
from socialcredit.lint import lint_policy
from socialcredit.lint.impact import impact_sentences
from socialcredit.policy import load_policy


def best(fn: Callable[[], object], repeat: int) -> float:
    """The least CPU time of ``repeat`` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--policy", default=str(example_policy("china-scs")))
    args = parser.parse_args()
    print(machine())
    start = time.process_time()
    loaded = load_policy(args.policy)
    report = lint_policy(loaded)
    cold = (time.process_time() - start) * 1000
    print(f"policy {loaded.label}: {len(loaded.text.splitlines())} lines, "
          f"{len(report.findings)} findings")  # fmt: skip
    print(f"first load + lint (cold)  {cold:8.1f} ms CPU")
    print(
        f"load_policy               {best(lambda: load_policy(args.policy), args.repeat):8.1f} ms CPU"
    )
    print(f"lint_policy               {best(lambda: lint_policy(loaded), args.repeat):8.1f} ms CPU")
    both = best(lambda: lint_policy(load_policy(args.policy)), args.repeat)
    print(f"load + lint               {both:8.1f} ms CPU   (target < 200 ms)")
    print(
        f"impact sentences          {best(lambda: impact_sentences(loaded.policy), args.repeat):8.1f} ms CPU"
    )


if __name__ == "__main__":
    main()
