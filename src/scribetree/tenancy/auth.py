"""Declarative route authorization (STYLE N5): ``Annotated[AuthContext, Depends(Authorize(...))]``.

The credential is a bearer API token or the session cookie. Cookie-authenticated requests that change
state must carry the CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``), so another site
cannot act with the user's cookie. Tokens are not sent by browsers on their own, so they need none.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import cache_epochs, clock, ratelimit
from scribetree.core.audit import RequestMeta
from scribetree.core.config import settings
from scribetree.core.errors import Forbidden, ScribetreeError, Unauthorized
from scribetree.core.http import (
    CSRF_FIELD,
    CSRF_HEADER,
    ReadSession,
    after_sessions,
    csrf_token,
    csrf_valid,
    request_meta,
)
from scribetree.identity.models import UserSession
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.permissions import Permission
from scribetree.tenancy.repository import SupportGrantRepository
from scribetree.tenancy.schemas import SessionStarted
from scribetree.tenancy.service import access

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOUCH_EVERY = timedelta(seconds=60)


class CsrfFailed(ScribetreeError):
    status_code = 403
    default_detail = (
        "This form or request is missing its security token or the token has expired. Reload the page and try again."
    )


async def current_context(request: Request, session: ReadSession) -> AuthContext | None:
    """The caller's AuthContext, or None when no valid credential was sent. Cached per request."""
    if hasattr(request.state, "auth_ctx"):
        return request.state.auth_ctx
    meta = request_meta(request)
    ctx: AuthContext | None = None
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            raise Unauthorized("Use 'Authorization: Bearer <token>' with a personal API token.")
        ctx = await access.context_from_token(session, secret.strip(), meta)
        if ctx is None:
            raise Unauthorized("This API token is not valid: it may be mistyped, expired or revoked.")
        await _touch(lambda: identity.touch_token_now(ctx.tenant_id, ctx.token_id), request, "token")
    elif cookie := request.cookies.get(settings.SESSION_COOKIE):
        ctx = await _session_context(session, cookie, meta)
        if ctx is not None:
            await _touch(lambda: identity.touch_session_now(ctx.session_id), request, "session")
    request.state.auth_ctx = ctx
    return ctx


# ---- a cache of cookie sign-ins ----------------------------------------------------------------------------
# Every request of a signed-in browser resolved its cookie (session, user, tenant, membership: four queries).
# A resolved context is kept SESSION_CACHE_TTL seconds, never past the moment the session check would refuse it
# by the clock alone (the session's expires_at, its idle limit from the last_seen_at it was read with, a support
# grant's expires_at). Everything else the check reads is a row of a table watched by the 'auth' cache epoch
# (core.cache_epochs: sessions other than their last-seen time, users other than sign-in counters, memberships,
# tenants, support grants): within this process the cache is dropped the moment a unit of work commits such a
# change; a change committed by another process (another app node, the worker, a CLI command) is seen within
# CACHE_EPOCH_CHECK_SECONDS (docs/security.md). Failed lookups are never cached; API tokens are not cached.

SESSION_CACHE_TTL = 60.0  # seconds
_contexts: dict[bytes, tuple[float, int, AuthContext]] = {}


@cache_epochs.AUTH.on_change
def _forget_contexts() -> None:
    _contexts.clear()


async def _session_context(session: AsyncSession, cookie: str, meta: RequestMeta) -> AuthContext | None:
    key = hashlib.sha256(cookie.encode()).digest()
    now = clock.utcnow().timestamp()  # the app's clock: expiry checks that depend on time move with it
    await cache_epochs.check(session)  # at most once a second for the process: changes made by other processes
    hit = _contexts.get(key)
    if hit is not None and hit[0] > now and hit[1] == cache_epochs.AUTH.generation:
        return replace(hit[2], meta=meta)  # this request's address and id in audit entries
    keep = await cache_epochs.settle(session, cache_epochs.AUTH)  # as of this transaction, read before the context
    generation = cache_epochs.AUTH.generation  # taken before reading: a change seen meanwhile makes it stale
    ctx = await access.context_from_session(session, cookie, meta)
    if ctx is not None and keep:
        if len(_contexts) >= 100_000:
            _contexts.clear()
        _contexts[key] = (await _valid_until(session, ctx, now + SESSION_CACHE_TTL), generation, ctx)
    return ctx


async def _valid_until(session: AsyncSession, ctx: AuthContext, ttl_end: float) -> float:
    """``ttl_end``, or earlier when the session check (``identity.session_is_live``, a support grant's expiry in
    ``access.context_from_session``) would refuse the context sooner by the clock alone; 0 (an entry never
    served) when a row is gone."""
    # The check's copy of the row is usually gone from the (weak) identity map by now: one primary-key read, on a
    # miss only.
    row = await session.get(UserSession, ctx.session_id)
    if row is None:
        return 0.0
    idle_end = row.last_seen_at + timedelta(minutes=settings.SESSION_IDLE_MINUTES)
    ends = [ttl_end, row.expires_at.timestamp(), idle_end.timestamp()]
    if ctx.support_grant_id is not None and ctx.tenant_id is not None:
        grant = await SupportGrantRepository(session, ctx.tenant_id).get(ctx.support_grant_id)
        if grant is None:
            return 0.0
        ends.append(grant.expires_at.timestamp())
    return min(ends)


async def _touch(op: Callable[[], Awaitable[None]], request: Request, kind: str) -> None:
    """Record last use at most once a minute per credential, in a tiny write of its own (``core.db.commit_now``:
    on SQLite grouped with the editors' batches in the writer lane) that runs after the request's sessions have
    closed (never a second pooled connection while holding one)."""
    now = clock.utcnow()
    key = f"{kind}:{request.headers.get('authorization') or request.cookies.get(settings.SESSION_COOKIE)}"
    seen = _last_touch.get(key)
    if seen is not None and now - seen < _TOUCH_EVERY:
        return

    if not after_sessions(request, op):
        return  # an error page outside a unit-of-work route: the next ordinary request records it
    _last_touch[key] = now
    if len(_last_touch) > 50_000:
        _last_touch.clear()


_last_touch: dict[str, object] = {}


class Authorize:
    """Require a signed-in caller holding ``permissions`` (all of them) in the credential's tenant.

    ``platform=True`` routes act outside any tenant (operators, support), ``None`` either way. No
    credential → 401;
    a credential without the permission → 403 (objects of other tenants are 404 in access functions).
    """

    def __init__(self, *permissions: Permission, platform: bool | None = False) -> None:
        self.permissions = permissions
        self.platform = platform

    async def __call__(self, request: Request, session: ReadSession) -> AuthContext:
        ctx = await current_context(request, session)
        if ctx is None:
            raise Unauthorized()
        if ctx.via == "session" and request.method not in SAFE_METHODS:
            presented = request.headers.get(CSRF_HEADER)
            if presented is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                presented = (await request.form()).get(CSRF_FIELD)  # type: ignore[assignment]
            if not csrf_valid(request, presented if isinstance(presented, str) else None):
                raise CsrfFailed()
        if self.platform is not None and self.platform != (ctx.tenant_id is None):
            raise Forbidden(
                "This is for platform staff; sign in at /ops."
                if self.platform
                else "Sign in to an institution to use this."
            )
        for p in self.permissions:
            if not ctx.can(p):
                raise Forbidden()
        return ctx


def require_csrf_for_anonymous(request: Request, presented: str | None) -> None:
    """Forms that work before sign-in (sign-in, reset) are bound to the pre-session cookie."""
    if not csrf_valid(request, presented):
        raise CsrfFailed()


# ---- the session cookie and the sign-in limit ---------------------------------------------------------
# Shared by the JSON API (tenancy.endpoints) and the pages (web.*): adapters use these, never each other's
# routers.


def set_session_cookie(response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        settings.SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def started(response: Response, token: str, ctx: AuthContext, max_age: int | None = None) -> SessionStarted:
    """Set the session cookie and tell the client who it now is and which CSRF token to send."""
    set_session_cookie(response, token, max_age or settings.SESSION_MAX_HOURS * 3600)
    return SessionStarted(
        user_id=ctx.user_id,
        tenant_slug=ctx.tenant_slug,
        role=ctx.role,
        platform_role=ctx.platform_role,
        csrf_token=csrf_token(token),
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(
        settings.SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure
    )


async def signin_limits(request: Request) -> None:
    """The per-address limit on password attempts (sign-in, an invitation for an existing account), then a
    place in the sign-in admission queue. Each account's own protection is the lockout in
    ``identity.authenticate``.

    Admission: at most ``SIGNIN_CONCURRENCY`` password checks are past this point at once in a process;
    the rest wait here holding nothing (no connection, no hash buffer). A storm of sign-ins then queues at
    the door instead of filling the connection pool and the event loop with half-done sign-ins while the
    people already working wait behind them. The place is given back when the request's sessions have
    closed (``after_sessions``), whatever the outcome.
    """
    ip = request.client.host if request.client else "unknown"
    await ratelimit.hit(settings.RATE_LIMIT_SIGNIN, "signin-ip", ip, "Too many sign-in attempts from your network.")
    gate = _admission()
    await gate.acquire()
    if not after_sessions(request, _released(gate)):
        gate.release()  # not in a unit-of-work route: nothing to hold the place for


def _released(gate: asyncio.Semaphore):  # type: ignore[no-untyped-def]
    async def release() -> None:
        gate.release()

    return release


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _admission() -> asyncio.Semaphore:
    """One admission queue per event loop (a semaphore belongs to the loop it first waited on)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(settings.SIGNIN_CONCURRENCY)
    return gate


# Route aliases
Signed = Annotated[AuthContext, Depends(Authorize(Permission.profile_read, platform=None))]
TenantSigned = Annotated[AuthContext, Depends(Authorize(Permission.profile_read))]
ProfileWrite = Annotated[AuthContext, Depends(Authorize(Permission.profile_write, platform=None))]
# Things that belong to a membership (personal API tokens): platform accounts have none.
TenantProfileWrite = Annotated[AuthContext, Depends(Authorize(Permission.profile_write))]
MembersRead = Annotated[AuthContext, Depends(Authorize(Permission.members_read))]
MembersWrite = Annotated[AuthContext, Depends(Authorize(Permission.members_write))]
TenantSettingsWrite = Annotated[AuthContext, Depends(Authorize(Permission.tenant_settings_write))]
SupportGrantsRead = Annotated[AuthContext, Depends(Authorize(Permission.support_grants_read))]
AuditRead = Annotated[AuthContext, Depends(Authorize(Permission.audit_read))]
PlatformSigned = Annotated[AuthContext, Depends(Authorize(Permission.profile_read, platform=True))]
TenantsManage = Annotated[AuthContext, Depends(Authorize(Permission.tenants_manage, platform=True))]
JobsManage = Annotated[AuthContext, Depends(Authorize(Permission.jobs_manage, platform=True))]
SupportEnter = Annotated[AuthContext, Depends(Authorize(Permission.support_enter, platform=True))]
AnySigned = Annotated[AuthContext | None, Depends(current_context)]
