"""``/home`` (what each role sees first) and ``/account`` (password, sessions, personal API tokens)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.compliance.service import audit_service
from scribetree.core import clock
from scribetree.core.errors import ScribetreeError
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.identity.exceptions import TokenNotFound
from scribetree.identity.schemas import ApiTokenCreate
from scribetree.tenancy import auth
from scribetree.tenancy.auth import clear_session_cookie
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import Role
from scribetree.tenancy.permissions import ROLE_SCOPES, Permission, Scope
from scribetree.tenancy.service import access, member
from scribetree.web.pages import (
    FormState,
    announce,
    csrf_for,
    home_for,
    is_htmx,
    parse_id,
    redirect,
    render,
    render_fragment,
)

router = APIRouter(route_class=UnitOfWorkRoute)
FormStr = Annotated[str, Form()]
SUPPORT_NOTICE_DAYS = 30
TOKEN_DAYS = [("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]
SCOPE_HELP = {
    Scope.read: "Read: see your own things and, for admins, the institution's members and audit log.",
    Scope.write: "Write: change your own things.",
    Scope.admin: "Admin: manage the institution (members, invitations, branding).",
    Scope.research: "Research: de-identified aggregates for research tools (needs your institution's consent).",
}


# ---- home -------------------------------------------------------------------------------------------------


def _support_notices(grants: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Support access now open, and support access in the last 30 days (admins see both on their home)."""
    now = clock.utcnow()
    active = [g for g in grants if g["ended_at"] is None and g["expires_at"] > now]
    since = now - timedelta(days=SUPPORT_NOTICE_DAYS)
    recent = [g for g in grants if g not in active and g["created_at"] >= since]
    return active, recent


@router.get("/home", include_in_schema=False)
async def home(request: Request, ctx: auth.Signed, session: ReadSession) -> Response:
    if ctx.tenant_id is None:
        return redirect(home_for(ctx))
    if ctx.is_support_session:
        return await render(request, "home/support.html", session=session, title="Institution overview",
                            counts=await member.count_by_role(session, ctx),
                            events=(await audit_service.search(session, ctx, limit=8)).items)
    if ctx.can(Permission.members_write):
        grants = await access.list_support_grants(session, ctx)
        active, recent = _support_notices(grants)
        return await render(
            request, "home/admin.html", session=session, title="Overview",
            counts=await member.count_by_role(session, ctx), invitations=await member.list_invitations(session, ctx),
            events=(await audit_service.search(session, ctx, limit=8)).items,
            active_grants=active, recent_grants=recent, notice_days=SUPPORT_NOTICE_DAYS,
        )
    upcoming = await assignment_service.list_mine(session, ctx, limit=20)
    if ctx.role in (Role.educator, Role.teaching_assistant):
        return await render(request, "home/teaching.html", session=session, title="Teaching",
                            courses=await course_service.list_courses(session, ctx), assignments=upcoming)
    return await render(request, "home/student.html", session=session, title="Your writing", assignments=upcoming)


# ---- account ----------------------------------------------------------------------------------------------


def _can_have_tokens(ctx: AuthContext) -> bool:
    return ctx.tenant_id is not None and ctx.role is not None and not ctx.is_support_session


async def _account_page(
    request: Request, session: AsyncSession, ctx: AuthContext, *, password_form: FormState | None = None,
    token_form: FormState | None = None, new_token: dict[str, Any] | None = None, status: int = 200,
) -> Response:
    tokens_enabled = _can_have_tokens(ctx)
    scopes = sorted(ROLE_SCOPES[ctx.role], key=list(Scope).index) if tokens_enabled and ctx.role else []
    return await render(
        request, "home/account.html", session=session, status=status, title="Your account",
        can_write=ctx.can(Permission.profile_write), tokens_enabled=tokens_enabled,
        tokens=await access.list_tokens(session, ctx) if tokens_enabled else [],
        scopes=[(s.value, SCOPE_HELP[s]) for s in scopes], token_days=TOKEN_DAYS,
        password_form=password_form or FormState(),
        token_form=token_form or FormState(values={"scopes": ["read"], "expires_in_days": "90"}),
        new_token=new_token, now=clock.utcnow(),
    )


@router.get("/account", include_in_schema=False)
async def account(request: Request, ctx: auth.Signed, session: ReadSession) -> Response:
    return await _account_page(request, session, ctx)


@router.post("/account/password", include_in_schema=False)
async def change_password(
    request: Request, ctx: auth.ProfileWrite, read: ReadSession, write: WriteSession,
    current_password: FormStr = "", new_password: FormStr = "", new_password_confirm: FormStr = "",
) -> Response:
    form = FormState()
    if not current_password:
        form.error("current_password", "Enter your current password.")
    if not new_password:
        form.error("new_password", "Enter a new password.")
    elif new_password != new_password_confirm:
        form.error("new_password_confirm", "The two new passwords do not match. Type the same password twice.")
    if form.ok:
        try:
            await access.change_password(read, write, ctx, current_password, new_password)
        except ScribetreeError as exc:
            form.error("current_password" if exc.status_code == 401 else "new_password", exc.detail)
            status = 400 if exc.status_code == 401 else exc.status_code
            return await _account_page(request, read, ctx, password_form=form, status=status)
    else:
        return await _account_page(request, read, ctx, password_form=form, status=422)
    # This session stays; every other one ended (identity.change_password). Tokens are separate credentials.
    return redirect("/account", "Your password has been changed. You stay signed in here; everywhere else you "
                                "were signed out. Your API tokens still work: revoke any you no longer trust.")


@router.post("/account/signout-everywhere", include_in_schema=False)
async def sign_out_everywhere(ctx: auth.ProfileWrite, session: WriteSession) -> Response:
    await access.sign_out_everywhere(session, ctx)
    target = "/ops/signin" if ctx.tenant_id is None else f"/t/{ctx.tenant_slug}/signin"
    response = redirect(target, "You were signed out on every device, and your API tokens stopped working.", "info")
    clear_session_cookie(response)
    return response


@router.post("/account/tokens", include_in_schema=False)
async def create_token(
    request: Request, ctx: auth.ProfileWrite, read: ReadSession, write: WriteSession, name: FormStr = "",
    scopes: Annotated[list[str] | None, Form()] = None, expires_in_days: FormStr = "90",
) -> Response:
    form = FormState(values={"name": name.strip(), "scopes": scopes or [], "expires_in_days": expires_in_days})
    try:
        days = int(expires_in_days)
    except ValueError:
        days = 0
    try:
        data = ApiTokenCreate(name=name, scopes=scopes or [], expires_in_days=days)
    except ValidationError as exc:
        form.from_validation(exc, {
            "name": "Give the token a name (up to 100 characters) so you can recognise it later.",
            "scopes": "Choose at least one scope.",
            "expires_in_days": "Choose how long the token works: from 1 to 365 days.",
        })
        return await _account_page(request, read, ctx, token_form=form, status=422)
    try:
        secret, row = await access.create_token(write, ctx, name=data.name, scopes=data.scopes,
                                                expires_in_days=data.expires_in_days)
    except ScribetreeError as exc:
        form.error("scopes" if exc.status_code == 422 else "_form", exc.detail)
        return await _account_page(request, read, ctx, token_form=form, status=exc.status_code)
    # Listed from the write session: the new token is not committed yet, and the list should show it.
    return await _account_page(request, write, ctx, new_token={"secret": secret, "name": row.name}, status=201)


@router.post("/account/tokens/{token_id}/revoke", include_in_schema=False)
async def revoke_token(request: Request, token_id: str, ctx: auth.ProfileWrite, session: WriteSession) -> Response:
    if not _can_have_tokens(ctx):  # platform accounts and support sessions have no tokens to revoke
        raise TokenNotFound()
    row: Any = await access.revoke_token(session, ctx, parse_id(token_id))
    message = f"The token “{row.name}” was revoked. It stops working at once."
    if is_htmx(request):
        html = render_fragment("home/_token_row.html", t=row, now=clock.utcnow(), csrf=csrf_for(request))
        return Response(html, media_type="text/html", headers=announce(message))
    return redirect("/account#tokens", message)


# ---- support sessions ------------------------------------------------------------------------------------------


@router.post("/support/end", include_in_schema=False)
async def end_support(ctx: auth.TenantSigned, session: WriteSession) -> Response:
    await access.end_support(session, ctx)
    response = redirect("/ops/signin", "Support access ended. Sign in again to continue.", "info")
    clear_session_cookie(response)
    return response
