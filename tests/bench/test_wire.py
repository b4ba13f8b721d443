"""bench.wire, the load generator's HTTP/1.1 client, against a real uvicorn server in this process: what it sends
arrives as sent, answers are read whole (fixed length and chunked), one connection serves many requests, and a
connection the server closed, a timeout or an answer cut short never leave the client stuck."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from bench import wire

seen: list[dict[str, Any]] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    client_port = scope["client"][1]
    seen.append(
        {
            "path": scope["path"],
            "method": scope["method"],
            "body": body,
            "port": client_port,
            "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
        }
    )
    if scope["path"] == "/slow":
        await asyncio.sleep(1)
    headers = [(b"content-type", b"application/json")]
    if scope["path"] == "/cookie":
        headers += [(b"set-cookie", b"st_session=abc123; HttpOnly; Path=/"), (b"set-cookie", b"other=x")]
    if scope["path"] == "/chunked":
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        for part in (b'{"parts": ', b"[1, 2, ", b"3]}"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    answer = json.dumps({"echo": body.decode(), "n": len(seen)}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    seen.clear()
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", timeout_keep_alive=1, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_requests_arrive_as_sent_and_answers_are_read_whole(base_url: str) -> None:
    c = wire.Client(base_url, timeout=5)
    body = {"text": "ÿ—😀 文字", "seq": 1}
    r = await c.request("POST", "/batches?x=1", headers={"cookie": "st_session=s", "x-csrf-token": "t"}, json=body)
    assert r.status_code == 200
    assert json.loads(r.json()["echo"]) == body
    got = seen[-1]
    assert (got["method"], got["path"]) == ("POST", "/batches")
    assert got["headers"]["content-type"] == "application/json"
    assert got["headers"]["cookie"] == "st_session=s" and got["headers"]["x-csrf-token"] == "t"
    assert int(got["headers"]["content-length"]) == len(got["body"])
    chunked = await c.request("GET", "/chunked")
    assert (chunked.status_code, chunked.json()) == (201, {"parts": [1, 2, 3]})
    cookie = await c.request("GET", "/cookie")
    assert cookie.cookies == {"st_session": "abc123", "other": "x"}
    assert seen[0]["port"] == seen[-1]["port"]  # one keep-alive connection for all three
    await c.aclose()


async def test_a_connection_the_server_closed_is_opened_again(base_url: str) -> None:
    c = wire.Client(base_url, timeout=5)
    assert (await c.request("GET", "/a")).status_code == 200
    await asyncio.sleep(1.5)  # the server's keep-alive (1 s) is over: it closes the idle connection
    assert (await c.request("GET", "/b")).status_code == 200
    assert seen[0]["port"] != seen[1]["port"]
    await c.aclose()


async def test_a_timeout_is_raised_and_the_next_request_uses_a_new_connection(base_url: str) -> None:
    c = wire.Client(base_url, timeout=0.3)
    with pytest.raises(TimeoutError):
        await c.request("GET", "/slow")
    assert (await c.request("GET", "/after")).status_code == 200
    assert seen[-1]["path"] == "/after" and seen[-1]["port"] != seen[0]["port"]
    await c.aclose()


async def test_an_answer_cut_short_is_an_error_not_a_hang() -> None:
    async def half(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial')
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(half, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    c = wire.Client(f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(wire.ConnectionLost):
        await c.request("GET", "/")
    server.close()
    await server.wait_closed()


def test_only_plain_http_is_accepted() -> None:
    with pytest.raises(ValueError, match="only http"):
        wire.Client("https://127.0.0.1:8443", timeout=1)
