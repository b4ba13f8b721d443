"""HTTP plumbing shared by the API and the web pages.

- ``UnitOfWorkRoute`` commits the request's write session after the handler succeeds and *before*
  the response is sent (STYLE T1), and rolls it back on any exception (unless the error says its work
  must be kept, ``ScribetreeError.commits_work``).
- ``SecurityMiddleware`` (pure ASGI, no per-request task): request ids, the body-size limit, security
  headers, the pre-session CSRF cookie and the access log line.
- One JSON error shape for the API: ``{"error": CODE, "detail": ..., "request_id": ...}``.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import logging
import random
import re
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scribetree.core import db
from scribetree.core.audit import RequestMeta
from scribetree.core.config import settings
from scribetree.core.errors import ErrorBody, ScribetreeError

log = logging.getLogger("scribetree.http")
T = TypeVar("T")
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

CSRF_COOKIE = "st_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


# ---- request sessions (UnitOfWorkRoute commits them; T1) ----------------------------------


async def _request_session(request: Request, *, write: bool) -> AsyncSession:
    key = "write_session" if write else "read_session"
    existing = getattr(request.state, key, None)
    if existing is not None:
        return existing
    eng = db.engines()
    if eng.read is eng.write:
        # One pool (PostgreSQL): a request must never hold one connection while waiting for a second
        # from the same pool (a full pool would then deadlock), so reads and writes share one session.
        other = getattr(request.state, "read_session" if write else "write_session", None)
        session = other or db.make_session(write=True)
        request.state.write_session = session
        request.state.read_session = session
        return session
    session = db.make_session(write=write)
    setattr(request.state, key, session)
    return session


async def get_read_session(request: Request) -> AsyncSession:
    return await _request_session(request, write=False)


async def get_write_session(request: Request) -> AsyncSession:
    return await _request_session(request, write=True)


ReadSession = Annotated[AsyncSession, Depends(get_read_session)]
WriteSession = Annotated[AsyncSession, Depends(get_write_session)]


async def finish_request_sessions(request: Request, *, ok: bool) -> None:
    """Commit (ok) or roll back the request's sessions, then close them. Called by the route class."""
    write = getattr(request.state, "write_session", None)
    read = getattr(request.state, "read_session", None)
    try:
        if write is not None:
            if ok:
                await db.commit(write)
            else:
                await db.rollback(write)
    finally:
        for s in {id(x): x for x in (write, read) if x is not None}.values():
            await db.close(s)
        request.state.write_session = None
        request.state.read_session = None


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            return await in_unit_of_work(request, handler)

        return run


async def in_unit_of_work(request: Request, handler: Callable[[Request], Awaitable[Response]]) -> Response:
    """Run ``handler`` as the request's unit of work: commit its sessions if it answered below 400 (or raised an
    error that keeps its work), roll them back otherwise, then run the after-sessions steps exactly once."""
    request.state.after_sessions = []
    try:
        try:
            response = await handler(request)
        except ScribetreeError as exc:
            await finish_request_sessions(request, ok=exc.commits_work)
            raise
        except BaseException:
            await finish_request_sessions(request, ok=False)
            raise
        await finish_request_sessions(request, ok=response.status_code < 400)
        return response
    finally:  # whatever happened, exactly once (it gives back what the request held, e.g. a sign-in place)
        await _run_after_sessions(request)


AfterSessions = Callable[[], Awaitable[None]]


def after_sessions(request: Request, op: AfterSessions) -> bool:
    """Run ``op`` once the request's own sessions are committed and closed (bookkeeping such as a
    credential's last use, in its own unit of work). A request never waits for a second pooled connection
    while holding one: with a full pool that is a deadlock. Returns False outside a unit-of-work route,
    where nothing is scheduled."""
    pending: list[AfterSessions] | None = getattr(request.state, "after_sessions", None)
    if pending is None:
        return False
    pending.append(op)
    return True


async def _run_after_sessions(request: Request) -> None:
    pending: list[AfterSessions] | None = getattr(request.state, "after_sessions", None)
    request.state.after_sessions = None
    if not pending:
        return
    for op in pending:
        try:
            await op()
        except Exception:  # bookkeeping must not turn a served request into an error
            log.exception("after-sessions step failed")


def request_meta(request: Request) -> RequestMeta:
    ip = request.client.host if request.client else None
    return RequestMeta(ip=ip, user_agent=request.headers.get("user-agent"), request_id=request_id_var.get())


# ---- CSRF ---------------------------------------------------------------------------------------------
# A form token is an HMAC of what the browser already holds: the session token when signed in, the
# pre-session cookie otherwise (so sign-in and reset forms are protected too). A cross-site page can
# neither read the cookie nor compute the HMAC.


def csrf_token(binding: str) -> str:
    key = settings.SECRET_KEY.get_secret_value().encode()
    return hmac.new(key, b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_binding(request: Request) -> str:
    return request.cookies.get(settings.SESSION_COOKIE) or request.scope.get("st.csrf_cookie") or ""


def csrf_valid(request: Request, presented: str | None) -> bool:
    binding = csrf_binding(request)
    return bool(binding and presented) and hmac.compare_digest(csrf_token(binding), presented or "")


# ---- middleware ---------------------------------------------------------------------------------------


class SecurityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        csp = (
            "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
            f"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {settings.FRAME_ANCESTORS}"
        )
        self.headers: list[tuple[bytes, bytes]] = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if settings.is_production:
            self.headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
        self.docs_csp = csp.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k: v for k, v in scope["headers"]}
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        # A correlation handle, not a secret: no system call (os.urandom releases the GIL, and getting it back
        # behind a busy thread costs up to a switch interval on every request).
        rid = incoming if _REQUEST_ID_RE.match(incoming) else f"{random.getrandbits(64):016x}"
        token = request_id_var.set(rid)
        scope.setdefault("state", {})

        cookie_header = headers.get(b"cookie", b"").decode("latin-1")
        csrf_cookie = _cookie(cookie_header, CSRF_COOKIE)
        new_csrf = None
        if not csrf_cookie:
            new_csrf = secrets.token_urlsafe(24)
            csrf_cookie = new_csrf
        scope["st.csrf_cookie"] = csrf_cookie

        limit = settings.MAX_BODY_BYTES
        declared = headers.get(b"content-length")
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}
        is_docs = scope["path"] in ("/docs", "/redoc")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                h = list(message.get("headers", []))
                h.append((b"x-request-id", rid.encode()))
                existing = {k.lower() for k, _ in h}
                for k, v in self.headers:
                    if k not in existing:
                        if k == b"content-security-policy" and is_docs:
                            v = self.docs_csp.encode()
                        h.append((k, v))
                if new_csrf:
                    flags = "; Secure" if settings.cookie_secure else ""
                    h.append(
                        (b"set-cookie", f"{CSRF_COOKIE}={new_csrf}; Path=/; HttpOnly; SameSite=Lax{flags}".encode())
                    )
                message["headers"] = h
            await send(message)

        try:
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await _send_json(send_wrapper, 413, _too_large(limit, rid))
                return
            app_receive = receive
            if declared is None and scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
                # No Content-Length (chunked): read up to the limit before the app sees anything.
                chunks, size, more = [], 0, True
                while more:
                    message = await receive()
                    if message["type"] != "http.request":
                        break
                    chunks.append(message.get("body", b""))
                    size += len(chunks[-1])
                    more = message.get("more_body", False)
                    if size > limit:
                        await _send_json(send_wrapper, 413, _too_large(limit, rid))
                        return
                app_receive = replay_body(b"".join(chunks), receive)
            await self.app(scope, app_receive, send_wrapper)
        except Exception as exc:
            # Starlette's ServerErrorMiddleware sits *outside* this middleware: the 500 it sends would carry
            # no request id (the context variable is reset by then) and none of the headers above. Answer
            # with the app's own 500 handler here instead (it logs the error); nothing else sends it again.
            handler = _server_error_handler(scope)
            if handler is None or status_holder["started"]:
                raise
            try:
                response = handler(Request(scope), exc)
                if inspect.isawaitable(response):
                    response = await response
            except Exception:  # the error page itself failed: still answer, safely, with the request id
                log.exception("the 500 handler failed", extra={"path": scope["path"]})
                response = internal_error_response()
            await response(scope, receive, send_wrapper)
        finally:
            request_id_var.reset(token)
            elapsed = (time.perf_counter() - started) * 1000
            log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route_template(scope),
                    "status": status_holder["status"],
                    "ms": round(elapsed, 2),
                },
            )


def _server_error_handler(scope: Scope) -> Callable[..., Any] | None:
    handlers = getattr(scope.get("app"), "exception_handlers", None) or {}
    return handlers.get(500) or handlers.get(Exception)


_route_tables: weakref.WeakKeyDictionary[Any, dict[int, list[Any]]] = weakref.WeakKeyDictionary()


def route_template(scope: Scope) -> str | None:
    """The matched route's full path template, e.g. ``/api/v1/members/{membership_id}``; None if none matched.

    Since FastAPI 0.137 ``scope["route"]`` is the router's own ``APIRoute``, whose ``path`` lacks the
    ``include_router`` prefixes. The public ``iter_route_contexts`` yields each route with its full path.
    Logs and metric labels need the template, never the raw path (ids would make unbounded label sets).
    """
    route = scope.get("route")
    if route is None:
        return None
    app = scope.get("app")
    if app is None or not hasattr(app, "routes"):
        return getattr(route, "path", None)
    table = _route_tables.get(app)
    if table is None or id(route) not in table:  # first request, or routes added since: rebuild once
        table = {}
        for ctx in iter_route_contexts(app.routes):
            table.setdefault(id(ctx.original_route), []).append(ctx)
        table.setdefault(id(route), [])  # remember a miss so it does not rebuild on every request
        _route_tables[app] = table
    contexts = table[id(route)]
    if not contexts:
        return getattr(route, "path", None)
    if len(contexts) > 1:  # one router included under several prefixes
        for ctx in contexts:
            regex = getattr(ctx, "path_regex", None)
            if regex is not None and regex.match(scope.get("path", "")):
                return ctx.path
    return contexts[0].path


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read ``body`` to the app once, then waits as usual."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then wait for the disconnect as usual

    return replay


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name and v:
            return v
    return None


def _too_large_text(limit: int) -> str:
    return f"The request body is larger than the limit of {limit:,} bytes. Send less data per request."


def _too_large(limit: int, rid: str) -> dict[str, Any]:
    return {"error": "RequestTooLarge", "detail": _too_large_text(limit), "request_id": rid}


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


# ---- errors -------------------------------------------------------------------------------------------


def error_body(code: str, detail: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, "request_id": request_id_var.get()}


def json_error(status: int, code: str, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, detail), status_code=status, headers=headers)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route: 401 and 404 always, plus ``codes``; every one has the error shape."""
    return {code: {"model": ErrorBody} for code in (401, 404, *codes)}


async def with_details(call: Awaitable[T]) -> T | JSONResponse:
    """Await a service call; an error that carries data the client acts on (``expected_seq``, ``current``,
    ``limit``, ``criterion_id``, ``resets_at`` ...) is answered with those fields beside ``error`` and ``detail``.

    Only routes that wrap their call opt in, so an error's private extras (a user id kept for the audit trail)
    never reach a body by accident. Returning (not raising) the error response still rolls the unit of work
    back (UnitOfWorkRoute: status >= 400).
    """
    try:
        return await call
    except ScribetreeError as exc:
        if not exc.extra:
            raise
        headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        return JSONResponse(
            {**error_body(exc.code, exc.detail), **exc.extra}, status_code=exc.status_code, headers=headers
        )


def scribetree_error_response(exc: ScribetreeError) -> JSONResponse:
    headers = {}
    if exc.status_code == 429:
        headers["Retry-After"] = str(getattr(exc, "retry_after", 60))
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="scribetree"'
    return json_error(exc.status_code, exc.code, exc.detail, headers)


def validation_error_response(exc: RequestValidationError) -> JSONResponse:
    fields = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        fields.append({"field": ".".join(loc), "message": err.get("msg", "invalid"), "type": err.get("type")})
    malformed = any(f["type"] == "json_invalid" for f in fields)
    if malformed:
        return json_error(
            400, "MalformedJSON", "The request body is not valid JSON. Check quotes, commas and brackets."
        )
    return json_error(422, "ValidationError", fields)


def http_error_response(exc: StarletteHTTPException) -> JSONResponse:
    codes = {404: "NotFound", 405: "MethodNotAllowed", 401: "Unauthorized", 403: "Forbidden", 413: "RequestTooLarge"}
    detail = exc.detail
    if exc.status_code == 404 and detail == "Not Found":
        detail = "Nothing was found at this address, or you do not have access to it."
    return json_error(exc.status_code, codes.get(exc.status_code, "HTTPError"), detail, getattr(exc, "headers", None))


def internal_error_response() -> JSONResponse:
    return json_error(
        500,
        "InternalError",
        "Something went wrong on our side. It has been logged; quote the request id if you contact support.",
    )
