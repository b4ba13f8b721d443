"""The load generator's HTTP/1.1 client: one keep-alive connection, one request at a time, parsed by httptools.

httpx costs the load generator about 2.7 ms of CPU per request (its models, the httpcore pool, the cookie jar and
the event hooks, all in Python). On the 2-core machine the load generator then took 0.6-0.8 of a core to offer 250
requests/s: the cores the server is measured on, and a client whose own event loop is that busy adds its queueing
to every latency it reports. This client writes a request's bytes and hands the answer's bytes to httptools' C
parser; nothing else. It speaks only what the benchmarks send: HTTP/1.1 over TCP to a loopback address, a body of
JSON or none, answers with Content-Length or chunked bodies, no redirects, no compression, no TLS.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from typing import Any
from urllib.parse import urlsplit

import httptools


class Reply:
    """What the benchmarks read of an answer (the subset of ``httpx.Response`` they use)."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        self.status_code, self.headers, self.content = status_code, headers, content

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies the answer sets (name → value; attributes dropped)."""
        out = {}
        for name, value in self.headers:
            if name.lower() == b"set-cookie":
                pair = value.decode("latin-1").split(";", 1)[0]
                key, _, val = pair.partition("=")
                out[key.strip()] = val.strip()
        return out


class ConnectionLost(ConnectionError):
    """The server closed the connection before the whole answer arrived."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.waiter: asyncio.Future[Reply] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionLost("the server closed the connection"))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._headers, self._body = [], []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        reply = Reply(self.parser.get_status_code(), self._headers, b"".join(self._body))
        if not self.parser.should_keep_alive():
            self.close()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(reply)

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, data: bytes) -> Reply:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


class Client:
    """One virtual user's connection to ``base_url`` (reconnects when the server has closed it)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http://host:port is supported, not {base_url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self._host_header = f"Host: {parts.netloc}\r\n".encode()
        self._conn: _Connection | None = None

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, json: Any = None
    ) -> Reply:
        body = b"" if json is None else jsonlib.dumps(json).encode()
        head = [f"{method} {path} HTTP/1.1\r\n".encode(), self._host_header]
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}\r\n".encode("latin-1"))
        if json is not None:
            head.append(b"content-type: application/json\r\n")
        if body or method in ("POST", "PUT", "PATCH"):
            head.append(b"content-length: %d\r\n" % len(body))
        head.append(b"\r\n")
        try:
            async with asyncio.timeout(self.timeout):
                if self._conn is None or self._conn.closed:
                    _, self._conn = await asyncio.get_running_loop().create_connection(
                        _Connection, self.host, self.port
                    )
                return await self._conn.exchange(b"".join(head) + body)
        except BaseException:
            if self._conn is not None:  # in an unknown state: the next request opens a new connection
                self._conn.close()
                self._conn = None
            raise

    async def aclose(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
