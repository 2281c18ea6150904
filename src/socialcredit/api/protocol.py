"""uvicorn's httptools protocol with each response written to the socket once.

uvicorn writes a response's status line and headers when the application sends
``http.response.start`` and the body when it sends ``http.response.body``: two ``write``
calls, and (with ``TCP_NODELAY``, as uvloop sets) two system calls and two TCP segments
for every small JSON answer. ``CoalescingHttpToolsProtocol`` hands uvicorn a transport
that keeps what is written during one turn of the event loop and writes it at the end of
that turn in one call: the same bytes in the same order, one system call, no added wait
(the flush runs before the loop next polls the sockets). Closing, aborting or half-closing
the transport writes what is held first (abort discards it, as it discards the rest).

``socialcredit serve`` runs uvicorn with it (``HTTP``); without httptools installed uvicorn
falls back to its default protocol.
"""

from __future__ import annotations

import asyncio
from typing import Any

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn without httptools
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

HTTP = (
    "socialcredit.api.protocol:CoalescingHttpToolsProtocol"
    if HttpToolsProtocol is not None
    else "auto"
)
"""What ``socialcredit serve`` passes to uvicorn as its HTTP protocol."""


class CoalescingTransport:
    """A transport that writes, once per event-loop turn, what was written during it."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            self._loop.call_soon(self._flush)
        self._held.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def _flush(self) -> None:
        held, self._held = self._held, []
        if held and not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._held))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


if HttpToolsProtocol is not None:

    class CoalescingHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol over a ``CoalescingTransport``."""

        def connection_made(self, transport: Any) -> None:
            wrapped: Any = CoalescingTransport(transport, self.loop)
            super().connection_made(wrapped)
