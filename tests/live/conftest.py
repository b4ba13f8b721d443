"""The live view's tests: a course with staff and students (the writing tests' ``klass``), the embedded
pub/sub broker, and the app under an in-process uvicorn on a free port for WebSocket clients.

``_empty_tables`` is imported because ``tests.fixtures.db.__all__`` leaves it out (see tests/web/conftest.py).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI

from scribetree.core import pubsub
from scribetree.core.config import settings
from tests.fixtures.db import _empty_tables  # noqa: F401
from tests.writing.conftest import client_for, ctx_for, klass  # noqa: F401


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def embedded(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """The in-process broker (no Redis), fresh for the test."""
    monkeypatch.setattr(settings, "REDIS_URL", "")
    await pubsub.reset()
    yield
    await pubsub.reset()


@pytest.fixture
async def served(app: FastAPI, embedded: None) -> AsyncIterator[str]:
    """The test's app served by uvicorn in this event loop (same database, same broker): ``host:port``."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
