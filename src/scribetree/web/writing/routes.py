"""Writing pages. Students: the editor (``/assignments/{id}/write``, the address emails link to), the history of
a document (versions, word diff between any two, checkpoints, restore with a confirmation page), submitting and
reopening. The course's staff may read the history; the editor page tells them it is the students' place.

Adapters only: every rule (who sees a document, who edits it, late and resubmission policies) is the writing
service's. The editor itself saves through the JSON API (``static/js/editor.js``); these forms cover what
works without JavaScript.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.core.errors import NotFound, ScribetreeError
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses.extensions import extensions as extension_service
from scribetree.courses.schemas import AssignmentRead
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.tenancy.context import AuthContext
from scribetree.web.pages import parse_id, redirect, render
from scribetree.web.partner.routes import panel_state
from scribetree.writing import auth
from scribetree.writing.access import Need, access_document
from scribetree.writing.exceptions import NoGroup, StudentsOnly
from scribetree.writing.models import DocumentStatus, VersionKind
from scribetree.writing.schemas import CheckpointCreate, SubmitRequest
from scribetree.writing.service import document as document_service
from scribetree.writing.service import document_read

router = APIRouter(route_class=UnitOfWorkRoute)
FormStr = Annotated[str, Form()]
KIND_LABELS = {
    VersionKind.auto: "Automatic",
    VersionKind.checkpoint: "Checkpoint",
    VersionKind.submission: "Submission",
    VersionKind.restore: "Restore",
}


def write_url(assignment_id: uuid.UUID) -> str:
    return f"/assignments/{assignment_id}/write"


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def current_stage(stages: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """The stage the student is in: the one after the last stage whose due date has passed."""
    if not stages:
        return None
    index = 0
    for i, stage in enumerate(stages):
        due = _when(stage.get("due_at"))
        if due is not None and clock.as_utc(due) <= now:
            index = i + 1
    index = min(index, len(stages) - 1)
    stage = stages[index]
    due = _when(stage.get("due_at"))
    return {"number": index + 1, "of": len(stages), "label": stage.get("label", ""), "due_at": due}


async def _assignment_and_course(session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> tuple[Any, Any]:
    a = AssignmentRead.model_validate(await assignment_service.get(session, ctx, assignment_id))
    course = await course_service.get_course(session, ctx, a.course_id)
    return a, course


# ---- the editor ---------------------------------------------------------------------------------------------


@router.get("/assignments/{assignment_id}/write", include_in_schema=False)
async def write_page(
    request: Request, assignment_id: str, ctx: auth.WritingWrite, session: ReadSession, write: WriteSession
) -> Response:
    aid = parse_id(assignment_id)
    a, course = await _assignment_and_course(session, ctx, aid)
    now = clock.utcnow()
    common = {"a": a, "course": course, "stage": current_stage(a.stages, now)}
    try:
        doc = await document_service.open_mine(session, ctx, aid, write_session=write)
    except StudentsOnly:
        return await render(request, "writing/staff.html", session=session, title=a.title, **common)
    except NoGroup as exc:
        return await render(request, "writing/no_group.html", session=session, status=exc.status_code,
                            title=a.title, message=exc.detail, **common)
    # A deadline extension (an educator's intervention) moves this student's due dates (courses.extensions).
    dues = await extension_service.student_due(session, doc.tenant_id, a.id, a.due_at, a.stages, ctx.user_id)
    if dues.extended or dues.extended_stages:
        stages = [
            {**s, "due_at": d.isoformat()} if (d := dues.stage_due.get(str(s.get("key")))) else s for s in a.stages
        ]
        a = a.model_copy(update={"due_at": dues.due_at, "stages": stages})
        common.update(a=a, stage=current_stage(a.stages, now), extended=True)
    # Never submitted (a new document, created by the write session, is not visible to the read one yet): none.
    submissions = [] if doc.submitted_at is None else await document_service.list_submissions(session, ctx, doc.id)
    latest = submissions[-1] if submissions else None
    read = document_read(doc)
    late = a.due_at is not None and now > clock.as_utc(a.due_at)
    may_reopen = doc.status == DocumentStatus.submitted and (
        a.resubmission == "unlimited" or (a.resubmission == "until_due" and not late)
    )
    editor_data = {
        "documentId": str(doc.id),
        "assignmentId": str(a.id),
        "text": read.text,
        "revision": read.revision,
        "contentHash": read.content_hash,
        "status": read.status,
        "wordMin": a.word_min,
        "wordMax": a.word_max,
        "limits": read.limits.model_dump(),
        "api": "/api/v1",
    }
    submitted = doc.status == DocumentStatus.submitted
    # The document may have been created by this request: the write session sees it, the read one not yet.
    partner = await panel_state(write, ctx, doc.id, submitted)
    partner_data = {
        "documentId": str(doc.id),
        "api": "/api/v1",
        "due": partner.reflection_due,
        "minWords": partner.min_words,
        "followUpMin": partner.follow_up_min,
        "followUp": partner.follow_up,
        "required": partner.reflection_required,
        "available": partner.available,
    }
    return await render(
        request,
        "writing/write.html",
        session=session,
        title=a.title,
        doc=read,
        submitted=doc.status == DocumentStatus.submitted,
        latest=latest,
        late=late,
        closed=late and a.late_policy == "reject",
        may_reopen=may_reopen,
        editor_data=editor_data,
        partner=partner,
        partner_data=partner_data,
        **common,
    )


@router.post("/documents/{document_id}/submit", include_in_schema=False)
async def submit(
    request: Request,
    document_id: str,
    ctx: auth.WritingWrite,
    session: WriteSession,
    revision: FormStr = "",
    ai_statement: FormStr = "",
) -> Response:
    doc = await document_service.get(session, ctx, parse_id(document_id))
    back = write_url(doc.assignment_id)
    try:
        data = SubmitRequest(revision=revision.strip() or -1, ai_statement=ai_statement or None)  # type: ignore[arg-type]
    except ValidationError:
        return redirect(back, "The page was out of date, so nothing was submitted. Check your text and submit again.",
                        "error")
    try:
        sub = await document_service.submit(session, ctx, doc.id, data)
    except NotFound:
        raise
    except ScribetreeError as exc:
        if exc.code == "StaleRevision":
            message = ("Your text changed after you confirmed (another tab or device, or a save still in "
                       "progress), so nothing was submitted. Check it and submit again.")
        else:
            message = exc.detail
        return redirect(back, message, "error")
    late = " It was marked late." if sub.late else ""
    return redirect(back, f"Submitted (attempt {sub.attempt}).{late} Your receipt is below.")


@router.post("/documents/{document_id}/reopen", include_in_schema=False)
async def reopen(request: Request, document_id: str, ctx: auth.WritingWrite, session: WriteSession) -> Response:
    doc = await document_service.get(session, ctx, parse_id(document_id))
    back = write_url(doc.assignment_id)
    try:
        await document_service.reopen(session, ctx, doc.id)
    except NotFound:
        raise
    except ScribetreeError as exc:
        return redirect(back, exc.detail, "error")
    return redirect(back, "Your document is open for changes again. Submit it again when you are done.")


# ---- history ------------------------------------------------------------------------------------------------


def _version_rows(versions: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": v.id,
            "kind": v.kind,
            "kind_label": KIND_LABELS.get(v.kind, str(v.kind)),
            "name": v.name,
            "revision": v.revision,
            "word_count": v.word_count,
            "created_at": v.created_at,
        }
        for v in versions
    ]


@router.get("/documents/{document_id}/history", include_in_schema=False)
async def history(
    request: Request,
    document_id: str,
    ctx: auth.WritingRead,
    session: ReadSession,
    audit_session: WriteSession,
    compare_from: str = "",
    compare_to: str = "",
) -> Response:
    da = await access_document(session, ctx, parse_id(document_id))
    doc = da.document
    a, course = await _assignment_and_course(session, ctx, doc.assignment_id)
    versions = await document_service.list_versions(session, ctx, doc.id)
    diff = None
    if compare_from:
        from_id = parse_id(compare_from)
        to_id = parse_id(compare_to) if compare_to and compare_to != "current" else None
        diff = await document_service.diff(session, ctx, doc.id, from_id, to_id, audit_session=audit_session)
    return await render(
        request,
        "writing/history.html",
        session=session,
        title=f"History: {a.title}",
        a=a,
        course=course,
        doc=document_read(doc),
        author=not da.is_staff,
        editable=not da.is_staff and doc.status != DocumentStatus.submitted,
        versions=_version_rows(versions),
        diff=diff,
        compare_from=compare_from,
        compare_to=compare_to or "current",
    )


@router.post("/documents/{document_id}/checkpoints", include_in_schema=False)
async def checkpoint(
    request: Request, document_id: str, ctx: auth.WritingWrite, session: WriteSession, name: FormStr = ""
) -> Response:
    did = parse_id(document_id)
    back = f"/documents/{did}/history"
    try:
        data = CheckpointCreate(name=name.strip())
    except ValidationError:
        await document_service.get(session, ctx, did)  # a document they may not see stays a 404
        return redirect(back, "Give the checkpoint a name (up to 200 characters).", "error")
    try:
        await document_service.checkpoint(session, ctx, did, data)
    except NotFound:
        raise
    except ScribetreeError as exc:
        return redirect(back, exc.detail, "error")
    return redirect(back, f"Checkpoint “{data.name}” saved.")


@router.get("/documents/{document_id}/versions/{version_id}/restore", include_in_schema=False)
async def confirm_restore(
    request: Request,
    document_id: str,
    version_id: str,
    ctx: auth.WritingRead,
    session: ReadSession,
    audit_session: WriteSession,
) -> Response:
    da = await access_document(session, ctx, parse_id(document_id))
    doc = da.document
    vid = parse_id(version_id)
    version = await document_service.get_version(session, ctx, doc.id, vid, audit_session=audit_session)
    a, course = await _assignment_and_course(session, ctx, doc.assignment_id)
    diff = await document_service.diff(session, ctx, doc.id, version.id, None, audit_session=audit_session)
    return await render(
        request,
        "writing/restore.html",
        session=session,
        title=f"Restore a version: {a.title}",
        a=a,
        course=course,
        doc=document_read(doc),
        version=_version_rows([version])[0],
        diff=diff,
        author=not da.is_staff,
        submitted=doc.status == DocumentStatus.submitted,
    )


@router.post("/documents/{document_id}/versions/{version_id}/restore", include_in_schema=False)
async def restore(
    request: Request, document_id: str, version_id: str, ctx: auth.WritingWrite, session: WriteSession
) -> Response:
    did, vid = parse_id(document_id), parse_id(version_id)
    da = await access_document(session, ctx, did, Need.read)
    try:
        doc = await document_service.restore(session, ctx, did, vid)
    except NotFound:
        raise
    except ScribetreeError as exc:
        return redirect(f"/documents/{did}/history", exc.detail, "error")
    return redirect(
        write_url(da.document.assignment_id),
        f"The older version is your current text again (revision {doc.revision}); nothing was deleted, the text "
        "before it is in the history.",
    )
