"""student_profile (educator wording for staff, only the student's wording for the student themselves) and the
write tool message_student (staff only, write scope, stores an intervention and the student's notification)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.interventions_models import Intervention, InterventionKind
from scribetree.analytics.profile import STATE_LABELS, State
from scribetree.analytics.service import analytics
from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.writing.notification_models import Notification, NotificationKind
from tests.factories.courses import create_assignment
from tests.mcp.conftest import People, inproc


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def _statements(profile: dict) -> list[dict]:
    return [
        profile["state_statement"],
        *(s for k in ("patterns", "strengths", "areas", "independence") for s in profile[k]),
    ]


async def test_student_profile_wording_by_who_asks(people: People, session: AsyncSession) -> None:
    student = people.users["student"]
    # open work (the essay is submitted), and the student's writing folded as the periodic job would
    await create_assignment(session, people.course, title="Next essay", due_at=clock.utcnow() + timedelta(days=7))
    assert await analytics.refresh_document(session, people.tenant.id, people.document_id) > 0
    await session.commit()
    args = {"course_id": str(people.course.id), "student_user_id": str(student.id)}
    async with inproc(people.tokens["educator"]) as c:
        staff = await c.call_tool("student_profile", args)
    async with inproc(people.tokens["student"]) as c:
        own = await c.call_tool("student_profile", args)
    assert not staff.is_error, _text(staff)
    assert not own.is_error, _text(own)
    ed, st = staff.structured_content, own.structured_content
    assert ed["audience"] == "educator" and st["audience"] == "student"
    assert ed["user_id"] == st["user_id"] == str(student.id)
    assert ed["words_added"] > 0 and ed["words_added"] == st["words_added"]
    assert any(s["evidence"] for s in _statements(ed)), json.dumps(ed, indent=1)
    state = State(ed["state"])
    assert ed["state_label"] == STATE_LABELS[state][0] and st["state_label"] == STATE_LABELS[state][1]
    # the same statements, in the student's wording only: no educator text anywhere in what the student gets
    assert [s["code"] for s in _statements(ed)] == [s["code"] for s in _statements(st)]
    assert ed["state_statement"]["text"] != st["state_statement"]["text"]
    dumped = json.dumps(st) + _text(own)
    for s in _statements(ed):
        mine = next(x for x in _statements(st) if x["code"] == s["code"])
        if s["text"] != mine["text"]:
            assert s["text"] not in dumped
    assert "educator" not in json.dumps(st["state_statement"])
    audited = await session.scalars(select(AuditEvent).where(AuditEvent.target_id == "student_profile"))
    assert len([e for e in audited if e.outcome == "success"]) == 2


async def test_student_profile_is_not_found_for_classmates_and_other_tenants(people: People) -> None:
    args = {"course_id": str(people.course.id), "student_user_id": str(people.users["student"].id)}
    results = []
    for who in ("student2", "outsider"):
        async with inproc(people.tokens[who]) as c:
            results.append(await c.call_tool("student_profile", args))
    for r in results:
        assert r.is_error and "NotFound" in _text(r), _text(r)
    assert _text(results[0]) == _text(results[1])  # a classmate learns no more than a stranger


async def _stored(session: AsyncSession, student_id: uuid.UUID) -> tuple[list[Intervention], list[Notification]]:
    await session.rollback()  # a fresh snapshot
    ivs = list(await session.scalars(select(Intervention)))
    notes = list(
        await session.scalars(
            select(Notification).where(
                Notification.user_id == student_id, Notification.kind == NotificationKind.message
            )
        )
    )
    return ivs, notes


async def test_message_student_needs_write_scope_and_staff(people: People, session: AsyncSession) -> None:
    student_id, course_id, educator_id = people.users["student"].id, people.course.id, people.users["educator"].id
    args = {"course_id": str(course_id), "student_user_id": str(student_id), "message": "Keep going <b>!</b>"}
    async with inproc(people.tokens["educator_read"]) as c:
        scope = await c.call_tool("message_student", args)
    async with inproc(people.tokens["student"]) as c:
        own = await c.call_tool("message_student", args)
    async with inproc(people.tokens["student2"]) as c:
        peer = await c.call_tool("message_student", args)
    async with inproc(people.tokens["outsider"]) as c:
        outsider = await c.call_tool("message_student", args)
    async with inproc(people.tokens["educator"]) as c:
        empty = await c.call_tool("message_student", {**args, "message": ""})
    assert scope.is_error and "'write' scope" in _text(scope)
    assert own.is_error and peer.is_error and outsider.is_error and empty.is_error
    assert "NotFound" in _text(own) and "NotFound" in _text(outsider)
    assert await _stored(session, student_id) == ([], [])  # nothing stored by any refused call

    async with inproc(people.tokens["educator"]) as c:
        sent = await c.call_tool("message_student", {**args, "subject": "Your essay"})
    assert not sent.is_error, _text(sent)
    got = sent.structured_content
    assert got["kind"] == "message" and got["student_user_id"] == str(student_id)
    assert got["created_by"] == str(educator_id)
    ivs, notes = await _stored(session, student_id)
    assert [(iv.kind, iv.student_user_id, iv.course_id) for iv in ivs] == [
        (InterventionKind.message, student_id, course_id)
    ]
    assert len(notes) == 1 and notes[0].title.endswith("Your essay") and args["message"] in notes[0].body
    [entry] = list(
        await session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "mcp.tool",
                AuditEvent.target_id == "message_student",
                AuditEvent.outcome == "success",
            )
        )
    )
    assert entry.details["arguments"]["message"] == {"chars": len(args["message"])}
    assert "Keep going" not in str(entry.details)
