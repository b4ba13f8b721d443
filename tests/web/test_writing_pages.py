"""Writing pages over HTTP: the editor page (open-or-create, escaping, data for editor.js), history with diff,
checkpoints and restore, submitting through the page form and the read-only receipt view, reopening, and 404 for
documents and assignments of other students and other institutions."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import CourseRole
from scribetree.web.writing.routes import current_stage
from scribetree.writing.models import Document, DocumentStatus, DocumentVersion, Submission, VersionKind
from tests.factories.courses import RUBRIC, create_assignment, create_course, create_course_member, create_group
from tests.factories.writing import create_document, ins, write
from tests.fixtures.auth import make_client
from tests.web.test_courses_pages import assert_accessible_form

EVIL = '<script>alert("x")</script> & <b>bold</b>'


def editor_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="editor-data">(.*?)</script>', html, re.S)
    assert match, "the page carries no editor data"
    return json.loads(match.group(1))


@pytest.fixture
async def people(app, session, tenant):
    """A course with an instructor, two students and a published assignment with a rubric."""
    course = await create_course(session, tenant, title="Essays")
    teacher = await create_course_member(session, course, tenant, CourseRole.instructor)
    alice = await create_course_member(session, course, tenant, CourseRole.student, display_name="Alice")
    bob = await create_course_member(session, course, tenant, CourseRole.student, display_name="Bob")
    assignment = await create_assignment(
        session, course, title="On trees", rubric=RUBRIC, word_min=10, word_max=500, ai_statement_required=True
    )
    await session.commit()
    clients = []

    async def client_for(user):
        c = await make_client(app, session, user, tenant)
        clients.append(c)
        return c

    yield {"course": course, "teacher": teacher, "alice": alice, "bob": bob, "assignment": assignment,
           "client_for": client_for}
    for c in clients:
        await c.aclose()


async def test_the_editor_page_opens_or_creates_the_document(people, session):
    a = people["assignment"]
    alice = await people["client_for"](people["alice"])
    r = await alice.get(f"/assignments/{a.id}/write")
    assert r.status_code == 200, r.text
    docs = (await session.execute(select(Document).where(Document.assignment_id == a.id))).scalars().all()
    await session.commit()
    assert len(docs) == 1 and docs[0].owner_user_id == people["alice"].id
    data = editor_data(r.text)
    assert data["documentId"] == str(docs[0].id) and data["revision"] == 0 and data["text"] == ""
    assert data["wordMin"] == 10 and data["wordMax"] == 500 and data["limits"]["max_batch_ops"] >= 1
    # the page: title, stage, instructions, rubric panel, status region, submit dialog with the AI statement
    assert "On trees" in r.text and "Stage 1 of 5" in r.text and "<em>trees</em>" in r.text
    assert 'id="rubric-panel"' in r.text and "Exemplary" in r.text
    assert 'id="save-status" aria-live="off"' in r.text  # changes every 2 s while typing: not read out
    assert 'id="save-announce" role="status" aria-live="polite"' in r.text  # what needs attention is
    assert '<dialog class="dialog" id="submit-dialog"' in r.text and 'name="ai_statement"' in r.text
    assert re.search(r'<script type="module" src="/static/js/editor\.js\?v=\w+">', r.text)
    assert "<script>" not in r.text.replace('<script type="application/json"', "")  # no inline script (CSP)
    assert_accessible_form(r.text)
    # opening again is the same document
    r = await alice.get(f"/assignments/{a.id}/write")
    assert editor_data(r.text)["documentId"] == str(docs[0].id)
    docs = (await session.execute(select(Document).where(Document.assignment_id == a.id))).scalars().all()
    assert len(docs) == 1
    await session.commit()


async def test_student_text_is_shown_as_text(people, session):
    a = people["assignment"]
    doc = await create_document(session, a, owner=people["alice"], text=EVIL)
    await session.commit()
    alice = await people["client_for"](people["alice"])
    r = await alice.get(f"/assignments/{a.id}/write")
    assert r.status_code == 200
    assert '<script>alert("x")</script>' not in r.text and "<b>bold</b>" not in r.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in r.text  # the textarea
    assert editor_data(r.text)["text"] == EVIL  # the JSON block: escaped for a script element, same text
    assert "</script> &" not in r.text
    # the history's diff escapes it too
    await write(session, doc, people["alice"], [ins(0, "<i>new</i> ")])
    await session.commit()
    versions = (await session.execute(select(DocumentVersion).where(DocumentVersion.document_id == doc.id))).scalars()
    v0 = next(iter(versions))
    await session.commit()
    r = await alice.get(f"/documents/{doc.id}/history?compare_from={v0.id}&compare_to=current")
    assert r.status_code == 200
    assert "<ins>&lt;i&gt;new&lt;/i&gt; </ins>" in r.text and "<i>new</i>" not in r.text
    assert '<script>alert("x")</script>' not in r.text


async def test_other_students_and_other_institutions_get_404(people, session, app, other_tenant):
    a = people["assignment"]
    doc = await create_document(session, a, owner=people["alice"], text="Alice's words")
    stranger_course = await create_course(session, other_tenant)
    outsider = await create_course_member(session, stranger_course, other_tenant, CourseRole.student)
    theirs = await create_assignment(session, stranger_course, title="Elsewhere")
    await session.commit()
    bob = await people["client_for"](people["bob"])
    # Bob has his own document for the assignment, never Alice's
    r = await bob.get(f"/assignments/{a.id}/write")
    assert r.status_code == 200 and "Alice&#39;s words" not in r.text and "Alice's words" not in r.text
    assert editor_data(r.text)["documentId"] != str(doc.id)
    for url in (f"/documents/{doc.id}/history", f"/documents/{doc.id}/versions/{uuid.uuid4()}/restore",
                f"/assignments/{theirs.id}/write", f"/assignments/{uuid.uuid4()}/write", "/assignments/nope/write"):
        r = await bob.get(url)
        assert r.status_code == 404, (url, r.status_code)
    for url, form in ((f"/documents/{doc.id}/submit", {"revision": "0"}), (f"/documents/{doc.id}/checkpoints",
                      {"name": "mine now"}), (f"/documents/{doc.id}/reopen", {})):
        r = await bob.post(url, data=form)
        assert r.status_code == 404, (url, r.status_code)
    # a member of another institution: signed in there, this institution's ids are simply not there
    other = await make_client(app, session, outsider, other_tenant)
    async with other:
        for url in (f"/assignments/{a.id}/write", f"/documents/{doc.id}/history"):
            r = await other.get(url)
            assert r.status_code == 404, (url, r.status_code)
    doc_id = doc.id
    session.expire_all()
    d = (await session.execute(select(Document).where(Document.id == doc_id))).scalar_one()
    assert (d.text, d.status, d.revision) == ("Alice's words", DocumentStatus.draft, 0)
    assert (await session.execute(select(Submission))).first() is None
    await session.commit()


async def test_staff_see_a_pointer_and_can_read_the_history(people, session):
    a = people["assignment"]
    doc = await create_document(session, a, owner=people["alice"], text="Draft")
    await session.commit()
    teacher = await people["client_for"](people["teacher"])
    r = await teacher.get(f"/assignments/{a.id}/write")
    assert r.status_code == 200 and "This is where the students of the course write" in r.text
    assert 'id="editor"' not in r.text
    r = await teacher.get(f"/documents/{doc.id}/history")
    assert r.status_code == 200 and "Save a checkpoint" not in r.text and "Restore…" not in r.text
    viewed = select(AuditEvent).where(AuditEvent.action == "document.viewed", AuditEvent.target_id == str(doc.id))
    assert (await session.execute(viewed)).first() is None  # the list of versions shows no text
    v0 = (await session.execute(select(DocumentVersion.id).where(DocumentVersion.document_id == doc.id))).scalar_one()
    await session.commit()
    r = await teacher.get(f"/documents/{doc.id}/history?compare_from={v0}")
    assert r.status_code == 200 and '<div class="diff__text"><span>Draft</span></div>' in r.text
    r = await teacher.get(f"/documents/{doc.id}/versions/{v0}/restore")
    assert r.status_code == 200 and "Only the student can restore" in r.text
    assert len((await session.execute(viewed)).all()) == 3  # the diff; the version and its diff (ARCHITECTURE §6)
    theirs = select(Document).where(Document.owner_user_id == people["teacher"].id)
    assert (await session.execute(theirs)).first() is None
    await session.commit()


async def test_history_checkpoint_diff_and_restore(people, session):
    a = people["assignment"]
    doc = await create_document(session, a, owner=people["alice"], text="")
    await write(session, doc, people["alice"], [ins(0, "The first words.")])
    await session.commit()
    alice = await people["client_for"](people["alice"])
    r = await alice.post(f"/documents/{doc.id}/checkpoints", data={"name": "  "})
    assert r.status_code == 303 and r.headers["location"] == f"/documents/{doc.id}/history"
    r = await alice.post(f"/documents/{doc.id}/checkpoints", data={"name": "First <draft>"})
    assert r.status_code == 303
    page = await alice.get(r.headers["location"])
    assert "Checkpoint “First &lt;draft&gt;” saved." in page.text
    assert page.text.count("Checkpoint: “First &lt;draft&gt;”") == 1 and "Automatic" in page.text
    checkpoint = (
        await session.execute(select(DocumentVersion).where(DocumentVersion.kind == VersionKind.checkpoint))
    ).scalar_one()
    first = (
        await session.execute(
            select(DocumentVersion).where(DocumentVersion.document_id == doc.id, DocumentVersion.revision == 0)
        )
    ).scalar_one()
    await session.commit()
    r = await alice.get(f"/documents/{doc.id}/history?compare_from={first.id}&compare_to={checkpoint.id}")
    assert r.status_code == 200 and "<ins>The first words.</ins>" in r.text and "to revision 1" in r.text
    assert_accessible_form(r.text)
    r = await alice.get(f"/documents/{doc.id}/history?compare_from={first.id}&compare_to={uuid.uuid4()}")
    assert r.status_code == 404
    # restore the empty first version: a confirmation page, then a new revision; nothing deleted
    r = await alice.get(f"/documents/{doc.id}/versions/{first.id}/restore")
    assert r.status_code == 200 and "Restore this version" in r.text and "<ins>The first words.</ins>" in r.text
    r = await alice.post(f"/documents/{doc.id}/versions/{first.id}/restore")
    assert r.status_code == 303 and r.headers["location"] == f"/assignments/{a.id}/write"
    doc_id = doc.id
    session.expire_all()
    d = (await session.execute(select(Document).where(Document.id == doc_id))).scalar_one()
    kinds = (await session.execute(select(DocumentVersion.kind).where(DocumentVersion.document_id == doc_id))).scalars()
    assert (d.text, d.revision) == ("", 2) and sorted(kinds) == sorted(
        [VersionKind.auto, VersionKind.checkpoint, VersionKind.restore]
    )
    await session.commit()


async def test_submit_then_read_only_with_receipt_then_reopen(people, session):
    a = people["assignment"]
    a.resubmission = "unlimited"
    doc = await create_document(session, a, owner=people["alice"], text="")
    await write(session, doc, people["alice"], [ins(0, "Ten words " * 3)])
    await session.commit()
    alice = await people["client_for"](people["alice"])
    # the AI statement is required; a stale revision is refused too; nothing is submitted
    r = await alice.post(f"/documents/{doc.id}/submit", data={"revision": "1", "ai_statement": " "})
    page = await alice.get(r.headers["location"])
    assert r.status_code == 303 and "AI" in page.text and 'class="flash flash--error"' in page.text
    r = await alice.post(f"/documents/{doc.id}/submit", data={"revision": "0", "ai_statement": "None used."})
    page = await alice.get(r.headers["location"])
    assert "nothing was submitted" in page.text
    assert (await session.execute(select(Submission))).first() is None
    await session.commit()
    r = await alice.post(f"/documents/{doc.id}/submit", data={"revision": "1", "ai_statement": "None used."})
    assert r.status_code == 303
    page = await alice.get(r.headers["location"])
    sub = (await session.execute(select(Submission))).scalar_one()
    await session.commit()
    assert "Submitted (attempt 1)." in page.text and str(sub.id) in page.text and sub.content_hash in page.text
    assert f'href="/api/v1/submissions/{sub.id}/receipt"' in page.text
    assert re.search(r'<textarea class="input editor" id="editor"[^>]*\sreadonly', page.text)
    assert editor_data(page.text)["status"] == "submitted" and 'id="submit-dialog"' not in page.text
    receipt = await alice.get(f"/api/v1/submissions/{sub.id}/receipt")
    assert receipt.status_code == 200 and receipt.json()["content_hash"] == sub.content_hash
    # a second submit is refused; reopening (policy: unlimited) makes it editable again
    r = await alice.post(f"/documents/{doc.id}/submit", data={"revision": "1", "ai_statement": "Again."})
    assert "already submitted" in (await alice.get(r.headers["location"])).text
    r = await alice.post(f"/documents/{doc.id}/reopen")
    page = await alice.get(r.headers["location"])
    assert "open for changes again" in page.text and editor_data(page.text)["status"] == "reopened"
    assert 'id="submit-dialog"' in page.text


async def test_late_warning_and_closed_submissions(people, session):
    a = people["assignment"]
    a.due_at = clock.utcnow() - timedelta(days=1)
    a.late_policy = "reject"
    await session.commit()
    alice = await people["client_for"](people["alice"])
    r = await alice.get(f"/assignments/{a.id}/write")
    assert "does not accept late work" in r.text
    a = await session.merge(a)
    a.late_policy = "accept"
    await session.commit()
    r = await alice.get(f"/assignments/{a.id}/write")
    assert "will be marked late" in r.text and "does not accept late work" not in r.text
    await session.commit()


async def test_students_find_the_editor_from_the_course_pages(people, session):
    a, course = people["assignment"], people["course"]
    alice = await people["client_for"](people["alice"])
    teacher = await people["client_for"](people["teacher"])
    link = f'href="/assignments/{a.id}/write"'
    for url in (f"/courses/{course.id}", f"/courses/{course.id}/assignments/{a.id}"):
        assert link in (await alice.get(url)).text, url
        r = await teacher.get(url)
        assert r.status_code == 200 and link not in r.text, url


async def test_a_group_shares_one_document(people, session, tenant):
    course = people["course"]
    a = await create_assignment(session, course, title="Group essay", kind="group")
    await create_group(session, a, [people["alice"], people["bob"]], name="Team <1>")
    loner = await create_course_member(session, course, tenant, CourseRole.student)
    await session.commit()
    alice = await people["client_for"](people["alice"])
    bob = await people["client_for"](people["bob"])
    first = editor_data((await alice.get(f"/assignments/{a.id}/write")).text)
    second = editor_data((await bob.get(f"/assignments/{a.id}/write")).text)
    assert first["documentId"] == second["documentId"]
    r = await (await people["client_for"](loner)).get(f"/assignments/{a.id}/write")
    assert r.status_code == 409 and "group" in r.text and 'id="editor"' not in r.text
    assert len((await session.execute(select(Document).where(Document.assignment_id == a.id))).all()) == 1
    await session.commit()


def test_the_current_stage_follows_the_stage_due_dates():
    now = clock.utcnow()
    stages = [
        {"key": "draft", "label": "Draft", "due_at": (now - timedelta(days=2)).isoformat()},
        {"key": "revise", "label": "Revise", "due_at": None},
        {"key": "edit", "label": "Edit", "due_at": (now + timedelta(days=1)).isoformat()},
        {"key": "final", "label": "Final", "due_at": (now + timedelta(days=3)).isoformat()},
    ]
    assert current_stage(stages, now)["label"] == "Revise"
    assert current_stage(stages, now + timedelta(days=2))["label"] == "Final"
    assert current_stage(stages, now + timedelta(days=9)) == {
        "number": 4, "of": 4, "label": "Final", "due_at": datetime.fromisoformat(stages[3]["due_at"])
    }
    assert current_stage(stages, now - timedelta(days=3))["number"] == 1
    assert current_stage([], now) is None
