"""A process appending audit events: ``python append_worker.py URL NAME COUNT [flush-then-spin]``.

With a fifth argument, prints ``ready`` and waits for that file to exist, so that several
workers start together. Appends COUNT events with subjects ``NAME-0`` … through an
``AuditLog`` writing in the background, then closes it. With ``spin``: flushes, prints
``flushed COUNT``, then keeps appending until killed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from socialcredit.audit import AuditEvent, AuditLog
from socialcredit.ledger import Ledger


def main() -> None:
    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else ""
    go = Path(sys.argv[5]) if len(sys.argv) > 5 else None
    ledger = Ledger.open(url)
    audit = AuditLog(ledger, interval=0.002, batch=100)
    if go is not None:
        print("ready", flush=True)
        while not go.exists():
            time.sleep(0.005)

    def event(i: int) -> AuditEvent:
        return AuditEvent(
            "k", "enforcer:rail", "POST /v1/checks", f"{name}-{i}", "allow", "1", time.time()
        )

    for i in range(count):
        audit.append(event(i))
        if i % 10 == 0:
            time.sleep(0.001)  # let the other worker's writes interleave with this one's
    if mode == "spin":
        audit.flush()
        print(f"flushed {count}", flush=True)
        i = count
        while True:
            audit.append(event(i))
            i += 1
            if i % 100 == 0:
                time.sleep(0.001)
    audit.close()
    ledger.close()


if __name__ == "__main__":
    main()
