"""Resources (documents and reports by URI) and prompts, through the SDK's client."""

from __future__ import annotations

import json

import pytest
from mcp.shared.exceptions import MCPError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.audit import AuditEvent
from tests.mcp.conftest import People, inproc


async def test_discovery_lists_resource_templates_and_prompts(people: People) -> None:
    async with inproc(people.tokens["educator"]) as c:
        templates = {t.uri_template for t in (await c.list_resource_templates()).resource_templates}
        prompts = {p.name: p for p in (await c.list_prompts()).prompts}
    assert templates == {"scribetree://documents/{document_id}", "scribetree://submissions/{submission_id}/integrity"}
    assert set(prompts) == {"feedback_conference", "assignment_check_in"}
    assert {a.name for a in prompts["feedback_conference"].arguments} == {
        "course_id",
        "student_user_id",
        "assignment_id",
    }


async def test_document_resource_for_its_student_and_staff_only(people: People, session: AsyncSession) -> None:
    uri = f"scribetree://documents/{people.document_id}"
    async with inproc(people.tokens["student"]) as c:
        own = await c.read_resource(uri)
    body = json.loads(own.contents[0].text)
    assert body["id"] == str(people.document_id) and "shade cities" in body["text"]
    async with inproc(people.tokens["educator"]) as c:
        staff = await c.read_resource(uri)
    assert json.loads(staff.contents[0].text)["revision"] == body["revision"]
    for who in ("student2", "outsider"):
        async with inproc(people.tokens[who]) as c:
            with pytest.raises(MCPError) as err:
                await c.read_resource(uri)
        assert "shade" not in str(err.value)
    async with inproc(people.tokens["educator"]) as c:
        with pytest.raises(MCPError, match="not a UUID"):
            await c.read_resource("scribetree://documents/nope")
    entries = list(await session.scalars(select(AuditEvent).where(AuditEvent.target_id == "resource:document")))
    assert sorted(e.outcome for e in entries) == ["denied", "denied", "success", "success"]


async def test_integrity_resource(people: People) -> None:
    async with inproc(people.tokens["educator"]) as c:
        r = await c.read_resource(f"scribetree://submissions/{people.submission_id}/integrity")
    body = json.loads(r.contents[0].text)
    assert body["viewer"] == "staff" and body["submission_id"] == str(people.submission_id)
    assert "text" not in body


async def test_feedback_conference_prompt_names_the_tools(people: People) -> None:
    args = {"course_id": str(people.course.id), "student_user_id": str(people.users["student"].id)}
    async with inproc(people.tokens["educator"]) as c:
        p = await c.get_prompt("feedback_conference", args)
    text = p.messages[0].content.text
    assert str(people.course.id) in text and str(people.users["student"].id) in text
    for tool in ("student_analytics", "students_needing_attention", "ai_partner_history", "integrity_summary"):
        assert tool in text
