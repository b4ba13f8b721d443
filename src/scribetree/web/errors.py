"""The HTML error handler for every non-API path (the app calls ``render_error`` from its handlers).

A 401 on a page is not an error to show: the visitor is sent to the right sign-in page with ``next``
set to where they were going. htmx requests get no page at all, only a message for the live region.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from scribetree.core.db import unit_of_work
from scribetree.core.errors import ScribetreeError
from scribetree.tenancy.auth import current_context
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.service import tenant_service
from scribetree.web.branding import Brand
from scribetree.web.pages import announce, brand_for, is_htmx, render, signin_url

TITLES = {
    400: "This request could not be completed",
    401: "Please sign in",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "This action is not available here",
    409: "This conflicts with the current state",
    413: "Too much data",
    422: "Some of the values are not valid",
    429: "Too many attempts",
    500: "Something went wrong",
}
FRIENDLY = {
    "Not Found": "Nothing was found at this address, or you do not have access to it. Check the address, or go "
                 "back to your home page.",
    "Method Not Allowed": "This address does not accept that kind of request. Go back and use the page's own "
                          "buttons and forms.",
}


async def render_error(request: Request, status: int, code: str, detail: object) -> Response:
    message = _message(status, detail)
    if status == 401:
        target = await _signin_target(request)
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if is_htmx(request):
        return Response(status_code=status, headers={"HX-Reswap": "none", **announce(message, "error")})
    ctx: AuthContext | None = getattr(request.state, "auth_ctx", None)
    brand: Brand | None = None
    if status < 500:  # a 5xx may come from the database itself: show the page without asking it anything
        try:
            async with unit_of_work(write=False) as session:
                if ctx is None and not hasattr(request.state, "auth_ctx"):
                    ctx = await current_context(request, session)
                brand = await brand_for(request, session, ctx)
                if brand is None and ctx is None:
                    host = await tenant_service.by_host(session, request.headers.get("host", ""))
                    brand = Brand.of(host) if host is not None else None
        except ScribetreeError:  # a broken credential must not turn an error page into another error
            ctx = None
    return await render(
        request, "error.html", status=status, ctx=ctx, brand=brand,
        title=TITLES.get(status, "Something went wrong" if status >= 500 else "This request could not be completed"),
        status_code=status, code=code, message=message,
    )


def _message(status: int, detail: object) -> str:
    if isinstance(detail, list):  # validation errors: a list of field problems
        return "Some of the values are not valid. Go back, check the form and try again."
    text = str(detail or "")
    if status >= 500:
        return ("Something went wrong on our side. It has been logged; quote the request id below if you contact "
                "support.")
    return FRIENDLY.get(text, text) or TITLES.get(status, "")


async def _signin_target(request: Request) -> str:
    next_path = None
    if request.method in ("GET", "HEAD"):
        next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.url.path == "/ops" or request.url.path.startswith("/ops/"):
        return signin_url(None, platform=True, next_path=next_path)
    async with unit_of_work(write=False) as session:
        tenant = await tenant_service.by_host(session, request.headers.get("host", ""))
        brand = Brand.of(tenant) if tenant is not None else None
    return signin_url(brand, next_path=next_path)
