"""Getting in and out: sign-in (institution, host name, platform), sign-out, password reset, invitations.

Forms used before sign-in carry a CSRF token bound to the pre-session cookie (``require_csrf_for_anonymous``);
sign-out is a POST whose token ``Authorize`` checks. A failed attempt re-renders the form with the service's
message and its status; the form never echoes a password.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from scribetree.core import ratelimit
from scribetree.core.config import settings
from scribetree.core.errors import ScribetreeError, TooManyRequests
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, request_meta
from scribetree.identity.exceptions import LinkInvalid
from scribetree.identity.schemas import ResetRequest
from scribetree.identity.service import identity
from scribetree.tenancy import auth
from scribetree.tenancy.auth import (
    clear_session_cookie,
    current_context,
    require_csrf_for_anonymous,
    set_session_cookie,
    signin_limits,
)
from scribetree.tenancy.models import MembershipStatus, Role, Tenant, TenantStatus
from scribetree.tenancy.schemas import InvitationAccept
from scribetree.tenancy.service import access, member, tenant_service
from scribetree.web.branding import Brand
from scribetree.web.pages import (
    FormState,
    home_for,
    keep_work_of,
    redirect,
    render,
    role_label,
    safe_next,
    signin_url,
)

router = APIRouter(route_class=UnitOfWorkRoute)
FormStr = Annotated[str, Form()]
CsrfField = Annotated[str, Form(alias="csrf_token")]
NextField = Annotated[str, Form(alias="next")]
NextQuery = Annotated[str | None, Query(alias="next")]
SESSION_SECONDS = settings.SESSION_MAX_HOURS * 3600


# ---- demo accounts (development only) -------------------------------------------------------------------


def demo_accounts(brand: Brand) -> list[tuple[str, list[dict[str, str]]]]:
    """Demo people grouped by role, from the file the demo seeder writes. Development and demo tenants only.

    The file is a list of ``{"email", "name", "role"}`` (optionally ``"tenant"``: a slug), or an object
    mapping tenant slugs to such lists. Anything unreadable shows nothing.
    """
    if not (settings.is_development and brand.is_demo):
        return []
    path = settings.DATA_DIR / "demo-accounts.json"
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if isinstance(data, dict):
        data = data.get(brand.slug, [])
    if not isinstance(data, list):
        return []
    groups: dict[str, list[dict[str, str]]] = {}
    for row in data:
        if not isinstance(row, dict) or not isinstance(row.get("email"), str):
            continue
        if row.get("tenant") not in (None, brand.slug):
            continue
        role = str(row.get("role") or "")
        groups.setdefault(role, []).append({"email": row["email"], "name": str(row.get("name") or row["email"])})
    order = {r.value: i for i, r in enumerate(reversed(list(Role)))}  # admins first, students last
    return [(role_label(role) or "Other", rows) for role, rows in sorted(groups.items(),
                                                                           key=lambda kv: order.get(kv[0], 99))]


# ---- sign-in ----------------------------------------------------------------------------------------------


async def _signin_page(
    request: Request, brand: Brand | None, *, action: str, form: FormState | None = None,
    next_path: str | None = None, status: int = 200,
) -> Response:
    platform = brand is None
    demo = demo_accounts(brand) if brand else []
    return await render(
        request, "signin/signin.html", ctx=None, brand=brand, status=status, form=form or FormState(),
        action=action, next=safe_next(next_path) or "", platform=platform,
        reset_url="/reset" if platform else f"/t/{brand.slug}/reset",
        demo=demo, demo_password=settings.DEMO_PASSWORD.get_secret_value() if demo else "",
        title="Operations sign-in" if platform else "Sign in",
    )


async def _sign_in(
    request: Request, read: ReadSession, write: WriteSession, tenant: Tenant | None, *, email: str,
    password: str, next_path: str, action: str,
) -> Response:
    brand = Brand.of(tenant) if tenant else None
    form = FormState(values={"email": email.strip()})
    if not email.strip():
        form.error("email", "Enter your email address.")
    elif len(email) > 320:
        form.error("email", "This email address is too long.")
    if not password:
        form.error("password", "Enter your password.")
    if not form.ok:
        return await _signin_page(request, brand, action=action, form=form, next_path=next_path, status=422)
    previous = await current_context(request, read)  # before anything is written (SQLite has one writer)
    try:
        await signin_limits(request)
        if tenant is None:
            token, _row, ctx = await access.sign_in_platform(read, write, email, password, request_meta(request))
        else:
            token, _row, ctx = await access.sign_in(read, write, tenant, email, password, request_meta(request))
    except ScribetreeError as exc:
        await keep_work_of(request, exc)
        form.error("_form", exc.detail)
        return await _signin_page(request, brand, action=action, form=form, next_path=next_path,
                                  status=exc.status_code)
    if previous is not None and previous.session_id is not None:
        await access.sign_out(write, previous)  # one browser, one session: the old one ends
    response = redirect(safe_next(next_path) or home_for(ctx))
    set_session_cookie(response, token, SESSION_SECONDS)
    return response


@router.get("/t/{slug}/signin", include_in_schema=False)
async def signin_page(slug: str, request: Request, session: ReadSession, next_path: NextQuery = None) -> Response:
    tenant = await tenant_service.resolve(session, slug=slug)
    ctx = await current_context(request, session)
    if ctx is not None and ctx.tenant_id == tenant.id:
        return redirect(safe_next(next_path) or "/home")
    return await _signin_page(request, Brand.of(tenant), action=f"/t/{tenant.slug}/signin", next_path=next_path)


@router.post("/t/{slug}/signin", include_in_schema=False)
async def signin_submit(
    slug: str, request: Request, read: ReadSession, write: WriteSession, csrf: CsrfField = "",
    email: FormStr = "", password: FormStr = "", next_path: NextField = "",
) -> Response:
    require_csrf_for_anonymous(request, csrf)
    tenant = await tenant_service.resolve(read, slug=slug)
    return await _sign_in(request, read, write, tenant, email=email, password=password, next_path=next_path,
                          action=f"/t/{tenant.slug}/signin")


@router.get("/signin", include_in_schema=False)
async def host_signin_page(request: Request, session: ReadSession, next_path: NextQuery = None) -> Response:
    """An institution on its own host name (``tenant.hostname``) signs in at ``/signin``."""
    tenant = await tenant_service.by_host(session, request.headers.get("host", ""))
    if tenant is None:
        return redirect(signin_url(None, next_path=next_path))
    ctx = await current_context(request, session)
    if ctx is not None and ctx.tenant_id == tenant.id:
        return redirect(safe_next(next_path) or "/home")
    return await _signin_page(request, Brand.of(tenant), action="/signin", next_path=next_path)


@router.post("/signin", include_in_schema=False)
async def host_signin_submit(
    request: Request, read: ReadSession, write: WriteSession, csrf: CsrfField = "", email: FormStr = "",
    password: FormStr = "", next_path: NextField = "",
) -> Response:
    require_csrf_for_anonymous(request, csrf)
    tenant = await tenant_service.resolve(read, host=request.headers.get("host", ""))
    return await _sign_in(request, read, write, tenant, email=email, password=password, next_path=next_path,
                          action="/signin")


@router.get("/ops/signin", include_in_schema=False)
async def platform_signin_page(request: Request, session: ReadSession, next_path: NextQuery = None) -> Response:
    ctx = await current_context(request, session)
    if ctx is not None and ctx.tenant_id is None:
        return redirect(safe_next(next_path) or home_for(ctx))
    return await _signin_page(request, None, action="/ops/signin", next_path=next_path)


@router.post("/ops/signin", include_in_schema=False)
async def platform_signin_submit(
    request: Request, read: ReadSession, write: WriteSession, csrf: CsrfField = "", email: FormStr = "",
    password: FormStr = "", next_path: NextField = "",
) -> Response:
    require_csrf_for_anonymous(request, csrf)
    return await _sign_in(request, read, write, None, email=email, password=password, next_path=next_path,
                          action="/ops/signin")


@router.post("/signout", include_in_schema=False)
async def sign_out(ctx: auth.Signed, session: WriteSession) -> Response:
    if ctx.is_support_session:
        await access.end_support(session, ctx)
        response = redirect("/ops/signin", "Support access ended. Sign in again to continue.", "info")
    else:
        await access.sign_out(session, ctx)
        target = "/ops/signin" if ctx.tenant_id is None else f"/t/{ctx.tenant_slug}/signin"
        response = redirect(target, "You have signed out.", "info")
    clear_session_cookie(response)
    return response


# ---- password reset ------------------------------------------------------------------------------------------


async def _host_brand(request: Request, session: ReadSession) -> Brand | None:
    tenant = await tenant_service.by_host(session, request.headers.get("host", ""))
    return Brand.of(tenant) if tenant else None


async def _reset_request_page(request: Request, brand: Brand | None, *, form: FormState | None = None,
                              sent: bool = False, status: int = 200) -> Response:
    return await render(
        request, "signin/reset_request.html", ctx=None, brand=brand, status=status, form=form or FormState(),
        sent=sent, action=f"/t/{brand.slug}/reset" if brand else "/reset",
        signin=signin_url(brand), minutes=settings.RESET_LINK_MINUTES, title="Reset your password",
    )


async def _request_reset(request: Request, session: WriteSession, tenant: Tenant | None, email: str) -> Response:
    brand = Brand.of(tenant) if tenant else None
    form = FormState(values={"email": email.strip()})
    try:
        data = ResetRequest(email=email.strip())
    except ValidationError:
        form.error("email", "Enter your email address in the right form, like name@school.edu.")
        return await _reset_request_page(request, brand, form=form, status=422)
    ip = request.client.host if request.client else "unknown"
    try:
        await ratelimit.hit(settings.RATE_LIMIT_RESET, "reset-ip", ip, "Too many reset requests from your network.")
        await ratelimit.hit(settings.RATE_LIMIT_RESET, "reset-email", str(data.email).lower(),
                            "Too many reset requests for this address.")
    except TooManyRequests as exc:
        form.error("_form", exc.detail)
        return await _reset_request_page(request, brand, form=form, status=429)
    await access.request_reset(session, str(data.email), request_meta(request), tenant=tenant)
    return redirect((f"/t/{tenant.slug}/reset" if tenant else "/reset") + "?sent=1")


@router.get("/t/{slug}/reset", include_in_schema=False)
async def reset_request_page(slug: str, request: Request, session: ReadSession, sent: bool = False) -> Response:
    tenant = await tenant_service.resolve(session, slug=slug)
    return await _reset_request_page(request, Brand.of(tenant), sent=sent)


@router.post("/t/{slug}/reset", include_in_schema=False)
async def reset_request_submit(slug: str, request: Request, read: ReadSession, write: WriteSession,
                               csrf: CsrfField = "", email: FormStr = "") -> Response:
    require_csrf_for_anonymous(request, csrf)
    tenant = await tenant_service.resolve(read, slug=slug)
    return await _request_reset(request, write, tenant, email)


@router.get("/reset", include_in_schema=False)
async def host_reset_request_page(request: Request, session: ReadSession, sent: bool = False) -> Response:
    return await _reset_request_page(request, await _host_brand(request, session), sent=sent)


@router.post("/reset", include_in_schema=False)
async def host_reset_request_submit(request: Request, read: ReadSession, write: WriteSession,
                                    csrf: CsrfField = "", email: FormStr = "") -> Response:
    require_csrf_for_anonymous(request, csrf)
    tenant = await tenant_service.by_host(read, request.headers.get("host", ""))
    return await _request_reset(request, write, tenant, email)


async def _link_invalid(request: Request, brand: Brand | None, *, invitation: bool) -> Response:
    return await render(
        request, "signin/link_invalid.html", ctx=None, brand=brand, status=400, invitation=invitation,
        reset_url=f"/t/{brand.slug}/reset" if brand else "/reset", signin=signin_url(brand),
        title="This link no longer works",
    )


async def _reset_form(request: Request, brand: Brand | None, token: str, *, form: FormState | None = None,
                      status: int = 200) -> Response:
    return await render(request, "signin/reset_form.html", ctx=None, brand=brand, status=status,
                        form=form or FormState(), action=f"/reset/{token}", title="Choose a new password")


@router.get("/reset/{token}", include_in_schema=False)
async def reset_form(token: str, request: Request, session: ReadSession) -> Response:
    brand = await _host_brand(request, session)
    try:
        await identity.check_reset(session, token)
    except LinkInvalid:
        return await _link_invalid(request, brand, invitation=False)
    return await _reset_form(request, brand, token)


@router.post("/reset/{token}", include_in_schema=False)
async def reset_submit(token: str, request: Request, read: ReadSession, write: WriteSession,
                       csrf: CsrfField = "", password: FormStr = "", password_confirm: FormStr = "") -> Response:
    require_csrf_for_anonymous(request, csrf)
    brand = await _host_brand(request, read)
    form = FormState()
    if not password:
        form.error("password", "Enter a new password.")
    elif password != password_confirm:
        form.error("password_confirm", "The two passwords do not match. Type the same password twice.")
    if not form.ok:
        return await _reset_form(request, brand, token, form=form, status=422)
    try:
        user = await access.complete_reset(write, token, password, request_meta(request))
    except LinkInvalid:
        return await _link_invalid(request, brand, invitation=False)
    except ScribetreeError as exc:  # a weak password: nothing was used up, try again
        form.error("password", exc.detail)
        return await _reset_form(request, brand, token, form=form, status=exc.status_code)
    if brand is None:
        active = [t for m, t in await member.memberships_of(write, user.id)
                  if m.status == MembershipStatus.active and t.status != TenantStatus.suspended]
        if len(active) == 1:
            brand = Brand.of(active[0])
    target = signin_url(brand, platform=brand is None and user.platform_role is not None)
    return redirect(target, "Your password has been changed. Sign in with your new password.")


# ---- invitations ------------------------------------------------------------------------------------------------


async def _invite_page(request: Request, token: str, inv: Any, tenant: Tenant, has_account: bool, *,
                       form: FormState | None = None, status: int = 200) -> Response:
    brand = Brand.of(tenant)
    return await render(
        request, "signin/invite.html", ctx=None, brand=brand, status=status, form=form or FormState(),
        action=f"/invite/{token}", email=inv.email, role=role_label(inv.role), has_account=has_account,
        expires_at=inv.expires_at, signin=signin_url(brand), title=f"Join {brand.display_name}",
        reset_url=f"/t/{brand.slug}/reset",
    )


@router.get("/invite/{token}", include_in_schema=False)
async def invitation_page(token: str, request: Request, session: ReadSession) -> Response:
    try:
        inv, tenant, user = await member.open_invitation(session, token)
    except LinkInvalid:
        return await _link_invalid(request, await _host_brand(request, session), invitation=True)
    return await _invite_page(request, token, inv, tenant, user is not None)


@router.post("/invite/{token}", include_in_schema=False)
async def invitation_accept(
    token: str, request: Request, read: ReadSession, write: WriteSession, csrf: CsrfField = "",
    display_name: FormStr = "", password: FormStr = "", password_confirm: FormStr = "",
    current_password: FormStr = "",
) -> Response:
    require_csrf_for_anonymous(request, csrf)
    try:
        inv, tenant, user = await member.open_invitation(read, token)
    except LinkInvalid:
        return await _link_invalid(request, await _host_brand(request, read), invitation=True)
    has_account = user is not None
    form = FormState(values={"display_name": display_name.strip()})
    if has_account:
        if not current_password:
            form.error("current_password", "Enter the password you use to sign in to Scribe Tree.")
        elif len(current_password) > 256:
            form.error("current_password", "That is not the current password of your account.")
    else:
        if not display_name.strip():
            form.error("display_name", "Enter your name as your teachers and classmates should see it.")
        elif len(display_name.strip()) > 200:
            form.error("display_name", "Use at most 200 characters for your name.")
        if not password:
            form.error("password", "Choose a password.")
        elif password != password_confirm:
            form.error("password_confirm", "The two passwords do not match. Type the same password twice.")
    if not form.ok:
        return await _invite_page(request, token, inv, tenant, has_account, form=form, status=422)
    try:
        if has_account:
            data = InvitationAccept(token=token, current_password=current_password)
        else:
            data = InvitationAccept(token=token, display_name=display_name.strip(), password=password)
    except ValidationError:
        return await _link_invalid(request, Brand.of(tenant), invitation=True)
    try:
        if has_account:
            await signin_limits(request)  # a password check, counted like a sign-in
        session_token, _ctx = await member.accept_invitation(read, write, data, request_meta(request))
    except LinkInvalid:
        return await _link_invalid(request, Brand.of(tenant), invitation=True)
    except ScribetreeError as exc:
        await keep_work_of(request, exc)  # a wrong password's lockout counter and audit entry are kept
        if has_account:
            form.error("current_password" if exc.status_code in (401, 422) else "_form", exc.detail)
        else:
            form.error("password" if exc.status_code == 422 else "_form", exc.detail)
        return await _invite_page(request, token, inv, tenant, has_account, form=form, status=exc.status_code)
    brand = Brand.of(tenant)
    response = redirect("/home", f"Welcome to {brand.display_name}. You joined as {role_label(inv.role).lower()}.")
    set_session_cookie(response, session_token, SESSION_SECONDS)
    return response
