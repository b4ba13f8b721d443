"""The MCP server, imported and built on the first authenticated request to ``/mcp`` rather than at start-up.

Importing the MCP SDK and the tool modules costs a serve process about 20 MB of RSS (measured with
``/proc/self/status`` before and after the import). A process that never serves an MCP call should not hold that
memory. ``LazyMCP`` is the ASGI app mounted at ``/mcp``, behind the token gate in ``mcp.http``, so requests without
a valid token are refused before anything is imported. The discovery documents do not need the SDK.

``running()`` is entered by the app's lifespan and owns a task group. The first request starts one task in it.
That task imports ``scribetree.mcp.server``, builds the server and runs its session manager until the lifespan
ends, so the manager's task group is entered and left by the same task, as anyio requires. Later requests go
straight to the built app. What ``/mcp`` answers does not change; the first call waits for the import (under a
second).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup, TaskStatus
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer


class LazyMCP:
    """ASGI app for ``/mcp`` that builds the MCP server and its streamable HTTP app when the first request comes."""

    def __init__(self) -> None:
        self._app: ASGIApp | None = None
        self._server: MCPServer | None = None
        self._group: TaskGroup | None = None
        self._lock = anyio.Lock()

    @property
    def server(self) -> MCPServer | None:
        """The built server, or None until the first request (and again after ``running()`` ends)."""
        return self._server

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve MCP requests inside this block. On exit the session manager stops, if it was started."""
        async with anyio.create_task_group() as group:
            self._group = group
            try:
                yield
            finally:
                self._group = None
                group.cancel_scope.cancel()

    async def _serve(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        from scribetree.mcp.http import streamable_app
        from scribetree.mcp.server import build_server

        server = build_server()
        app = streamable_app(server)
        try:
            async with server.session_manager.run():
                self._server, self._app = server, app
                task_status.started()
                await anyio.sleep_forever()
        finally:
            self._server = self._app = None  # a manager runs once: the next running() builds a new server

    async def _started(self) -> ASGIApp:
        async with self._lock:
            if self._app is None:
                if self._group is None:
                    raise RuntimeError("The MCP server is not running: serve the app with its lifespan.")
                await self._group.start(self._serve)
        assert self._app is not None
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app or await self._started()
        await app(scope, receive, send)
