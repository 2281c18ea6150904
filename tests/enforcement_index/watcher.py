"""A second process for the delay test: builds an index of the ledger at ``sys.argv[1]``
with a refresher, prints ``ready``, then for each subject named on stdin prints the wall
time at which a check on it (``air_travel``, now) first answers ``deny``."""

from __future__ import annotations

import sys
import time

from socialcredit.enforcement_index import EnforcementIndex, Refresher
from socialcredit.engine import Engine
from socialcredit.ledger import Ledger


def main() -> None:
    ledger = Ledger.open(sys.argv[1])
    engine = Engine.open(ledger, lambda: int(time.time()))
    index = EnforcementIndex.build(engine)
    with Refresher(index, interval=float(sys.argv[2])):
        print("ready", flush=True)
        for line in sys.stdin:
            subject = line.strip()
            if not subject:
                break
            deadline = time.monotonic() + 30
            while index.check(subject, "air_travel").decision != "deny":
                if time.monotonic() > deadline:
                    print("timeout", flush=True)
                    return
                time.sleep(0.002)
            print(f"changed {time.time():.6f}", flush=True)
    ledger.close()


if __name__ == "__main__":
    main()
