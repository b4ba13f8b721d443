"""Object-level access to alerts (STYLE N4): only a course's staff (instructors, teaching assistants, and
institution admins acting as ``admin``) see its alerts. Students, other courses' staff and other tenants get the
same 404 as for a missing alert."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.exceptions import AlertCourseNotFound, AlertNotFound
from scribetree.alerts.models import Alert
from scribetree.alerts.repository import AlertRepository
from scribetree.core.errors import NotFound
from scribetree.courses.service import course_access
from scribetree.tenancy.context import AuthContext

STAFF = frozenset({"instructor", "ta", "admin"})
MANAGERS = frozenset({"instructor", "admin"})


@dataclass(frozen=True)
class StaffAccess:
    tenant_id: uuid.UUID
    course_id: uuid.UUID
    course_title: str
    course_role: str  # instructor | ta | admin


async def access_course_alerts(session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> StaffAccess:
    """The caller's staff role in the course, or ``AlertCourseNotFound`` (404) for anyone who is not on its staff
    (students included: the alerts are about them)."""
    if ctx.tenant_id is None:
        raise AlertCourseNotFound()
    try:
        acc = await course_access(session, ctx, course_id)
    except NotFound:
        raise AlertCourseNotFound() from None
    if acc.course_role not in STAFF:
        raise AlertCourseNotFound()
    return StaffAccess(ctx.tenant_id, acc.course.id, acc.course.title, acc.course_role)


async def access_alert(session: AsyncSession, ctx: AuthContext, alert_id: uuid.UUID) -> tuple[Alert, StaffAccess]:
    """The alert and the caller's staff access to its course, or ``AlertNotFound`` (404)."""
    if ctx.tenant_id is None:
        raise AlertNotFound()
    alert = await AlertRepository(session, ctx.tenant_id).get(alert_id)
    if alert is None:
        raise AlertNotFound()
    try:
        acc = await access_course_alerts(session, ctx, alert.course_id)
    except AlertCourseNotFound:
        raise AlertNotFound() from None
    return alert, acc
