"""Score + explain one subject from the SQLite file: latency percentiles (target p99 < 5 ms)."""

from __future__ import annotations

import random
import time

import numpy as np

from _common import SPEC, demo_db, machine
from socialcredit.engine import Engine
from socialcredit.ledger import Ledger


def main() -> None:
    print(f"machine: {machine()}")
    db = demo_db()
    rng = random.Random(7)
    with Ledger.open(str(db)) as ledger:
        engine = Engine.open(ledger, lambda: SPEC.end)
        names = ledger.subject_names()
        # a uniform sample, plus every sanctioned subject in a slice, where explaining costs most
        sample = rng.sample(names, 1500)
        bulk = engine.recompute()
        deny = [x.index for x in engine.policy.sanctions if x.effect == "deny"]
        sanctioned = [bulk.subjects[i] for i in np.flatnonzero(bulk.measures[deny].any(axis=0))]
        first_denial = {
            bulk.subjects[i]: engine.policy.sanctions[
                deny[int(np.argmax(bulk.measures[deny, i]))]
            ].service
            for i in np.flatnonzero(bulk.measures[deny].any(axis=0))
        }
        services = first_denial
        for label, subjects in (
            ("uniform sample", sample),
            ("sanctioned subjects", sanctioned[:1500]),
        ):
            times = []
            for subject in subjects:
                for _ in range(2):  # the second run is the one timed: warm caches, as in a service
                    start = time.perf_counter()
                    # one call: the explanation carries the full standing (score, breakdown)
                    engine.explain(subject, services.get(subject, "air_travel"))
                    elapsed = time.perf_counter() - start
                times.append(elapsed * 1000)
            arr = np.array(times)
            print(
                f"score+explain, {label} ({len(arr)} subjects): p50 {np.percentile(arr, 50):.2f} ms, "
                f"p95 {np.percentile(arr, 95):.2f} ms, p99 {np.percentile(arr, 99):.2f} ms, "
                f"max {arr.max():.2f} ms"
            )


if __name__ == "__main__":
    main()
