"""Alerts factories: alerts as the evaluation writes them, edit batches at chosen times, and matrix ids."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.models import Alert, AlertStatus, Severity
from scribetree.core import clock
from scribetree.courses.models import Course, CourseRole
from scribetree.identity.models import User
from scribetree.tenancy.models import Role, Tenant
from scribetree.writing.models import Document, EditBatch
from tests.factories.courses import create_course, enroll
from tests.factories.tenancy import create_member


async def create_alert(
    session: AsyncSession, course: Course, student: User, *, assignment_id: uuid.UUID | None = None, **overrides: Any
) -> Alert:
    values: dict[str, Any] = {
        "rule": "stuck",
        "severity": Severity.attention,
        "positive": False,
        "title": "Stuck: 25 active minutes, 0 words gained",
        "evidence": {"figures": {"active_minutes": 25}, "links": []},
        "suggested_actions": ["message", "check_in"],
        "status": AlertStatus.open,
        "dedupe_key": f"stuck:{student.id}:{assignment_id}:{uuid.uuid4()}",
    }
    values.update(overrides)
    alert = Alert(
        tenant_id=course.tenant_id,
        course_id=course.id,
        assignment_id=assignment_id,
        student_user_id=student.id,
        **values,
    )
    session.add(alert)
    await session.flush()
    return alert


async def add_batch(
    session: AsyncSession,
    doc: Document,
    author: User,
    at: datetime,
    *,
    inserted: str = "",
    deleted: int = 0,
    ops: list[dict[str, Any]] | None = None,
) -> EditBatch:
    """A batch in the log at ``at`` (the rules read counts and ops; the text itself is not replayed)."""
    doc.revision += 1
    raw = ops if ops is not None else ([{"kind": "insert", "t": 0, "pos": 0, "text": inserted}] if inserted else [])
    if deleted:
        raw = [*raw, {"kind": "delete", "t": 0, "pos": 0, "len": deleted}]
    b = EditBatch(
        tenant_id=doc.tenant_id,
        document_id=doc.id,
        session_id=uuid.uuid4(),
        seq=doc.revision,
        base_revision=doc.revision - 1,
        revision=doc.revision,
        content_hash=doc.content_hash,
        author_user_id=author.id,
        ops=raw,
        chars_inserted=sum(len(o.get("text", "")) for o in raw),
        chars_deleted=deleted,
        received_at=at,
    )
    session.add(b)
    doc.last_activity_at = at if doc.last_activity_at is None else max(clock.as_utc(doc.last_activity_at), at)
    await session.flush()
    return b


async def matrix_ids(session: AsyncSession, tenant: Tenant, course_id: uuid.UUID | None) -> dict[str, uuid.UUID]:
    """An alert about a student of the given course (or a new one) for the authorization matrix."""
    course = await session.get(Course, course_id) if course_id else await create_course(session, tenant)
    assert course is not None
    student, _ = await create_member(session, tenant, Role.student)
    await enroll(session, course, student, CourseRole.student)
    alert = await create_alert(session, course, student, title="Their alert.")
    return {"alert_id": alert.id}
