"""Feedback and grading: inline comments that follow the student's edits, threaded replies, rubric grades.

Who may do what (on top of ``writing.access``: a document is seen by its author or group and the course's staff):

- staff (instructor, TA, institution admin) comment on a document or a submission, reply, resolve and reopen,
  score the rubric, write overall feedback and return the grade;
- the student (author, or a member of the group) sees every comment on their document and replies; they see a
  grade only once it is returned: before that a grade does not exist for them (404, nothing of the draft shows);
- anyone edits only their own comments.

Every change is written to the audit trail. Comments by staff and returned grades send the student a plain-text
email through the job queue (it leaves after the commit). Bodies are plain text and are stored as sent.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, clock
from scribetree.core.mail import send_mail
from scribetree.courses.models import Assignment, LatePolicy
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import assignment_access
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.service import tenant_base_url, tenant_service
from scribetree.writing.access import STUDENT, DocumentAccess, Need, access_document
from scribetree.writing.anchors import Anchor, make_anchor, reanchor
from scribetree.writing.exceptions import DocumentNotFound, StaffOnly, SubmissionNotFound
from scribetree.writing.feedback_exceptions import (
    AnchorMismatch,
    AnchorOutOfRange,
    CommentNotFound,
    GradeAlreadyReturned,
    GradeNotFound,
    NoRubric,
    NotCommentAuthor,
    RubricIncomplete,
    UnknownCriterion,
    UnknownLevel,
)
from scribetree.writing.feedback_models import Comment, Grade, GradeStatus
from scribetree.writing.feedback_repository import CommentRepository, GradeRepository
from scribetree.writing.feedback_schemas import (
    AnchorIn,
    AnchorRead,
    CommentCreate,
    CommentRead,
    CommentUpdate,
    CriterionScore,
    GradeRead,
    GradeSummary,
    GradeWrite,
    ReplyCreate,
    Span,
)
from scribetree.writing.models import Document, Submission
from scribetree.writing.notification_models import NotificationKind
from scribetree.writing.notifications import notifications
from scribetree.writing.repository import SubmissionRepository, VersionRepository

EXCERPT = 500  # characters of a comment quoted in an email


def _entry(ctx: AuthContext, action: str, target_type: str, target_id: uuid.UUID, **details: Any) -> audit.Entry:
    return audit.Entry(
        action=action,
        tenant_id=ctx.tenant_id,
        actor_user_id=ctx.user_id,
        actor_label=ctx.actor_label,
        target_type=target_type,
        target_id=str(target_id),
        details=details,
        meta=ctx.meta,
    )


def _tenant(ctx: AuthContext) -> uuid.UUID:
    if ctx.tenant_id is None:  # routes require a tenant sign-in; access functions already answered 404
        raise DocumentNotFound()
    return ctx.tenant_id


# ---- rubric scoring (pure) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    points: float | None
    max_points: float | None
    criteria: list[CriterionScore]
    missing: list[str]  # titles of criteria without a score


def score_rubric(rubric: dict[str, Any] | None, scores: dict[str, str]) -> Scored:
    """Check ``scores`` ({criterion_id: level_id}) against ``rubric`` and compute the points; raises
    ``NoRubric``, ``UnknownCriterion`` or ``UnknownLevel`` (422) naming what is wrong and what is allowed."""
    criteria = (rubric or {}).get("criteria") or []
    if not criteria:
        if scores:
            raise NoRubric()
        return Scored(points=None, max_points=None, criteria=[], missing=[])
    by_id = {str(c.get("id")): c for c in criteria}
    for cid, lid in scores.items():
        crit = by_id.get(cid)
        if crit is None:
            allowed = ", ".join(f"'{k}' ({by_id[k].get('title')})" for k in by_id)
            raise UnknownCriterion(
                f"The rubric has no criterion '{cid}'. Score one of its criteria: {allowed}.", criterion_id=cid
            )
        levels = {str(lv.get("id")): lv for lv in crit.get("levels", [])}
        if lid not in levels:
            allowed = ", ".join(f"'{k}' ({lv.get('label')})" for k, lv in levels.items())
            raise UnknownLevel(
                f"Criterion '{crit.get('title')}' has no level '{lid}'. Choose one of: {allowed}.",
                criterion_id=cid,
                level_id=lid,
            )
    rows: list[CriterionScore] = []
    missing: list[str] = []
    points = 0.0
    max_points = 0.0
    for cid, crit in by_id.items():
        best = max((float(lv.get("points", 0)) for lv in crit.get("levels", [])), default=0.0)
        max_points += best
        lid = scores.get(cid)
        level = next((lv for lv in crit.get("levels", []) if str(lv.get("id")) == lid), None) if lid else None
        if level is None:
            missing.append(str(crit.get("title")))
        else:
            points += float(level.get("points", 0))
        rows.append(
            CriterionScore(
                criterion_id=cid,
                criterion=str(crit.get("title")),
                level_id=lid if level is not None else None,
                level=str(level.get("label")) if level is not None else None,
                points=float(level.get("points", 0)) if level is not None else None,
                max_points=best,
            )
        )
    return Scored(
        points=round(points, 2) if scores else None, max_points=round(max_points, 2), criteria=rows, missing=missing
    )


def late_penalty_percent(assignment: Assignment, submission: Submission) -> int:
    """The assignment's late penalty for this submission: ``late_penalty_percent`` per started day late (cap 100)."""
    if assignment.late_policy != LatePolicy.penalty or not submission.late or assignment.due_at is None:
        return 0
    seconds = (clock.as_utc(submission.submitted_at) - clock.as_utc(assignment.due_at)).total_seconds()
    if seconds <= 0:
        return 0
    days = math.ceil(seconds / 86_400)
    return min(100, days * int(assignment.late_penalty_percent or 0))


def _apply_penalty(points: float | None, percent: int) -> float | None:
    if points is None:
        return None
    return round(points * (100 - percent) / 100, 2)


# ---- views -----------------------------------------------------------------------------------------------


def _view(c: Comment, text: str, names: dict[uuid.UUID, str], replies: list[CommentRead] | None = None) -> CommentRead:
    """One comment; an inline one is placed in ``text`` (``position``) or marked ``outdated``."""
    anchor = Anchor.from_json(c.anchor) if c.anchor else None
    found = reanchor(text, anchor) if anchor is not None else None
    return CommentRead(
        id=c.id,
        document_id=c.document_id,
        submission_id=c.submission_id,
        parent_id=c.parent_id,
        author_user_id=c.author_user_id,
        author_name=names.get(c.author_user_id) if c.author_user_id else None,
        author_is_staff=c.author_is_staff,
        body=c.body,
        anchor=AnchorRead(quote=anchor.quote, start=anchor.start, end=anchor.end) if anchor else None,
        revision=c.revision,
        position=Span(start=found[0], end=found[1]) if found else None,
        outdated=anchor is not None and found is None,
        resolved_at=c.resolved_at,
        resolved_by=c.resolved_by,
        created_at=c.created_at,
        edited_at=c.edited_at,
        replies=replies or [],
    )


def _threads(comments: list[Comment], text: str, names: dict[uuid.UUID, str]) -> list[CommentRead]:
    """Top-level comments (oldest first) with their replies, inline ones placed in ``text``."""
    by_parent: dict[uuid.UUID, list[Comment]] = {}
    for c in comments:
        if c.parent_id is not None:
            by_parent.setdefault(c.parent_id, []).append(c)
    return [
        _view(c, text, names, [_view(r, text, names) for r in by_parent.get(c.id, [])])
        for c in comments
        if c.parent_id is None
    ]


def _grade_read(grade: Grade, rubric: dict[str, Any] | None) -> GradeRead:
    try:
        criteria = score_rubric(rubric, grade.scores or {}).criteria
    except (UnknownCriterion, UnknownLevel, NoRubric):  # the rubric changed since: show the stored figures only
        criteria = []
    out = GradeRead.model_validate(grade)
    out.criteria = criteria
    return out


# ---- the service -----------------------------------------------------------------------------------------


class FeedbackService:
    # -- access helpers --

    async def _submission(
        self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID, need: Need, *, lock: bool = False
    ) -> tuple[Submission, DocumentAccess]:
        """``lock`` holds the document row until the unit of work ends, so two graders of one submission take
        turns (the first creates the grade, the second updates it) instead of racing on its unique key."""
        sub = await SubmissionRepository(session, _tenant(ctx)).get(submission_id)
        if sub is None:
            raise SubmissionNotFound()
        try:
            acc = await access_document(session, ctx, sub.document_id, need, for_update=lock)
        except DocumentNotFound:
            raise SubmissionNotFound() from None
        return sub, acc

    async def _comment(
        self, session: AsyncSession, ctx: AuthContext, comment_id: uuid.UUID, need: Need
    ) -> tuple[Comment, DocumentAccess]:
        comment = await CommentRepository(session, _tenant(ctx)).get(comment_id)
        if comment is None:
            raise CommentNotFound()
        try:
            acc = await access_document(session, ctx, comment.document_id, need)
        except DocumentNotFound:
            raise CommentNotFound() from None
        return comment, acc

    async def _submission_text(self, session: AsyncSession, tenant_id: uuid.UUID, sub: Submission) -> str:
        version = await VersionRepository(session, tenant_id).get(sub.version_id)
        return version.text if version is not None else ""

    async def _names(self, session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
        wanted = sorted({i for i in ids if i is not None})
        users = await identity.users_by_ids(session, wanted) if wanted else {}
        return {uid: u.display_name for uid, u in users.items()}

    # -- comments --

    async def list_comments(self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID) -> list[CommentRead]:
        """Threads on a document, inline ones placed in the document's current text (or ``outdated``)."""
        acc = await access_document(session, ctx, document_id, Need.read)
        comments = await CommentRepository(session, _tenant(ctx)).for_document(document_id)
        names = await self._names(session, (c.author_user_id for c in comments))
        return _threads(comments, acc.document.text, names)

    async def list_submission_comments(
        self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID
    ) -> list[CommentRead]:
        """Every thread of the submission's document, inline ones placed in the text as submitted."""
        sub, _acc = await self._submission(session, ctx, submission_id, Need.read)
        tenant_id = _tenant(ctx)
        comments = await CommentRepository(session, tenant_id).for_document(sub.document_id)
        names = await self._names(session, (c.author_user_id for c in comments))
        return _threads(comments, await self._submission_text(session, tenant_id, sub), names)

    def _anchor(self, text: str, data: AnchorIn) -> Anchor:
        """The anchor for the selected passage; a passage that moved a little since selection is found by its quote."""
        if data.end > len(text):
            raise AnchorOutOfRange(
                f"The passage ends at {data.end} but the text has {len(text)} code points. Reload and select again.",
            )
        if text[data.start : data.end] != data.quote:
            found = reanchor(text, Anchor(quote=data.quote, prefix="", suffix="", start=data.start, end=data.end))
            if found is None or text[found[0] : found[1]] != data.quote:
                raise AnchorMismatch()
            return make_anchor(text, *found)
        return make_anchor(text, data.start, data.end)

    async def add_comment(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID, data: CommentCreate
    ) -> CommentRead:
        """A staff comment on the document's current text (inline with ``anchor``, else general)."""
        acc = await access_document(session, ctx, document_id, Need.teach)
        doc = acc.document
        return await self._create(session, ctx, acc, data, text=doc.text, revision=doc.revision, submission=None)

    async def add_submission_comment(
        self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID, data: CommentCreate
    ) -> CommentRead:
        """A staff comment on a submission: the anchor's offsets are into the text as submitted."""
        sub, acc = await self._submission(session, ctx, submission_id, Need.teach)
        text = await self._submission_text(session, _tenant(ctx), sub)
        return await self._create(session, ctx, acc, data, text=text, revision=sub.revision, submission=sub)

    async def _create(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        acc: DocumentAccess,
        data: CommentCreate,
        *,
        text: str,
        revision: int,
        submission: Submission | None,
    ) -> CommentRead:
        anchor = self._anchor(text, data.anchor) if data.anchor is not None else None
        comment = await CommentRepository(session, _tenant(ctx)).add(
            Comment(
                document_id=acc.document.id,
                submission_id=submission.id if submission else None,
                author_user_id=ctx.user_id,
                author_is_staff=acc.is_staff,
                anchor=anchor.to_json() if anchor else None,
                revision=revision,
                body=data.body,
            )
        )
        await audit.record(
            session,
            _entry(
                ctx,
                "comment.created",
                "comment",
                comment.id,
                document_id=str(acc.document.id),
                submission_id=str(submission.id) if submission else None,
                inline=anchor is not None,
                chars=len(data.body),
            ),
        )
        await self._notify_comment(session, ctx, acc, comment)
        return _view(comment, text, {ctx.user_id: ctx.display_name})

    async def reply(
        self, session: AsyncSession, ctx: AuthContext, comment_id: uuid.UUID, data: ReplyCreate
    ) -> CommentRead:
        """A reply in the thread of ``comment_id`` (a reply to a reply joins the same thread)."""
        parent, acc = await self._comment(session, ctx, comment_id, Need.read)
        repo = CommentRepository(session, _tenant(ctx))
        root = parent
        if parent.parent_id is not None:
            root = await repo.get(parent.parent_id) or parent
        reply = await repo.add(
            Comment(
                document_id=root.document_id,
                submission_id=root.submission_id,
                parent_id=root.id,
                author_user_id=ctx.user_id,
                author_is_staff=acc.is_staff,
                anchor=None,
                revision=root.revision,
                body=data.body,
            )
        )
        await audit.record(
            session,
            _entry(
                ctx,
                "comment.replied",
                "comment",
                reply.id,
                document_id=str(root.document_id),
                parent_id=str(root.id),
                chars=len(data.body),
            ),
        )
        await self._notify_comment(session, ctx, acc, reply)
        await self._notify_reply_from_student(session, ctx, acc, root, reply)
        return _view(reply, "", {ctx.user_id: ctx.display_name})

    async def edit_comment(
        self, session: AsyncSession, ctx: AuthContext, comment_id: uuid.UUID, data: CommentUpdate
    ) -> CommentRead:
        comment, acc = await self._comment(session, ctx, comment_id, Need.read)
        if comment.author_user_id != ctx.user_id:
            raise NotCommentAuthor()
        comment.body = data.body
        comment.edited_at = clock.utcnow()
        await session.flush()
        await audit.record(
            session,
            _entry(ctx, "comment.edited", "comment", comment.id, document_id=str(comment.document_id)),
        )
        return await self._one(session, ctx, comment, acc)

    async def set_resolved(
        self, session: AsyncSession, ctx: AuthContext, comment_id: uuid.UUID, *, resolved: bool
    ) -> CommentRead:
        """Resolve or reopen a thread (staff). Doing what is already done changes nothing and records nothing."""
        comment, acc = await self._comment(session, ctx, comment_id, Need.teach)
        if comment.parent_id is not None:  # threads are resolved as a whole
            comment, acc = await self._comment(session, ctx, comment.parent_id, Need.teach)
        if resolved != (comment.resolved_at is not None):
            comment.resolved_at = clock.utcnow() if resolved else None
            comment.resolved_by = ctx.user_id if resolved else None
            await session.flush()
            await audit.record(
                session,
                _entry(
                    ctx,
                    "comment.resolved" if resolved else "comment.reopened",
                    "comment",
                    comment.id,
                    document_id=str(comment.document_id),
                ),
            )
        return await self._one(session, ctx, comment, acc)

    async def _one(self, session: AsyncSession, ctx: AuthContext, comment: Comment, acc: DocumentAccess) -> CommentRead:
        """One thread as listed on the document (the comment with its replies, placed in the current text)."""
        repo = CommentRepository(session, _tenant(ctx))
        root_id = comment.parent_id or comment.id
        thread = [c for c in await repo.for_document(comment.document_id) if c.id == root_id or c.parent_id == root_id]
        names = await self._names(session, (c.author_user_id for c in thread))
        views = _threads(thread, acc.document.text, names)
        if comment.parent_id is None:
            return views[0]
        return next(r for r in views[0].replies if r.id == comment.id)

    # -- grades --

    async def get_grade(self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID) -> GradeRead:
        """Staff see the grade in any state; the student only once it is returned (else ``GradeNotFound``)."""
        sub, acc = await self._submission(session, ctx, submission_id, Need.read)
        grade = await GradeRepository(session, _tenant(ctx)).for_submission(sub.id)
        if grade is None or (not acc.is_staff and grade.status != GradeStatus.returned):
            raise GradeNotFound()
        return _grade_read(grade, acc.access.assignment.rubric)

    async def save_grade(
        self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID, data: GradeWrite
    ) -> GradeRead:
        """Create or replace the scores and overall feedback. Totals come from the assignment's rubric and late
        policy. Editing a returned grade changes what the student sees at once (and is audited)."""
        sub, acc = await self._submission(session, ctx, submission_id, Need.teach, lock=True)
        assignment = acc.access.assignment
        scored = score_rubric(assignment.rubric, data.scores)
        penalty = late_penalty_percent(assignment, sub)
        repo = GradeRepository(session, _tenant(ctx))
        grade = await repo.for_submission(sub.id, for_update=True)
        created = grade is None
        if grade is None:
            grade = Grade(submission_id=sub.id, document_id=sub.document_id, assignment_id=sub.assignment_id)
        grade.scores = dict(data.scores)
        grade.points = scored.points
        grade.max_points = scored.max_points
        grade.penalty_percent = penalty if scored.points is not None else 0
        grade.total = _apply_penalty(scored.points, grade.penalty_percent)
        grade.feedback = data.feedback
        grade.graded_by = ctx.user_id
        if created:
            await repo.add(grade)
        else:
            grade.modified_at = clock.utcnow()
            await session.flush()
        await audit.record(
            session,
            _entry(
                ctx,
                "grade.saved",
                "submission",
                sub.id,
                grade_id=str(grade.id),
                status=str(grade.status),
                scores=grade.scores,
                total=grade.total,
                max_points=grade.max_points,
            ),
        )
        return _grade_read(grade, assignment.rubric)

    async def return_grade(self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID) -> GradeRead:
        """Return the grade to the student: from now on they see it. With a rubric, every criterion needs a score."""
        sub, acc = await self._submission(session, ctx, submission_id, Need.teach, lock=True)
        assignment = acc.access.assignment
        repo = GradeRepository(session, _tenant(ctx))
        grade = await repo.for_submission(sub.id, for_update=True)
        if grade is None:
            raise GradeNotFound("Score the rubric or write feedback for this submission before returning it.")
        if grade.status == GradeStatus.returned:
            raise GradeAlreadyReturned()
        scored = score_rubric(assignment.rubric, grade.scores or {})  # the rubric may have changed since scoring
        if scored.missing:
            raise RubricIncomplete(
                "Score every criterion of the rubric before returning the grade. Not scored yet: "
                + ", ".join(scored.missing)
                + ".",
                missing=scored.missing,
            )
        if not grade.scores and not grade.feedback.strip():
            raise RubricIncomplete("Write some feedback before returning it: there is nothing to return yet.")
        grade.points = scored.points
        grade.max_points = scored.max_points
        grade.total = _apply_penalty(scored.points, grade.penalty_percent)
        grade.status = GradeStatus.returned
        grade.returned_at = clock.utcnow()
        grade.returned_by = ctx.user_id
        await session.flush()
        await audit.record(
            session,
            _entry(
                ctx,
                "grade.returned",
                "submission",
                sub.id,
                grade_id=str(grade.id),
                total=grade.total,
                max_points=grade.max_points,
            ),
        )
        await self._notify_returned(session, ctx, acc, grade)
        return _grade_read(grade, assignment.rubric)

    async def list_grades(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID
    ) -> list[GradeSummary]:
        """Every grade of an assignment (staff), for the submission list."""
        acc = await assignment_access(session, ctx, assignment_id)
        if acc.course_role == STUDENT:
            raise StaffOnly()
        grades = await GradeRepository(session, _tenant(ctx)).for_assignment(assignment_id)
        return [GradeSummary.model_validate(g) for g in grades]

    # -- notifications --

    async def _students(self, session: AsyncSession, ctx: AuthContext, doc: Document) -> list[uuid.UUID]:
        if doc.owner_user_id is not None:
            return [doc.owner_user_id]
        if doc.group_id is None:
            return []
        groups = await assignment_service.list_groups(session, ctx, doc.assignment_id)
        return next((list(g.user_ids) for g in groups if g.id == doc.group_id), [])

    async def _mail_students(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        acc: DocumentAccess,
        subject: str,
        body: str,
        kind: NotificationKind = NotificationKind.comment,
        page: str = "feedback",
    ) -> None:
        ids = [i for i in await self._students(session, ctx, acc.document) if i != ctx.user_id]
        if not ids:
            return
        # In the app and in the email: by default the student's feedback page, where comments and the returned grade
        # are shown beside the text.
        await notifications.notify(
            session,
            _tenant(ctx),
            ids,
            kind=kind,
            title=subject,
            body=body,
            link=f"/assignments/{acc.document.assignment_id}/{page}",
        )
        users = await identity.users_by_ids(session, ids)
        tenant = await tenant_service.get(session, _tenant(ctx))
        link = f"{tenant_base_url(tenant)}/assignments/{acc.document.assignment_id}/{page}"
        where = "Open your document" if page == "write" else "See it beside your text"
        subject = " ".join(subject.split())  # no line breaks in a header, whatever the assignment title holds
        for uid in ids:
            user = users.get(uid)
            if user is None or not user.email:
                continue
            text = f"Hello {user.display_name},\n\n{body}\n\n{where}: {link}\n"
            await send_mail(session, to=user.email, subject=subject, body=text, tenant_id=ctx.tenant_id)

    async def _notify_comment(
        self, session: AsyncSession, ctx: AuthContext, acc: DocumentAccess, comment: Comment
    ) -> None:
        if not acc.is_staff:
            return
        title = acc.access.assignment.title
        excerpt = comment.body if len(comment.body) <= EXCERPT else comment.body[:EXCERPT] + "…"
        kind = "replied to a comment" if comment.parent_id else "commented"
        body = f'{ctx.display_name} {kind} on your writing for "{title}":\n\n{excerpt}'
        await self._mail_students(session, ctx, acc, f"New comment on your writing: {title}", body)

    async def _notify_reply_from_student(
        self, session: AsyncSession, ctx: AuthContext, acc: DocumentAccess, root: Comment, reply: Comment
    ) -> None:
        """A student's reply: the staff who wrote in the thread are told in the app (linked to the thread), and in a
        group the other members as for a staff comment. (A staff reply is told to the students: _notify_comment.)"""
        if acc.is_staff:
            return
        title = acc.access.assignment.title
        excerpt = reply.body if len(reply.body) <= EXCERPT else reply.body[:EXCERPT] + "…"
        staff = [u for u in await CommentRepository(session, _tenant(ctx)).staff_in_thread(root.id) if u != ctx.user_id]
        if staff:
            page = (
                f"/submissions/{root.submission_id}" if root.submission_id else f"/documents/{root.document_id}/review"
            )
            await notifications.notify(
                session,
                _tenant(ctx),
                staff,
                kind=NotificationKind.comment,
                title=f"{ctx.display_name} replied: {title}",
                body=excerpt,
                link=f"{page}#comment-{root.id}",
            )
        if acc.document.group_id is not None:
            body = f'{ctx.display_name} replied to a comment on your group\'s writing for "{title}":\n\n{excerpt}'
            await self._mail_students(session, ctx, acc, f"New reply on your group's writing: {title}", body)

    async def _notify_returned(
        self, session: AsyncSession, ctx: AuthContext, acc: DocumentAccess, grade: Grade
    ) -> None:
        title = acc.access.assignment.title
        body = f'Your instructor has returned feedback on your submission for "{title}".'
        if grade.total is not None and grade.max_points is not None:
            body += f"\n\nGrade: {grade.total:g} / {grade.max_points:g}"
        await self._mail_students(
            session, ctx, acc, f"Feedback returned: {title}", body, NotificationKind.feedback_returned
        )

    async def notify_reopened(self, session: AsyncSession, ctx: AuthContext, acc: DocumentAccess) -> None:
        """Tell the student (each member of a group) that staff reopened their submitted document."""
        title = acc.access.assignment.title
        body = (
            f'{ctx.display_name} reopened your document for "{title}": you can edit it and submit it again. '
            "What you submitted before stays as it was."
        )
        await self._mail_students(
            session, ctx, acc, f"Reopened for you: {title}", body, NotificationKind.reopened, page="write"
        )


async def graded_submission_ids(
    session: AsyncSession, tenant_id: uuid.UUID, assignment_id: uuid.UUID
) -> set[uuid.UUID]:
    """Submissions of an assignment whose grade has been returned (the submission list's "graded")."""
    return await GradeRepository(session, tenant_id).returned_submission_ids(assignment_id)


feedback = FeedbackService()
