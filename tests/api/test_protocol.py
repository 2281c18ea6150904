"""``CoalescingTransport``: what is written during one turn of the event loop goes to the
socket in one write, in order; closing writes what is held first; and a server on
``CoalescingHttpToolsProtocol`` answers byte for byte as uvicorn's own protocol does."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from socialcredit.api.metrics import Receive, Scope, Send
from socialcredit.api.protocol import CoalescingTransport
from tests.cli.test_serve import free_port


class Recording(asyncio.Transport):
    """A transport that records each write (asyncio's, not ours: the socket's stand-in)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def test_writes_of_one_loop_turn_go_out_as_one() -> None:
    async def scenario() -> Recording:
        real = Recording()
        t = CoalescingTransport(real, asyncio.get_running_loop())
        t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        t.write(b"{}")
        assert real.writes == []  # held until the end of this turn
        await asyncio.sleep(0)
        t.write(b"next")
        await asyncio.sleep(0)
        t.write(b"last")
        t.close()  # writes what is held, then closes
        return real

    real = asyncio.run(scenario())
    assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", b"next", b"last"]
    assert real.closed


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] in ("http", "lifespan")
    if scope["type"] == "lifespan":
        return
    body = b'{"ok": true, "path": "%s"}' % scope["path"].encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _exchange(http: str) -> bytes:
    """Three keep-alive requests to a uvicorn on ``http``; every byte answered, Date
    headers blanked."""
    port = free_port()
    config = uvicorn.Config(_app, port=port, http=http, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with socket.create_connection(("127.0.0.1", port)) as s:
            got = b""
            for path in ("/a", "/bb", "/ccc"):
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                want = got.count(b"}") + 1
                while got.count(b"}") < want:
                    got += s.recv(65536)
    finally:
        server.should_exit = True
        thread.join(10)
    return b"\r\n".join(
        b"date: -" if line.startswith(b"date:") else line for line in got.split(b"\r\n")
    )


def test_a_server_answers_the_same_bytes_as_uvicorns_own_protocol(tmp_path: Path) -> None:
    pytest.importorskip("httptools")
    ours = _exchange("socialcredit.api.protocol:CoalescingHttpToolsProtocol")
    theirs = _exchange("httptools")
    assert ours == theirs
    assert ours.count(b"HTTP/1.1 200 OK") == 3
