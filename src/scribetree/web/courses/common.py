"""What the course pages share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from scribetree.core.errors import ScribetreeError
from scribetree.core.http import finish_request_sessions
from scribetree.web.pages import redirect

FormStr = Annotated[str, Form()]


async def failed(request: Request, url: str, exc: ScribetreeError) -> Response:
    """Answer a failed change with a redirect and its message. A 3xx would commit the request's work, so what it
    wrote on the way (a group row before its members were refused) is rolled back first."""
    await finish_request_sessions(request, ok=False)
    return redirect(url, exc.detail, "error")
