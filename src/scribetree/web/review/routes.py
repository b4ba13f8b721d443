"""Review pages. Staff: an assignment's submission list, a submission (or a document in progress) to read with its
history, writing sessions and group contributions, inline and general comments, rubric grading and returning it.
Students: their feedback page (comments in place, replies, and the grade once returned). Everyone: notifications.

Adapters only: every rule is the writing services' (``writing.feedback``: staff comment, students reply, a grade is
invisible to the student until returned). Pages for staff answer 404 to anyone else, the same as a missing object.
Student text, comments and feedback are plain text: escaped everywhere, line breaks kept by CSS.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.errors import NotFound, ScribetreeError
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses import auth
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import assignment_access
from scribetree.courses.service import course as course_service
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.web.pages import FormState, parse_id, redirect, render, render_fragment, safe_next
from scribetree.writing.access import STUDENT
from scribetree.writing.feedback import feedback as feedback_service
from scribetree.writing.feedback_exceptions import GradeNotFound
from scribetree.writing.feedback_schemas import AnchorIn, CommentCreate, CommentRead, GradeWrite, ReplyCreate
from scribetree.writing.notifications import notifications as notification_service
from scribetree.writing.service import document as document_service

router = APIRouter(route_class=UnitOfWorkRoute)
FormStr = Annotated[str, Form()]

STATUS_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "submitted": "Submitted",
    "late": "Late",
    "graded": "Graded",
}
STATUS_ORDER = {"late": 0, "submitted": 1, "in_progress": 2, "not_started": 3, "graded": 4}
SORTS = ("name", "status", "words", "activity")
KIND_LABELS = {"auto": "Autosave", "checkpoint": "Checkpoint", "submission": "Submission", "restore": "Restored"}


# ---- the text with its commented passages ------------------------------------------------------------------


def _escape_text(chunk: str) -> Markup:
    """Escaped text; a carriage return as a character reference, which the HTML parser would otherwise fold into
    a line feed (the browser's text must be the stored text, code point for code point, for selections)."""
    return Markup("&#13;").join(escape(part) for part in chunk.split("\r"))


def text_html(text: str, comments: list[CommentRead]) -> Markup:
    """The text with each placed passage in a ``<mark>`` (overlapping passages split into pieces that name every
    comment covering them). Built here, not in a template, so no whitespace is added or lost."""
    spans = [(c.position.start, c.position.end, c) for c in comments if c.position is not None and c.anchor]
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    first: set[uuid.UUID] = set()
    out: list[Markup] = []
    for a, b in itertools.pairwise(cuts):
        if a >= b:
            continue
        covering = [c for s, e, c in spans if s <= a and b <= e]
        if not covering:
            out.append(_escape_text(text[a:b]))
            continue
        ids = " ".join(str(c.id) for c in covering)
        # Each comment's link jumps to the first piece of its passage: the mark's id for one comment, an empty
        # element inside it for each other comment starting there (two comments on the same words).
        starting = [c.id for c in covering if c.id not in first]
        first.update(starting)
        resolved = all(c.resolved_at is not None for c in covering)
        attrs = Markup(' id="passage-{}"').format(starting[0]) if starting else Markup("")
        extra = Markup("").join(Markup('<span id="passage-{}"></span>').format(i) for i in starting[1:])
        cls = "passage passage--resolved" if resolved else "passage"
        out.append(
            Markup('<mark class="{}" data-comments="{}"{}>').format(cls, ids, attrs)
            + extra
            + _escape_text(text[a:b])
            + Markup("</mark>")
        )
    return Markup("").join(out)


# ---- helpers -------------------------------------------------------------------------------------------------


async def _staff_assignment(session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> Any:
    """The assignment for its course's staff; anyone else gets the same 404 as for a missing one."""
    acc = await assignment_access(session, ctx, assignment_id)
    if acc.course_role == STUDENT:
        raise NotFound()
    return acc.assignment


async def _names(session: AsyncSession, ids: list[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = sorted({i for i in ids if i is not None})
    users = await identity.users_by_ids(session, wanted) if wanted else {}
    return {uid: u.display_name for uid, u in users.items()}


async def _writer_name(session: AsyncSession, ctx: AuthContext, doc: Any) -> str:
    if doc.owner_user_id is not None:
        return (await _names(session, [doc.owner_user_id])).get(doc.owner_user_id, "A former student")
    groups = await assignment_service.list_groups(session, ctx, doc.assignment_id)
    return next((g.name for g in groups if g.id == doc.group_id), "A group")


def _sessions_summary(sessions: list[Any]) -> dict[str, int]:
    return {
        "count": len(sessions),
        "active_minutes": round(sum(s.active_seconds for s in sessions) / 60),
        "words_added": sum(s.words_added for s in sessions),
        "words_removed": sum(s.words_removed for s in sessions),
        "pastes": sum(s.pastes for s in sessions),
    }


def _threads_summary(comments: list[CommentRead]) -> dict[str, int]:
    return {
        "open": sum(1 for c in comments if c.resolved_at is None),
        "resolved": sum(1 for c in comments if c.resolved_at is not None),
        "outdated": sum(1 for c in comments if c.outdated),
    }


def _anchor_from(form: FormState, text: str, start: str, end: str, quote: str) -> AnchorIn | None:
    """The passage the comment is about: offsets and quote from a selection (review.js), or a quote typed or pasted
    by hand (found in the text; its first occurrence). Nothing: a general comment."""
    if not quote:
        return None
    if start.strip() and end.strip():
        try:
            return AnchorIn(start=int(start), end=int(end), quote=quote)
        except (ValueError, ValidationError):
            pass  # fall back to finding the quote
    where = text.find(quote)
    if where < 0:
        stripped = quote.strip()
        where = text.find(stripped) if stripped else -1
        quote = stripped
    if where < 0:
        form.error(
            "quote",
            "That passage is not in the text. Copy the words exactly as they are written, or leave "
            "the passage empty for a general comment.",
        )
        return None
    try:
        return AnchorIn(start=where, end=where + len(quote), quote=quote)
    except ValidationError:
        form.error("quote", "Choose a shorter passage (up to 2,000 characters).")
        return None


@dataclass
class Reader:
    """What the reader page shows for a submission or a document in progress."""

    doc: Any
    text: str
    comments: list[CommentRead]
    submission: Any | None = None
    submissions: list[Any] | None = None


async def _reader_page(
    request: Request,
    session: AsyncSession,
    ctx: AuthContext,
    reader: Reader,
    *,
    comment_form: FormState | None = None,
    grade_form: FormState | None = None,
    status: int = 200,
) -> Response:
    doc = reader.doc
    assignment = await _staff_assignment(session, ctx, doc.assignment_id)
    course = await course_service.get_course(session, ctx, assignment.course_id)
    versions = await document_service.list_versions(session, ctx, doc.id)
    sessions = await document_service.list_sessions(session, ctx, doc.id)
    group = doc.group_id is not None
    contributions = await document_service.contributions(session, ctx, doc.id) if group else []
    total_chars = sum(c.chars_inserted for c in contributions) or 1
    diff = None
    q = request.query_params
    by_id = {str(v.id): v for v in versions}
    if q.get("from") in by_id:
        to = q.get("to") if q.get("to") in by_id else None
        diff = await document_service.diff(session, ctx, doc.id, uuid.UUID(q["from"]), uuid.UUID(to) if to else None)
    grade = None
    if reader.submission is not None:
        try:
            grade = await feedback_service.get_grade(session, ctx, reader.submission.id)
        except GradeNotFound:
            grade = None
    if grade_form is None:
        grade_form = FormState(
            values={"feedback": grade.feedback if grade else "", "scores": dict(grade.scores) if grade else {}}
        )
    here = f"/submissions/{reader.submission.id}" if reader.submission is not None else f"/documents/{doc.id}/review"
    writer = await _writer_name(session, ctx, doc)
    return await render(
        request,
        "review/reader.html",
        session=session,
        status=status,
        title=f"{writer} — {assignment.title}",
        writer=writer,
        course=course,
        assignment=assignment,
        rubric=assignment.rubric or {},
        doc=doc,
        reader=reader,
        here=here,
        text_markup=text_html(reader.text, reader.comments),
        comments=reader.comments,
        threads=_threads_summary(reader.comments),
        versions=versions,
        kind_labels=KIND_LABELS,
        diff=diff,
        diff_from=q.get("from", ""),
        diff_to=q.get("to", ""),
        sessions=sessions,
        sessions_summary=_sessions_summary(sessions),
        contributions=contributions,
        total_chars=total_chars,
        grade=grade,
        comment_form=comment_form or FormState(),
        grade_form=grade_form,
        staff=True,
    )


async def _submission_reader(session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID) -> Reader:
    receipt = await document_service.receipt(session, ctx, submission_id)
    await _staff_assignment(session, ctx, receipt.assignment_id)
    doc = await document_service.get(session, ctx, receipt.document_id)
    subs = await document_service.list_submissions(session, ctx, doc.id)
    sub = next(s for s in subs if s.id == submission_id)
    version = await document_service.get_version(session, ctx, doc.id, sub.version_id)
    comments = await feedback_service.list_submission_comments(session, ctx, submission_id)
    return Reader(doc=doc, text=version.text, comments=comments, submission=sub, submissions=subs)


async def _document_reader(session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID) -> Reader:
    doc = await document_service.get(session, ctx, document_id)
    await _staff_assignment(session, ctx, doc.assignment_id)
    subs = await document_service.list_submissions(session, ctx, doc.id)
    comments = await feedback_service.list_comments(session, ctx, doc.id)
    return Reader(doc=doc, text=doc.text, comments=comments, submission=None, submissions=subs)


# ---- submission list ----------------------------------------------------------------------------------------


@router.get("/assignments/{assignment_id}/submissions", include_in_schema=False)
async def submission_list(
    request: Request, assignment_id: str, ctx: auth.CoursesRead, session: ReadSession, sort: str = "name"
) -> Response:
    aid = parse_id(assignment_id)
    assignment = await _staff_assignment(session, ctx, aid)
    course = await course_service.get_course(session, ctx, assignment.course_id)
    rows = await document_service.assignment_overview(session, ctx, aid)  # its status already says "graded"
    items = [{"row": r, "status": r.status, "late": r.late} for r in rows]
    sort = sort if sort in SORTS else "name"
    if sort == "status":
        items.sort(key=lambda i: (STATUS_ORDER[i["status"]], i["row"].name.casefold()))
    elif sort == "words":
        items.sort(key=lambda i: (-i["row"].word_count, i["row"].name.casefold()))
    elif sort == "activity":
        items.sort(
            key=lambda i: (
                i["row"].last_activity_at is None,
                -(i["row"].last_activity_at.timestamp() if i["row"].last_activity_at else 0),
            )
        )
    counts = {k: sum(1 for i in items if i["status"] == k) for k in STATUS_LABELS}
    return await render(
        request,
        "review/submissions.html",
        session=session,
        title=f"Submissions — {assignment.title}",
        course=course,
        assignment=assignment,
        items=items,
        counts=counts,
        sort=sort,
        status_labels=STATUS_LABELS,
    )


# ---- reader -------------------------------------------------------------------------------------------------


@router.get("/submissions/{submission_id}", include_in_schema=False)
async def submission_page(
    request: Request, submission_id: str, ctx: auth.CoursesRead, session: ReadSession
) -> Response:
    reader = await _submission_reader(session, ctx, parse_id(submission_id))
    return await _reader_page(request, session, ctx, reader)


@router.get("/documents/{document_id}/review", include_in_schema=False)
async def document_page(request: Request, document_id: str, ctx: auth.CoursesRead, session: ReadSession) -> Response:
    reader = await _document_reader(session, ctx, parse_id(document_id))
    if request.query_params.get("latest") and reader.submissions:  # the list's "Open": the latest submission
        return redirect(f"/submissions/{reader.submissions[-1].id}")
    return await _reader_page(request, session, ctx, reader)


async def _staff_document(session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID) -> tuple[Any, Any]:
    """The document and its assignment, for the staff of its course only (404 to anyone else)."""
    doc = await document_service.get(session, ctx, document_id)
    return doc, await _staff_assignment(session, ctx, doc.assignment_id)


@router.get("/documents/{document_id}/review/reopen", include_in_schema=False)
async def confirm_reopen(request: Request, document_id: str, ctx: auth.CoursesRead, session: ReadSession) -> Response:
    doc, assignment = await _staff_document(session, ctx, parse_id(document_id))
    subs = await document_service.list_submissions(session, ctx, doc.id)
    back = f"/submissions/{subs[-1].id}" if subs else f"/documents/{doc.id}/review"
    if doc.status != "submitted":
        return redirect(back, "This document is not submitted: the student can already edit it.", "error")
    return await render(
        request,
        "review/confirm_reopen.html",
        session=session,
        title="Reopen for the student?",
        writer=await _writer_name(session, ctx, doc),
        assignment=assignment,
        doc=doc,
        submission=subs[-1] if subs else None,
        back=back,
    )


@router.post("/documents/{document_id}/review/reopen", include_in_schema=False)
async def reopen_document(
    request: Request, document_id: str, ctx: auth.CoursesWrite, session: WriteSession
) -> Response:
    doc, _ = await _staff_document(session, ctx, parse_id(document_id))
    here = f"/documents/{doc.id}/review"
    try:
        await document_service.reopen(session, ctx, doc.id)
    except NotFound:
        raise
    except ScribetreeError as exc:
        return redirect(here, exc.detail, "error")
    writer = await _writer_name(session, ctx, doc)
    return redirect(here, f"Reopened: {writer} can edit the document and submit again, and was notified.")


# ---- comments ----------------------------------------------------------------------------------------------


async def _comment(
    request: Request,
    ctx: AuthContext,
    read: AsyncSession,
    write: AsyncSession,
    reader: Reader,
    body: str,
    start: str,
    end: str,
    quote: str,
) -> Response:
    form = FormState(values={"body": body, "quote": quote, "start": start, "end": end})
    anchor = _anchor_from(form, reader.text, start, end, quote)
    data = None
    if form.ok:
        try:
            data = CommentCreate(body=body, anchor=anchor)
        except ValidationError:
            form.error("body", "Write the comment (up to 5,000 characters).")
    if data is not None:
        try:
            if reader.submission is not None:
                made = await feedback_service.add_submission_comment(write, ctx, reader.submission.id, data)
            else:
                made = await feedback_service.add_comment(write, ctx, reader.doc.id, data)
        except NotFound:
            raise
        except ScribetreeError as exc:
            form.error("quote" if anchor is not None else "body", exc.detail)
        else:
            back = f"/submissions/{reader.submission.id}" if reader.submission else f"/documents/{reader.doc.id}/review"
            what = "Your comment on the passage was added" if anchor else "Your comment was added"
            return redirect(f"{back}#comment-{made.id}", f"{what}; the student is notified.")
    return await _reader_page(request, read, ctx, reader, comment_form=form, status=422)


@router.post("/submissions/{submission_id}/comments", include_in_schema=False)
async def comment_on_submission(
    request: Request,
    submission_id: str,
    ctx: auth.CoursesWrite,
    read: ReadSession,
    write: WriteSession,
    body: FormStr = "",
    start: FormStr = "",
    end: FormStr = "",
    quote: FormStr = "",
) -> Response:
    reader = await _submission_reader(read, ctx, parse_id(submission_id))
    return await _comment(request, ctx, read, write, reader, body, start, end, quote)


@router.post("/documents/{document_id}/comments", include_in_schema=False)
async def comment_on_document(
    request: Request,
    document_id: str,
    ctx: auth.CoursesWrite,
    read: ReadSession,
    write: WriteSession,
    body: FormStr = "",
    start: FormStr = "",
    end: FormStr = "",
    quote: FormStr = "",
) -> Response:
    reader = await _document_reader(read, ctx, parse_id(document_id))
    return await _comment(request, ctx, read, write, reader, body, start, end, quote)


def _back(value: str, fallback: str = "/home") -> str:
    return safe_next(value) or fallback


@router.post("/comments/{comment_id}/reply", include_in_schema=False)
async def reply(
    request: Request,
    comment_id: str,
    ctx: auth.CoursesWrite,
    session: WriteSession,
    body: FormStr = "",
    back: FormStr = "",
) -> Response:
    cid = parse_id(comment_id)
    to = _back(back)
    try:
        data = ReplyCreate(body=body)
    except ValidationError:
        return redirect(f"{to.split('#')[0]}#comment-{cid}", "Write the reply first (up to 5,000 characters).", "error")
    made = await feedback_service.reply(session, ctx, cid, data)
    return redirect(f"{to.split('#')[0]}#comment-{made.parent_id}", "Your reply was added.")


async def _set_resolved(
    session: AsyncSession, ctx: AuthContext, comment_id: str, back: str, resolved: bool
) -> Response:
    done = await feedback_service.set_resolved(session, ctx, parse_id(comment_id), resolved=resolved)
    message = "The thread is resolved." if resolved else "The thread is open again."
    return redirect(f"{_back(back).split('#')[0]}#comment-{done.id}", message)


@router.post("/comments/{comment_id}/resolve", include_in_schema=False)
async def resolve(
    request: Request, comment_id: str, ctx: auth.CoursesWrite, session: WriteSession, back: FormStr = ""
) -> Response:
    return await _set_resolved(session, ctx, comment_id, back, True)


@router.post("/comments/{comment_id}/reopen", include_in_schema=False)
async def reopen(
    request: Request, comment_id: str, ctx: auth.CoursesWrite, session: WriteSession, back: FormStr = ""
) -> Response:
    return await _set_resolved(session, ctx, comment_id, back, False)


# ---- grading -----------------------------------------------------------------------------------------------


@router.post("/submissions/{submission_id}/grade", include_in_schema=False)
async def save_grade(
    request: Request, submission_id: str, ctx: auth.CoursesWrite, read: ReadSession, write: WriteSession
) -> Response:
    sid = parse_id(submission_id)
    reader = await _submission_reader(read, ctx, sid)
    raw = await request.form()
    scores = {
        str(k).removeprefix("score-"): str(v) for k, v in raw.multi_items() if str(k).startswith("score-") and str(v)
    }
    feedback_text = str(raw.get("feedback", ""))
    action = str(raw.get("action", "save"))
    form = FormState(values={"feedback": feedback_text, "scores": scores})
    try:
        data = GradeWrite(scores=scores, feedback=feedback_text)
    except ValidationError:
        form.error("feedback", "Keep the feedback under 20,000 characters, and choose levels from the rubric.")
        return await _reader_page(request, read, ctx, reader, grade_form=form, status=422)
    try:
        grade = await feedback_service.save_grade(write, ctx, sid, data)
    except NotFound:
        raise
    except ScribetreeError as exc:
        form.error("_form", exc.detail)
        return await _reader_page(request, read, ctx, reader, grade_form=form, status=exc.status_code)
    if action == "return":
        return redirect(f"/submissions/{sid}/return")
    total = f" Total: {grade.total:g} / {grade.max_points:g}." if grade.total is not None and grade.max_points else ""
    shown = "The student sees the change now." if grade.status == "returned" else "The student does not see it yet."
    return redirect(f"/submissions/{sid}#grading", f"The grade was saved.{total} {shown}")


@router.get("/submissions/{submission_id}/return", include_in_schema=False)
async def confirm_return(request: Request, submission_id: str, ctx: auth.CoursesRead, session: ReadSession) -> Response:
    sid = parse_id(submission_id)
    reader = await _submission_reader(session, ctx, sid)
    try:
        grade = await feedback_service.get_grade(session, ctx, sid)
    except GradeNotFound:
        return redirect(f"/submissions/{sid}#grading", "Score the rubric or write feedback first, then save.", "error")
    assignment = await _staff_assignment(session, ctx, reader.doc.assignment_id)
    return await render(
        request,
        "review/confirm_return.html",
        session=session,
        title="Return the grade?",
        writer=await _writer_name(session, ctx, reader.doc),
        assignment=assignment,
        submission=reader.submission,
        grade=grade,
    )


@router.post("/submissions/{submission_id}/return", include_in_schema=False)
async def return_grade(request: Request, submission_id: str, ctx: auth.CoursesWrite, session: WriteSession) -> Response:
    sid = parse_id(submission_id)
    try:
        await feedback_service.return_grade(session, ctx, sid)
    except NotFound:
        raise
    except ScribetreeError as exc:
        return redirect(f"/submissions/{sid}#grading", exc.detail, "error")
    return redirect(f"/submissions/{sid}#grading", "The grade was returned: the student sees it now and is notified.")


# ---- the student's feedback page ---------------------------------------------------------------------------


@router.get("/assignments/{assignment_id}/feedback", include_in_schema=False)
async def my_feedback(
    request: Request, assignment_id: str, ctx: auth.CoursesRead, session: ReadSession, write: WriteSession
) -> Response:
    """Reads only; the write session is used just once, to create a student's (empty) document the first time
    it is opened, as on the writing page."""
    aid = parse_id(assignment_id)
    acc = await assignment_access(session, ctx, aid)
    course = await course_service.get_course(session, ctx, acc.assignment.course_id)
    values: dict[str, Any] = {
        "assignment": acc.assignment,
        "course": course,
        "staff": acc.course_role != STUDENT,
        "rubric": acc.assignment.rubric or {},
        "here": f"/assignments/{aid}/feedback",
        "submissions": [],
        "draft_view": False,
    }
    if acc.course_role != STUDENT:
        return await render(
            request,
            "review/feedback.html",
            session=session,
            title="Feedback",
            **values,
            doc=None,
            submission=None,
            text_markup=Markup(""),
            comments=[],
            grade=None,
            problem=None,
        )
    try:
        doc = await document_service.open_mine(session, ctx, aid, write_session=write)
    except NotFound:
        raise
    except ScribetreeError as exc:  # a group assignment without a group
        return await render(
            request,
            "review/feedback.html",
            session=session,
            title="Feedback",
            **values,
            doc=None,
            submission=None,
            text_markup=Markup(""),
            comments=[],
            grade=None,
            problem=exc.detail,
        )
    if doc in write:  # created just now: only the write session sees it (SQLite: a separate connection)
        session = write
    subs = await document_service.list_submissions(session, ctx, doc.id)
    # Which text the comments are placed in: a chosen submission (each keeps its grade), the current draft
    # (reopened and being revised), or by default the latest submission.
    q = request.query_params
    chosen = next((s for s in subs if str(s.id) == q.get("submission")), None)
    draft_view = chosen is None and (not subs or (q.get("draft") == "1" and doc.status != "submitted"))
    sub = None if draft_view else chosen or subs[-1]
    values.update(submissions=subs, draft_view=draft_view)
    if sub is not None and sub is not subs[-1]:
        values["here"] += f"?submission={sub.id}"
    elif draft_view and subs:
        values["here"] += "?draft=1"
    grade = None
    if sub is not None:
        version = await document_service.get_version(session, ctx, doc.id, sub.version_id)
        text = version.text
        comments = await feedback_service.list_submission_comments(session, ctx, sub.id)
        try:
            grade = await feedback_service.get_grade(session, ctx, sub.id)
        except GradeNotFound:
            grade = None
    else:
        text = doc.text
        comments = await feedback_service.list_comments(session, ctx, doc.id)
    return await render(
        request,
        "review/feedback.html",
        session=session,
        title=f"Feedback — {acc.assignment.title}",
        **values,
        doc=doc,
        submission=sub,
        text_markup=text_html(text, comments),
        comments=comments,
        grade=grade,
        problem=None,
    )


# ---- notifications -----------------------------------------------------------------------------------------


@router.get("/notifications", include_in_schema=False)
async def notification_list(request: Request, ctx: auth.CoursesRead, session: ReadSession) -> Response:
    items = await notification_service.list_mine(session, ctx)
    return await render(
        request,
        "review/notifications.html",
        session=session,
        title="Notifications",
        items=items,
        unread=sum(1 for n in items if n.read_at is None),
    )


@router.get("/notifications/count", include_in_schema=False)
async def notification_count(request: Request, ctx: auth.CoursesRead, session: ReadSession) -> Response:
    """The bell's number (loaded by htmx into the page header)."""
    count = await notification_service.unread_count(session, ctx)
    html = render_fragment("review/_bell_count.html", count=count)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.post("/notifications/read-all", include_in_schema=False)
async def read_all(request: Request, ctx: auth.CoursesWrite, session: WriteSession) -> Response:
    n = await notification_service.mark_all_read(session, ctx)
    return redirect("/notifications", "Every notification is marked read." if n else "Nothing was unread.")


@router.post("/notifications/{notification_id}/read", include_in_schema=False)
async def read_one(
    request: Request, notification_id: str, ctx: auth.CoursesWrite, session: WriteSession, open: FormStr = ""
) -> Response:
    n = await notification_service.mark_read(session, ctx, parse_id(notification_id))
    if open and n.link:
        return redirect(n.link)
    return redirect("/notifications", "Marked read.")
