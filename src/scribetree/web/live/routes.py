"""The live class view: the page, its JSON refresh and the WebSocket that pushes changes (docs/live.md).

- ``GET /courses/{course_id}/live``: the class table, server-rendered from real data (``state.class_state``).
- ``GET /courses/{course_id}/live.json``: the same state as JSON (the page's fallback refresh).
- ``WS /ws/courses/{course_id}/live``: authenticated by the session cookie like the pages; course staff only
  (instructor, TA, institution admin). The Origin must be this app's own (no cross-site WebSocket hijacking).
  It subscribes to the activity channel of each assignment of the course and to the course's alerts channel
  (``core.pubsub``), so a student writing on another server process is seen here. Close codes: 4401 not
  signed in (or signed out meanwhile), 4403 foreign Origin, 4404 no such course or not its staff, 4408 the
  client stopped answering the heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, pubsub
from scribetree.core.audit import RequestMeta
from scribetree.core.config import settings
from scribetree.core.db import unit_of_work
from scribetree.core.errors import NotFound
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses.auth import CoursesRead
from scribetree.courses.schemas import CourseRead
from scribetree.courses.service import assignment as assignment_service
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.service import access
from scribetree.web.live.state import WRITING_NOW_SECONDS, class_state, staff_course
from scribetree.web.pages import parse_id, render

log = logging.getLogger(__name__)
router = APIRouter(route_class=UnitOfWorkRoute)
ws_router = APIRouter()

HEARTBEAT_SECONDS = 25.0  # the server sends {"type": "ping"} this often; the page answers {"type": "pong"}
IDLE_SECONDS = 2 * HEARTBEAT_SECONDS + 10  # nothing from the client for this long: the socket is dead
RECHECK_SECONDS = 60.0  # how often an open socket re-checks the sign-in and the course role
CLOSE_UNAUTHENTICATED, CLOSE_ORIGIN, CLOSE_NOT_FOUND, CLOSE_IDLE = 4401, 4403, 4404, 4408
STATUS_LABELS = {
    "not_started": "Not started",
    "in_progress": "Writing",
    "submitted": "Submitted",
    "late": "Submitted late",
    "graded": "Graded",
}
STAGE_LABELS = {"met": "Met", "missed": "Missed", "open": "Open", "no_target": "No target"}


def _assignment_param(request: Request) -> uuid.UUID | None:
    raw = request.query_params.get("assignment")
    return parse_id(raw) if raw else None


async def _audit_view(session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, via: str, **details: Any) -> None:
    """Watching a class's activity is access to the students' records by someone else (ARCHITECTURE §6)."""
    await audit.record(
        session,
        audit.Entry(
            action="course.live_viewed",
            tenant_id=ctx.tenant_id,
            actor_user_id=ctx.user_id,
            actor_label=ctx.actor_label,
            meta=ctx.meta,
            target_type="course",
            target_id=str(course_id),
            details={"via": via, **details},
        ),
    )


@router.get("/courses/{course_id}/live", include_in_schema=False)
async def live_page(
    request: Request, course_id: str, ctx: CoursesRead, session: ReadSession, audit_session: WriteSession
) -> Response:
    cid = parse_id(course_id)
    state = await class_state(session, audit_session, ctx, cid, _assignment_param(request))
    await _audit_view(
        audit_session, ctx, cid, "page", assignment_id=str(state.assignment.id) if state.assignment else None
    )
    return await render(
        request,
        "live/class.html",
        session=session,
        title=f"Live: {state.course.title}",
        state=state,
        course=state.course,
        status_labels=STATUS_LABELS,
        stage_labels=STAGE_LABELS,
        writing_now_seconds=WRITING_NOW_SECONDS,
        heartbeat_seconds=HEARTBEAT_SECONDS,
    )


@router.get("/courses/{course_id}/live.json", include_in_schema=False)
async def live_json(
    request: Request, course_id: str, ctx: CoursesRead, session: ReadSession, audit_session: WriteSession
) -> Response:
    """The live view's state (the page refreshes from it when WebSockets fail)."""
    state = await class_state(session, audit_session, ctx, parse_id(course_id), _assignment_param(request))
    return JSONResponse(state.to_json(), headers={"Cache-Control": "no-store"})


# ---- the WebSocket --------------------------------------------------------------------------------------------


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """Same origin only: the Origin's host must be this request's Host or BASE_URL's host (CSWSH)."""
    if not origin:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    allowed = {urlsplit(settings.BASE_URL).netloc.lower()}
    if host:
        allowed.add(host.lower())
    return parts.netloc.lower() in allowed


async def _authorize(ws: WebSocket, course_id: uuid.UUID) -> tuple[AuthContext, CourseRead, list[str]] | int:
    """The caller, the course and the channels, or a close code. One short unit of work: no connection is
    held while the socket is open."""
    cookie = ws.cookies.get(settings.SESSION_COOKIE)
    if not cookie:
        return CLOSE_UNAUTHENTICATED
    meta = RequestMeta(ip=ws.client.host if ws.client else None, user_agent=ws.headers.get("user-agent"))
    async with unit_of_work() as session:
        ctx = await access.context_from_session(session, cookie, meta)
        if ctx is None:
            return CLOSE_UNAUTHENTICATED
        try:
            course = await staff_course(session, ctx, course_id)
        except NotFound:
            return CLOSE_NOT_FOUND
        tenant_id = ctx.tenant_id
        assert tenant_id is not None  # staff_course refuses callers outside a tenant
        assignments = await assignment_service.list_for_course(session, ctx, course_id)
        channels = [pubsub.activity_channel(tenant_id, a.id) for a in assignments]
        channels.append(pubsub.alerts_channel(tenant_id, course_id))
        await _audit_view(session, ctx, course_id, "websocket")
    return ctx, course, channels


async def _still_allowed(cookie: str, course_id: uuid.UUID) -> int | None:
    async with unit_of_work(write=False) as session:
        ctx = await access.context_from_session(session, cookie, RequestMeta())
        if ctx is None:
            return CLOSE_UNAUTHENTICATED
        try:
            await staff_course(session, ctx, course_id)
        except NotFound:
            return CLOSE_NOT_FOUND
    return None


@ws_router.websocket("/ws/courses/{course_id}/live")
async def live_socket(ws: WebSocket, course_id: str) -> None:
    if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host")):
        await ws.accept()
        await ws.close(CLOSE_ORIGIN, "This page's origin may not open this socket.")
        return
    try:
        cid = uuid.UUID(course_id)
    except ValueError:
        cid = None
    found = CLOSE_NOT_FOUND if cid is None else await _authorize(ws, cid)
    await ws.accept()
    if isinstance(found, int):
        reason = "Sign in again." if found == CLOSE_UNAUTHENTICATED else "No such course, or not its staff."
        await ws.close(found, reason)
        return
    assert cid is not None
    cookie = ws.cookies[settings.SESSION_COOKIE]
    _, _, channels = found
    last_heard = time.monotonic()

    async def listen() -> None:
        nonlocal last_heard
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            last_heard = time.monotonic()  # any message (a pong) proves the client is alive

    async def push(sub: Any) -> int | None:
        next_ping = time.monotonic() + HEARTBEAT_SECONDS
        next_check = time.monotonic() + RECHECK_SECONDS
        await ws.send_json({"type": "hello", "channels": len(channels), "heartbeat_seconds": HEARTBEAT_SECONDS})
        while True:
            now = time.monotonic()
            try:
                message = await asyncio.wait_for(anext(sub), max(0.0, next_ping - now))
            except TimeoutError:
                message = None
            if message is not None:
                message.pop("channel", None)
                await ws.send_json(message)
            now = time.monotonic()
            if now >= next_ping:
                if now - last_heard > IDLE_SECONDS:
                    return CLOSE_IDLE
                await ws.send_json({"type": "ping"})
                next_ping = now + HEARTBEAT_SECONDS
            if now >= next_check:
                refused = await _still_allowed(cookie, cid)
                if refused is not None:
                    return refused
                next_check = now + RECHECK_SECONDS

    async with pubsub.subscribe(*channels) as sub:
        listener = asyncio.create_task(listen())
        pusher = asyncio.create_task(push(sub))
        done, pending = await asyncio.wait({listener, pusher}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
        if pusher in done:
            try:
                code = pusher.result()
            except (WebSocketDisconnect, RuntimeError, OSError):
                return  # the client went away while we were sending
            with contextlib.suppress(RuntimeError, OSError):
                await ws.close(code or 1000)
