"""Score + explain one subject from the SQLite file: latency percentiles (target p99 < 5 ms)."""

from __future__ import annotations

import os
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
            times, cpu = [], []
            for subject in subjects:
                for _ in range(2):  # the second run is the one timed: warm caches, as in a service
                    start, start_cpu = time.perf_counter(), time.process_time()
                    # one call: the explanation carries the full standing (score, breakdown)
                    engine.explain(subject, services.get(subject, "air_travel"))
                    elapsed = time.perf_counter() - start
                    elapsed_cpu = time.process_time() - start_cpu
                times.append(elapsed * 1000)
                cpu.append(elapsed_cpu * 1000)
            # wall time is what a caller waits; CPU time is what the call costs, and stays
            # meaningful when other processes share the cores (wall time then includes waiting)
            for kind, values in (("wall", times), ("cpu", cpu)):
                arr = np.array(values)
                print(
                    f"score+explain, {label} ({len(arr)} subjects), {kind}: "
                    f"p50 {np.percentile(arr, 50):.2f} ms, p95 {np.percentile(arr, 95):.2f} ms, "
                    f"p99 {np.percentile(arr, 99):.2f} ms, max {arr.max():.2f} ms"
                )
        print(f"load average after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
