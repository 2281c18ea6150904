"""An open-loop HTTP load generator: requests sent at fixed times, whatever the answers do.

    python benchmarks/openloop.py --url http://127.0.0.1:8000/v1/checks --rate 1000 \
        --seconds 15 --bodies bodies.jsonl [--token TOKEN] [--connections 64]

Request ``i`` is due at ``start + i / rate``. It goes out on an idle keep-alive connection
(of at most ``--connections``) as soon as it is due; when none is idle it waits in a queue
for the first one that frees up. Its latency is measured from the time it was due, not
from when it went out, so time spent queued because the server was slow counts (no
coordinated omission: a stalled server cannot slow the offered rate down and hide its own
delay, as a closed-loop client such as wrk does).

Prints one JSON line (``RESULT {...}``): requests due and answered, the non-2xx and
socket errors, latency percentiles in microseconds, the achieved rate, and what shows the
generator itself kept up: its own CPU time per request and as a share of one core, how
late requests went out after they were due when a connection was idle (``late_*``: the
generator's own timer and loop delay), and the longest queue of due requests waiting
for a connection (``max_queued``, which grows only when the server is slower than the
rate). Standard library only (uvloop if installed); runs as its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import time
from typing import Any
from urllib.parse import urlsplit


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection with at most one request in flight."""

    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.due = 0.0  # when the request in flight was due (perf_counter)
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, request: bytes, due: float) -> None:
        assert self.transport is not None
        self.busy = True
        self.due = due
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).split(b"\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            status = int(head[0].split()[1])
            self.busy = False
            self.gen.answered(self, status, self.due)

    def connection_lost(self, exc: Exception | None) -> None:
        self.gen.lost(self)


class Generator:
    """Sends ``requests`` in turn at ``rate`` a second for ``seconds``."""

    def __init__(
        self, host: str, port: int, requests: list[bytes], rate: float, seconds: float, pool: int
    ) -> None:
        self.host, self.port = host, port
        self.requests = requests
        self.rate = rate
        self.total = int(rate * seconds)
        self.pool = pool
        self.idle: collections.deque[Connection] = collections.deque()
        self.queue: collections.deque[float] = collections.deque()  # due times waiting
        self.opened = 0
        self.sent = 0
        self.latencies: list[float] = []
        self.late: list[float] = []
        self.errors = 0
        self.socket_errors = 0
        self.max_queued = 0
        self.done = asyncio.Event()

    def request(self) -> bytes:
        r = self.requests[self.sent % len(self.requests)]
        self.sent += 1
        return r

    def answered(self, conn: Connection, status: int, due: float) -> None:
        now = time.perf_counter()
        self.latencies.append(now - due)
        if not 200 <= status < 300:
            self.errors += 1
        if self.queue:  # the oldest due request goes out at once
            conn.send(self.request(), self.queue.popleft())
        else:
            self.idle.append(conn)
        self.check_done()

    def lost(self, conn: Connection) -> None:
        """``conn`` closed: a request in flight on it counts as a socket error."""
        self.opened -= 1
        if conn in self.idle:
            self.idle.remove(conn)
        if conn.busy:
            conn.busy = False
            self.socket_errors += 1
            self.latencies.append(time.perf_counter() - conn.due)
            self.check_done()

    def check_done(self) -> None:
        if len(self.latencies) >= self.total:
            self.done.set()

    async def open(self) -> Connection | None:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(lambda: Connection(self), self.host, self.port)
        except OSError:
            self.socket_errors += 1
            return None
        return conn

    async def run(self) -> dict[str, Any]:
        for _ in range(min(self.pool, 8)):  # a few connections up front, more when needed
            conn = await self.open()
            if conn is not None:
                self.idle.append(conn)
                self.opened += 1
        cpu0 = time.process_time()
        start = time.perf_counter()
        for i in range(self.total):
            due = start + i / self.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.idle:
                self.late.append(time.perf_counter() - due)
                self.idle.popleft().send(self.request(), due)
            elif self.opened < self.pool:
                self.opened += 1
                conn = await self.open()
                if conn is None:
                    self.opened -= 1
                    self.latencies.append(time.perf_counter() - due)
                    continue
                conn.send(self.request(), due)
            else:
                self.queue.append(due)
                self.max_queued = max(self.max_queued, len(self.queue))
        with contextlib.suppress(TimeoutError):  # what is still unanswered then counts so
            await asyncio.wait_for(self.done.wait(), timeout=30)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        answered = len(self.latencies)
        lat = sorted(self.latencies)
        late = sorted(self.late)

        def pct(values: list[float], p: float) -> int:
            if not values:
                return 0
            return round(values[min(len(values) - 1, int(len(values) * p / 100))] * 1e6)

        return {
            "offered_rate": self.rate,
            "due": self.total,
            "answered": answered,
            "unanswered": self.total - answered,
            "status_errors": self.errors,
            "socket_errors": self.socket_errors,
            "duration_us": round(elapsed * 1e6),
            "rate": answered / elapsed if elapsed else 0.0,
            "p50_us": pct(lat, 50),
            "p90_us": pct(lat, 90),
            "p99_us": pct(lat, 99),
            "p999_us": pct(lat, 99.9),
            "max_us": round(lat[-1] * 1e6) if lat else 0,
            "connections_opened": self.opened,
            "max_queued": self.max_queued,
            "late_p50_us": pct(late, 50),
            "late_p99_us": pct(late, 99),
            "late_max_us": round(late[-1] * 1e6) if late else 0,
            "generator_cpu_us_per_request": cpu / max(answered, 1) * 1e6,
            "generator_cpu_share": cpu / elapsed if elapsed else 0.0,
        }


def build_requests(url: str, bodies: list[bytes], token: str) -> tuple[str, int, list[bytes]]:
    """The host, port and the raw HTTP/1.1 requests (one per body)."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    path = parts.path or "/"
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    out = []
    for body in bodies:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode("latin-1") + body)
    return host, port, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests a second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--bodies", required=True, help="a file of JSON bodies, one a line")
    parser.add_argument("--token", default="")
    parser.add_argument("--connections", type=int, default=64, help="at most this many")
    args = parser.parse_args()
    with open(args.bodies, "rb") as fh:
        bodies = [line.rstrip(b"\n") for line in fh if line.strip()]
    host, port, requests = build_requests(args.url, bodies, args.token)
    gen = Generator(host, port, requests, args.rate, args.seconds, args.connections)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(gen.run())
    else:
        result = uvloop.run(gen.run())
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
