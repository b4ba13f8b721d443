"""Every SQL statement of the alerts domain (STYLE N3: tenant-scoped).

``ActivityRepository`` reads the writing, AI partner and courses tables the rules need (the analytics domain
offers no aggregate of these yet); the others own the alerts tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner.models import AiExchange, AiReflection
from scribetree.alerts.models import (
    Alert,
    AlertCourseSettings,
    AlertDelivery,
    AlertEducatorPrefs,
    AlertStatus,
    AlertWatermark,
)
from scribetree.core import clock
from scribetree.core.ids import uuid7
from scribetree.core.repository import TenantRepository, dialect_insert
from scribetree.courses.models import Assignment, AssignmentGroupMember, Course, CourseMember, CourseRole
from scribetree.writing.models import Document, DocumentStatus, EditBatch, WritingSession


def _chunks(ids: Sequence[uuid.UUID], size: int = 500) -> list[list[uuid.UUID]]:
    items = list(ids)
    return [items[i : i + size] for i in range(0, len(items), size)] or []


class AlertRepository(TenantRepository[Alert]):
    model = Alert

    async def insert_new(self, rows: list[dict[str, Any]]) -> list[Alert]:
        """Insert alerts; one whose dedupe key exists already is skipped. Returns the new rows."""
        if not rows:
            return []
        now = clock.utcnow()
        values = [
            {"id": uuid7(), "tenant_id": self.tenant_id, "created_at": now, "status": AlertStatus.open, **r}
            for r in rows
        ]
        stmt = (
            dialect_insert(self.session)(Alert)
            .values(values)
            .on_conflict_do_nothing(index_elements=[Alert.tenant_id, Alert.dedupe_key])
            .returning(Alert.id)
        )
        ids = list((await self.session.execute(stmt)).scalars().all())
        if not ids:
            return []
        return await self.all(self.base().where(Alert.id.in_(ids)).order_by(Alert.created_at, Alert.id))

    async def for_course(
        self,
        course_id: uuid.UUID,
        *,
        statuses: Sequence[str] | None,
        rule: str | None,
        student_user_id: uuid.UUID | None,
        limit: int,
    ) -> list[Alert]:
        stmt = self.base().where(Alert.course_id == course_id)
        if statuses:
            stmt = stmt.where(Alert.status.in_(list(statuses)))
        if rule:
            stmt = stmt.where(Alert.rule == rule)
        if student_user_id:
            stmt = stmt.where(Alert.student_user_id == student_user_id)
        return await self.all(stmt.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit))

    async def open_count(self, course_id: uuid.UUID) -> int:
        stmt = select(func.count()).where(
            Alert.tenant_id == self.tenant_id, Alert.course_id == course_id, Alert.status == AlertStatus.open
        )
        return int((await self.session.execute(stmt)).scalar_one())


class CourseSettingsRepository(TenantRepository[AlertCourseSettings]):
    model = AlertCourseSettings

    async def for_courses(self, course_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, AlertCourseSettings]:
        if not course_ids:
            return {}
        rows = await self.all(self.base().where(AlertCourseSettings.course_id.in_(list(course_ids))))
        return {r.course_id: r for r in rows}

    async def for_course(self, course_id: uuid.UUID) -> AlertCourseSettings | None:
        return await self.one_or_none(self.base().where(AlertCourseSettings.course_id == course_id))


class PrefsRepository(TenantRepository[AlertEducatorPrefs]):
    model = AlertEducatorPrefs

    async def of(self, course_id: uuid.UUID, user_id: uuid.UUID) -> AlertEducatorPrefs | None:
        return await self.one_or_none(
            self.base().where(AlertEducatorPrefs.course_id == course_id, AlertEducatorPrefs.user_id == user_id)
        )

    async def for_courses(
        self, course_ids: Sequence[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], AlertEducatorPrefs]:
        if not course_ids:
            return {}
        rows = await self.all(self.base().where(AlertEducatorPrefs.course_id.in_(list(course_ids))))
        return {(r.course_id, r.user_id): r for r in rows}


class DeliveryRepository(TenantRepository[AlertDelivery]):
    model = AlertDelivery

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        now = clock.utcnow()
        values = [{"id": uuid7(), "tenant_id": self.tenant_id, "created_at": now, **r} for r in rows]
        stmt = (
            dialect_insert(self.session)(AlertDelivery)
            .values(values)
            .on_conflict_do_nothing(
                index_elements=[AlertDelivery.tenant_id, AlertDelivery.alert_id, AlertDelivery.user_id]
            )
        )
        await self.session.execute(stmt)

    async def due(self, now: datetime, limit: int = 1000) -> list[tuple[AlertDelivery, Alert]]:
        """Undelivered rows whose time has come, with their alert (oldest first)."""
        stmt = (
            select(AlertDelivery, Alert)
            .join(Alert, and_(Alert.id == AlertDelivery.alert_id, Alert.tenant_id == AlertDelivery.tenant_id))
            .where(
                AlertDelivery.tenant_id == self.tenant_id,
                AlertDelivery.delivered_at.is_(None),
                AlertDelivery.due_at <= now,
            )
            .order_by(AlertDelivery.due_at, AlertDelivery.id)
            .limit(limit)
        )
        return [(d, a) for d, a in (await self.session.execute(stmt)).all()]

    async def mark_delivered(self, ids: list[uuid.UUID], at: datetime) -> None:
        for chunk in _chunks(ids):
            await self.session.execute(
                update(AlertDelivery)
                .where(AlertDelivery.tenant_id == self.tenant_id, AlertDelivery.id.in_(chunk))
                .values(delivered_at=at)
                .execution_options(synchronize_session=False)
            )


class WatermarkRepository(TenantRepository[AlertWatermark]):
    model = AlertWatermark

    async def get_value(self, name: str) -> datetime | None:
        row = await self.one_or_none(self.base().where(AlertWatermark.name == name))
        return row.value if row else None

    async def set_value(self, name: str, value: datetime) -> None:
        stmt = dialect_insert(self.session)(AlertWatermark).values(
            id=uuid7(), tenant_id=self.tenant_id, name=name, value=value, created_at=clock.utcnow()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[AlertWatermark.tenant_id, AlertWatermark.name], set_={"value": value}
        )
        await self.session.execute(stmt)


# ---- what the rules read -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One student on one assignment, with their document if they have one."""

    student_user_id: uuid.UUID
    course_id: uuid.UUID
    assignment: Assignment
    document_id: uuid.UUID | None
    word_count: int
    last_activity_at: datetime | None
    submitted: bool
    group: bool


class ActivityRepository:
    """Read-only queries over writing, AI partner and course tables, always filtered on the tenant."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def touched_documents(self, since: datetime, until: datetime) -> list[uuid.UUID]:
        """Documents with a batch, a reflection or a partner request in ``(since, until]``."""
        t = self.tenant_id
        stmts = [
            select(EditBatch.document_id).where(
                EditBatch.tenant_id == t, EditBatch.received_at > since, EditBatch.received_at <= until
            ),
            select(AiReflection.document_id).where(
                AiReflection.tenant_id == t, AiReflection.created_at > since, AiReflection.created_at <= until
            ),
            select(AiExchange.document_id).where(
                AiExchange.tenant_id == t, AiExchange.created_at > since, AiExchange.created_at <= until
            ),
        ]
        found: set[uuid.UUID] = set()
        for stmt in stmts:
            found |= set((await self.session.execute(stmt.distinct())).scalars().all())
        return sorted(found)

    def _live_assignments(self) -> Any:
        return (
            select(Assignment, Course.id)
            .join(Course, and_(Course.id == Assignment.course_id, Course.tenant_id == Assignment.tenant_id))
            .where(
                Assignment.tenant_id == self.tenant_id,
                Assignment.published_at.is_not(None),
                Course.archived_at.is_(None),
            )
        )

    async def _docs(self, where: Any) -> list[tuple[Document, list[uuid.UUID]]]:
        """Documents matching ``where`` with their students (the owner, or the group's members)."""
        docs = list(
            (await self.session.execute(select(Document).where(Document.tenant_id == self.tenant_id, where))).scalars()
        )
        group_ids = [d.group_id for d in docs if d.group_id is not None]
        members: dict[uuid.UUID, list[uuid.UUID]] = {}
        for chunk in _chunks(group_ids):
            stmt = select(AssignmentGroupMember.group_id, AssignmentGroupMember.user_id).where(
                AssignmentGroupMember.tenant_id == self.tenant_id, AssignmentGroupMember.group_id.in_(chunk)
            )
            for g, u in (await self.session.execute(stmt)).all():
                members.setdefault(g, []).append(u)
        out = []
        for d in docs:
            if d.owner_user_id is not None:
                out.append((d, [d.owner_user_id]))
            elif d.group_id is not None:
                out.append((d, members.get(d.group_id, [])))
        return out

    def _target(self, doc: Document, student: uuid.UUID, a: Assignment, course_id: uuid.UUID) -> Target:
        return Target(
            student_user_id=student,
            course_id=course_id,
            assignment=a,
            document_id=doc.id,
            word_count=doc.word_count,
            last_activity_at=doc.last_activity_at,
            submitted=doc.status == DocumentStatus.submitted,
            group=doc.group_id is not None,
        )

    async def targets_for_documents(self, doc_ids: Sequence[uuid.UUID]) -> list[Target]:
        """The students of these documents on live assignments (published, course not archived)."""
        out: list[Target] = []
        for chunk in _chunks(doc_ids):
            pairs = await self._docs(Document.id.in_(chunk))
            a_ids = sorted({d.assignment_id for d, _ in pairs})
            assignments = {
                a.id: (a, c)
                for a, c in (await self.session.execute(self._live_assignments().where(Assignment.id.in_(a_ids)))).all()
            }
            for doc, students in pairs:
                found = assignments.get(doc.assignment_id)
                if found is None:
                    continue
                out += [self._target(doc, s, found[0], found[1]) for s in students]
        return out

    async def scheduled_targets(self, due_after: datetime) -> list[Target]:
        """Every student of every live assignment due after ``due_after`` (or with no due date), with or without a
        document."""
        rows = (
            await self.session.execute(
                self._live_assignments().where(or_(Assignment.due_at.is_(None), Assignment.due_at > due_after))
            )
        ).all()
        if not rows:
            return []
        assignments = {a.id: (a, c) for a, c in rows}
        course_ids = sorted({c for _, c in rows})
        students: dict[uuid.UUID, list[uuid.UUID]] = {}
        for chunk in _chunks(course_ids):
            stmt = select(CourseMember.course_id, CourseMember.user_id).where(
                CourseMember.tenant_id == self.tenant_id,
                CourseMember.course_id.in_(chunk),
                CourseMember.role == CourseRole.student,
            )
            for c, u in (await self.session.execute(stmt)).all():
                students.setdefault(c, []).append(u)
        have: dict[tuple[uuid.UUID, uuid.UUID], Target] = {}
        for chunk in _chunks(sorted(assignments)):
            for doc, members in await self._docs(Document.assignment_id.in_(chunk)):
                a, c = assignments[doc.assignment_id]
                for s in members:
                    have[(a.id, s)] = self._target(doc, s, a, c)
        out: list[Target] = []
        for a, c in rows:
            for s in students.get(c, []):
                out.append(
                    have.get((a.id, s))
                    or Target(
                        student_user_id=s,
                        course_id=c,
                        assignment=a,
                        document_id=None,
                        word_count=0,
                        last_activity_at=None,
                        submitted=False,
                        group=False,
                    )
                )
        return out

    async def batches(self, doc_ids: Sequence[uuid.UUID], since: datetime, page: int = 1000) -> list[Any]:
        """Rows (id, document_id, author_user_id, received_at, chars_inserted, chars_deleted, ops) of batches
        received after ``since``, oldest first: columns, not ORM objects (the evaluation reads thousands).

        Read ``page`` rows per statement (keyset on ``(received_at, id)``): turning rows into Python objects runs on
        the event loop, and one statement over an hour of a class's batches (100,000 rows) held it for seconds."""
        out: list[Any] = []
        cols = (
            EditBatch.id,
            EditBatch.document_id,
            EditBatch.author_user_id,
            EditBatch.received_at,
            EditBatch.chars_inserted,
            EditBatch.chars_deleted,
            EditBatch.ops,
        )
        for chunk in _chunks(doc_ids):
            base = select(*cols).where(
                EditBatch.tenant_id == self.tenant_id,
                EditBatch.document_id.in_(chunk),
                EditBatch.received_at > since,
            )
            stmt = base
            while True:
                rows = (
                    await self.session.execute(stmt.order_by(EditBatch.received_at, EditBatch.id).limit(page))
                ).all()
                out += rows
                if len(rows) < page:
                    break
                at, last = rows[-1].received_at, rows[-1].id
                stmt = base.where(
                    or_(EditBatch.received_at > at, and_(EditBatch.received_at == at, EditBatch.id > last))
                )
        return out

    async def window_totals(
        self, doc_ids: Sequence[uuid.UUID], since: datetime
    ) -> dict[uuid.UUID, list[tuple[uuid.UUID | None, int, int, int]]]:
        """Per document, per author: (author, batches, characters inserted, characters deleted) since ``since``."""
        out: dict[uuid.UUID, list[tuple[uuid.UUID | None, int, int, int]]] = {}
        for chunk in _chunks(doc_ids):
            stmt = (
                select(
                    EditBatch.document_id,
                    EditBatch.author_user_id,
                    func.count(),
                    func.sum(EditBatch.chars_inserted),
                    func.sum(EditBatch.chars_deleted),
                )
                .where(
                    EditBatch.tenant_id == self.tenant_id,
                    EditBatch.document_id.in_(chunk),
                    EditBatch.received_at > since,
                )
                .group_by(EditBatch.document_id, EditBatch.author_user_id)
            )
            for d, a, n, ins, dele in (await self.session.execute(stmt)).all():
                out.setdefault(d, []).append((a, int(n), int(ins or 0), int(dele or 0)))
        return out

    async def sessions(self, doc_ids: Sequence[uuid.UUID], since: datetime) -> list[WritingSession]:
        out: list[WritingSession] = []
        for chunk in _chunks(doc_ids):
            stmt = (
                select(WritingSession)
                .where(
                    WritingSession.tenant_id == self.tenant_id,
                    WritingSession.document_id.in_(chunk),
                    WritingSession.ended_at > since,
                )
                .order_by(WritingSession.started_at, WritingSession.id)
            )
            out += list((await self.session.execute(stmt)).scalars().all())
        return out

    async def reflections(
        self, doc_ids: Sequence[uuid.UUID]
    ) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, datetime, int, bool]]:
        """(document_id, user_id, id, created_at, total, gamed), oldest first."""
        out = []
        for chunk in _chunks(doc_ids):
            stmt = (
                select(
                    AiReflection.document_id,
                    AiReflection.user_id,
                    AiReflection.id,
                    AiReflection.created_at,
                    AiReflection.total,
                    AiReflection.gamed,
                )
                .where(AiReflection.tenant_id == self.tenant_id, AiReflection.document_id.in_(chunk))
                .order_by(AiReflection.created_at, AiReflection.id)
            )
            out += [tuple(r) for r in (await self.session.execute(stmt)).all()]
        return out  # type: ignore[return-value]

    async def requests(
        self, doc_ids: Sequence[uuid.UUID], since: datetime
    ) -> list[tuple[uuid.UUID, uuid.UUID, datetime]]:
        """(document_id, user_id, created_at) of partner requests since ``since``."""
        out = []
        for chunk in _chunks(doc_ids):
            stmt = (
                select(AiExchange.document_id, AiExchange.user_id, AiExchange.created_at)
                .where(
                    AiExchange.tenant_id == self.tenant_id,
                    AiExchange.document_id.in_(chunk),
                    AiExchange.created_at > since,
                )
                .order_by(AiExchange.created_at)
            )
            out += [tuple(r) for r in (await self.session.execute(stmt)).all()]
        return out  # type: ignore[return-value]

    async def staff(self, course_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Instructors and teaching assistants per course."""
        out: dict[uuid.UUID, list[uuid.UUID]] = {}
        for chunk in _chunks(course_ids):
            stmt = select(CourseMember.course_id, CourseMember.user_id).where(
                CourseMember.tenant_id == self.tenant_id,
                CourseMember.course_id.in_(chunk),
                CourseMember.role.in_([CourseRole.instructor, CourseRole.ta]),
            )
            for c, u in (await self.session.execute(stmt)).all():
                out.setdefault(c, []).append(u)
        return out
