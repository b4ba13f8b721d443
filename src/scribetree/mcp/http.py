"""Streamable HTTP at ``/mcp/``: the bearer-token gate, allowed hosts/origins, and the OAuth discovery documents.

Scribe Tree has no OAuth authorization flow: tokens are personal API tokens created on the web app's API-token
page. The metadata says so (RFC 9728 protected-resource metadata and RFC 8414 authorization-server metadata,
as the MCP authorization spec asks), so a standard client learns where the resource is, that a bearer token in
the header is the only method, and where a person gets one; it offers no authorization or token endpoint that
does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from scribetree.core.audit import RequestMeta
from scribetree.core.config import settings
from scribetree.core.db import unit_of_work
from scribetree.mcp.lazy import LazyMCP
from scribetree.tenancy.service import access

if TYPE_CHECKING:  # the SDK is imported with the server, on the first request (mcp.lazy)
    from mcp.server.mcpserver import MCPServer

MOUNT = "/mcp"
SCOPES = ["read", "write", "admin", "research"]
ACCOUNT_PAGE = "/account"  # the "API tokens" section of the account page


def bearer(headers: Mapping[str, str] | None) -> str | None:
    """The bearer secret of an HTTP request's headers, or None."""
    if not headers:
        return None
    scheme, _, secret = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def _base() -> str:
    return settings.BASE_URL.rstrip("/")


def resource_url() -> str:
    return f"{_base()}{MOUNT}/"


def resource_metadata_url() -> str:
    return f"{_base()}/.well-known/oauth-protected-resource{MOUNT}"


def allowed_hosts() -> list[str]:
    """SCRIBETREE_MCP_ALLOWED_HOSTS (comma separated), else the base URL's host and localhost (any port)."""
    configured = [h.strip() for h in settings.MCP_ALLOWED_HOSTS.split(",") if h.strip()]
    if configured:
        return configured
    base = urlsplit(settings.BASE_URL)
    hosts = [base.netloc, base.hostname or "", "127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*"]
    return list(dict.fromkeys(h for h in hosts if h))


def allowed_origins() -> list[str]:
    base = urlsplit(settings.BASE_URL)
    origins = [f"{base.scheme}://{base.netloc}"]
    for host in allowed_hosts():
        for scheme in ("http", "https"):
            origins.append(f"{scheme}://{host}")
    return list(dict.fromkeys(origins))


def protected_resource_metadata() -> dict[str, object]:
    return {
        "resource": resource_url(),
        "authorization_servers": [_base()],
        "bearer_methods_supported": ["header"],
        "scopes_supported": SCOPES,
        "resource_name": "Scribe Tree MCP",
        "resource_policy_uri": f"{_base()}{ACCOUNT_PAGE}",
    }


def authorization_server_metadata() -> dict[str, object]:
    # RFC 8414 requires issuer and response_types_supported; there is no authorization endpoint to announce,
    # so no response type and no grant type is offered: clients must use a token a person created.
    return {
        "issuer": _base(),
        "response_types_supported": [],
        "grant_types_supported": [],
        "scopes_supported": SCOPES,
        "token_endpoint_auth_methods_supported": ["none"],
        "service_documentation": f"{_base()}{ACCOUNT_PAGE}",
        "scribetree_token_instructions": (
            "Scribe Tree issues no tokens by OAuth. Sign in to the web app, open the API tokens page "
            f"({_base()}{ACCOUNT_PAGE}), create a personal token with the scopes you need (read; write for tools "
            "that change data) and send it as 'Authorization: Bearer <token>'."
        ),
    }


discovery = APIRouter()


@discovery.get("/.well-known/oauth-protected-resource", include_in_schema=False)
@discovery.get("/.well-known/oauth-protected-resource/mcp", include_in_schema=False)
async def oauth_protected_resource() -> JSONResponse:
    return JSONResponse(protected_resource_metadata())


@discovery.get("/.well-known/oauth-authorization-server", include_in_schema=False)
async def oauth_authorization_server() -> JSONResponse:
    return JSONResponse(authorization_server_metadata())


class BearerGate:
    """Every request to the MCP endpoint carries a valid API token, or gets 401 with the metadata's address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        secret = bearer(headers)
        problem = None
        if secret is None:
            problem = ("invalid_request", "Send 'Authorization: Bearer <token>' with a personal API token.")
        else:
            async with unit_of_work(write=False) as s:
                ctx = await access.context_from_token(s, secret, RequestMeta())
            if ctx is None:
                problem = ("invalid_token", "This API token is not valid: it may be mistyped, expired or revoked.")
        if problem is None:
            await self.app(scope, receive, send)
            return
        code, detail = problem
        challenge = f'Bearer error="{code}", resource_metadata="{resource_metadata_url()}"'
        body = json.dumps({"error": "Unauthorized", "detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", challenge.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def streamable_app(server: MCPServer) -> ASGIApp:
    """The server's streamable HTTP app, with the host/origin checks (built by ``LazyMCP`` on first use)."""
    from mcp.server.transport_security import TransportSecuritySettings

    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts(), allowed_origins=allowed_origins()
    )
    # Stateless: every request stands alone (the token is checked on each), so any app node can answer any
    # request and no session has to stick to one process.
    return server.streamable_http_app(streamable_http_path="/", transport_security=security, stateless_http=True)


def http_app(mcp: LazyMCP) -> ASGIApp:
    """The app to mount at ``/mcp``: the token gate in front of the MCP server, built on the first request."""
    return BearerGate(mcp)
