"""Review pages over HTTP, as a browser without JavaScript: the submission list and its statuses, the reader (text,
history, sessions, contributions), inline and general comments, rubric grading and returning, the student's
feedback page, and notifications. Student text and comments are shown as text, never as HTML."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.courses.models import Assignment, Course, CourseRole
from scribetree.identity.models import User
from scribetree.tenancy.models import Role, Tenant
from scribetree.web.review.routes import text_html
from scribetree.writing.feedback_models import Comment, Grade, GradeStatus
from scribetree.writing.feedback_schemas import AnchorRead, CommentRead, Span
from scribetree.writing.models import Document, Submission
from scribetree.writing.notification_models import Notification
from tests.factories.courses import RUBRIC, create_assignment, create_course, create_course_member, create_group
from tests.factories.feedback import create_grade
from tests.factories.tenancy import create_member
from tests.factories.writing import create_document, create_submission, dele, ins, write
from tests.fixtures.auth import make_client
from tests.web.test_courses_pages import assert_accessible_form

EVIL = "<script>alert('x')</script>"


@dataclass
class Class:
    tenant: Tenant
    teacher: User
    assignment: Assignment
    students: dict[str, User]
    docs: dict[str, Document]
    subs: dict[str, Submission]


async def _seed(session: AsyncSession, tenant: Tenant) -> Class:
    course = await create_course(session, tenant, title="Composition")
    teacher = await create_course_member(session, course, tenant, CourseRole.instructor, display_name="Grace Hopper")
    assignment = await create_assignment(session, course, title="Letter to a reader", rubric=RUBRIC)
    students: dict[str, User] = {}
    for name in ("Ada", "Bea", "Cy", "Dee", "Eve"):
        students[name] = await create_course_member(session, course, tenant, display_name=f"{name} Student")
    docs: dict[str, Document] = {}
    subs: dict[str, Submission] = {}
    # Ada: nothing. Bea: writing. Cy: submitted. Dee: submitted late. Eve: submitted and graded (returned).
    docs["Bea"] = await create_document(session, assignment, owner=students["Bea"])
    await write(session, docs["Bea"], students["Bea"], [ins(0, "A start.")])
    for name in ("Cy", "Dee", "Eve"):
        docs[name] = await create_document(session, assignment, owner=students[name])
        await write(session, docs[name], students[name], [ins(0, f"Dear reader,\n{EVIL} is not {name}'s style.")])
        subs[name] = await create_submission(session, docs[name], students[name], late=name == "Dee")
    await create_grade(session, subs["Eve"], status=GradeStatus.returned)
    grade = (await session.execute(select(Grade).where(Grade.submission_id == subs["Eve"].id))).scalar_one()
    grade.returned_at = clock.utcnow() + timedelta(seconds=1)
    await session.commit()
    return Class(tenant, teacher, assignment, students, docs, subs)


@pytest.fixture
async def klass(session: AsyncSession, tenant: Tenant) -> Class:
    return await _seed(session, tenant)


async def _as(app: FastAPI, session: AsyncSession, user: User, tenant: Tenant) -> httpx.AsyncClient:
    return await make_client(app, session, user, tenant)


def _statuses(html: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-status="(\w+)">\s*<th scope="row"><span class="cell-title">([^<]+)</span>', html)
    return {name.split()[0]: status for status, name in rows}


async def _resubmit(session: AsyncSession, klass: Class) -> Submission:
    """Eve's attempt 2, five minutes after her first (whose grade was returned)."""
    eve = klass.students["Eve"]
    at = clock.utcnow() + timedelta(minutes=5)
    return await create_submission(session, klass.docs["Eve"], eve, attempt=2, at=at)


class TestSubmissionList:
    async def test_every_student_with_their_status(self, app, session, klass: Class) -> None:
        async with await _as(app, session, klass.teacher, klass.tenant) as c:
            r = await c.get(f"/assignments/{klass.assignment.id}/submissions")
            assert r.status_code == 200, r.text
            assert _statuses(r.text) == {
                "Ada": "not_started",
                "Bea": "in_progress",
                "Cy": "submitted",
                "Dee": "late",
                "Eve": "graded",
            }
            assert f'href="/documents/{klass.docs["Cy"].id}/review?latest=1"' in r.text
            by_status = await c.get(f"/assignments/{klass.assignment.id}/submissions?sort=status")
            order = [n.split()[0] for n in re.findall(r'<span class="cell-title">([^<]+)</span>', by_status.text)]
            assert order == ["Dee", "Cy", "Bea", "Ada", "Eve"]
            opened = await c.get(f"/documents/{klass.docs['Cy'].id}/review?latest=1")
            assert opened.status_code == 303 and opened.headers["location"] == f"/submissions/{klass.subs['Cy'].id}"

    async def test_a_resubmission_after_return_is_not_graded(self, app, session, klass: Class) -> None:
        await _resubmit(session, klass)
        await session.commit()
        async with await _as(app, session, klass.teacher, klass.tenant) as c:
            r = await c.get(f"/assignments/{klass.assignment.id}/submissions")
        assert _statuses(r.text)["Eve"] == "submitted"

    async def test_students_and_other_tenants_get_404(self, app, session, klass: Class, other_tenant) -> None:
        outsider, _ = await create_member(session, other_tenant, Role.institution_admin)
        await session.commit()
        paths = [
            f"/assignments/{klass.assignment.id}/submissions",
            f"/submissions/{klass.subs['Cy'].id}",
            f"/documents/{klass.docs['Cy'].id}/review",
            f"/submissions/{klass.subs['Cy'].id}/return",
        ]
        async with await _as(app, session, klass.students["Cy"], klass.tenant) as c:
            for path in paths:
                assert (await c.get(path)).status_code == 404, path
            r = await c.post(f"/submissions/{klass.subs['Cy'].id}/comments", data={"body": "Mine"})
            assert r.status_code == 404
        async with await _as(app, session, outsider, other_tenant) as c:
            for path in [*paths, f"/assignments/{klass.assignment.id}/feedback"]:
                assert (await c.get(path)).status_code == 404, path
            r = await c.post(f"/submissions/{klass.subs['Cy'].id}/grade", data={"feedback": "x"})
            assert r.status_code == 404
        assert (await session.execute(select(Comment))).first() is None
        assert (await session.execute(select(Grade).where(Grade.submission_id == klass.subs["Cy"].id))).first() is None


class TestReader:
    async def test_text_history_sessions_and_escaping(self, app, session, klass: Class) -> None:
        sub = klass.subs["Cy"]
        async with await _as(app, session, klass.teacher, klass.tenant) as c:
            r = await c.get(f"/submissions/{sub.id}")
            assert r.status_code == 200, r.text
            assert EVIL not in r.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in r.text
            body = re.search(r'<div class="review-text__body"[^>]*>(.*?)</div>', r.text, re.S)
            expected = "Dear reader,\n&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; is not Cy&#39;s style."
            assert body and body.group(1) == expected
            assert "Version history" in r.text and "Writing sessions" in r.text and 'id="grading"' in r.text
            assert_accessible_form(r.text)
            versions = re.findall(r'<option value="([0-9a-f-]{36})"', r.text)
            assert versions
            diff = await c.get(f"/submissions/{sub.id}?from={versions[0]}")
            assert diff.status_code == 200 and '<ins class="diff-ins">' in diff.text

    async def test_group_work_shows_contributions(self, app, session, klass: Class) -> None:
        course_id = klass.assignment.course_id
        group_assignment = await create_assignment(session, await _course(session, course_id), kind="group",
                                                   title="Together")
        group = await create_group(session, group_assignment, [klass.students["Ada"], klass.students["Bea"]], "Team A")
        doc = await create_document(session, group_assignment, group=group)
        await write(session, doc, klass.students["Ada"], [ins(0, "Ada wrote this. ")])
        await write(session, doc, klass.students["Bea"], [ins(16, "Bea wrote that.")])
        await session.commit()
        async with await _as(app, session, klass.teacher, klass.tenant) as c:
            r = await c.get(f"/documents/{doc.id}/review")
            assert r.status_code == 200, r.text
            assert "<h1>Team A</h1>" in r.text and "Contributions" in r.text
            assert "Ada Student" in r.text and "Bea Student" in r.text


async def _course(session: AsyncSession, course_id: uuid.UUID) -> Course:
    found = await session.get(Course, course_id)
    assert found is not None
    return found


class TestComments:
    async def test_inline_comment_by_selection_and_by_typed_quote(self, app, session, klass: Class) -> None:
        sub = klass.subs["Cy"]
        text = klass.docs["Cy"].text
        start = text.index("is not")
        async with await _as(app, session, klass.teacher, klass.tenant) as c:
            r = await c.post(
                f"/submissions/{sub.id}/comments",
                data={"body": f"Why {EVIL}?", "quote": "is not", "start": str(start), "end": str(start + 6)},
            )
            assert r.status_code == 303, r.text
            r = await c.post(f"/submissions/{sub.id}/comments", data={"body": "Nice opening.", "quote": "Dear reader"})
            assert r.status_code == 303, r.text
            r = await c.post(f"/submissions/{sub.id}/comments", data={"body": "Overall: good."})
            assert r.status_code == 303
            page = await c.get(f"/submissions/{sub.id}")
            assert EVIL not in page.text and "Why &lt;script&gt;" in page.text
            mark = r'<mark class="passage" data-comments="[0-9a-f-]{36}" id="passage-[0-9a-f-]{36}">is not</mark>'
            assert re.search(mark, page.text)
            assert '>Dear reader</mark>' in page.text and "General comment" in page.text

            wrong = await c.post(f"/submissions/{sub.id}/comments", data={"body": "Hm.", "quote": "not in the text"})
            assert wrong.status_code == 422 and "That passage is not in the text" in wrong.text
            empty = await c.post(f"/submissions/{sub.id}/comments", data={"body": "   "})
            assert empty.status_code == 422 and "Write the comment" in empty.text
        comments = (await session.execute(select(Comment).order_by(Comment.created_at))).scalars().all()
        assert [(cm.anchor or {}).get("quote") for cm in comments] == ["is not", "Dear reader", None]
        assert comments[0].anchor["start"] == start and comments[0].submission_id == sub.id
        # the student is told, in the app
        notes = (await session.execute(select(Notification))).scalars().all()
        assert {n.user_id for n in notes} == {klass.students["Cy"].id} and len(notes) == 3
        assert notes[0].link == f"/assignments/{klass.assignment.id}/feedback"

    async def test_student_replies_staff_resolves(self, app, session, klass: Class) -> None:
        sub = klass.subs["Cy"]
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            await t.post(f"/submissions/{sub.id}/comments", data={"body": "Expand this.", "quote": "Dear reader"})
        comment = (await session.execute(select(Comment))).scalar_one()
        await session.commit()
        back = f"/assignments/{klass.assignment.id}/feedback"
        async with await _as(app, session, klass.students["Cy"], klass.tenant) as s:
            r = await s.post(f"/comments/{comment.id}/reply", data={"body": f"I will {EVIL}", "back": back})
            assert r.status_code == 303 and r.headers["location"] == f"{back}#comment-{comment.id}"
            page = await s.get(back)
            assert "I will &lt;script&gt;" in page.text and EVIL not in page.text
            assert (await s.post(f"/comments/{comment.id}/resolve", data={"back": back})).status_code == 403
            evil_back = await s.post(f"/comments/{comment.id}/reply", data={"body": "x", "back": "https://evil.example"})
            assert evil_back.headers["location"].startswith("/home")
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            r = await t.post(f"/comments/{comment.id}/resolve", data={"back": f"/submissions/{sub.id}"})
            assert r.status_code == 303
            page = await t.get(f"/submissions/{sub.id}")
            assert "Reopen<span" in page.text and "passage passage--resolved" in page.text
        await session.refresh(comment)
        assert comment.resolved_at is not None


    async def test_a_comment_on_a_draft_follows_edits_or_is_outdated(self, app, session, klass: Class) -> None:
        doc = klass.docs["Bea"]
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            r = await t.post(f"/documents/{doc.id}/comments", data={"body": "Good start.", "quote": "start"})
            assert r.status_code == 303 and r.headers["location"].startswith(f"/documents/{doc.id}/review#comment-")
            await write(session, doc, klass.students["Bea"], [ins(0, "Now: ")])
            await session.commit()
            moved = await t.get(f"/documents/{doc.id}/review")
            assert '">start</mark>.' in moved.text and "Outdated" not in moved.text
            await write(session, doc, klass.students["Bea"], [dele(0, len(doc.text)), ins(0, "All new.")])
            await session.commit()
            gone = await t.get(f"/documents/{doc.id}/review")
            assert "Outdated" in gone.text and "<mark" not in gone.text and "<q>start</q>" in gone.text


class TestGrading:
    async def test_score_save_return_and_the_student_sees_it_only_then(self, app, session, klass: Class) -> None:
        sub = klass.subs["Cy"]
        student = klass.students["Cy"]
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            bad = await t.post(f"/submissions/{sub.id}/grade", data={"score-thesis": "nope", "feedback": "x"})
            assert bad.status_code == 422 and "has no level" in bad.text
            r = await t.post(
                f"/submissions/{sub.id}/grade",
                data={"score-thesis": "thesis-4", "feedback": f"Strong {EVIL} letter.", "action": "save"},
            )
            assert r.status_code == 303 and r.headers["location"] == f"/submissions/{sub.id}#grading"
            page = await t.get(f"/submissions/{sub.id}")
            assert 'data-grade-total>4 / 4<' in page.text and "Draft" in page.text
            assert 'value="thesis-4" checked' in page.text
        async with await _as(app, session, student, klass.tenant) as s:
            before = await s.get(f"/assignments/{klass.assignment.id}/feedback")
            assert before.status_code == 200
            assert "Strong" not in before.text and "4 / 4" not in before.text
            assert "not returned a grade yet" in before.text
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            r = await t.post(
                f"/submissions/{sub.id}/grade",
                data={"score-thesis": "thesis-4", "feedback": f"Strong {EVIL} letter.", "action": "return"},
            )
            assert r.status_code == 303 and r.headers["location"] == f"/submissions/{sub.id}/return"
            confirm = await t.get(r.headers["location"])
            assert confirm.status_code == 200 and "Return the grade to Cy Student?" in confirm.text
            assert EVIL not in confirm.text
            done = await t.post(f"/submissions/{sub.id}/return")
            assert done.status_code == 303
            again = await t.post(f"/submissions/{sub.id}/return")
            assert again.status_code == 303  # refused with a message, nothing changes
        grade = (await session.execute(select(Grade).where(Grade.submission_id == sub.id))).scalar_one()
        assert grade.status == GradeStatus.returned and grade.total == 4
        async with await _as(app, session, student, klass.tenant) as s:
            after = await s.get(f"/assignments/{klass.assignment.id}/feedback")
            assert "Strong &lt;script&gt;" in after.text and EVIL not in after.text
            assert "data-grade-total>4 / 4<" in after.text and "Exemplary" in after.text
            count = await s.get("/notifications/count")
            assert count.status_code == 200 and '<span class="bell__count">1</span>' in count.text
            notes = await s.get("/notifications")
            assert "Feedback returned: Letter to a reader" in notes.text

    async def test_returning_needs_every_criterion(self, app, session, klass: Class) -> None:
        sub = klass.subs["Dee"]
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            await t.post(f"/submissions/{sub.id}/grade", data={"feedback": "Some words."})
            r = await t.post(f"/submissions/{sub.id}/return")
            assert r.status_code == 303
            page = await t.get(r.headers["location"])
            assert "Score every criterion" in page.text
        grade = (await session.execute(select(Grade).where(Grade.submission_id == sub.id))).scalar_one()
        assert grade.status == GradeStatus.draft


class TestReopen:
    async def test_staff_reopen_a_submission_for_the_student_from_its_page(self, app, session, klass: Class) -> None:
        doc, sub = klass.docs["Cy"], klass.subs["Cy"]
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            page = await t.get(f"/submissions/{sub.id}")
            assert f'href="/documents/{doc.id}/review/reopen"' in page.text
            assert "Submitted: the student cannot edit" in page.text
            confirm = await t.get(f"/documents/{doc.id}/review/reopen")
            assert confirm.status_code == 200 and "Reopen the document for Cy Student?" in confirm.text
            assert f"Submission {sub.attempt}" in confirm.text and "They are notified" in confirm.text
            done = await t.post(f"/documents/{doc.id}/review/reopen")
            assert done.status_code == 303 and done.headers["location"] == f"/documents/{doc.id}/review"
            after = await t.get(done.headers["location"])
            assert "Reopened: Cy Student can edit the document" in after.text  # the flash
            assert "Reopened: the student can edit it" in after.text
            assert f'/documents/{doc.id}/review/reopen"' not in after.text
            again = await t.post(f"/documents/{doc.id}/review/reopen")  # refused with the reason, nothing changes
            assert again.status_code == 303
            assert "not submitted" in (await t.get(again.headers["location"])).text
            gone = await t.get(f"/documents/{doc.id}/review/reopen")
            assert gone.status_code == 303  # nothing to confirm
        status = select(Document.status).where(Document.id == doc.id)
        assert (await session.execute(status)).scalar_one() == "reopened"
        assert (await session.execute(select(Submission.id).where(Submission.id == sub.id))).first()  # it stays
        note = (await session.execute(select(Notification).where(Notification.user_id == klass.students["Cy"].id)))
        assert [n.title for n in note.scalars()] == ["Reopened for you: Letter to a reader"]
        await session.commit()
        async with await _as(app, session, klass.students["Cy"], klass.tenant) as s:
            notes = await s.get("/notifications")
            assert "Reopened for you: Letter to a reader" in notes.text

    async def test_students_and_other_tenants_cannot_reopen_here(
        self, app, session, klass: Class, other_tenant
    ) -> None:
        outsider, _ = await create_member(session, other_tenant, Role.institution_admin)
        await session.commit()
        doc = klass.docs["Dee"]
        for user, tenant in ((klass.students["Dee"], klass.tenant), (outsider, other_tenant)):
            async with await _as(app, session, user, tenant) as c:
                assert (await c.get(f"/documents/{doc.id}/review/reopen")).status_code == 404
                assert (await c.post(f"/documents/{doc.id}/review/reopen")).status_code == 404
        assert (await session.execute(select(Document.status).where(Document.id == doc.id))).scalar_one() == "submitted"
        await session.commit()


class TestStudentFeedback:
    async def test_nothing_before_submission_and_staff_are_pointed_to_the_list(self, app, session, klass) -> None:
        async with await _as(app, session, klass.students["Ada"], klass.tenant) as s:
            r = await s.get(f"/assignments/{klass.assignment.id}/feedback")
            assert r.status_code == 200 and "You have not submitted this assignment yet" in r.text
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            r = await t.get(f"/assignments/{klass.assignment.id}/feedback")
            assert r.status_code == 200 and f'href="/assignments/{klass.assignment.id}/submissions"' in r.text


    async def test_each_submission_keeps_its_grade_and_a_reopened_draft_shows_the_comments_in_place(
        self, app, session, klass: Class
    ) -> None:
        """A resubmission once hid the grade returned on the attempt before ("has not returned a grade yet"), and
        while revising a reopened document the comments could only be seen on the old submitted text."""
        first, eve = klass.subs["Eve"], klass.students["Eve"]
        await _resubmit(session, klass)
        await session.commit()
        page = f"/assignments/{klass.assignment.id}/feedback"
        async with await _as(app, session, eve, klass.tenant) as s:
            latest = await s.get(page)
            assert "has not returned a grade for this submission yet" in latest.text
            assert f'href="{page}?submission={first.id}"' in latest.text and "draft=1" not in latest.text
            earlier = await s.get(f"{page}?submission={first.id}")
            assert 'id="overall-feedback">Good.<' in earlier.text and "has not returned a grade" not in earlier.text
            assert '<strong aria-current="page">Submission 1</strong>' in earlier.text
            foreign = await s.get(f"{page}?submission={klass.subs['Cy'].id}")  # not theirs: the latest, as usual
            assert foreign.status_code == 200 and "Cy&#39;s style" not in foreign.text and "Cy's" not in foreign.text
            assert '<strong aria-current="page">Submission 2</strong>' in foreign.text
        await write(session, klass.docs["Eve"], eve, [ins(0, "Revised opening. ")])
        doc = await session.get(Document, klass.docs["Eve"].id)
        doc.status = "reopened"
        await session.commit()
        async with await _as(app, session, eve, klass.tenant) as s:
            draft = await s.get(f"{page}?draft=1")
            assert "Your current text" in draft.text and "Revised opening." in draft.text
            assert "Grades are given on submissions" in draft.text
            assert f'href="{page}?draft=1"' in (await s.get(page)).text


class TestQueryCounts:
    async def test_the_list_and_the_reader_do_not_grow_with_the_class(
        self, app, session, klass: Class, engines
    ) -> None:
        from tests.sql_log import statements

        course = await _course(session, klass.assignment.course_id)
        sub = klass.subs["Cy"]
        listing = f"/assignments/{klass.assignment.id}/submissions"
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            await t.get(listing)  # warm up the client's session
            await t.post(f"/submissions/{sub.id}/comments", data={"body": "First.", "quote": "Dear reader"})
            with statements() as few:
                assert (await t.get(listing)).status_code == 200
            with statements() as reader_few:
                assert (await t.get(f"/submissions/{sub.id}")).status_code == 200
            for n in range(4):
                student = await create_course_member(session, course, klass.tenant, display_name=f"Extra{n} Student")
                doc = await create_document(session, klass.assignment, owner=student)
                await write(session, doc, student, [ins(0, f"text {n}")])
                extra = await create_submission(session, doc, student)
                await create_grade(session, extra, status=GradeStatus.returned)
                session.add(Comment(tenant_id=sub.tenant_id, document_id=sub.document_id, submission_id=sub.id,
                                    author_user_id=student.id if n % 2 else klass.teacher.id, author_is_staff=not n % 2,
                                    body=f"Comment {n}"))
            await session.commit()
            with statements() as many:
                r = await t.get(listing)
            assert r.status_code == 200 and len(_statuses(r.text)) == 9
            with statements() as reader_many:
                r = await t.get(f"/submissions/{sub.id}")
            assert r.status_code == 200 and "Comment 3" in r.text
        assert len(many) == len(few), many
        assert len(reader_many) == len(reader_few), reader_many


class TestLinks:
    async def test_the_assignment_page_links_staff_to_submissions_and_students_to_feedback(
        self, app, session, klass: Class
    ) -> None:
        a = klass.assignment
        page = f"/courses/{a.course_id}/assignments/{a.id}"
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            r = await t.get(page)
            assert f'href="/assignments/{a.id}/submissions"' in r.text and f"/assignments/{a.id}/feedback" not in r.text
        async with await _as(app, session, klass.students["Cy"], klass.tenant) as s:
            r = await s.get(page)
            assert f'href="/assignments/{a.id}/feedback"' in r.text and f"/assignments/{a.id}/submissions" not in r.text


class TestNotifications:
    async def test_mark_read_only_ones_own(self, app, session, klass: Class) -> None:
        sub = klass.subs["Cy"]
        async with await _as(app, session, klass.teacher, klass.tenant) as t:
            await t.post(f"/submissions/{sub.id}/comments", data={"body": "Look here."})
        note = (await session.execute(select(Notification))).scalar_one()
        await session.commit()
        async with await _as(app, session, klass.students["Dee"], klass.tenant) as other:
            assert (await other.post(f"/notifications/{note.id}/read")).status_code == 404
        async with await _as(app, session, klass.students["Cy"], klass.tenant) as s:
            page = await s.get("/notifications")
            assert "New comment on your writing: Letter to a reader" in page.text
            r = await s.post(f"/notifications/{note.id}/read", data={"open": "1"})
            assert r.status_code == 303 and r.headers["location"] == f"/assignments/{klass.assignment.id}/feedback"
            assert (await s.get("/notifications/count")).text.strip() == ""
        await session.refresh(note)
        assert note.read_at is not None


def _comment_on(text: str, quote: str) -> CommentRead:
    start, end = text.index(quote), text.index(quote) + len(quote)
    return CommentRead(
        id=uuid.uuid4(),
        document_id=uuid.uuid4(),
        submission_id=None,
        parent_id=None,
        author_user_id=None,
        author_name="T",
        author_is_staff=True,
        body="b",
        anchor=AnchorRead(quote=quote, start=start, end=end),
        revision=1,
        position=Span(start=start, end=end),
        outdated=False,
        resolved_at=None,
        resolved_by=None,
        created_at=clock.utcnow(),
        edited_at=None,
    )


def test_every_comment_on_a_passage_has_the_anchor_its_link_jumps_to() -> None:
    """Two comments on the same words once got one id between them: the second comment's "On '…'" link led
    nowhere. Every comment has its anchor, once, at the first piece of its passage; the text is unchanged."""
    text = "Dear reader, <b>trees</b> keep time."
    same = [_comment_on(text, "trees"), _comment_on(text, "trees")]
    wider = _comment_on(text, "<b>trees</b> keep")
    html = str(text_html(text, [*same, wider]))
    for c in (*same, wider):
        assert html.count(f'id="passage-{c.id}"') == 1, c.id
    assert re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">") == text
    assert "<b>" not in html
