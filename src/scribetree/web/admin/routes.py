"""Institution administration: members and invitations, the audit trail, branding, the AI provider.

Reading needs ``members:read`` / ``audit:read`` (admins, and support sessions read-only); every change
needs ``members:write`` or ``tenant:settings`` (admins). Ids in URLs of another institution are 404,
because the services look them up through the caller's tenant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner.providers_settings import provider_settings
from scribetree.ai_partner.schemas import AiProviderUpdate
from scribetree.compliance.service import audit_service
from scribetree.core.config import settings
from scribetree.core.errors import InvalidInput, NotFound, ScribetreeError
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.tenancy import auth
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import MembershipStatus, Role
from scribetree.tenancy.permissions import Permission
from scribetree.tenancy.schemas import BrandingUpdate, InvitationCreate, MemberRead
from scribetree.tenancy.service import member, tenant_service
from scribetree.web.branding import Brand, clean_color, contrast_report
from scribetree.web.pages import (
    FormState,
    announce,
    csrf_for,
    is_htmx,
    parse_id,
    query_string,
    redirect,
    render,
    render_fragment,
    role_label,
    safe_next,
)

router = APIRouter(route_class=UnitOfWorkRoute)
FormStr = Annotated[str, Form()]
PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 50
OUTCOMES = ("success", "failure", "denied")
STATUS_ACTIONS = {"deactivate": MembershipStatus.deactivated, "reactivate": MembershipStatus.active}


# ---- members --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberFilters:
    q: str = ""
    role: Role | None = None
    status: MembershipStatus | None = None
    page: int = 1

    @classmethod
    def parse(cls, q: str, role: str, status: str, page: str) -> MemberFilters:
        """Unknown values mean "no filter": a hand-edited address shows everything, not an error."""
        return cls(
            q=q.strip()[:100],
            role=Role(role) if role in Role.__members__ else None,
            status=MembershipStatus(status) if status in MembershipStatus.__members__ else None,
            page=max(1, int(page)) if page.isdigit() and len(page) < 7 else 1,
        )

    def url(self, **changes: object) -> str:
        values = {"q": self.q, "role": self.role, "status": self.status, "page": self.page, **changes}
        if values["page"] == 1:
            values["page"] = None
        return "/admin/members" + query_string(**values)


def _back(value: str) -> str:
    """Where a members-table form returns to: the same filtered page, never anywhere else."""
    target = safe_next(value)
    return target if target and target.startswith("/admin/members") else "/admin/members"


async def _members_page(
    request: Request, session: AsyncSession, ctx: AuthContext, filters: MemberFilters, *,
    invite_form: FormState | None = None, error: str | None = None, status: int = 200,
) -> Response:
    page = await member.list_members(session, ctx, role=filters.role, status=filters.status, query=filters.q or None,
                                     limit=PAGE_SIZE, offset=(filters.page - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(page.total / PAGE_SIZE))
    return await render(
        request, "admin/members.html", session=session, status=status, title="Members",
        members=page.items, total=page.total, filters=filters, pages=pages,
        first=(filters.page - 1) * PAGE_SIZE + 1 if page.items else 0,
        last=(filters.page - 1) * PAGE_SIZE + len(page.items),
        prev_url=filters.url(page=filters.page - 1) if filters.page > 1 else None,
        next_url=filters.url(page=filters.page + 1) if filters.page < pages else None,
        back=filters.url(), invitations=await member.list_invitations(session, ctx),
        can_write=ctx.can(Permission.members_write), statuses=list(MembershipStatus),
        invite_form=invite_form or FormState(values={"role": Role.student.value}), error=error,
        role_options=[(r.value, role_label(r)) for r in Role],
    )


@router.get("/admin/members", include_in_schema=False)
async def members(request: Request, ctx: auth.MembersRead, session: ReadSession, q: str = "", role: str = "",
                  status: str = "", page: str = "1") -> Response:
    return await _members_page(request, session, ctx, MemberFilters.parse(q, role, status, page))


@router.post("/admin/members/invite", include_in_schema=False)
async def invite(request: Request, ctx: auth.MembersWrite, read: ReadSession, write: WriteSession,
                 email: FormStr = "", role: FormStr = "student") -> Response:
    form = FormState(values={"email": email.strip(), "role": role})
    try:
        data = InvitationCreate(email=email.strip(), role=role)  # type: ignore[arg-type]
    except ValidationError as exc:
        form.from_validation(exc, {"email": "Enter an email address like name@school.edu.",
                                   "role": "Choose one of the roles."})
        return await _members_page(request, read, ctx, MemberFilters(), invite_form=form, status=422)
    try:
        inv = await member.invite(write, ctx, data)
    except ScribetreeError as exc:
        form.error("email", exc.detail)
        return await _members_page(request, read, ctx, MemberFilters(), invite_form=form, status=exc.status_code)
    return redirect("/admin/members#invitations", f"Invitation sent to {inv.email} as {role_label(inv.role).lower()}. "
                                                  f"The link works for {settings.INVITE_LINK_DAYS} days.")


async def _row(request: Request, m: MemberRead, back: str, *, message: str | None = None,
               error: str | None = None) -> str:
    return render_fragment("admin/_member_row.html", m=m, can_write=True, csrf=csrf_for(request), back=back,
                           roles=list(Role), row_message=message, row_error=error, role_label=role_label)


@router.post("/admin/members/{membership_id}/role", include_in_schema=False)
async def change_role(request: Request, membership_id: str, ctx: auth.MembersWrite, read: ReadSession,
                      write: WriteSession, role: FormStr = "", back: FormStr = "") -> Response:
    mid, back = parse_id(membership_id), _back(back)
    if role not in Role.__members__:
        raise InvalidInput("Choose one of the roles.")
    try:
        updated = await member.change_role(write, ctx, mid, Role(role))
    except NotFound:
        raise
    except ScribetreeError as exc:
        if is_htmx(request):
            current = await member.get_member(write, ctx, mid)
            html = await _row(request, current, back, error=exc.detail)
            return Response(html, status_code=exc.status_code, media_type="text/html",
                            headers=announce(exc.detail, "error"))
        filters = MemberFilters()
        return await _members_page(request, read, ctx, filters, error=exc.detail, status=exc.status_code)
    message = f"{updated.display_name} is now {role_label(updated.role).lower()}."
    if is_htmx(request):
        html = await _row(request, updated, back, message=message)
        return Response(html, media_type="text/html", headers=announce(message))
    return redirect(back, message)


@router.get("/admin/members/{membership_id}/{action}", include_in_schema=False)
async def confirm_status(request: Request, membership_id: str, action: str, ctx: auth.MembersWrite,
                         session: ReadSession, back: str = "") -> Response:
    if action not in STATUS_ACTIONS:
        raise NotFound()
    m = await member.get_member(session, ctx, parse_id(membership_id))
    return await render(request, "admin/confirm_status.html", session=session, title=f"{action.title()} member",
                        m=m, action=action, back=_back(back), error=None)


@router.post("/admin/members/{membership_id}/{action}", include_in_schema=False)
async def set_status(request: Request, membership_id: str, action: str, ctx: auth.MembersWrite,
                     read: ReadSession, write: WriteSession, back: FormStr = "") -> Response:
    if action not in STATUS_ACTIONS:
        raise NotFound()
    mid = parse_id(membership_id)
    try:
        updated = await member.set_status(write, ctx, mid, STATUS_ACTIONS[action])
    except NotFound:
        raise
    except ScribetreeError as exc:
        m = await member.get_member(read, ctx, mid)
        return await render(request, "admin/confirm_status.html", session=read, status=exc.status_code,
                            title=f"{action.title()} member", m=m, action=action, back=_back(back), error=exc.detail)
    if action == "deactivate":
        message = f"{updated.display_name} was deactivated. Their sessions and tokens here ended; their work is kept."
    else:
        message = f"{updated.display_name} can sign in again."
    return redirect(_back(back), message)


@router.post("/admin/invitations/{invitation_id}/revoke", include_in_schema=False)
async def revoke_invitation(invitation_id: str, ctx: auth.MembersWrite, session: WriteSession) -> Response:
    inv = await member.revoke_invitation(session, ctx, parse_id(invitation_id))
    return redirect("/admin/members#invitations", f"The invitation for {inv.email} was withdrawn; its link no "
                                                  "longer works.")


# ---- audit ----------------------------------------------------------------------------------------------------


def _day(value: str, form: FormState, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        form.error(name, "Enter a date like 2026-03-31.")
        return None


@router.get("/admin/audit", include_in_schema=False)
async def audit_log(
    request: Request, ctx: auth.AuditRead, session: ReadSession, action: str = "", actor: str = "",
    outcome: str = "", since: str = "", until: str = "", before_seq: str = "", verify: bool = False,
) -> Response:
    form = FormState(values={"action": action.strip()[:80], "actor": actor.strip()[:320],
                             "outcome": outcome if outcome in OUTCOMES else "", "since": since, "until": until})
    since_day, until_day = _day(since, form, "since"), _day(until, form, "until")
    if since_day and until_day and until_day < since_day:
        form.error("until", "The end date must be on or after the start date.")
        until_day = None
    before = int(before_seq) if before_seq.isdigit() and len(before_seq) < 12 else None
    page = await audit_service.search(
        session, ctx, action=form.values["action"] or None, actor=form.values["actor"] or None,
        outcome=form.values["outcome"] or None,
        since=datetime.combine(since_day, time.min, UTC) if since_day else None,
        until=datetime.combine(until_day + timedelta(days=1), time.min, UTC) if until_day else None,
        before_seq=before, limit=AUDIT_PAGE_SIZE,
    )
    filters = {k: v for k, v in form.values.items() if v}
    return await render(
        request, "admin/audit.html", session=session, status=200 if form.ok else 422, title="Audit log",
        events=page.items, form=form, outcomes=OUTCOMES, actions=await audit_service.actions(session, ctx),
        older_url="/admin/audit" + query_string(**filters, before_seq=page.next_before_seq)
        if page.next_before_seq else None,
        newest_url="/admin/audit" + query_string(**filters) if before else None,
        verification=await audit_service.verify_tenant(session, ctx) if verify else None,
        verify_url="/admin/audit" + query_string(**filters, verify=1),
    )


# ---- branding --------------------------------------------------------------------------------------------------


async def _branding_page(request: Request, session: AsyncSession, ctx: AuthContext, *,
                         form: FormState | None = None, status: int = 200) -> Response:
    assert ctx.tenant_id is not None
    brand = Brand.of(await tenant_service.get(session, ctx.tenant_id))
    if form is None:
        form = FormState(values={"display_name": brand.display_name, "logo_url": brand.logo_url or "",
                                 "primary_color": brand.primary, "accent_color": brand.accent})
    primary = clean_color(form.values.get("primary_color"), brand.primary)
    accent = clean_color(form.values.get("accent_color"), brand.accent)
    return await render(request, "admin/branding.html", session=session, status=status, title="Branding",
                        form=form, report=contrast_report(primary), preview_primary=primary,
                        preview_accent=accent, saved=brand)


@router.get("/admin/branding", include_in_schema=False)
async def branding(request: Request, ctx: auth.TenantSettingsWrite, session: ReadSession) -> Response:
    return await _branding_page(request, session, ctx)


@router.post("/admin/branding", include_in_schema=False)
async def save_branding(
    request: Request, ctx: auth.TenantSettingsWrite, read: ReadSession, write: WriteSession,
    display_name: FormStr = "", logo_url: FormStr = "", primary_color: FormStr = "", accent_color: FormStr = "",
) -> Response:
    values = {"display_name": display_name.strip(), "logo_url": logo_url.strip(),
              "primary_color": primary_color.strip().lower(), "accent_color": accent_color.strip().lower()}
    form = FormState(values=values)
    try:
        data = BrandingUpdate(display_name=values["display_name"] or None, logo_url=values["logo_url"] or None,
                              primary_color=values["primary_color"], accent_color=values["accent_color"])
    except ValidationError as exc:
        form.from_validation(exc, {
            "display_name": "Use at most 200 characters.",
            "logo_url": "Use an https:// address of an image (or a /static/ path), without spaces or quotes.",
            "primary_color": "Enter a colour as # and six hexadecimal digits, like #1f5f8b.",
            "accent_color": "Enter a colour as # and six hexadecimal digits, like #c2410c.",
        })
        return await _branding_page(request, read, ctx, form=form, status=422)
    await tenant_service.update_branding(write, ctx, data)
    report = contrast_report(data.primary_color or "")
    if report.warnings:
        return redirect("/admin/branding", "Branding saved, with a contrast warning: see below.", "info")
    return redirect("/admin/branding", "Branding saved.")


# ---- the AI provider -------------------------------------------------------------------------------------------

PROVIDER_OPTIONS = [
    ("builtin", "Built-in engine (no network, the default)"),
    ("anthropic", "Anthropic"),
    ("openai_compatible", "OpenAI-compatible endpoint"),
]
PROVIDER_MESSAGES = {
    "provider": "Choose one of the providers.",
    "base_url": "Enter the provider's address like https://api.example.com/v1 (at most 500 characters, no spaces).",
    "model": "Enter the model's name (at most 200 characters, no spaces).",
    "timeout_s": "Enter a whole number of seconds from 1 to 30.",
    "api_key": "An API key is 8 to 500 visible characters without spaces.",
}


async def _provider_page(request: Request, session: AsyncSession, ctx: AuthContext, *,
                         form: FormState | None = None, status: int = 200) -> Response:
    saved = await provider_settings.get(session, ctx)
    if form is None:
        form = FormState(values={"provider": saved.provider.value, "base_url": saved.base_url or "",
                                 "model": saved.model or "", "timeout_s": str(saved.timeout_s),
                                 "external_allowed": saved.external_allowed})
    return await render(request, "admin/ai_provider.html", session=session, status=status, title="AI provider",
                        form=form, saved=saved, providers=PROVIDER_OPTIONS)


@router.get("/admin/ai-provider", include_in_schema=False)
async def ai_provider(request: Request, ctx: auth.TenantSettingsWrite, session: ReadSession) -> Response:
    return await _provider_page(request, session, ctx)


@router.post("/admin/ai-provider", include_in_schema=False)
async def save_ai_provider(
    request: Request, ctx: auth.TenantSettingsWrite, read: ReadSession, write: WriteSession,
    provider: FormStr = "builtin", base_url: FormStr = "", model: FormStr = "", timeout_s: FormStr = "",
    external_allowed: FormStr = "", api_key: FormStr = "", clear_api_key: FormStr = "",
) -> Response:
    # The key is never put back into the form: after an error it must be entered again.
    form = FormState(values={"provider": provider, "base_url": base_url.strip(), "model": model.strip(),
                             "timeout_s": timeout_s.strip(), "external_allowed": external_allowed == "on",
                             "clear_api_key": clear_api_key == "on"})
    try:
        data = AiProviderUpdate(
            provider=provider,  # type: ignore[arg-type]
            base_url=base_url, model=model, timeout_s=timeout_s.strip() or "8",  # type: ignore[arg-type]
            external_allowed=external_allowed == "on", api_key=api_key or None,  # type: ignore[arg-type]
            clear_api_key=clear_api_key == "on",
        )
    except ValidationError as exc:
        form.from_validation(exc, PROVIDER_MESSAGES)
        return await _provider_page(request, read, ctx, form=form, status=422)
    try:
        saved = await provider_settings.put(write, ctx, data)
    except ScribetreeError as exc:
        if exc.status_code != 422:
            raise
        form.error(str(exc.extra.get("field") or "_form"), exc.detail)
        return await _provider_page(request, read, ctx, form=form, status=422)
    if saved.in_effect.value == "builtin" and saved.provider.value != "builtin":
        return redirect("/admin/ai-provider", "AI provider saved. Students' requests still use the built-in engine "
                        "until you allow sending their words to the external provider.", "info")
    return redirect("/admin/ai-provider", "AI provider saved.")
