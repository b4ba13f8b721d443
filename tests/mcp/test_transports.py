"""Both transports with the SDK's client: streamable HTTP against the real app under uvicorn, and stdio against a
``scribetree mcp`` subprocess; the 401 challenge, the discovery documents, foreign Host headers."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.audit import AuditEvent
from tests.mcp.conftest import People, http_client, stdio_client


async def test_http_requires_a_token_and_points_at_the_metadata(server: str) -> None:
    async with httpx.AsyncClient() as c:
        r = await c.post(f"{server}/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        bad = await c.post(f"{server}/mcp/", json={}, headers={"Authorization": "Bearer st_nope"})
        meta = await c.get(f"{server}/.well-known/oauth-protected-resource/mcp")
        root_meta = await c.get(f"{server}/.well-known/oauth-protected-resource")
        asm = await c.get(f"{server}/.well-known/oauth-authorization-server")
    assert r.status_code == 401
    challenge = r.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{server}/.well-known/oauth-protected-resource/mcp"' in challenge
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"]
    assert meta.status_code == 200 and meta.json() == root_meta.json()
    assert meta.json()["resource"] == f"{server}/mcp/"
    assert meta.json()["authorization_servers"] == [server]
    assert meta.json()["bearer_methods_supported"] == ["header"]
    assert asm.status_code == 200
    assert asm.json()["issuer"] == server
    assert asm.json()["grant_types_supported"] == []  # no OAuth flow is pretended
    assert "API tokens" in asm.json()["scribetree_token_instructions"]


async def test_http_foreign_host_is_refused(server: str, people: People) -> None:
    async with httpx.AsyncClient() as c:
        r = await c.post(
            f"{server}/mcp/",
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={
                "Authorization": f"Bearer {people.tokens['educator']}",
                "Host": "evil.example",
                "Accept": "application/json, text/event-stream",
            },
        )
    assert r.status_code == 421


async def test_http_tools_as_the_token_owner(server: str, people: People, session: AsyncSession) -> None:
    async with http_client(server, people.tokens["educator"]) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        who = await c.call_tool("whoami", {})
        overview = await c.call_tool("assignment_overview", {"assignment_id": str(people.assignment.id)})
        foreign = await c.call_tool("list_assignments", {"course_id": str(people.other_course.id)})
    assert {"whoami", "assignment_overview", "analyse_text"} <= names
    assert who.structured_content["display_name"] == "Erin Educator"
    assert len(overview.structured_content["items"]) == 2
    assert foreign.is_error
    entries = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "mcp.tool")))
    assert {e.details["transport"] for e in entries} == {"http"}
    assert {e.target_id for e in entries} >= {"whoami", "assignment_overview", "list_assignments"}


async def test_http_student_token_cannot_see_the_overview(server: str, people: People) -> None:
    async with http_client(server, people.tokens["student"]) as c:
        r = await c.call_tool("assignment_overview", {"assignment_id": str(people.assignment.id)})
        mine = await c.call_tool("my_assignments", {})
    assert r.is_error
    assert [i["title"] for i in mine.structured_content["items"]] == ["Argument essay"]


async def test_stdio_subprocess_acts_as_the_token_owner(database_url: str, people: People) -> None:
    async with stdio_client(database_url, people.tokens["student"]) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        who = await c.call_tool("whoami", {})
        denied = await c.call_tool("assignment_overview", {"assignment_id": str(people.assignment.id)})
    assert "score_reflection" in names
    assert who.structured_content["display_name"] == "Sam Student"
    assert denied.is_error


async def test_http_a_revoked_token_stops_at_once(server: str, people: People, session: AsyncSession) -> None:
    from scribetree.identity.models import ApiToken
    from scribetree.identity.service import identity

    async with http_client(server, people.tokens["student2"]) as c:
        before = await c.call_tool("whoami", {})
        assert before.structured_content["display_name"] == "Sky Student"
        user = people.users["student2"]
        [token] = list(await session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))
        await identity.revoke_token(session, people.tenant.id, user.id, token.id)
        await session.commit()
        with pytest.raises(Exception):  # noqa: B017 (the transport's error type is the SDK's business)
            await c.call_tool("whoami", {})
    async with httpx.AsyncClient() as raw:
        r = await raw.post(f"{server}/mcp/", json={}, headers={"Authorization": f"Bearer {people.tokens['student2']}"})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
