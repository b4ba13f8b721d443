"""The ceiling: a bare ASGI callable that answers every request with ``{"ok":true}``.

Served by uvicorn exactly like the app (one process, same flags, no access log), and measured by the same
load generator in the same invocation, so ``app req/s ÷ hello req/s`` says how much of the machine's
HTTP-serving capacity the app's own work costs.

    .venv/bin/python -m uvicorn bench.hello_app:app --host 127.0.0.1 --port 8099 --no-access-log
"""

from __future__ import annotations

from typing import Any

BODY = b'{"ok":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    # Drain the request body (none is expected) so keep-alive connections stay in step.
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False) and message["type"] == "http.request"
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
