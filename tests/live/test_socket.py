"""The live WebSocket (one process, embedded pub/sub): pushes, access, Origin, heartbeat, sign-out."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from scribetree.core import pubsub
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import CourseRole
from scribetree.tenancy.models import Role, Tenant
from scribetree.web.live import routes as live_routes
from tests.factories.courses import create_course, create_course_member
from tests.factories.tenancy import create_member
from tests.factories.writing import ins
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc
from tests.writing.test_history import Writer


def cookie_of(c: httpx.AsyncClient) -> str:
    token = c.cookies.get("st_session")
    assert token
    return token


def socket(served: str, course_id: object, token: str | None, origin: str | None = "same") -> Any:
    headers = {"Cookie": f"st_session={token}"} if token else {}
    return connect(
        f"ws://{served}/ws/courses/{course_id}/live",
        additional_headers=headers,
        origin=f"http://{served}" if origin == "same" else origin,  # type: ignore[arg-type]
        open_timeout=10,
    )


async def recv(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def until(ws: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next message of ``kind`` (pings and the greeting may come first)."""
    while True:
        msg = await recv(ws, timeout)
        if msg["type"] == kind:
            return msg


async def close_code(ws: ClientConnection, timeout: float = 5.0) -> int | None:
    with pytest.raises(ConnectionClosed) as exc:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    return exc.value.rcvd.code if exc.value.rcvd else None


class TestPushes:
    async def test_educator_sees_a_batch_a_submission_and_an_alert(
        self, klass: Klass, client_for: ClientFor, served: str, session: AsyncSession
    ) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        student = await client_for(klass.student, klass.tenant)
        async with socket(served, klass.course.id, cookie_of(staff)) as ws:
            hello = await recv(ws)
            assert hello["type"] == "hello" and hello["channels"] == 2  # one assignment + the course's alerts
            w = Writer(student, await open_doc(student, klass.assignment.id))
            await w.send([ins(0, "Typing away now.")])
            msg = await until(ws, "activity")
            assert (msg["user_id"], msg["assignment_id"], msg["word_count"], msg["revision"]) == (
                str(klass.student.id),
                str(klass.assignment.id),
                3,
                1,
            )
            assert "channel" not in msg  # the page gets the payload only
            r = await student.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
            assert r.status_code == 201
            assert (await until(ws, "submitted"))["submission_id"] == r.json()["id"]

            alert = {
                "type": "alert",
                "alert_id": str(uuid.uuid4()),
                "student_user_id": str(klass.student.id),
                "student_name": "Ada Student",
                "rule": "stuck",
                "severity": "attention",
                "title": "Stuck for 40 minutes",
                "created_at": "2026-11-26T05:00:00+00:00",
                "url": "/alerts/x",
            }
            await pubsub.publish(pubsub.alerts_channel(klass.tenant.id, klass.course.id), alert)
            assert await until(ws, "alert") == alert
            # another course's alerts and another tenant's channels do not reach this socket
            await pubsub.publish(pubsub.alerts_channel(klass.tenant.id, uuid.uuid4()), {**alert, "title": "x"})
            await pubsub.publish(pubsub.activity_channel(uuid.uuid4(), klass.assignment.id), {"type": "activity"})
            with pytest.raises(TimeoutError):
                await until(ws, "alert", timeout=0.3)
        await session.rollback()
        viewed = (
            await session.execute(
                select(AuditEvent.actor_user_id, AuditEvent.details).where(AuditEvent.action == "course.live_viewed")
            )
        ).all()
        assert [(u, d["via"]) for u, d in viewed] == [(klass.instructor.id, "websocket")]
        await session.rollback()

    async def test_heartbeat_and_idle_close(
        self, klass: Klass, client_for: ClientFor, served: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(live_routes, "HEARTBEAT_SECONDS", 0.2)
        monkeypatch.setattr(live_routes, "IDLE_SECONDS", 0.7)
        staff = await client_for(klass.instructor, klass.tenant)
        async with socket(served, klass.course.id, cookie_of(staff)) as ws:
            await until(ws, "hello")
            for _ in range(5):  # answering keeps it open well past the idle limit
                await until(ws, "ping", 2)
                await ws.send(json.dumps({"type": "pong"}))
            assert await close_code(ws) == 4408  # then silence: the server gives up on it

    async def test_signing_out_closes_an_open_socket(
        self, klass: Klass, client_for: ClientFor, served: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(live_routes, "HEARTBEAT_SECONDS", 0.1)
        monkeypatch.setattr(live_routes, "RECHECK_SECONDS", 0.2)
        staff = await client_for(klass.instructor, klass.tenant)
        async with socket(served, klass.course.id, cookie_of(staff)) as ws:
            await until(ws, "hello")
            assert (await staff.delete("/api/v1/session")).status_code in (200, 204)
            codes = []
            with pytest.raises(ConnectionClosed) as exc:
                while True:
                    msg = await recv(ws, 5)
                    codes.append(msg["type"])
                    await ws.send(json.dumps({"type": "pong"}))
            assert exc.value.rcvd is not None and exc.value.rcvd.code == 4401


class TestSocketAccess:
    async def test_only_the_course_staff_may_listen(
        self, klass: Klass, client_for: ClientFor, served: str, session: AsyncSession, other_tenant: Tenant
    ) -> None:
        await session.rollback()
        other_course = await create_course(session, klass.tenant)
        other_educator = await create_course_member(session, other_course, klass.tenant, CourseRole.instructor)
        outsider, _ = await create_member(session, other_tenant, Role.institution_admin)
        admin, _ = await create_member(session, klass.tenant, Role.institution_admin)
        await session.commit()
        refused = [
            (klass.student, klass.tenant),
            (other_educator, klass.tenant),
            (outsider, other_tenant),
        ]
        for user, tenant in refused:
            token = cookie_of(await client_for(user, tenant))
            async with socket(served, klass.course.id, token) as ws:
                assert await close_code(ws) == 4404, user.display_name
        staff_token = cookie_of(await client_for(klass.instructor, klass.tenant))
        for course_id in (uuid.uuid4(), "not-an-id"):
            async with socket(served, course_id, staff_token) as ws:
                assert await close_code(ws) == 4404
        async with socket(served, klass.course.id, None) as ws:
            assert await close_code(ws) == 4401
        async with socket(served, klass.course.id, "st_forged-token") as ws:
            assert await close_code(ws) == 4401
        # cross-site WebSocket hijacking: the browser sends the cookie, but the Origin is someone else's
        for origin in ("http://evil.example", f"http://{served}.evil.example", "null", None):
            async with socket(served, klass.course.id, staff_token, origin=origin) as ws:
                assert await close_code(ws) == 4403, origin
        for user in (klass.ta, admin):  # the TA and an institution admin may
            async with socket(served, klass.course.id, cookie_of(await client_for(user, klass.tenant))) as ws:
                assert (await recv(ws))["type"] == "hello"

    async def test_plain_http_is_not_a_socket(self, klass: Klass, client_for: ClientFor, served: str) -> None:
        with pytest.raises(InvalidStatus):
            async with connect(f"ws://{served}/ws/courses/{klass.course.id}/nothing", open_timeout=5):
                pass
