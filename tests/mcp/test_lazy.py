"""The MCP server is imported and built on the first authenticated request to /mcp (mcp/lazy.py), not at start-up:
an app that never serves MCP does not load the SDK, and the first call answers as before."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from scribetree.core import db
from scribetree.mcp.lazy import LazyMCP
from tests.mcp.conftest import ROOT, People, http_client, served_app

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def test_create_app_does_not_import_the_mcp_sdk() -> None:
    code = (
        "import json, sys\n"
        "from scribetree.app import create_app\n"
        "create_app()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'scribetree.mcp')))))\n"
    )
    env = {
        **os.environ,
        "SCRIBETREE_ENV": "testing",
        "SCRIBETREE_DATA_DIR": tempfile.mkdtemp(prefix="scribetree-mcp-lazy-"),
        "SCRIBETREE_LOG_LEVEL": "WARNING",
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "scribetree.mcp.lazy" in loaded  # the test sees the modules it means
    assert "mcp" not in loaded and not any(m.startswith("mcp.") for m in loaded)
    assert "scribetree.mcp.server" not in loaded and "scribetree.mcp.runtime" not in loaded


@pytest.fixture
async def served(monkeypatch: pytest.MonkeyPatch, engines: db.Engines) -> AsyncIterator[tuple[str, FastAPI]]:
    async with served_app(monkeypatch) as (base, app):
        yield base, app
    assert app.state.mcp.server is None  # the session manager stopped with the block


async def test_refused_requests_and_discovery_build_nothing(served: tuple[str, FastAPI]) -> None:
    base, app = served
    async with httpx.AsyncClient() as c:
        anonymous = await c.post(f"{base}/mcp/", json=INITIALIZE, headers=MCP_HEADERS)
        bad = await c.post(f"{base}/mcp/", json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": "Bearer st_x"})
        meta = await c.get(f"{base}/.well-known/oauth-protected-resource/mcp")
    assert anonymous.status_code == 401 and bad.status_code == 401
    assert meta.status_code == 200 and meta.json()["resource"] == f"{base}/mcp/"
    assert app.state.mcp.server is None


async def test_the_first_call_builds_the_server_once_and_answers(
    served: tuple[str, FastAPI], people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scribetree.mcp.server as mcp_server

    builds = []
    build = mcp_server.build_server
    monkeypatch.setattr(mcp_server, "build_server", lambda: builds.append(1) or build())
    base, app = served
    assert app.state.mcp.server is None
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {people.tokens['educator']}"}
    async with httpx.AsyncClient(timeout=30) as c:  # several first calls at once: one server is built
        first = await asyncio.gather(*(c.post(f"{base}/mcp/", json=INITIALIZE, headers=headers) for _ in range(3)))
    assert [r.status_code for r in first] == [200, 200, 200]
    assert all('"name":"scribetree"' in r.text.replace(" ", "") for r in first)
    built = app.state.mcp.server
    assert built is not None
    async with http_client(base, people.tokens["educator"]) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        who = await client.call_tool("whoami", {})
    assert {"whoami", "assignment_overview"} <= names
    assert who.structured_content["display_name"] == "Erin Educator"
    assert app.state.mcp.server is built
    assert len(builds) == 1


async def test_outside_its_block_a_request_fails_loudly() -> None:
    lazy = LazyMCP()

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        raise AssertionError("nothing is sent")

    with pytest.raises(RuntimeError, match="not running"):
        await lazy({"type": "http", "method": "POST", "path": "/", "headers": []}, receive, send)
    assert lazy.server is None


async def test_a_second_block_builds_a_new_server(engines: db.Engines) -> None:
    """A session manager runs once; the lazy app builds a fresh server for each lifespan (tests reuse apps)."""
    lazy = LazyMCP()
    servers = []
    for _ in range(2):
        async with lazy.running():
            await lazy._started()
            servers.append(lazy.server)
        assert lazy.server is None
    assert servers[0] is not None and servers[1] is not None and servers[0] is not servers[1]


async def test_concurrent_first_requests_build_one_server(engines: db.Engines, monkeypatch: pytest.MonkeyPatch) -> None:
    import scribetree.mcp.server as mcp_server

    builds = []
    build = mcp_server.build_server
    monkeypatch.setattr(mcp_server, "build_server", lambda: builds.append(1) or build())
    lazy = LazyMCP()
    async with lazy.running():
        apps = await asyncio.gather(*(lazy._started() for _ in range(4)))
    assert len(builds) == 1
    assert all(a is apps[0] for a in apps)
