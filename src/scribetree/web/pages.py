"""What every page shares: templates, the page chrome (branding, who is signed in, navigation), flash
messages, form state, redirects and small parsing helpers. No queries of its own: it calls services.

Flash messages travel in a short-lived cookie signed with an HMAC of ``SECRET_KEY`` (the same
construction as the CSRF tokens in ``core.http``), so a crafted link cannot put words in the page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.core.config import settings
from scribetree.core.errors import NotFound, ScribetreeError
from scribetree.core.http import csrf_binding, csrf_token, finish_request_sessions, request_id_var
from scribetree.identity.models import PlatformRole
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import Role
from scribetree.tenancy.permissions import ROLE_LABELS, Permission
from scribetree.tenancy.service import access, tenant_service
from scribetree.web.branding import Brand

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"
FLASH_COOKIE = "st_flash"
PLATFORM_LABELS = {PlatformRole.operator: "Operator", PlatformRole.support: "Support"}

_asset_versions: dict[str, str] = {}


def asset(path: str) -> str:
    """``/static/<path>?v=<content hash>``: the URL changes with the file, so no browser keeps a stale copy.
    Hashed once per process, except in development, where files change under a running server."""
    if path not in _asset_versions or settings.is_development:
        data = (STATIC_DIR / path).read_bytes()
        _asset_versions[path] = hashlib.sha256(data).hexdigest()[:10]
    return f"/static/{path}?v={_asset_versions[path]}"


def role_label(role: Role | str | None) -> str:
    if role is None:
        return ""
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return str(role)


def _fmt_dt(value: datetime | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    if value is None:
        return "—"
    return clock.as_utc(value).strftime(fmt) + " UTC"


def _fmt_date(value: datetime | None) -> str:
    return "—" if value is None else clock.as_utc(value).strftime("%d %b %Y")


def _iso(value: datetime | None) -> str:
    return "" if value is None else clock.as_utc(value).isoformat()


_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Plain text with its web addresses as links. Links to this app's reset and invitation pages become
    local paths, so the development mailbox works on any host and port."""
    parts: list[Markup] = []
    pos = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,);")
        parts.append(escape(text[pos : match.start()]))
        path = urlsplit(url).path
        href = path if path.startswith(("/reset/", "/invite/")) else url
        parts.append(Markup('<a href="{}">{}</a>').format(href, url))
        pos = match.start() + len(url)
    parts.append(escape(text[pos:]))
    return Markup("").join(parts)


env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals.update(asset=asset, role_label=role_label, ROLES=list(Role))
env.filters.update(dt=_fmt_dt, date=_fmt_date, iso=_iso, role=role_label, linkify=linkify)


# ---- forms --------------------------------------------------------------------------------------------


@dataclass
class FormState:
    """Submitted values (never passwords) and one message per field; ``_form`` is for the whole form."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors

    def from_validation(self, exc: ValidationError, messages: Mapping[str, str] | None = None) -> FormState:
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else "_form"
            self.error(name, (messages or {}).get(name) or err.get("msg", "This value is not valid."))
        return self


# ---- flash ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flash:
    message: str
    kind: str = "success"  # success | error | info


def _sign(payload: str) -> str:
    key = settings.SECRET_KEY.get_secret_value().encode()
    return hmac.new(key, b"flash:" + payload.encode(), hashlib.sha256).hexdigest()[:32]


def set_flash(response: Response, message: str, kind: str = "success") -> None:
    raw = json.dumps({"m": message[:500], "k": kind}).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response.set_cookie(FLASH_COOKIE, f"{payload}.{_sign(payload)}", max_age=120, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/")


def read_flash(request: Request) -> Flash | None:
    value = request.cookies.get(FLASH_COOKIE, "")
    payload, _, sig = value.partition(".")
    if not payload or not hmac.compare_digest(_sign(payload), sig):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return Flash(str(data["m"]), str(data["k"]) if data.get("k") in ("success", "error", "info") else "info")
    except (ValueError, KeyError, TypeError):
        return None


def redirect(url: str, flash: str | None = None, kind: str = "success") -> RedirectResponse:
    """POST/redirect/GET: 303 so the browser follows with a GET."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        set_flash(response, flash, kind)
    return response


# ---- htmx -----------------------------------------------------------------------------------------------


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


def announce(message: str, kind: str = "success") -> dict[str, str]:
    """Response headers that make the page's live region say ``message`` (static/js/app.js)."""
    return {"HX-Trigger": json.dumps({"st:announce": {"message": message, "kind": kind}})}


async def keep_work_of(request: Request, exc: ScribetreeError) -> None:
    """Commit what a failing request wrote when the service asks for it (``ScribetreeError.commits_work``:
    a failed sign-in's lockout counter and audit entry). A page answers such a failure itself with the form
    and a 4xx, which the route class would roll back, so the request's sessions are finished here the way
    the route class finishes them for a raised error. Do not touch the database afterwards."""
    if exc.commits_work:
        await finish_request_sessions(request, ok=True)


# ---- parsing -----------------------------------------------------------------------------------------------


def safe_next(value: str | None) -> str | None:
    """A local path to continue to after signing in, or None. Refuses other hosts and scheme tricks."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def parse_id(value: str) -> uuid.UUID:
    """Ids in page URLs: a malformed one is simply not found (not a validation error page)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound() from None


def query_string(**params: object) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return ("?" + urlencode(clean)) if clean else ""


def csrf_for(request: Request) -> str:
    """The token this browser's forms carry (bound to its session, or to the pre-session cookie)."""
    return csrf_token(csrf_binding(request))


# ---- chrome ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str


def nav_for(ctx: AuthContext | None) -> list[NavItem]:
    """What the signed-in person may open; each entry matches a route's own permission check."""
    if ctx is None:
        return []
    if ctx.tenant_id is None:
        items = []
        if ctx.can(Permission.tenants_manage):
            items.append(NavItem("/ops", "Institutions"))
        if ctx.can(Permission.support_enter):
            items.append(NavItem("/ops/support", "Support access"))
        items.append(NavItem("/account", "Account"))
        return items
    items = [NavItem("/home", "Home")]
    if not ctx.is_support_session:  # support sessions see no course (courses.access)
        items.append(NavItem("/courses", "Courses"))
    if ctx.can(Permission.members_read):
        items.append(NavItem("/admin/members", "Members"))
    if ctx.can(Permission.audit_read):
        items.append(NavItem("/admin/audit", "Audit log"))
    if ctx.can(Permission.tenant_settings_write):
        items.append(NavItem("/admin/branding", "Branding"))
        items.append(NavItem("/admin/ai-provider", "AI provider"))
    if ctx.can(Permission.profile_write):
        items.append(NavItem("/account", "Account"))
    return items


def who_label(ctx: AuthContext) -> str:
    if ctx.is_support_session:
        return "Support (read-only)"
    if ctx.role is not None:
        return role_label(ctx.role)
    return PLATFORM_LABELS.get(ctx.platform_role, "") if ctx.platform_role else ""


def home_for(ctx: AuthContext) -> str:
    if ctx.tenant_id is not None:
        return "/home"
    return "/ops" if ctx.can(Permission.tenants_manage) else "/ops/support"


def signin_url(brand: Brand | None, *, platform: bool = False, next_path: str | None = None) -> str:
    base = "/ops/signin" if platform else (f"/t/{brand.slug}/signin" if brand else "/")
    return base + query_string(next=safe_next(next_path))


async def brand_for(request: Request, session: AsyncSession, ctx: AuthContext | None) -> Brand | None:
    if ctx is None or ctx.tenant_id is None:
        return None
    cached = getattr(request.state, "brand", None)
    if cached is None or cached.id != str(ctx.tenant_id):
        cached = Brand.of(await tenant_service.get(session, ctx.tenant_id))
        request.state.brand = cached
    return cached


async def support_notice(session: AsyncSession, ctx: AuthContext | None) -> dict[str, Any] | None:
    """The grant behind a support session, for the banner on every page."""
    if ctx is None or not ctx.is_support_session:
        return None
    for grant in await access.list_support_grants(session, ctx):
        if grant["id"] == ctx.support_grant_id:
            return grant
    return None


async def render(
    request: Request,
    template: str,
    *,
    session: AsyncSession | None = None,
    status: int = 200,
    brand: Brand | None = None,
    ctx: AuthContext | bool | None = True,
    headers: Mapping[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render a page. ``ctx=True`` means "whoever this request was authorized as" (set by ``Authorize``
    or ``current_context``); ``None`` renders the signed-out chrome."""
    if ctx is True:
        ctx = getattr(request.state, "auth_ctx", None)
    assert ctx is not True and ctx is not False
    if brand is None and session is not None:
        brand = await brand_for(request, session, ctx)
    support = await support_notice(session, ctx) if session is not None else None
    flash = read_flash(request)
    path = request.url.path
    nav = nav_for(ctx)
    matching = [i.href for i in nav if path == i.href or path.startswith(i.href.rstrip("/") + "/")]
    context = {
        "request": request,
        "path": path,
        "ctx": ctx,
        "brand": brand,
        "nav": nav,
        "nav_current": max(matching, key=len) if matching else None,
        "who": who_label(ctx) if ctx else "",
        "home_url": home_for(ctx) if ctx else (f"/t/{brand.slug}/signin" if brand else "/"),
        "csrf": csrf_for(request),
        "flash": flash,
        "support": support,
        "is_development": settings.is_development,
        "request_id": request_id_var.get(),
        **values,
    }
    body = env.get_template(template).render(context)
    response = HTMLResponse(body, status_code=status, headers=dict(headers or {}))
    response.headers["Cache-Control"] = "no-store"
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure)
    return response


def render_fragment(template: str, **values: Any) -> str:
    return env.get_template(template).render(values)
