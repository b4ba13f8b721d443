"""Platform staff: institutions and the job queue (operators); entering an institution (support)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.config import settings
from scribetree.core.errors import NotFound, ScribetreeError
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.ops.service import ops
from scribetree.tenancy import auth
from scribetree.tenancy.auth import set_session_cookie
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import Plan, SupportTier, TenantStatus, TenantType
from scribetree.tenancy.permissions import Permission
from scribetree.tenancy.schemas import SupportAccessCreate, TenantCreate, TenantUpdate
from scribetree.tenancy.service import access, tenant_service
from scribetree.web.pages import FormState, parse_id, redirect, render

router = APIRouter(route_class=UnitOfWorkRoute)
FormStr = Annotated[str, Form()]
STATUS_ACTIONS = {"suspend": TenantStatus.suspended, "activate": TenantStatus.active}
TYPE_LABELS = {TenantType.higher_ed: "Higher education", TenantType.k12: "K-12 school"}


async def _ops_page(request: Request, session: AsyncSession, ctx: AuthContext, *,
                    form: FormState | None = None, status: int = 200) -> Response:
    tenants = await tenant_service.list_all(session, ctx)
    counts = await tenant_service.member_counts(session, ctx)
    stats: dict[str, Any] | None = None
    if ctx.can(Permission.jobs_manage):
        stats = await ops.queue_stats(session, ctx)
        stats["live_workers"] = sum(1 for w in stats["workers"] if not w["stale"])
    return await render(
        request, "ops/index.html", session=session, status=status, title="Institutions",
        tenants=tenants, counts=counts, stats=stats, types=TYPE_LABELS,
        plan_options=[(p.value, p.value.capitalize()) for p in Plan],
        tier_options=[(t.value, t.value.capitalize()) for t in SupportTier],
        form=form or FormState(values={"type": TenantType.higher_ed.value, "region": "us",
                                       "plan": Plan.standard.value, "support_tier": SupportTier.basic.value}),
    )


@router.get("/ops", include_in_schema=False)
async def ops_home(request: Request, ctx: auth.TenantsManage, session: ReadSession) -> Response:
    return await _ops_page(request, session, ctx)


@router.post("/ops/tenants", include_in_schema=False)
async def create_tenant(
    request: Request, ctx: auth.TenantsManage, read: ReadSession, write: WriteSession, name: FormStr = "",
    slug: FormStr = "", tenant_type: Annotated[str, Form(alias="type")] = "higher_ed", region: FormStr = "us",
    plan: FormStr = "standard",
    support_tier: FormStr = "basic", hostname: FormStr = "", admin_email: FormStr = "",
) -> Response:
    values = {"name": name.strip(), "slug": slug.strip().lower(), "type": tenant_type, "region": region.strip().lower(),
              "plan": plan, "support_tier": support_tier, "hostname": hostname.strip().lower(),
              "admin_email": admin_email.strip()}
    form = FormState(values=values)
    try:
        data = TenantCreate(**{k: (v or None) if k in ("hostname", "admin_email") else v for k, v in values.items()})
    except ValidationError as exc:
        form.from_validation(exc, {
            "name": "Enter the institution's name (up to 200 characters).",
            "slug": "Use lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
            "region": "Use a region code like us, eu or ca-central.",
            "hostname": "Enter a host name like writing.example.edu, or leave it empty.",
            "admin_email": "Enter an email address like name@school.edu, or leave it empty.",
        })
        return await _ops_page(request, read, ctx, form=form, status=422)
    try:
        tenant = await tenant_service.create(write, ctx, data)
    except ScribetreeError as exc:
        form.error("hostname" if "host" in exc.detail else "slug", exc.detail)
        return await _ops_page(request, read, ctx, form=form, status=exc.status_code)
    invited = f" An invitation was sent to {data.admin_email}." if data.admin_email else ""
    return redirect("/ops", f"{tenant.name} was created (status: onboarding).{invited}")


@router.get("/ops/tenants/{tenant_id}/{action}", include_in_schema=False)
async def confirm_tenant_status(request: Request, tenant_id: str, action: str, ctx: auth.TenantsManage,
                                session: ReadSession) -> Response:
    if action not in STATUS_ACTIONS:
        raise NotFound()
    tenant = await tenant_service.get(session, parse_id(tenant_id))
    return await render(request, "ops/confirm_status.html", session=session, title=f"{action.title()} institution",
                        tenant=tenant, action=action)


@router.post("/ops/tenants/{tenant_id}/{action}", include_in_schema=False)
async def set_tenant_status(tenant_id: str, action: str, ctx: auth.TenantsManage, session: WriteSession) -> Response:
    if action not in STATUS_ACTIONS:
        raise NotFound()
    tenant = await tenant_service.update(session, ctx, parse_id(tenant_id), TenantUpdate(status=STATUS_ACTIONS[action]))
    if action == "suspend":
        return redirect("/ops", f"{tenant.name} is suspended: nobody can sign in there until it is activated.")
    return redirect("/ops", f"{tenant.name} is active.")


# ---- support ------------------------------------------------------------------------------------------------


async def _support_page(request: Request, *, form: FormState | None = None, status: int = 200) -> Response:
    return await render(request, "ops/support.html", status=status, title="Support access",
                        form=form or FormState(values={"minutes": "30"}),
                        max_minutes=settings.SUPPORT_ACCESS_MAX_MINUTES)


@router.get("/ops/support", include_in_schema=False)
async def support_page(request: Request, ctx: auth.SupportEnter) -> Response:
    return await _support_page(request)


@router.post("/ops/support", include_in_schema=False)
async def enter_support(request: Request, ctx: auth.SupportEnter, session: WriteSession, tenant_slug: FormStr = "",
                        reason: FormStr = "", minutes: FormStr = "30") -> Response:
    form = FormState(values={"tenant_slug": tenant_slug.strip(), "reason": reason.strip(), "minutes": minutes})
    try:
        data = SupportAccessCreate(tenant_slug=tenant_slug, reason=reason,
                                   minutes=int(minutes) if minutes.isdigit() and len(minutes) < 5 else 0)
    except ValidationError as exc:
        form.from_validation(exc, {
            "tenant_slug": "Enter the institution's short name (its slug), like northfield.",
            "reason": "Give a reason of at least 15 characters: the ticket number and what you will look at. "
                      "The institution's admins see it.",
            "minutes": f"Choose between 5 and {settings.SUPPORT_ACCESS_MAX_MINUTES} minutes.",
        })
        return await _support_page(request, form=form, status=422)
    try:
        token, _grant, tenant = await access.enter_as_support(session, ctx, data)
    except ScribetreeError as exc:
        form.error("minutes" if exc.status_code == 422 else "tenant_slug", exc.detail)
        return await _support_page(request, form=form, status=exc.status_code)
    response = redirect("/home", f"You are in {tenant.display_name or tenant.name} as support, read-only, for "
                                 f"{data.minutes} minutes.", "info")
    set_session_cookie(response, token, data.minutes * 60)
    return response
