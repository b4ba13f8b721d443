"""In-app notifications of the writing loop: a staff comment, returned feedback, an assignment due soon.

Rows are written in the caller's transaction (a rolled-back comment notifies nobody). Everyone reads and marks
only their own: a notification of someone else is ``NotificationNotFound`` (404), like a missing one.

The due-soon scan is a daily periodic job (``writing/tasks``-style actors registered below and imported by
``scribetree.tasks``): it lists tenant ids and enqueues one job per tenant (STYLE N6); each tenant's job finds
published assignments due within 48 hours and their students who have not submitted, and notifies each of
them once per assignment, in the app and by email (``key`` = ``due:<assignment_id>`` makes reruns add nothing).
A student with a deadline extension (``courses.extensions``) is reminded before their own extended date instead.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, jobs
from scribetree.core.errors import NotFound
from scribetree.core.ids import uuid7
from scribetree.core.mail import send_mail
from scribetree.core.repository import TenantRepository, dialect_insert
from scribetree.courses.extensions import extensions as extension_service
from scribetree.courses.models import Assignment, AssignmentGroupMember, Course, CourseMember, CourseRole
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.service import tenant_base_url, tenant_service
from scribetree.writing.models import Document, Submission
from scribetree.writing.notification_models import Notification, NotificationKind

log = logging.getLogger(__name__)

DUE_SOON = timedelta(hours=48)
LIST_LIMIT = 50
TITLE_MAX = 300
BODY_MAX = 1_000
SCAN_ACTOR = "writing.scan_due_soon"
TENANT_ACTOR = "writing.notify_due_soon"


class NotificationNotFound(NotFound):
    default_detail = "No such notification, or it is not yours."


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- SQL (tenant-scoped, STYLE N3) ------------------------------------------------------------------------


class NotificationRepository(TenantRepository[Notification]):
    model = Notification

    async def insert(self, rows: list[dict[str, object]]) -> int:
        """Insert rows; a row whose ``(user_id, key)`` exists already is skipped. Returns how many were new."""
        if not rows:
            return 0
        insert = dialect_insert(self.session)
        now = clock.utcnow()
        values = [{"id": uuid7(), "tenant_id": self.tenant_id, "created_at": now, **r} for r in rows]
        stmt = (
            insert(Notification)
            .values(values)
            .on_conflict_do_nothing(index_elements=[Notification.tenant_id, Notification.user_id, Notification.key])
        )
        result = await self.session.execute(stmt.returning(Notification.id))
        return len(result.scalars().all())

    async def for_user(self, user_id: uuid.UUID, limit: int) -> list[Notification]:
        stmt = (
            self.base()
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
        return await self.all(stmt)

    async def unread_count(self, user_id: uuid.UUID) -> int:
        stmt = select(func.count()).where(
            Notification.tenant_id == self.tenant_id, Notification.user_id == user_id, Notification.read_at.is_(None)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def mark_all_read(self, user_id: uuid.UUID, at: datetime) -> int:
        stmt = (
            update(Notification)
            .where(
                Notification.tenant_id == self.tenant_id,
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
            )
            .values(read_at=at)
        )
        return (await self.session.execute(stmt)).rowcount or 0

    async def assignments_due(self, start: datetime, end: datetime) -> list[Assignment]:
        """Published assignments of open courses due in ``(start, end]``."""
        stmt = (
            select(Assignment)
            .join(Course, and_(Course.id == Assignment.course_id, Course.tenant_id == Assignment.tenant_id))
            .where(
                Assignment.tenant_id == self.tenant_id,
                Assignment.published_at.is_not(None),
                Assignment.due_at > start,
                Assignment.due_at <= end,
                Course.archived_at.is_(None),
            )
            .order_by(Assignment.due_at, Assignment.id)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def students_of(self, course_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(course_id, user_id) of every student of these courses."""
        stmt = select(CourseMember.course_id, CourseMember.user_id).where(
            CourseMember.tenant_id == self.tenant_id,
            CourseMember.course_id.in_(course_ids),
            CourseMember.role == CourseRole.student,
        )
        return [(c, u) for c, u in (await self.session.execute(stmt)).all()]

    async def submitted(self, assignment_ids: list[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
        """(assignment_id, user_id) pairs that have a submission: their own document's, or their group's."""
        has_sub = select(Submission.document_id).where(
            Submission.tenant_id == self.tenant_id, Submission.assignment_id.in_(assignment_ids)
        )
        own = select(Document.assignment_id, Document.owner_user_id).where(
            Document.tenant_id == self.tenant_id,
            Document.assignment_id.in_(assignment_ids),
            Document.owner_user_id.is_not(None),
            Document.id.in_(has_sub),
        )
        grouped = (
            select(Document.assignment_id, AssignmentGroupMember.user_id)
            .join(
                AssignmentGroupMember,
                and_(
                    AssignmentGroupMember.group_id == Document.group_id,
                    AssignmentGroupMember.tenant_id == Document.tenant_id,
                ),
            )
            .where(
                Document.tenant_id == self.tenant_id,
                Document.assignment_id.in_(assignment_ids),
                Document.id.in_(has_sub),
            )
        )
        found: set[tuple[uuid.UUID, uuid.UUID]] = set()
        for stmt in (own, grouped):
            found |= {(a, u) for a, u in (await self.session.execute(stmt)).all()}
        return found


# ---- the service ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueSoonResult:
    notified: int
    emailed: int


class NotificationService:
    async def notify(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        user_ids: list[uuid.UUID],
        *,
        kind: NotificationKind,
        title: str,
        body: str = "",
        link: str = "",
        key: str | None = None,
    ) -> int:
        """One notification per person (skipped for whoever already holds ``key``); returns how many were new."""
        if not link.startswith("/") or link.startswith("//"):
            link = ""
        rows: list[dict[str, object]] = [
            {
                "user_id": uid,
                "kind": kind,
                "title": _clip(" ".join(title.split()), TITLE_MAX),
                "body": _clip(body, BODY_MAX),
                "link": link[:500],
                "key": key,
            }
            for uid in dict.fromkeys(user_ids)
        ]
        return await NotificationRepository(session, tenant_id).insert(rows)

    def _mine(self, session: AsyncSession, ctx: AuthContext) -> NotificationRepository:
        if ctx.tenant_id is None:
            raise NotificationNotFound()
        return NotificationRepository(session, ctx.tenant_id)

    async def list_mine(self, session: AsyncSession, ctx: AuthContext, limit: int = LIST_LIMIT) -> list[Notification]:
        """The caller's latest notifications, newest first."""
        return await self._mine(session, ctx).for_user(ctx.user_id, limit)

    async def unread_count(self, session: AsyncSession, ctx: AuthContext) -> int:
        if ctx.tenant_id is None:
            return 0
        return await self._mine(session, ctx).unread_count(ctx.user_id)

    async def mark_read(self, session: AsyncSession, ctx: AuthContext, notification_id: uuid.UUID) -> Notification:
        """Mark one of the caller's notifications read (already read: unchanged)."""
        repo = self._mine(session, ctx)
        found = await repo.get(notification_id)
        if found is None or found.user_id != ctx.user_id:
            raise NotificationNotFound()
        if found.read_at is None:
            found.read_at = clock.utcnow()
            await session.flush()
        return found

    async def mark_all_read(self, session: AsyncSession, ctx: AuthContext) -> int:
        return await self._mine(session, ctx).mark_all_read(ctx.user_id, clock.utcnow())

    async def notify_due_soon(self, session: AsyncSession, tenant_id: uuid.UUID) -> DueSoonResult:
        """Students of published assignments due within 48 hours who have not submitted: a notification and an
        email each, once per student and assignment."""
        repo = NotificationRepository(session, tenant_id)
        now = clock.utcnow()
        assignments = await repo.assignments_due(now, now + DUE_SOON)
        # Deadline extensions (courses.extensions): a student with one is reminded before their own due date.
        extended = await extension_service.due_between(session, tenant_id, now, now + DUE_SOON)
        if not assignments and not extended:
            return DueSoonResult(0, 0)
        by_id = {a.id: a for a in assignments} | {a.id: a for _, a in extended}
        students = await repo.students_of(sorted({a.course_id for a in by_id.values()}))
        done = await repo.submitted(list(by_id))
        moved = await extension_service.extended_dues(session, tenant_id, list(by_id))
        by_course: dict[uuid.UUID, list[uuid.UUID]] = {}
        for course_id, user_id in students:
            by_course.setdefault(course_id, []).append(user_id)
        enrolled = set(students)
        # (assignment, student, due date, notification key): everyone on the assignment's date without an
        # extension, and everyone whose extended date falls in the window (one reminder per extended date).
        todo: list[tuple[Assignment, uuid.UUID, datetime, str]] = [
            (a, u, a.due_at, f"due:{a.id}")
            for a in assignments
            if a.due_at is not None
            for u in by_course.get(a.course_id, [])
            if (a.id, u) not in moved
        ]
        todo += [
            (a, e.user_id, e.due_at, f"due:{a.id}:ext:{e.due_at.isoformat()}")
            for e, a in extended
            if (a.course_id, e.user_id) in enrolled
        ]
        tenant = await tenant_service.get(session, tenant_id)
        base = tenant_base_url(tenant)
        notified = emailed = 0
        waiting_all = [u for a, u, _, _ in todo if (a.id, u) not in done]
        users = await identity.users_by_ids(session, list(dict.fromkeys(waiting_all)))
        for a, uid, due_at, key in todo:
            if (a.id, uid) in done:
                continue
            due = clock.as_utc(due_at).strftime("%d %b %Y, %H:%M UTC")
            link = f"/assignments/{a.id}/write"
            title = f"Due soon: {a.title}"
            body = f'"{a.title}" is due {due}, and you have not submitted it yet.'
            new = await self.notify(
                session,
                tenant_id,
                [uid],
                kind=NotificationKind.due_soon,
                title=title,
                body=body,
                link=link,
                key=key,
            )
            if not new:
                continue
            notified += 1
            user = users.get(uid)
            if user is None or not user.email:
                continue
            text = f"Hello {user.display_name},\n\n{body}\n\nOpen your document: {base}{link}\n"
            await send_mail(session, to=user.email, subject=" ".join(title.split()), body=text, tenant_id=tenant_id)
            emailed += 1
        return DueSoonResult(notified, emailed)


notifications = NotificationService()


# ---- jobs (STYLE N6: the scan lists tenants; each tenant's work runs in its own job) -------------------------


@jobs.actor(SCAN_ACTOR, queue="maintenance", max_attempts=3)
async def scan_due_soon(session: AsyncSession) -> None:
    day = clock.utcnow().strftime("%Y-%m-%d")
    for tenant in await tenant_service.list_active(session):
        tenant_id = tenant.id
        await jobs.enqueue(
            session, TENANT_ACTOR, tenant_id=tenant_id, idempotency_key=f"{TENANT_ACTOR}:{tenant_id}:{day}"
        )


@jobs.actor(TENANT_ACTOR, queue="maintenance", max_attempts=5)
async def notify_due_soon(session: AsyncSession, *, tenant_id: str) -> None:
    result = await notifications.notify_due_soon(session, uuid.UUID(tenant_id))
    log.info("due-soon notifications", extra={"tenant_id": tenant_id, "notified": result.notified})


jobs.periodic(SCAN_ACTOR, every=timedelta(days=1), actor=SCAN_ACTOR)
