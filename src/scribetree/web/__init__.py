"""Server-rendered pages (Jinja2 + vendored htmx, no build step). Adapters only: they call services."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter()


async def render_error(request: Request, status: int, code: str, detail: object) -> HTMLResponse:
    from markupsafe import escape

    return HTMLResponse(f"<h1>{status}</h1><p>{escape(str(detail))}</p>", status_code=status)
