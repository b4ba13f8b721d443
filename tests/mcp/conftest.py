"""People with API tokens in two institutions, and the SDK's client over each transport.

``people`` commits a course (an educator teaching it, two students enrolled, one published assignment with a
submitted essay) in ``tenant``, an institution admin, and an educator of another institution. Each person has
a read+write token (``tokens``) and the educator also a read-only one.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from sqlalchemy.ext.asyncio import AsyncSession

from mcp import Client, StdioServerParameters
from scribetree.core import db
from scribetree.core.config import settings
from scribetree.courses.models import Assignment, Course, CourseRole
from scribetree.identity.service import identity
from scribetree.mcp.runtime import use_stdio_token
from scribetree.mcp.server import build_server
from scribetree.tenancy.models import Role, Tenant
from tests.factories.courses import create_assignment, create_course, enroll
from tests.factories.tenancy import create_member
from tests.factories.writing import create_document, create_submission, ins, write
from tests.live.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class People:
    tenant: Tenant
    course: Course
    assignment: Assignment
    other_course: Course
    other_assignment: Assignment
    document_id: uuid.UUID | None = None
    submission_id: uuid.UUID | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)


async def _token(session: AsyncSession, tenant: Tenant, user, scopes: list[str]) -> str:
    secret, _ = await identity.create_token(
        session, tenant_id=tenant.id, user_id=user.id, name="mcp", scopes=scopes, expires_in_days=30
    )
    return secret


@pytest.fixture
async def people(session: AsyncSession, tenant: Tenant, other_tenant: Tenant) -> People:
    course = await create_course(session, tenant, title="Essay Writing 101")
    educator, _ = await create_member(session, tenant, Role.educator, display_name="Erin Educator")
    await enroll(session, course, educator, CourseRole.instructor)
    students = []
    for name in ("Sam Student", "Sky Student"):
        s, _ = await create_member(session, tenant, Role.student, display_name=name)
        await enroll(session, course, s, CourseRole.student)
        students.append(s)
    admin, _ = await create_member(session, tenant, Role.institution_admin, display_name="Ada Admin")
    assignment = await create_assignment(session, course, title="Argument essay")
    doc = await create_document(session, assignment, owner=students[0])
    await write(session, doc, students[0], [ins(0, "Trees matter because they shade cities. They cool streets.")])
    sub = await create_submission(session, doc, students[0])

    other_course = await create_course(session, other_tenant, title="Elsewhere")
    outsider, _ = await create_member(session, other_tenant, Role.educator, display_name="Olga Outsider")
    await enroll(session, other_course, outsider, CourseRole.instructor)
    other_assignment = await create_assignment(session, other_course, title="Their essay")

    p = People(tenant, course, assignment, other_course, other_assignment, document_id=doc.id, submission_id=sub.id)
    p.users = {"educator": educator, "student": students[0], "student2": students[1], "admin": admin}
    p.users["outsider"] = outsider
    p.tokens["educator"] = await _token(session, tenant, educator, ["read", "write"])
    p.tokens["educator_read"] = await _token(session, tenant, educator, ["read"])
    p.tokens["student"] = await _token(session, tenant, students[0], ["read", "write"])
    p.tokens["student2"] = await _token(session, tenant, students[1], ["read", "write"])
    p.tokens["admin"] = await _token(session, tenant, admin, ["read", "write", "admin"])
    p.tokens["outsider"] = await _token(session, other_tenant, outsider, ["read", "write"])
    await session.commit()
    return p


@asynccontextmanager
async def inproc(secret: str | None) -> AsyncIterator[Client]:
    """The SDK client connected in-process to a fresh server acting with ``secret`` (the stdio path)."""
    use_stdio_token(secret)
    try:
        async with Client(build_server()) as c:
            yield c
    finally:
        use_stdio_token(None)


@asynccontextmanager
async def served_app(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, FastAPI]]:
    """A fresh app served by uvicorn on a free port in this event loop (same database), its MCP block running as
    the app's lifespan runs it: (base URL, app)."""
    from scribetree.app import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setattr(settings, "BASE_URL", base)
    app = create_app()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    stop = asyncio.Event()

    async def sessions() -> None:  # one task enters and leaves the MCP block (and the session manager's task group)
        async with app.state.mcp.running():
            await stop.wait()

    holder = asyncio.create_task(sessions())
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield base, app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        stop.set()
        await asyncio.wait_for(holder, 10)


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch, engines: db.Engines) -> AsyncIterator[str]:
    """The base URL of a fresh app served as ``served_app`` serves it."""
    async with served_app(monkeypatch) as (base, _app):
        yield base


def http_client(base: str, secret: str | None) -> Client:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return Client(streamable_http_client(f"{base}/mcp/", http_client=create_mcp_http_client(headers=headers)))


def stdio_client(database_url: str, secret: str) -> Client:
    env = {
        **os.environ,
        "SCRIBETREE_ENV": "testing",
        "SCRIBETREE_DATABASE_URL": database_url,
        "SCRIBETREE_DATA_DIR": tempfile.mkdtemp(prefix="scribetree-mcp-stdio-"),
        "SCRIBETREE_WORKER_IN_PROCESS": "false",
        "SCRIBETREE_LOG_LEVEL": "WARNING",
        "SCRIBETREE_LOG_JSON": "false",
        "SCRIBETREE_MCP_TOKEN": secret,
    }
    return Client(
        StdioServerParameters(command=sys.executable, args=["-m", "scribetree.cli", "mcp"], env=env, cwd=str(ROOT))
    )
