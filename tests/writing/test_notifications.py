"""In-app notifications: created by staff comments and returned grades (writing.feedback), read and marked by their
owner only, and the daily due-soon scan (once per student and assignment, in the app and by email)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, db
from scribetree.core.jobs_models import Job
from scribetree.core.mail import ACTOR as MAIL_ACTOR
from scribetree.courses.models import Course, CourseRole
from scribetree.tenancy.models import Membership, Role, Tenant, TenantStatus
from scribetree.writing.feedback import feedback as feedback_service
from scribetree.writing.feedback_schemas import CommentCreate, GradeWrite, ReplyCreate
from scribetree.writing.models import Document, DocumentStatus
from scribetree.writing.notification_models import Notification, NotificationKind
from scribetree.writing.notifications import (
    TENANT_ACTOR,
    NotificationNotFound,
    notifications,
    notify_due_soon,
    scan_due_soon,
)
from scribetree.writing.service import document as document_service
from tests.factories.courses import RUBRIC, create_assignment, create_course, create_course_member, create_group
from tests.factories.tenancy import create_tenant
from tests.factories.writing import create_document, create_submission, ins, write
from tests.writing.conftest import CtxFor, Klass


async def _notes() -> list[Notification]:
    async with db.make_session(write=False) as s:
        rows = await s.execute(select(Notification).order_by(Notification.created_at, Notification.id))
        return list(rows.scalars())


async def _jobs(actor: str) -> list[dict[str, Any]]:
    async with db.make_session(write=False) as s:
        rows = await s.execute(select(Job).where(Job.actor == actor).order_by(Job.created_at))
        return [dict(j.args) | {"_tenant_id": j.tenant_id} for j in rows.scalars()]


class TestFromFeedback:
    async def test_staff_comments_and_returned_grades_notify_the_student(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        klass.assignment.rubric = RUBRIC
        doc = await create_document(session, klass.assignment, owner=klass.student)
        await write(session, doc, klass.student, [ins(0, "My essay about trees.")])
        sub = await create_submission(session, doc, klass.student)
        await session.commit()
        teacher = await ctx_for(klass.instructor, klass.tenant)
        student = await ctx_for(klass.student, klass.tenant)
        async with db.unit_of_work() as s:
            comment = await feedback_service.add_submission_comment(s, teacher, sub.id, CommentCreate(body="Why?"))
        async with db.unit_of_work() as s:  # the student's reply tells the teacher who wrote in the thread
            await feedback_service.reply(s, student, comment.id, ReplyCreate(body="Because."))
        async with db.unit_of_work() as s:
            await feedback_service.save_grade(s, teacher, sub.id, GradeWrite(scores={"thesis": "thesis-4"}))
        notes = await _notes()  # a draft grade tells nobody
        assert [(n.kind, n.user_id) for n in notes] == [
            (NotificationKind.comment, klass.student.id),
            (NotificationKind.comment, klass.instructor.id),
        ]
        assert notes[1].body == "Because." and notes[1].link == f"/submissions/{sub.id}#comment-{comment.id}"
        async with db.unit_of_work() as s:
            await feedback_service.return_grade(s, teacher, sub.id)
        notes = await _notes()
        assert [(n.kind, n.user_id) for n in notes][2:] == [(NotificationKind.feedback_returned, klass.student.id)]
        assert notes[2].title == f"Feedback returned: {klass.assignment.title}" and "4 / 4" in notes[2].body
        assert notes[2].link == f"/assignments/{klass.assignment.id}/feedback"

    async def test_a_reply_in_a_group_tells_the_other_members_and_the_staff_in_the_thread(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        group_work = await create_assignment(session, klass.course, kind="group", title="Together")
        group = await create_group(session, group_work, [klass.student, klass.classmate])
        doc = await create_document(session, group_work, group=group, text="Our essay about trees.")
        await session.commit()
        teacher = await ctx_for(klass.instructor, klass.tenant)
        student = await ctx_for(klass.student, klass.tenant)
        async with db.unit_of_work() as s:
            comment = await feedback_service.add_comment(s, teacher, doc.id, CommentCreate(body="Which trees?"))
        before = len(await _notes())
        async with db.unit_of_work() as s:
            await feedback_service.reply(s, student, comment.id, ReplyCreate(body="Oaks <b>mostly</b>."))
        told = {(n.user_id, n.link) for n in (await _notes())[before:]}
        assert told == {
            (klass.instructor.id, f"/documents/{doc.id}/review#comment-{comment.id}"),
            (klass.classmate.id, f"/assignments/{group_work.id}/feedback"),
        }
        mails = [m for m in await _jobs(MAIL_ACTOR) if "replied" in m["body"]]
        assert [m["to"] for m in mails] == [klass.classmate.email]  # staff are told in the app only

    async def test_a_rolled_back_comment_notifies_nobody(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        doc = await create_document(session, klass.assignment, owner=klass.student, text="Some text.")
        await session.commit()
        teacher = await ctx_for(klass.instructor, klass.tenant)
        with pytest.raises(RuntimeError):
            async with db.unit_of_work() as s:
                await feedback_service.add_comment(s, teacher, doc.id, CommentCreate(body="Hello"))
                raise RuntimeError("the request failed later")
        assert await _notes() == []


class TestReopened:
    async def test_staff_reopening_tells_the_student_in_the_app_and_by_email(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        doc = await create_document(session, klass.assignment, owner=klass.student)
        await write(session, doc, klass.student, [ins(0, "My essay about trees.")])
        await create_submission(session, doc, klass.student)
        klass.assignment.resubmission = "unlimited"
        await session.commit()
        teacher = await ctx_for(klass.instructor, klass.tenant)
        student = await ctx_for(klass.student, klass.tenant)
        async with db.unit_of_work() as s:
            await document_service.reopen(s, teacher, doc.id)
        notes = await _notes()
        assert [(n.kind, n.user_id, n.link) for n in notes] == [
            (NotificationKind.reopened, klass.student.id, f"/assignments/{klass.assignment.id}/write")
        ]
        assert notes[0].title == f"Reopened for you: {klass.assignment.title}"
        mails = await _jobs(MAIL_ACTOR)
        assert len(mails) == 1 and mails[0]["to"] == klass.student.email
        assert f"/assignments/{klass.assignment.id}/write" in mails[0]["body"]
        # a student reopening their own submission (the policy allows it) tells nobody
        async with db.unit_of_work() as s:  # submitted again
            await s.execute(update(Document).where(Document.id == doc.id).values(status=DocumentStatus.submitted))
        async with db.unit_of_work() as s:
            await document_service.reopen(s, student, doc.id)
        assert len(await _notes()) == 1 and len(await _jobs(MAIL_ACTOR)) == 1


class TestOwnNotifications:
    async def test_list_count_mark_read_and_dedupe(self, session: AsyncSession, klass: Klass, ctx_for: CtxFor) -> None:
        tenant_id = klass.tenant.id
        async with db.unit_of_work() as s:
            made = await notifications.notify(
                s,
                tenant_id,
                [klass.student.id, klass.classmate.id, klass.student.id],
                kind=NotificationKind.due_soon,
                title="Due\nsoon",
                link="https://evil.example/x",
                key="k1",
            )
            again = await notifications.notify(
                s, tenant_id, [klass.student.id], kind=NotificationKind.due_soon, title="Again", key="k1"
            )
            await notifications.notify(s, tenant_id, [klass.student.id], kind=NotificationKind.comment, title="C")
        assert (made, again) == (2, 0)
        me = await ctx_for(klass.student, klass.tenant)
        other = await ctx_for(klass.classmate, klass.tenant)
        async with db.unit_of_work(write=False) as s:
            mine = await notifications.list_mine(s, me)
            assert [n.title for n in mine] == ["C", "Due soon"] and mine[1].link == ""
            assert await notifications.unread_count(s, me) == 2
            newest = mine[0].id
        async with db.unit_of_work() as s:
            with pytest.raises(NotificationNotFound):
                await notifications.mark_read(s, other, newest)
        async with db.unit_of_work() as s:
            await notifications.mark_read(s, me, newest)
        async with db.unit_of_work(write=False) as s:
            assert await notifications.unread_count(s, me) == 1
            assert await notifications.unread_count(s, other) == 1
        async with db.unit_of_work() as s:
            assert await notifications.mark_all_read(s, me) == 1
        async with db.unit_of_work(write=False) as s:
            assert await notifications.unread_count(s, me) == 0 and await notifications.unread_count(s, other) == 1

    async def test_another_tenant_sees_none_of_them(
        self, session: AsyncSession, klass: Klass, other_tenant: Tenant, ctx_for: CtxFor
    ) -> None:
        async with db.unit_of_work() as s:
            await notifications.notify(s, klass.tenant.id, [klass.student.id], kind=NotificationKind.comment, title="x")
        note = (await _notes())[0]
        # the same person, signed in to another institution
        session.add(Membership(tenant_id=other_tenant.id, user_id=klass.student.id, role=Role.student))
        await session.commit()
        elsewhere = await ctx_for(klass.student, other_tenant)
        async with db.unit_of_work(write=False) as s:
            assert await notifications.list_mine(s, elsewhere) == []
            assert await notifications.unread_count(s, elsewhere) == 0
        async with db.unit_of_work() as s:
            with pytest.raises(NotificationNotFound):
                await notifications.mark_read(s, elsewhere, note.id)


class TestDueSoon:
    async def test_once_per_student_and_assignment_with_an_email(
        self, session: AsyncSession, klass: Klass, other_tenant: Tenant
    ) -> None:
        now = clock.utcnow()
        soon = klass.assignment
        soon.due_at = now + timedelta(hours=24)
        soon.title = "Soon\r\nessay"
        later = await create_assignment(session, klass.course, due_at=now + timedelta(hours=72), title="Later")
        await create_assignment(session, klass.course, due_at=now + timedelta(hours=5), published=False)
        await create_assignment(session, klass.course, due_at=now - timedelta(hours=1), title="Past")
        archived = await create_course(session, klass.tenant, archived_at=now)
        lost = await create_course_member(session, archived, klass.tenant, CourseRole.student)
        await create_assignment(session, archived, due_at=now + timedelta(hours=5))
        # the classmate has submitted; the student has only started
        doc = await create_document(session, soon, owner=klass.classmate, text="Done.")
        await create_submission(session, doc, klass.classmate)
        await create_document(session, soon, owner=klass.student, text="Started")
        # a group assignment: the group submitted, so neither member is reminded; a student in no group is
        group_work = await create_assignment(session, klass.course, kind="group", due_at=now + timedelta(hours=30))
        group = await create_group(session, group_work, [klass.student, klass.classmate])
        gdoc = await create_document(session, group_work, group=group, text="Ours.")
        await create_submission(session, gdoc, klass.student)
        loner = await create_course_member(session, klass.course, klass.tenant, CourseRole.student)
        # another institution's assignment, due at the same time
        theirs = await create_course(session, other_tenant)
        stranger = await create_course_member(session, theirs, other_tenant, CourseRole.student)
        await create_assignment(session, theirs, due_at=now + timedelta(hours=5))
        await session.commit()

        async with db.unit_of_work() as s:
            await notify_due_soon(s, tenant_id=str(klass.tenant.id))
        notes = await _notes()
        got = sorted((n.user_id, n.key) for n in notes)
        assert got == sorted(
            [(klass.student.id, f"due:{soon.id}"), (loner.id, f"due:{soon.id}"), (loner.id, f"due:{group_work.id}")]
        )
        assert {n.user_id for n in notes}.isdisjoint({klass.classmate.id, lost.id, stranger.id})
        assert later.id not in {n.key for n in notes}
        mails = await _jobs(MAIL_ACTOR)
        assert sorted(m["to"] for m in mails) == sorted([klass.student.email, loner.email, loner.email])
        assert all("\n" not in m["subject"] and "\r" not in m["subject"] for m in mails)
        assert all(m["_tenant_id"] == klass.tenant.id for m in mails)

        async with db.unit_of_work() as s:  # tomorrow's run (or a retry) adds nothing
            await notify_due_soon(s, tenant_id=str(klass.tenant.id))
        assert len(await _notes()) == 3 and len(await _jobs(MAIL_ACTOR)) == 3

    async def test_the_daily_scan_enqueues_one_job_per_active_tenant(
        self, session: AsyncSession, klass: Klass, other_tenant: Tenant
    ) -> None:
        suspended = await create_tenant(session, status=TenantStatus.suspended)
        await session.commit()
        async with db.unit_of_work() as s:
            await scan_due_soon(s)
        async with db.unit_of_work() as s:  # a second run the same day is the same job
            await scan_due_soon(s)
        jobs = await _jobs(TENANT_ACTOR)
        assert sorted(str(j["_tenant_id"]) for j in jobs) == sorted([str(klass.tenant.id), str(other_tenant.id)])
        assert suspended.id not in {j["_tenant_id"] for j in jobs}

    async def test_nothing_due_means_nothing_sent(self, session: AsyncSession, klass: Klass) -> None:
        await session.execute(update(Course).where(Course.id == klass.course.id).values(archived_at=None))
        await session.commit()
        async with db.unit_of_work() as s:
            result = await notifications.notify_due_soon(s, klass.tenant.id)
        assert (result.notified, result.emailed) == (0, 0) and await _notes() == []
