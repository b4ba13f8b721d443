"""How one MCP tool call runs: who is calling, in which tenant, in its own unit of work, audited.

The credential is a personal API token (the same as the HTTP API's). Over streamable HTTP it comes from the
``Authorization: Bearer`` header of the request carrying the call, resolved again on every call (a revoked or
expired token stops working at once). Over stdio it is the token the ``scribetree mcp`` process was started
with. The AuthContext built from it is passed to the SAME domain services the API calls, so no tool can do
more than the person could do in the web app.

Every call is recorded in the audit trail as ``mcp.tool`` with the tool name and its arguments as the tool
declares them (ids, numbers and flags; free text is recorded only as its length).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit
from scribetree.core.audit import RequestMeta
from scribetree.core.db import unit_of_work
from scribetree.core.errors import Forbidden, NotFound, ScribetreeError
from scribetree.mcp.http import bearer
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.permissions import Permission
from scribetree.tenancy.service import access

log = logging.getLogger("scribetree.mcp")
T = TypeVar("T")

DEFAULT_PAGE = 50
MAX_PAGE = 200

_stdio_token: str | None = None


def use_stdio_token(secret: str | None) -> None:
    """The token of a ``scribetree mcp`` (stdio) process: every call runs as its owner."""
    global _stdio_token
    _stdio_token = secret.strip() if secret else None


class NotAuthenticated(ToolError):
    pass


def _transport(ctx: Context | None) -> tuple[str, str | None, RequestMeta]:
    headers = None
    if ctx is not None:
        try:
            headers = ctx.headers
        except ValueError:  # no request (a direct, in-process call)
            headers = None
    if headers is not None:
        request = ctx.request_context.request if ctx is not None else None
        client = getattr(request, "client", None)
        meta = RequestMeta(ip=getattr(client, "host", None), user_agent=headers.get("user-agent"))
        return "http", bearer(headers), meta
    return "stdio", _stdio_token, RequestMeta(user_agent="scribetree mcp (stdio)")


def tool_error(exc: ScribetreeError) -> ToolError:
    """A domain error as a tool error: its stable code and its actionable sentence, never a trace."""
    return ToolError(f"{exc.code}: {exc.detail}")


async def _record(ctx: AuthContext, tool: str, args: Mapping[str, Any], transport: str, outcome: str) -> None:
    async with unit_of_work() as s:
        await audit.record(s, _entry(ctx, tool, args, transport, outcome))


def _entry(ctx: AuthContext, tool: str, args: Mapping[str, Any], transport: str, outcome: str) -> audit.Entry:
    return audit.Entry(
        action="mcp.tool",
        tenant_id=ctx.tenant_id,
        outcome=outcome,
        actor_user_id=ctx.user_id,
        actor_label=ctx.actor_label,
        target_type="mcp_tool",
        target_id=tool,
        details={"tool": tool, "arguments": dict(args), "transport": transport},
        meta=ctx.meta,
    )


async def authenticate(session: AsyncSession, ctx: Context | None) -> tuple[AuthContext, str]:
    transport, secret, meta = _transport(ctx)
    if not secret:
        raise NotAuthenticated(
            "Unauthorized: no API token. Create one on the API tokens page of Scribe Tree and send it as "
            "'Authorization: Bearer <token>' (HTTP) or set SCRIBETREE_MCP_TOKEN (stdio)."
        )
    actx = await access.context_from_token(session, secret, meta)
    if actx is None:
        raise NotAuthenticated("Unauthorized: this API token is not valid: it may be mistyped, expired or revoked.")
    return actx, transport


async def run_tool(
    ctx: Context | None,
    tool: str,
    args: Mapping[str, Any],
    fn: Callable[[AsyncSession, AuthContext], Awaitable[T]],
    *,
    write: bool = False,
) -> T:
    """Run ``fn`` as the token's owner in one unit of work and audit it (success, denied or failure)."""
    actx: AuthContext | None = None
    transport = "stdio"
    try:
        async with unit_of_work() as session:
            actx, transport = await authenticate(session, ctx)
            needed = Permission.profile_write if write else Permission.profile_read
            if not actx.can(needed):
                raise Forbidden(
                    f"'{tool}' changes data and needs a token with the 'write' scope; create one on the API tokens "
                    "page."
                    if write
                    else f"'{tool}' needs a token with the 'read' scope."
                )
            result = await fn(session, actx)
            await audit.record(session, _entry(actx, tool, args, transport, "success"))
        return result
    except ToolError:
        raise
    except ScribetreeError as exc:
        if actx is not None:
            outcome = "denied" if isinstance(exc, NotFound | Forbidden) else "failure"
            await _record(actx, tool, {**args, "error": exc.code}, transport, outcome)
        raise tool_error(exc) from None
    except Exception:
        log.exception("MCP tool %s failed", tool)
        raise ToolError("InternalError: something went wrong on our side; the error was logged.") from None


# ---- pagination -------------------------------------------------------------------------------------------


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
        kind, _, number = raw.partition(":")
        value = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value = -1
        kind = ""
    if kind != "o" or value < 0:
        raise ToolError("InvalidInput: this cursor is not valid; pass the next_cursor of the previous page, or none.")
    return value


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ToolError(f"InvalidInput: limit must be between 1 and {MAX_PAGE}.")
    return limit


def page(items: Sequence[T], cursor: str | None, limit: int) -> tuple[list[T], str | None, int]:
    """One page of ``items`` after ``cursor``: the items, the next cursor (None at the end), the total."""
    start = _offset(cursor)
    end = start + check_limit(limit)
    return list(items[start:end]), (_cursor(end) if end < len(items) else None), len(items)


def text_arg(text: str) -> dict[str, int]:
    """What the audit keeps of a free-text argument: its length only."""
    return {"chars": len(text)}
