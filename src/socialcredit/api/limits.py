"""The largest request body the service reads (413 beyond it, before it is all read)."""

from __future__ import annotations

import orjson
from starlette.exceptions import HTTPException

from socialcredit.api.metrics import ASGIApp, Message, Receive, Scope, Send


def body_too_large(limit: int) -> str:
    """The 413's message for a body over ``limit`` bytes."""
    return (
        f"the request body is larger than {limit:,} bytes: send it in smaller parts "
        "(entries can be submitted in several requests; each is idempotent)"
    )


class BodyTooLarge(HTTPException):
    """A request body grew past the limit while it was read (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, body_too_large(limit))


def _too_large(limit: int) -> bytes:
    return orjson.dumps({"detail": body_too_large(limit)})


class BodyLimit:
    """Refuses a body larger than ``max_body`` bytes with 413: at once when Content-Length
    says so, else when the bytes received pass it (nothing of it reaches a route)."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_body:
                    await respond(send, 413, _too_large(self.max_body))
                    return
                break
        received = 0
        started = False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except BodyTooLarge:
            if not started:
                await respond(send, 413, _too_large(self.max_body))


async def respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a whole JSON response."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
