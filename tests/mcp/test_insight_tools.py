"""Educator and student tools over the insight domains (alerts, analytics, integrity, AI partner, feedback):
who may call them, cross-tenant and scope denial, audit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.audit import AuditEvent
from scribetree.writing.feedback_models import Comment
from tests.mcp.conftest import People, inproc


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def test_students_needing_attention_is_for_staff(people: People, session: AsyncSession) -> None:
    args = {"course_id": str(people.course.id)}
    async with inproc(people.tokens["educator"]) as c:
        ok = await c.call_tool("students_needing_attention", args)
    async with inproc(people.tokens["student"]) as c:
        student = await c.call_tool("students_needing_attention", args)
    async with inproc(people.tokens["outsider"]) as c:
        outsider = await c.call_tool("students_needing_attention", args)
    assert not ok.is_error, _text(ok)
    assert ok.structured_content["open_count"] == 0 and ok.structured_content["items"] == []
    assert student.is_error and outsider.is_error
    listed = await session.scalars(select(AuditEvent).where(AuditEvent.action == "alerts.listed"))
    assert len(list(listed)) == 1  # the service's own audit entry, written in the tool's unit of work


async def test_student_analytics_own_or_staff_only(people: People, session: AsyncSession) -> None:
    mine = {"course_id": str(people.course.id), "student_user_id": str(people.users["student"].id)}
    async with inproc(people.tokens["student"]) as c:
        own = await c.call_tool("student_analytics", mine)
    async with inproc(people.tokens["student2"]) as c:
        peer = await c.call_tool("student_analytics", mine)
    async with inproc(people.tokens["educator"]) as c:
        staff = await c.call_tool("student_analytics", mine)
    async with inproc(people.tokens["outsider"]) as c:
        outsider = await c.call_tool("student_analytics", mine)
    assert not own.is_error, _text(own)
    assert own.structured_content["name"] == "Sam Student"
    assert not staff.is_error and staff.structured_content["user_id"] == str(people.users["student"].id)
    assert peer.is_error and outsider.is_error
    assert "Sam" not in _text(peer)


async def test_integrity_summary_leaves_out_the_text(people: People) -> None:
    args = {"submission_id": str(people.submission_id)}
    async with inproc(people.tokens["educator"]) as c:
        staff = await c.call_tool("integrity_summary", args)
    async with inproc(people.tokens["student"]) as c:
        own = await c.call_tool("integrity_summary", args)
    async with inproc(people.tokens["student2"]) as c:
        peer = await c.call_tool("integrity_summary", args)
    assert not staff.is_error, _text(staff)
    assert staff.structured_content["viewer"] == "staff"
    assert own.structured_content["viewer"] == "student"
    assert "shade cities" not in str(staff.structured_content)
    assert peer.is_error


async def test_ai_usage_report_and_history(people: People) -> None:
    async with inproc(people.tokens["educator"]) as c:
        report = await c.call_tool("ai_usage_report", {"assignment_id": str(people.assignment.id)})
        staff_history = await c.call_tool("ai_partner_history", {"document_id": str(people.document_id)})
    async with inproc(people.tokens["student"]) as c:
        denied = await c.call_tool("ai_usage_report", {"assignment_id": str(people.assignment.id)})
        own = await c.call_tool("ai_partner_history", {"document_id": str(people.document_id)})
    async with inproc(people.tokens["student2"]) as c:
        peer = await c.call_tool("ai_partner_history", {"document_id": str(people.document_id)})
    assert not report.is_error, _text(report)
    assert report.structured_content["assignment_id"] == str(people.assignment.id)
    assert not staff_history.is_error and not own.is_error, _text(own)
    assert own.structured_content["document_id"] == str(people.document_id)
    assert denied.is_error and peer.is_error


async def test_post_comment_needs_write_scope_and_staff(people: People, session: AsyncSession) -> None:
    args = {"document_id": str(people.document_id), "body": "Your second sentence needs a source. <b>x</b>"}
    async with inproc(people.tokens["educator_read"]) as c:
        scope = await c.call_tool("post_comment", args)
    async with inproc(people.tokens["student"]) as c:
        student = await c.call_tool("post_comment", args)
    async with inproc(people.tokens["outsider"]) as c:
        outsider = await c.call_tool("post_comment", args)
    async with inproc(people.tokens["educator"]) as c:
        both = await c.call_tool("post_comment", {**args, "submission_id": str(people.submission_id)})
        empty = await c.call_tool("post_comment", {"document_id": str(people.document_id), "body": ""})
    assert scope.is_error and "'write' scope" in _text(scope)
    assert student.is_error and outsider.is_error and both.is_error and empty.is_error
    assert list(await session.scalars(select(Comment))) == []  # nothing stored by any refused call

    async with inproc(people.tokens["educator"]) as c:
        posted = await c.call_tool("post_comment", args)
    assert not posted.is_error, _text(posted)
    assert posted.structured_content["body"] == args["body"]
    async with inproc(people.tokens["student"]) as c:
        listed = await c.call_tool("list_comments", {"document_id": str(people.document_id)})
    assert [i["body"] for i in listed.structured_content["items"]] == [args["body"]]
    await session.rollback()  # a fresh snapshot: this session read before the comment was posted
    [entry] = list(
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "mcp.tool", AuditEvent.target_id == "post_comment")
            .where(AuditEvent.outcome == "success")
        )
    )
    assert entry.details["arguments"]["body"] == {"chars": len(args["body"])}
    assert "source" not in str(entry.details)
    denied = await session.scalars(
        select(AuditEvent).where(AuditEvent.target_id == "post_comment", AuditEvent.outcome == "denied")
    )
    assert len(list(denied)) >= 3  # scope, student, outsider
