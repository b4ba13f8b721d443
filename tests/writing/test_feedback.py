"""Feedback and grading end to end: anchored comments that follow edits, threads, resolve, rubric grades, return,
what the student may see and when, audit entries, emails, and escaping."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, db
from scribetree.core.audit import AuditEvent
from scribetree.core.jobs_models import Job
from scribetree.core.mail import ACTOR as MAIL_ACTOR
from scribetree.courses.models import Assignment, AssignmentKind
from scribetree.tenancy.models import Role, Tenant
from scribetree.writing import ops
from scribetree.writing.feedback import graded_submission_ids
from scribetree.writing.feedback_models import Comment, Grade
from scribetree.writing.models import Document, DocumentVersion, Submission, VersionKind
from tests.factories.courses import create_group
from tests.factories.tenancy import create_member
from tests.factories.writing import create_document
from tests.tenancy.mailbox import deliver
from tests.writing.conftest import ClientFor, Klass

TEXT = "Trees breathe. The oak in our yard is older than the town. Its roots hold the river bank."
RUBRIC: dict[str, Any] = {
    "criteria": [
        {
            "id": "thesis",
            "title": "Thesis",
            "description": "",
            "levels": [
                {"id": "t1", "label": "Beginning", "points": 1.0, "description": ""},
                {"id": "t4", "label": "Exemplary", "points": 4.0, "description": ""},
            ],
        },
        {
            "id": "evidence",
            "title": "Evidence",
            "description": "",
            "levels": [
                {"id": "e0", "label": "Missing", "points": 0.0, "description": ""},
                {"id": "e3", "label": "Strong", "points": 3.5, "description": ""},
            ],
        },
    ],
    "total_points": 7.5,
}
SCRIPT = "<script>alert('x')</script> & <b>bold</b>"


@dataclass
class Setup:
    klass: Klass
    doc: Document
    submission: Submission


async def create_submission(
    session: AsyncSession, doc: Document, *, late: bool = False, submitted_at: Any = None, attempt: int = 1
) -> Submission:
    at = submitted_at or clock.utcnow()
    version = DocumentVersion(
        tenant_id=doc.tenant_id,
        document_id=doc.id,
        revision=doc.revision,
        kind=VersionKind.submission,
        text=doc.text,
        content_hash=ops.content_hash(doc.text),
        word_count=ops.word_count(doc.text),
        created_at=at,
    )
    session.add(version)
    await session.flush()
    sub = Submission(
        tenant_id=doc.tenant_id,
        document_id=doc.id,
        assignment_id=doc.assignment_id,
        version_id=version.id,
        submitted_by=doc.owner_user_id,
        attempt=attempt,
        revision=doc.revision,
        content_hash=version.content_hash,
        word_count=version.word_count,
        submitted_at=at,
        late=late,
    )
    session.add(sub)
    await session.flush()
    return sub


@pytest.fixture
async def setup(session: AsyncSession, klass: Klass) -> Setup:
    await session.execute(update(Assignment).where(Assignment.id == klass.assignment.id).values(rubric=RUBRIC))
    doc = await create_document(session, klass.assignment, owner=klass.student, text=TEXT)
    sub = await create_submission(session, doc)
    await session.commit()
    return Setup(klass, doc, sub)


def span(text: str, quote: str) -> dict[str, Any]:
    start = text.index(quote)
    return {"start": start, "end": start + len(quote), "quote": quote}


async def set_text(session: AsyncSession, doc: Document, text: str) -> None:
    """What the batch path does to the row (a new revision with new text; the text lives in document_chunks,
    which assigning ``Document.text`` rewrites on flush)."""
    doc.text = text
    doc.revision += 1
    doc.content_hash = ops.content_hash(text)
    await session.commit()


async def mails(_session: AsyncSession) -> list[dict[str, Any]]:
    """Queued emails (the job rows), read through a fresh session so the test's loaded objects stay intact."""
    async with db.make_session(write=False) as s:
        rows = (await s.execute(select(Job).where(Job.actor == MAIL_ACTOR).order_by(Job.created_at))).scalars()
        return [dict(j.args) for j in rows]


async def audit_actions(_session: AsyncSession, tenant: Tenant) -> list[str]:
    tenant_id = tenant.id
    async with db.make_session(write=False) as s:
        rows = await s.execute(
            select(AuditEvent.action).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.seq)
        )
        return [a for (a,) in rows]


async def count(_session: AsyncSession, model: type) -> int:
    async with db.make_session(write=False) as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def graded(k: Klass) -> set[uuid.UUID]:
    tenant_id, assignment_id = k.tenant.id, k.assignment.id
    async with db.make_session(write=False) as s:
        return await graded_submission_ids(s, tenant_id, assignment_id)


async def comment(c: httpx.AsyncClient, doc_id: uuid.UUID, body: str, anchor: dict | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": body}
    if anchor is not None:
        payload["anchor"] = anchor
    r = await c.post(f"/api/v1/documents/{doc_id}/comments", json=payload)
    assert r.status_code == 201, r.text
    return r.json()


class TestInlineComments:
    async def test_staff_comment_is_placed_and_the_student_sees_it(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        made = await comment(teacher, setup.doc.id, "Lovely image. Can you say why?", span(TEXT, "older than the town"))
        assert made["anchor"]["quote"] == "older than the town"
        assert made["position"] == {"start": TEXT.index("older"), "end": TEXT.index("older") + 19}
        assert made["outdated"] is False and made["author_is_staff"] is True
        assert made["author_name"] == k.instructor.display_name

        student = await client_for(k.student, k.tenant)
        r = await student.get(f"/api/v1/documents/{setup.doc.id}/comments")
        assert r.status_code == 200
        [thread] = r.json()
        assert thread["id"] == made["id"] and thread["body"] == "Lovely image. Can you say why?"
        assert thread["position"] == made["position"]
        assert "comment.created" in await audit_actions(session, k.tenant)

    async def test_comment_follows_the_passage_and_becomes_outdated(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        made = await comment(teacher, setup.doc.id, "Evidence?", span(TEXT, "Its roots hold the river bank."))
        general = await comment(teacher, setup.doc.id, "Good start overall.")
        assert general["anchor"] is None and general["position"] is None and general["outdated"] is False

        moved = "Introduction 😀 with שלום and 漢字.\n\n" + TEXT
        await set_text(session, setup.doc, moved)
        r = await teacher.get(f"/api/v1/documents/{setup.doc.id}/comments")
        pos = next(t for t in r.json() if t["id"] == made["id"])["position"]
        assert moved[pos["start"] : pos["end"]] == "Its roots hold the river bank."

        fuzzy = moved.replace("Its roots hold the river bank.", "Its roots firmly hold the river bank!")
        await set_text(session, setup.doc, fuzzy)
        r = await teacher.get(f"/api/v1/documents/{setup.doc.id}/comments")
        thread = next(t for t in r.json() if t["id"] == made["id"])
        assert thread["outdated"] is False
        assert fuzzy[thread["position"]["start"] : thread["position"]["end"]].startswith("Its roots firmly")

        await set_text(session, setup.doc, "Trees breathe. Nothing else remains of that paragraph.")
        r = await teacher.get(f"/api/v1/documents/{setup.doc.id}/comments")
        thread = next(t for t in r.json() if t["id"] == made["id"])
        assert thread["outdated"] is True and thread["position"] is None
        assert thread["anchor"]["quote"] == "Its roots hold the river bank."  # the original passage is kept

    async def test_a_quote_that_moved_since_selection_is_found(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        k = setup.klass
        old = span(TEXT, "The oak")
        await set_text(session, setup.doc, "New first line. " + TEXT)
        teacher = await client_for(k.instructor, k.tenant)
        made = await comment(teacher, setup.doc.id, "Which oak?", old)
        assert made["position"]["start"] == old["start"] + len("New first line. ")

    @pytest.mark.parametrize(
        ("anchor", "status", "code"),
        [
            ({"start": 0, "end": 5, "quote": "Nope!"}, 422, "AnchorMismatch"),
            ({"start": 500, "end": 505, "quote": "Trees"}, 422, "AnchorOutOfRange"),
            ({"start": 0, "end": 5, "quote": "Tree"}, 422, "ValidationError"),
            ({"start": 5, "end": 5, "quote": ""}, 422, "ValidationError"),
            ({"start": -1, "end": 4, "quote": "Trees"}, 422, "ValidationError"),
        ],
    )
    async def test_bad_anchors_are_refused_and_nothing_is_stored(
        self,
        setup: Setup,
        client_for: ClientFor,
        session: AsyncSession,
        anchor: dict[str, Any],
        status: int,
        code: str,
    ) -> None:
        teacher = await client_for(setup.klass.instructor, setup.klass.tenant)
        r = await teacher.post(f"/api/v1/documents/{setup.doc.id}/comments", json={"body": "x", "anchor": anchor})
        assert r.status_code == status and r.json()["error"] == code, r.text
        assert await count(session, Comment) == 0
        assert await mails(session) == []

    @pytest.mark.parametrize("body", ["", "   \n ", "x" * 5001, "nul \x00 byte"])
    async def test_bad_bodies_are_refused(self, setup: Setup, client_for: ClientFor, session: AsyncSession, body: str):
        teacher = await client_for(setup.klass.instructor, setup.klass.tenant)
        r = await teacher.post(f"/api/v1/documents/{setup.doc.id}/comments", json={"body": body})
        assert r.status_code == 422 and r.json()["error"] == "ValidationError", r.text
        assert await count(session, Comment) == 0

    async def test_longest_body_is_accepted(self, setup: Setup, client_for: ClientFor) -> None:
        teacher = await client_for(setup.klass.instructor, setup.klass.tenant)
        made = await comment(teacher, setup.doc.id, "é" * 5000)
        assert len(made["body"]) == 5000

    async def test_html_is_kept_as_text(self, setup: Setup, client_for: ClientFor, session: AsyncSession) -> None:
        k = setup.klass
        await set_text(session, setup.doc, TEXT + " " + SCRIPT)
        teacher = await client_for(k.instructor, k.tenant)
        made = await comment(teacher, setup.doc.id, SCRIPT, span(TEXT + " " + SCRIPT, SCRIPT))
        student = await client_for(k.student, k.tenant)
        r = await student.get(f"/api/v1/documents/{setup.doc.id}/comments")
        assert r.headers["content-type"].startswith("application/json")
        [thread] = r.json()
        assert thread["body"] == SCRIPT and thread["anchor"]["quote"] == SCRIPT  # stored and served as sent
        assert made["body"] == SCRIPT


class TestWhoMayComment:
    async def test_students_cannot_start_threads(self, setup: Setup, client_for: ClientFor, session: AsyncSession):
        k = setup.klass
        student = await client_for(k.student, k.tenant)
        r = await student.post(f"/api/v1/documents/{setup.doc.id}/comments", json={"body": "Note to self"})
        assert r.status_code == 403 and r.json()["error"] == "StaffOnly"
        r = await student.post(f"/api/v1/submissions/{setup.submission.id}/comments", json={"body": "x"})
        assert r.status_code == 403
        assert await count(session, Comment) == 0

    async def test_ta_may_comment(self, setup: Setup, client_for: ClientFor) -> None:
        ta = await client_for(setup.klass.ta, setup.klass.tenant)
        made = await comment(ta, setup.doc.id, "TA here.")
        assert made["author_is_staff"] is True

    async def test_classmates_outsiders_and_other_tenants_get_404(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession, other_tenant: Tenant
    ) -> None:
        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        made = await comment(teacher, setup.doc.id, "Private to Ada.", span(TEXT, "Trees"))
        outsider, _ = await create_member(session, k.tenant, Role.educator)  # an educator of another course
        foreign, _ = await create_member(session, other_tenant, Role.institution_admin)
        await session.commit()
        for who, tenant in ((k.classmate, k.tenant), (outsider, k.tenant), (foreign, other_tenant)):
            c = await client_for(who, tenant)
            calls = [
                c.get(f"/api/v1/documents/{setup.doc.id}/comments"),
                c.post(f"/api/v1/documents/{setup.doc.id}/comments", json={"body": "x"}),
                c.get(f"/api/v1/submissions/{setup.submission.id}/comments"),
                c.post(f"/api/v1/submissions/{setup.submission.id}/comments", json={"body": "x"}),
                c.post(f"/api/v1/comments/{made['id']}/replies", json={"body": "x"}),
                c.patch(f"/api/v1/comments/{made['id']}", json={"body": "x"}),
                c.post(f"/api/v1/comments/{made['id']}/resolve"),
                c.post(f"/api/v1/comments/{made['id']}/reopen"),
                c.get(f"/api/v1/submissions/{setup.submission.id}/grade"),
                c.put(f"/api/v1/submissions/{setup.submission.id}/grade", json={"scores": {}}),
                c.post(f"/api/v1/submissions/{setup.submission.id}/grade/return"),
            ]
            if who is not k.classmate:  # a classmate sees the assignment itself, so its grade list is a 403 (below)
                calls.append(c.get(f"/api/v1/assignments/{k.assignment.id}/grades"))
            for call in calls:
                r = await call
                assert r.status_code == 404, (who.email, r.request.method, r.request.url, r.text)
                assert "Private to Ada" not in r.text
        c = await client_for(k.classmate, k.tenant)
        assert (await c.get(f"/api/v1/assignments/{k.assignment.id}/grades")).status_code == 403
        assert await count(session, Comment) == 1 and await count(session, Grade) == 0


class TestThreads:
    async def test_student_and_staff_reply_in_one_thread(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        student = await client_for(k.student, k.tenant)
        made = await comment(teacher, setup.doc.id, "Why the river?", span(TEXT, "river bank"))
        r = await student.post(f"/api/v1/comments/{made['id']}/replies", json={"body": "Because of floods."})
        assert r.status_code == 201, r.text
        first = r.json()
        assert first["parent_id"] == made["id"] and first["author_is_staff"] is False
        r = await teacher.post(f"/api/v1/comments/{first['id']}/replies", json={"body": "Say so in the text."})
        assert r.status_code == 201 and r.json()["parent_id"] == made["id"]  # a reply to a reply joins the thread
        r = await student.get(f"/api/v1/documents/{setup.doc.id}/comments")
        [thread] = r.json()
        assert [x["body"] for x in thread["replies"]] == ["Because of floods.", "Say so in the text."]
        actions = await audit_actions(session, k.tenant)
        assert actions.count("comment.replied") == 2

    async def test_only_the_author_edits_a_comment(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        student = await client_for(k.student, k.tenant)
        made = await comment(teacher, setup.doc.id, "Typo hre.", span(TEXT, "Trees"))
        r = await student.patch(f"/api/v1/comments/{made['id']}", json={"body": "I changed your comment"})
        assert r.status_code == 403 and r.json()["error"] == "NotCommentAuthor"
        ta = await client_for(k.ta, k.tenant)
        assert (await ta.patch(f"/api/v1/comments/{made['id']}", json={"body": "no"})).status_code == 403
        r = await teacher.patch(f"/api/v1/comments/{made['id']}", json={"body": "Typo here."})
        assert r.status_code == 200 and r.json()["body"] == "Typo here." and r.json()["edited_at"]
        assert r.json()["position"]["start"] == 0
        assert "comment.edited" in await audit_actions(session, k.tenant)

    async def test_staff_resolve_and_reopen(self, setup: Setup, client_for: ClientFor, session: AsyncSession) -> None:
        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        student = await client_for(k.student, k.tenant)
        made = await comment(teacher, setup.doc.id, "Fix this.", span(TEXT, "Trees"))
        r = await student.post(f"/api/v1/comments/{made['id']}/resolve")
        assert r.status_code == 403 and r.json()["error"] == "StaffOnly"
        reply = (await student.post(f"/api/v1/comments/{made['id']}/replies", json={"body": "Done"})).json()
        ta = await client_for(k.ta, k.tenant)
        r = await ta.post(f"/api/v1/comments/{reply['id']}/resolve")  # resolving a reply resolves its thread
        assert r.status_code == 200 and r.json()["id"] == made["id"]
        assert r.json()["resolved_at"] and r.json()["resolved_by"] == str(k.ta.id)
        again = await teacher.post(f"/api/v1/comments/{made['id']}/resolve")
        assert again.status_code == 200 and again.json()["resolved_by"] == str(k.ta.id)  # unchanged
        r = await teacher.post(f"/api/v1/comments/{made['id']}/reopen")
        assert r.status_code == 200 and r.json()["resolved_at"] is None
        actions = await audit_actions(session, k.tenant)
        assert actions.count("comment.resolved") == 1 and actions.count("comment.reopened") == 1

    async def test_unknown_comment_is_404(self, setup: Setup, client_for: ClientFor) -> None:
        teacher = await client_for(setup.klass.instructor, setup.klass.tenant)
        r = await teacher.post(f"/api/v1/comments/{uuid.uuid4()}/replies", json={"body": "x"})
        assert r.status_code == 404 and r.json()["error"] == "CommentNotFound"


class TestSubmissionComments:
    async def test_anchored_in_the_submitted_text_and_followed_into_the_draft(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        r = await teacher.post(
            f"/api/v1/submissions/{setup.submission.id}/comments",
            json={"body": "Cite a source.", "anchor": span(TEXT, "older than the town")},
        )
        assert r.status_code == 201, r.text
        assert r.json()["submission_id"] == str(setup.submission.id)
        reopened = "After reopening I added this. " + TEXT
        await set_text(session, setup.doc, reopened)
        on_submission = (await teacher.get(f"/api/v1/submissions/{setup.submission.id}/comments")).json()
        assert on_submission[0]["position"]["start"] == TEXT.index("older")
        on_document = (await teacher.get(f"/api/v1/documents/{setup.doc.id}/comments")).json()
        assert on_document[0]["position"]["start"] == reopened.index("older")
        student = await client_for(k.student, k.tenant)
        assert (await student.get(f"/api/v1/submissions/{setup.submission.id}/comments")).status_code == 200

    async def test_anchor_must_match_the_submitted_text(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        await set_text(session, setup.doc, "Completely new text after reopening.")
        teacher = await client_for(setup.klass.instructor, setup.klass.tenant)
        r = await teacher.post(
            f"/api/v1/submissions/{setup.submission.id}/comments",
            json={"body": "x", "anchor": span("Completely new text after reopening.", "Completely")},
        )
        assert r.status_code == 422 and r.json()["error"] == "AnchorMismatch"


class TestCommentEmails:
    async def test_staff_comment_mails_the_student_with_a_link(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        made = await comment(teacher, setup.doc.id, SCRIPT, span(TEXT, "Trees"))
        [mail] = await mails(session)
        assert mail["to"] == k.student.email
        assert f"/assignments/{k.assignment.id}/feedback" in mail["body"]  # the comments beside the text
        assert SCRIPT in mail["body"]  # plain text: nothing to escape, nothing interpreted
        student = await client_for(k.student, k.tenant)
        await student.post(f"/api/v1/comments/{made['id']}/replies", json={"body": "Thanks"})
        assert len(await mails(session)) == 1  # the student's own reply mails nobody
        await teacher.post(f"/api/v1/comments/{made['id']}/replies", json={"body": "You're welcome"})
        assert len(await mails(session)) == 2

    async def test_delivered_mail_is_plain_text(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        from email import policy
        from email.parser import BytesParser

        from scribetree.core import mail

        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        await comment(teacher, setup.doc.id, SCRIPT)
        sent = [m for m in await deliver() if m["to"] == k.student.email and SCRIPT in m["body"]]
        assert sent, "the comment email was not delivered"
        raw = (mail._mail_dir() / sent[0]["name"]).read_bytes()
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert msg.get_content_type() == "text/plain" and not msg.is_multipart()

    async def test_group_document_mails_every_member(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        group_assignment = Assignment(
            tenant_id=klass.tenant.id,
            course_id=klass.course.id,
            title="Group essay",
            kind=AssignmentKind.group,
            stages=[],
            published_at=clock.utcnow(),
            ai_settings={},
            objectives=[],
        )
        session.add(group_assignment)
        await session.flush()
        group = await create_group(session, group_assignment, [klass.student, klass.classmate])
        doc = await create_document(session, group_assignment, group=group, text="We wrote this together.")
        await session.commit()
        teacher = await client_for(klass.instructor, klass.tenant)
        await comment(teacher, doc.id, "Nice teamwork.", span("We wrote this together.", "together"))
        assert sorted(m["to"] for m in await mails(session)) == sorted([klass.student.email, klass.classmate.email])
        classmate = await client_for(klass.classmate, klass.tenant)
        r = await classmate.get(f"/api/v1/documents/{doc.id}/comments")
        assert r.status_code == 200 and len(r.json()) == 1


class TestGrades:
    async def test_draft_is_invisible_to_the_student_until_returned(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        student = await client_for(k.student, k.tenant)
        url = f"/api/v1/submissions/{setup.submission.id}/grade"
        r = await student.get(url)
        assert r.status_code == 404 and r.json()["error"] == "GradeNotFound"

        r = await teacher.put(url, json={"scores": {"thesis": "t4", "evidence": "e3"}, "feedback": "DRAFT-SECRET"})
        assert r.status_code == 200, r.text
        g = r.json()
        assert (g["status"], g["points"], g["total"], g["max_points"]) == ("draft", 7.5, 7.5, 7.5)
        assert [c["level"] for c in g["criteria"]] == ["Exemplary", "Strong"]

        r = await student.get(url)
        assert r.status_code == 404 and "DRAFT-SECRET" not in r.text and "7.5" not in r.text
        r = await student.get(f"/api/v1/assignments/{k.assignment.id}/grades")
        assert r.status_code == 403 and "DRAFT-SECRET" not in r.text
        for path in (
            f"/api/v1/documents/{setup.doc.id}/comments",
            f"/api/v1/submissions/{setup.submission.id}/comments",
        ):
            assert "DRAFT-SECRET" not in (await student.get(path)).text
        assert await graded(k) == set()
        assert await mails(session) == []

        r = await teacher.post(f"{url}/return")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "returned" and r.json()["returned_at"]
        r = await student.get(url)
        assert r.status_code == 200
        assert (r.json()["total"], r.json()["feedback"]) == (7.5, "DRAFT-SECRET")
        assert await graded(k) == {setup.submission.id}
        [mail] = await mails(session)
        assert mail["to"] == k.student.email and "7.5 / 7.5" in mail["body"]
        assert f"/assignments/{k.assignment.id}/feedback" in mail["body"]  # the comments beside the text
        actions = await audit_actions(session, k.tenant)
        assert actions.count("grade.saved") == 1 and actions.count("grade.returned") == 1

    async def test_staff_list_shows_drafts_and_returned(self, setup: Setup, client_for: ClientFor) -> None:
        k = setup.klass
        ta = await client_for(k.ta, k.tenant)
        r = await ta.put(f"/api/v1/submissions/{setup.submission.id}/grade", json={"scores": {"thesis": "t1"}})
        assert r.status_code == 200 and r.json()["points"] == 1.0 and r.json()["max_points"] == 7.5
        r = await ta.get(f"/api/v1/assignments/{k.assignment.id}/grades")
        assert r.status_code == 200
        assert [(g["submission_id"], g["status"]) for g in r.json()] == [(str(setup.submission.id), "draft")]

    @pytest.mark.parametrize(
        ("scores", "code"),
        [
            ({"style": "t1"}, "UnknownCriterion"),
            ({"thesis": "e3"}, "UnknownLevel"),
            ({"thesis": "t9"}, "UnknownLevel"),
        ],
    )
    async def test_scores_are_checked_against_the_rubric(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession, scores: dict[str, str], code: str
    ) -> None:
        teacher = await client_for(setup.klass.instructor, setup.klass.tenant)
        r = await teacher.put(f"/api/v1/submissions/{setup.submission.id}/grade", json={"scores": scores})
        assert r.status_code == 422 and r.json()["error"] == code, r.text
        assert r.json()["criterion_id"] == next(iter(scores))  # names the offending criterion
        assert await count(session, Grade) == 0

    @pytest.mark.parametrize(
        "body",
        [
            {"scores": {"thesis": "t4"}, "total": 100},
            {"scores": {"thesis": "t4"}, "points": 100},
            {"scores": {"thesis": 4}},
            {"scores": {"bad key!": "t4"}},
            {"scores": [], "feedback": "x"},
            {"feedback": "x" * 20_001},
        ],
    )
    async def test_client_totals_and_malformed_scores_are_refused(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession, body: dict[str, Any]
    ) -> None:
        teacher = await client_for(setup.klass.instructor, setup.klass.tenant)
        r = await teacher.put(f"/api/v1/submissions/{setup.submission.id}/grade", json=body)
        assert r.status_code == 422 and r.json()["error"] == "ValidationError", r.text
        assert await count(session, Grade) == 0

    async def test_no_rubric_takes_feedback_only(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        k = setup.klass
        await session.execute(update(Assignment).where(Assignment.id == k.assignment.id).values(rubric=None))
        await session.commit()
        teacher = await client_for(k.instructor, k.tenant)
        url = f"/api/v1/submissions/{setup.submission.id}/grade"
        r = await teacher.put(url, json={"scores": {"thesis": "t4"}})
        assert r.status_code == 422 and r.json()["error"] == "NoRubric"
        r = await teacher.put(url, json={"scores": {}})
        assert r.status_code == 200
        r = await teacher.post(f"{url}/return")
        assert r.status_code == 422 and r.json()["error"] == "RubricIncomplete"  # nothing to return yet
        r = await teacher.put(url, json={"feedback": "Well argued."})
        assert r.status_code == 200 and r.json()["total"] is None and r.json()["max_points"] is None
        assert (await teacher.post(f"{url}/return")).status_code == 200

    async def test_return_needs_every_criterion_and_happens_once(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        teacher = await client_for(setup.klass.instructor, setup.klass.tenant)
        url = f"/api/v1/submissions/{setup.submission.id}/grade"
        r = await teacher.post(f"{url}/return")
        assert r.status_code == 404 and r.json()["error"] == "GradeNotFound"
        await teacher.put(url, json={"scores": {"thesis": "t4"}})
        r = await teacher.post(f"{url}/return")
        assert r.status_code == 422 and r.json()["error"] == "RubricIncomplete" and "Evidence" in r.json()["detail"]
        assert r.json()["missing"] == ["Evidence"]
        student = await client_for(setup.klass.student, setup.klass.tenant)
        assert (await student.get(url)).status_code == 404
        await teacher.put(url, json={"scores": {"thesis": "t4", "evidence": "e0"}})
        assert (await teacher.post(f"{url}/return")).status_code == 200
        r = await teacher.post(f"{url}/return")
        assert r.status_code == 409 and r.json()["error"] == "GradeAlreadyReturned"

    async def test_students_cannot_grade(self, setup: Setup, client_for: ClientFor, session: AsyncSession) -> None:
        student = await client_for(setup.klass.student, setup.klass.tenant)
        url = f"/api/v1/submissions/{setup.submission.id}/grade"
        r = await student.put(url, json={"scores": {"thesis": "t4", "evidence": "e3"}})
        assert r.status_code == 403 and r.json()["error"] == "StaffOnly"
        assert (await student.post(f"{url}/return")).status_code == 403
        assert await count(session, Grade) == 0

    async def test_late_penalty_comes_from_the_assignment(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        due = clock.utcnow() - timedelta(days=3)
        await session.execute(
            update(Assignment)
            .where(Assignment.id == klass.assignment.id)
            .values(rubric=RUBRIC, due_at=due, late_policy="penalty", late_penalty_percent=10)
        )
        doc = await create_document(session, klass.assignment, owner=klass.student, text=TEXT)
        sub = await create_submission(session, doc, late=True, submitted_at=due + timedelta(hours=30))
        await session.commit()
        teacher = await client_for(klass.instructor, klass.tenant)
        r = await teacher.put(
            f"/api/v1/submissions/{sub.id}/grade", json={"scores": {"thesis": "t4", "evidence": "e3"}}
        )
        assert r.status_code == 200
        g = r.json()
        assert (g["points"], g["penalty_percent"], g["total"]) == (7.5, 20, 6.0)  # 2 started days at 10 %

    async def test_two_graders_at_once_make_one_grade(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        import asyncio

        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        ta = await client_for(k.ta, k.tenant)
        url = f"/api/v1/submissions/{setup.submission.id}/grade"
        results = await asyncio.gather(
            teacher.put(url, json={"scores": {"thesis": "t4"}, "feedback": "teacher"}),
            ta.put(url, json={"scores": {"thesis": "t1"}, "feedback": "ta"}),
            teacher.post(f"{url}/return"),
        )
        assert [r.status_code for r in results[:2]] == [200, 200], [r.text for r in results]
        assert results[2].status_code in (404, 422)  # before any grade, or with Evidence unscored
        assert await count(session, Grade) == 1

    async def test_unknown_submission_is_404(self, setup: Setup, client_for: ClientFor) -> None:
        teacher = await client_for(setup.klass.instructor, setup.klass.tenant)
        r = await teacher.get(f"/api/v1/submissions/{uuid.uuid4()}/grade")
        assert r.status_code == 404 and r.json()["error"] == "SubmissionNotFound"


class TestInstitutionAdmin:
    async def test_admin_without_a_course_role_acts_as_staff(
        self, setup: Setup, client_for: ClientFor, session: AsyncSession
    ) -> None:
        admin, _ = await create_member(session, setup.klass.tenant, Role.institution_admin)
        await session.commit()
        c = await client_for(admin, setup.klass.tenant)
        assert (await c.get(f"/api/v1/documents/{setup.doc.id}/comments")).status_code == 200
        made = await comment(c, setup.doc.id, "Admin note")
        assert made["author_is_staff"] is True


class TestQueryCount:
    async def test_listing_costs_the_same_for_many_threads(
        self, setup: Setup, client_for: ClientFor, engines: db.Engines
    ) -> None:
        from sqlalchemy import event

        k = setup.klass
        teacher = await client_for(k.instructor, k.tenant)
        student = await client_for(k.student, k.tenant)
        statements: list[str] = []

        def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        async def listing_queries() -> int:
            statements.clear()
            for eng in {engines.read, engines.write}:
                event.listen(eng.sync_engine, "before_cursor_execute", note)
            try:
                r = await teacher.get(f"/api/v1/documents/{setup.doc.id}/comments")
            finally:
                for eng in {engines.read, engines.write}:
                    event.remove(eng.sync_engine, "before_cursor_execute", note)
            assert r.status_code == 200
            return len(statements)

        first = await comment(teacher, setup.doc.id, "One.", span(TEXT, "Trees"))
        few = await listing_queries()
        assert few >= 3  # access checks, the comments, their authors: the listener does see the queries
        for i in range(6):
            made = await comment(teacher, setup.doc.id, f"Thread {i}", span(TEXT, "oak"))
            await student.post(f"/api/v1/comments/{made['id']}/replies", json={"body": "reply"})
        await student.post(f"/api/v1/comments/{first['id']}/replies", json={"body": "reply"})
        assert await listing_queries() == few
