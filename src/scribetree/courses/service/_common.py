from __future__ import annotations

import uuid
from typing import Any

from scribetree.core import audit
from scribetree.courses.exceptions import CourseArchived, CourseCreatorRequired, CourseNotFound
from scribetree.courses.models import Course
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import Role

CREATOR_ROLES = (Role.educator, Role.institution_admin)


def entry(ctx: AuthContext, action: str, target_type: str, target_id: uuid.UUID, **details: Any) -> audit.Entry:
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


def tenant_of(ctx: AuthContext) -> uuid.UUID:
    if ctx.tenant_id is None:
        raise CourseNotFound()
    return ctx.tenant_id


def require_creator(ctx: AuthContext) -> None:
    """Educators and institution admins create courses and templates (not TAs, students or support)."""
    if ctx.role not in CREATOR_ROLES or ctx.is_support_session:
        raise CourseCreatorRequired()


def require_open(course: Course) -> None:
    if course.archived_at is not None:
        raise CourseArchived()
