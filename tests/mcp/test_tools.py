"""MCP tools through the SDK's client (in-process, the path stdio uses): each role, denial, bad input, pages,
audit."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.audit import AuditEvent
from tests.mcp.conftest import People, inproc

EXPECTED_TOOLS = {
    "whoami",
    "list_courses",
    "list_assignments",
    "my_assignments",
    "assignment_overview",
    "analyse_text",
    "validate_ai_output",
    "score_reflection",
    "students_needing_attention",
    "student_analytics",
    "integrity_summary",
    "ai_usage_report",
    "ai_partner_history",
    "list_comments",
    "post_comment",
    "student_profile",
    "message_student",
}


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def _audit(session: AsyncSession, tool: str) -> list[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent).where(AuditEvent.action == "mcp.tool", AuditEvent.target_id == tool)
    )
    return list(rows)


async def test_discovery_lists_tools_with_output_schemas(people: People) -> None:
    async with inproc(people.tokens["student"]) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
    assert set(tools) >= EXPECTED_TOOLS
    for name in EXPECTED_TOOLS:
        assert tools[name].output_schema, f"{name} has no output schema"
        assert tools[name].description


async def test_no_token_and_a_bad_token_are_tool_errors(people: People) -> None:
    async with inproc(None) as c:
        r = await c.call_tool("whoami", {})
    assert r.is_error and "Unauthorized" in _text(r) and "API token" in _text(r)
    async with inproc("st_not-a-real-token") as c:
        r = await c.call_tool("whoami", {})
    assert r.is_error and "not valid" in _text(r)


async def test_whoami_is_the_token_owner(people: People) -> None:
    async with inproc(people.tokens["educator_read"]) as c:
        r = await c.call_tool("whoami", {})
    assert not r.is_error
    assert r.structured_content["display_name"] == "Erin Educator"
    assert r.structured_content["role"] == "educator"
    assert r.structured_content["scopes"] == ["read"]
    assert r.structured_content["tenant_slug"] == "northfield"


async def test_courses_per_role(people: People) -> None:
    async with inproc(people.tokens["student"]) as c:
        r = await c.call_tool("list_courses", {})
    assert [i["title"] for i in r.structured_content["items"]] == ["Essay Writing 101"]
    assert r.structured_content["items"][0]["my_role"] == "student"
    assert r.structured_content["items"][0]["join_code"] is None  # students do not see it
    async with inproc(people.tokens["admin"]) as c:
        r = await c.call_tool("list_courses", {})
    assert [i["title"] for i in r.structured_content["items"]] == ["Essay Writing 101"]  # not the other tenant's
    async with inproc(people.tokens["outsider"]) as c:
        r = await c.call_tool("list_courses", {})
    assert [i["title"] for i in r.structured_content["items"]] == ["Elsewhere"]


async def test_student_sees_own_assignments_but_not_the_overview(people: People) -> None:
    async with inproc(people.tokens["student"]) as c:
        mine = await c.call_tool("my_assignments", {})
        overview = await c.call_tool("assignment_overview", {"assignment_id": str(people.assignment.id)})
    assert [i["title"] for i in mine.structured_content["items"]] == ["Argument essay"]
    assert mine.structured_content["items"][0]["course_title"] == "Essay Writing 101"
    assert overview.is_error
    assert "Traceback" not in _text(overview)


async def test_educator_overview_and_audit(people: People, session: AsyncSession) -> None:
    async with inproc(people.tokens["educator"]) as c:
        r = await c.call_tool("assignment_overview", {"assignment_id": str(people.assignment.id)})
    assert not r.is_error, _text(r)
    rows = {row["name"]: row for row in r.structured_content["items"]}
    assert set(rows) == {"Sam Student", "Sky Student"}
    assert rows["Sam Student"]["status"] == "submitted" and rows["Sam Student"]["word_count"] > 0
    assert rows["Sky Student"]["document_id"] is None
    assert r.structured_content["assignment_title"] == "Argument essay"
    [entry] = await _audit(session, "assignment_overview")
    assert entry.actor_user_id == people.users["educator"].id
    assert entry.tenant_id == people.tenant.id
    assert entry.outcome == "success"
    assert entry.details["arguments"]["assignment_id"] == str(people.assignment.id)


async def test_other_tenants_objects_are_not_found_and_the_denial_audited(
    people: People, session: AsyncSession
) -> None:
    async with inproc(people.tokens["educator"]) as c:
        a = await c.call_tool("assignment_overview", {"assignment_id": str(people.other_assignment.id)})
        b = await c.call_tool("list_assignments", {"course_id": str(people.other_course.id)})
        missing = await c.call_tool("list_assignments", {"course_id": str(uuid.uuid4())})
    for r in (a, b):
        assert r.is_error
        assert "Their essay" not in _text(r)
    # missing and forbidden look the same
    assert _text(b).split(":")[0] == _text(missing).split(":")[0]
    denied = await _audit(session, "assignment_overview")
    assert [e.outcome for e in denied] == ["denied"]


async def test_bad_arguments_are_tool_errors(people: People) -> None:
    async with inproc(people.tokens["educator"]) as c:
        r1 = await c.call_tool("list_assignments", {"course_id": "not-a-uuid"})
        r2 = await c.call_tool("list_courses", {"limit": 0})
        r3 = await c.call_tool("list_courses", {"cursor": "garbage!!"})
        r4 = await c.call_tool("analyse_text", {"text": ""})
        r5 = await c.call_tool("validate_ai_output", {"questions": ["Why?"], "level": "godmode"})
    for r in (r1, r2, r3, r4, r5):
        assert r.is_error, _text(r)
        assert "Traceback" not in _text(r)
    assert "cursor" in _text(r3)


async def test_pagination_walks_every_course_once(people: People, session: AsyncSession) -> None:
    from tests.factories.courses import create_course, enroll

    for n in range(4):
        extra = await create_course(session, people.tenant, title=f"Extra {n}")
        await enroll(session, extra, people.users["student"])
    await session.commit()
    seen: list[str] = []
    cursor = None
    pages = 0
    async with inproc(people.tokens["student"]) as c:
        while True:
            args = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            r = await c.call_tool("list_courses", args)
            assert not r.is_error, _text(r)
            assert r.structured_content["total"] == 5
            seen += [i["title"] for i in r.structured_content["items"]]
            pages += 1
            cursor = r.structured_content["next_cursor"]
            if cursor is None:
                break
    assert pages == 3
    assert sorted(seen) == sorted(["Essay Writing 101", "Extra 0", "Extra 1", "Extra 2", "Extra 3"])


async def test_analyse_text_measures_and_audits_no_text(people: People, session: AsyncSession) -> None:
    text = "The river rose. It flooded the town quickly.\n\nPeople left their homes and walked uphill."
    async with inproc(people.tokens["student"]) as c:
        r = await c.call_tool("analyse_text", {"text": text})
    assert not r.is_error, _text(r)
    assert r.structured_content["words"] == 15
    assert r.structured_content["paragraphs"] == 2
    assert r.structured_content["sentences"] == 3
    [entry] = await _audit(session, "analyse_text")
    assert entry.details["arguments"] == {"text": {"chars": len(text)}}
    assert "river" not in str(entry.details)


async def test_validate_ai_output_uses_the_partners_rules(people: People) -> None:
    draft = "Cities should plant more trees because shade lowers summer temperatures."
    async with inproc(people.tokens["educator"]) as c:
        good = await c.call_tool(
            "validate_ai_output",
            {"questions": ["Which evidence supports your claim about shade?"], "draft": draft, "level": "standard"},
        )
        bad = await c.call_tool(
            "validate_ai_output",
            {"questions": ["Here is a better thesis: trees are good for everyone."], "draft": draft},
        )
    assert good.structured_content["ok"] is True, good.structured_content
    assert bad.structured_content["ok"] is False
    assert "not_a_question" in bad.structured_content["reasons"]


async def test_score_reflection_with_the_rubric(people: People) -> None:
    thin = "It was good. I liked it."
    rich = (
        "In my second paragraph I claimed that shade lowers temperatures, but I realised I had no evidence for it, "
        "so I searched for a city study and added numbers from it. I used to think a strong opinion was enough; "
        "now I see that my reader needs a reason to believe me. Next time I will check each claim before I move "
        "on, because I noticed I write faster than I think."
    )
    async with inproc(people.tokens["student"]) as c:
        low = await c.call_tool("score_reflection", {"text": thin, "min_words": 20})
        high = await c.call_tool("score_reflection", {"text": rich, "min_words": 20})
        bad = await c.call_tool("score_reflection", {"text": thin, "pasted_chars": 1000})
    assert low.structured_content["accepted"] is False
    assert high.structured_content["accepted"] is True
    assert high.structured_content["total"] > low.structured_content["total"]
    assert {s["dimension"] for s in high.structured_content["scores"]} == {
        "depth",
        "self_awareness",
        "critical_engagement",
        "growth",
        "specificity",
    }
    assert bad.is_error and "pasted_chars" in _text(bad)


def sample_args(people: People) -> dict[str, dict[str, object]]:
    """Valid arguments for every tool: a new tool must be added here, so the anonymous matrix covers it."""
    return {
        "whoami": {},
        "list_courses": {},
        "list_assignments": {"course_id": str(people.course.id)},
        "my_assignments": {},
        "assignment_overview": {"assignment_id": str(people.assignment.id)},
        "analyse_text": {"text": "A sentence."},
        "validate_ai_output": {"questions": ["Why?"]},
        "score_reflection": {"text": "I learned something."},
        "students_needing_attention": {"course_id": str(people.course.id)},
        "student_analytics": {"course_id": str(people.course.id), "student_user_id": str(people.users["student"].id)},
        "integrity_summary": {"submission_id": str(people.submission_id)},
        "ai_usage_report": {"assignment_id": str(people.assignment.id)},
        "ai_partner_history": {"document_id": str(people.document_id)},
        "list_comments": {"document_id": str(people.document_id)},
        "post_comment": {"document_id": str(people.document_id), "body": "Good start."},
        "student_profile": {"course_id": str(people.course.id), "student_user_id": str(people.users["student"].id)},
        "message_student": {
            "course_id": str(people.course.id),
            "student_user_id": str(people.users["student"].id),
            "message": "Keep going.",
        },
        "research_course_activity": {},
        "research_reflection_quality": {},
    }


async def test_every_tool_refuses_a_caller_without_a_valid_token(people: People, session: AsyncSession) -> None:
    samples = sample_args(people)
    for secret in (None, "st_revoked-or-made-up"):
        async with inproc(secret) as c:
            names = {t.name for t in (await c.list_tools()).tools}
            assert names == set(samples), "add the new tool to sample_args"
            for name, args in samples.items():
                r = await c.call_tool(name, args)
                assert r.is_error and "Unauthorized" in _text(r), name
    assert not list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "mcp.tool")))
