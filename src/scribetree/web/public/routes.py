"""``/``: home for the signed in, "find your institution" for everyone else; ``/t/{slug}/brand.css``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from scribetree.core.config import settings
from scribetree.core.http import ReadSession, UnitOfWorkRoute
from scribetree.tenancy.auth import current_context
from scribetree.tenancy.exceptions import TenantNotFound
from scribetree.tenancy.service import tenant_service
from scribetree.web.branding import Brand, stylesheet
from scribetree.web.pages import FormState, home_for, query_string, redirect, render, safe_next, signin_url

router = APIRouter(route_class=UnitOfWorkRoute)
NextQuery = Annotated[str | None, Query(alias="next")]


async def _landing(request: Request, session: ReadSession, *, form: FormState | None = None,
                   next_path: str | None = None, status: int = 200) -> Response:
    demo = []
    if settings.is_development:
        demo = [Brand.of(t) for t in await tenant_service.list_active(session) if t.is_demo]
    return await render(request, "public/landing.html", ctx=None, status=status, form=form or FormState(),
                        demo_tenants=demo, next=safe_next(next_path) or "", title="Scribe Tree")


@router.get("/", include_in_schema=False)
async def landing(request: Request, session: ReadSession, next_path: NextQuery = None) -> Response:
    ctx = await current_context(request, session)
    if ctx is not None:
        return redirect(safe_next(next_path) or home_for(ctx))
    host_tenant = await tenant_service.by_host(session, request.headers.get("host", ""))
    if host_tenant is not None:
        return redirect("/signin" + query_string(next=safe_next(next_path)))
    return await _landing(request, session, next_path=next_path)


@router.get("/find", include_in_schema=False)
async def find_institution(request: Request, session: ReadSession, slug: str = "",
                           next_path: NextQuery = None) -> Response:
    """The "find your institution" form (GET: it changes nothing)."""
    wanted = slug.strip().lower().removeprefix("/").removesuffix("/")
    form = FormState(values={"slug": slug.strip()})
    if not wanted:
        form.error("slug", "Enter your institution's short name, as in the address of its sign-in page.")
        return await _landing(request, session, form=form, next_path=next_path, status=422)
    try:
        tenant = await tenant_service.resolve(session, slug=wanted)
    except TenantNotFound:
        form.error("slug", f"No institution uses the short name “{wanted[:63]}”. Check the spelling, or ask your "
                           "teacher or administrator for your institution's sign-in address.")
        return await _landing(request, session, form=form, next_path=next_path, status=404)
    return redirect(signin_url(Brand.of(tenant), next_path=next_path))


@router.get("/t/{slug}", include_in_schema=False)
async def tenant_root(slug: str) -> Response:
    return redirect(f"/t/{slug}/signin")


@router.get("/t/{slug}/brand.css", include_in_schema=False)
async def brand_stylesheet(slug: str, session: ReadSession) -> Response:
    """The institution's colours as CSS custom properties (the CSP forbids inline styles)."""
    tenant = await tenant_service.resolve(session, slug=slug)
    return Response(stylesheet(Brand.of(tenant)), media_type="text/css",
                    headers={"Cache-Control": "public, max-age=300"})
