"""API key authentication, in process: what every request of `socialcredit serve` pays.

``KeyStore.authenticate`` on a valid, cached key (the hot path: a dict lookup and one
SHA-256), on a made-up token of an unknown key id (remembered as unknown for a second), and
on a malformed string; with the baseline of a bare ``dict`` lookup plus ``hashlib.sha256``
and ``hmac.compare_digest`` of the same token, timed in the same run. Each figure is the
best of ``--repeat`` runs of ``--n`` calls (the machine is shared: the best run is the one
least disturbed). The refresh of revoked keys (one query a second) is included, as a server
would pay it.

    .venv/bin/python benchmarks/bench_keys.py [--n 200000] [--repeat 5] [--db PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import tempfile
import time
from collections.abc import Callable

from _common import machine
from socialcredit.keys import KeyStore
from socialcredit.ledger import Ledger


def best(fn: Callable[[], object], n: int, repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``n`` calls, in calls per second."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append(time.perf_counter() - start)
    return n / min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="a SQLite file or database URL (default: a new temp file)")
    args = parser.parse_args()
    db = args.db or os.path.join(tempfile.mkdtemp(), "keys.db")
    with Ledger.open(db) as ledger:
        ledger.upgrade()
        store = KeyStore(ledger)
        for i in range(100):  # a realistic table: many keys, some revoked
            key, _ = store.create("enforcer:air_travel", f"gate {i}", 1_790_000_000)
            if i % 10 == 0:
                store.revoke(key.key_id, 1_790_000_001)
        _, token = store.create("enforcer:air_travel", "bench", 1_790_000_000)
        assert store.authenticate(token) is not None
        unknown = "sck_0123456789abcdef_" + "A" * 43
        key_id = token.split("_")[1]
        table = {key_id: hashlib.sha256(token.encode()).digest()}

        def bare() -> bool:
            return hmac.compare_digest(
                hashlib.sha256(token.encode("ascii")).digest(), table[token[4:20]]
            )

        assert bare() and key_id == token[4:20]
        print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}; database {ledger.url}")
        for label, fn in (
            ("baseline: dict lookup + sha256 + compare_digest", bare),
            ("authenticate(valid, cached token)", lambda: store.authenticate(token)),
            ("authenticate(unknown key id)", lambda: store.authenticate(unknown)),
            ("authenticate('Bearer nonsense')", lambda: store.authenticate("Bearer nonsense")),
        ):
            rate = best(fn, args.n, args.repeat)
            print(f"{label:50s} {rate:12,.0f} /s  ({1e6 / rate:.2f} µs each)")


if __name__ == "__main__":
    main()
