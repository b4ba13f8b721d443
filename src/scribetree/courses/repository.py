"""Every SQL statement of the courses domain (STYLE N3): all of them tenant-scoped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, func, select
from sqlalchemy.exc import IntegrityError

from scribetree.core.repository import TenantRepository
from scribetree.courses.models import (
    Assignment,
    AssignmentGroup,
    AssignmentGroupMember,
    AssignmentTemplate,
    Course,
    CourseMember,
    CourseRole,
    TemplateVisibility,
)
from scribetree.identity.models import User


class CourseRepository(TenantRepository[Course]):
    model = Course

    async def by_join_code(self, code: str) -> Course | None:
        return await self.one_or_none(self.base().where(Course.join_code == code))

    async def listing(
        self, *, user_id: uuid.UUID, members_only: bool, archived: bool | None
    ) -> list[tuple[Course, CourseRole | None]]:
        """Courses with ``user_id``'s role in each (NULL where they have none); ``members_only=False`` lists
        every course of the tenant (institution admins)."""
        role = (
            select(CourseMember.role)
            .where(CourseMember.course_id == Course.id, CourseMember.user_id == user_id)
            .scalar_subquery()
        )
        stmt = select(Course, role).where(Course.tenant_id == self.tenant_id)
        if members_only:
            stmt = stmt.where(
                Course.id.in_(
                    select(CourseMember.course_id).where(
                        CourseMember.tenant_id == self.tenant_id, CourseMember.user_id == user_id
                    )
                )
            )
        if archived is not None:
            stmt = stmt.where(Course.archived_at.is_not(None) if archived else Course.archived_at.is_(None))
        rows = await self.session.execute(stmt.order_by(Course.title, Course.id))
        return [(c, r) for c, r in rows.all()]


class CourseMemberRepository(TenantRepository[CourseMember]):
    model = CourseMember

    async def add_once(self, member: CourseMember) -> CourseMember | None:
        """Insert, or None when the person is already in the course: a concurrent request may have added them
        between our check and this insert (the unique constraint decides; only the savepoint is undone)."""
        member.tenant_id = self.tenant_id
        try:
            async with self.session.begin_nested():
                self.session.add(member)
                await self.session.flush()
        except IntegrityError:
            return None
        return member

    async def role_of(self, course_id: uuid.UUID, user_id: uuid.UUID) -> CourseRole | None:
        stmt = select(CourseMember.role).where(
            CourseMember.tenant_id == self.tenant_id,
            CourseMember.course_id == course_id,
            CourseMember.user_id == user_id,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_member(self, course_id: uuid.UUID, user_id: uuid.UUID, *, for_update: bool = False):
        stmt = self.base().where(CourseMember.course_id == course_id, CourseMember.user_id == user_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.one_or_none(stmt)

    async def with_users(self, course_id: uuid.UUID) -> list[tuple[CourseMember, User]]:
        stmt = (
            select(CourseMember, User)
            .join(User, User.id == CourseMember.user_id)
            .where(CourseMember.tenant_id == self.tenant_id, CourseMember.course_id == course_id)
            .order_by(CourseMember.role, User.display_name, User.id)
        )
        return [(m, u) for m, u in (await self.session.execute(stmt)).all()]

    async def students_brief(self, course_id: uuid.UUID, user_id: uuid.UUID | None = None) -> list[Row[Any]]:
        """``(user_id, display_name)`` of the course's students (or of one of them), by name; Core rows, no ORM
        objects (staff lists of a large class read this every few seconds). The caller checked access."""
        stmt = (
            select(CourseMember.user_id, User.display_name)
            .join(User, User.id == CourseMember.user_id)
            .where(
                CourseMember.tenant_id == self.tenant_id,
                CourseMember.course_id == course_id,
                CourseMember.role == CourseRole.student,
            )
            .order_by(User.display_name, User.id)
        )
        if user_id is not None:
            stmt = stmt.where(CourseMember.user_id == user_id)
        return list((await self.session.execute(stmt)).all())

    async def count_role(self, course_id: uuid.UUID, role: CourseRole) -> int:
        return await self.count(self.base().where(CourseMember.course_id == course_id, CourseMember.role == role))

    async def user_ids_with_role(self, course_id: uuid.UUID, role: CourseRole) -> set[uuid.UUID]:
        stmt = select(CourseMember.user_id).where(
            CourseMember.tenant_id == self.tenant_id, CourseMember.course_id == course_id, CourseMember.role == role
        )
        return set((await self.session.execute(stmt)).scalars())

    async def course_ids(self, user_id: uuid.UUID, roles: Sequence[CourseRole]) -> list[uuid.UUID]:
        stmt = (
            select(CourseMember.course_id)
            .where(
                CourseMember.tenant_id == self.tenant_id,
                CourseMember.user_id == user_id,
                CourseMember.role.in_(list(roles)),
            )
            .order_by(CourseMember.course_id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def remove(self, member: CourseMember) -> None:
        await self.session.delete(member)
        await self.session.flush()


class AssignmentRepository(TenantRepository[Assignment]):
    model = Assignment

    async def with_course_and_role(
        self, assignment_id: uuid.UUID, user_id: uuid.UUID
    ) -> tuple[Assignment, Course, CourseRole | None, uuid.UUID | None] | None:
        """The assignment, its course, ``user_id``'s course role and group in one statement (the writing domain
        asks this on every edit batch). The unique constraints allow at most one row."""
        stmt = (
            select(Assignment, Course, CourseMember.role, AssignmentGroupMember.group_id)
            .join(Course, (Course.id == Assignment.course_id) & (Course.tenant_id == self.tenant_id))
            .outerjoin(
                CourseMember,
                (CourseMember.course_id == Assignment.course_id)
                & (CourseMember.user_id == user_id)
                & (CourseMember.tenant_id == self.tenant_id),
            )
            .outerjoin(
                AssignmentGroupMember,
                (AssignmentGroupMember.assignment_id == Assignment.id)
                & (AssignmentGroupMember.user_id == user_id)
                & (AssignmentGroupMember.tenant_id == self.tenant_id),
            )
            .where(Assignment.tenant_id == self.tenant_id, Assignment.id == assignment_id)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1], row[2], row[3])

    async def of_member(self, user_id: uuid.UUID, limit: int) -> list[tuple[Assignment, Course, CourseRole]]:
        """Assignments of the current (not archived) courses ``user_id`` belongs to, soonest due first; drafts only
        where they teach."""
        stmt = (
            select(Assignment, Course, CourseMember.role)
            .join(Course, (Course.id == Assignment.course_id) & (Course.tenant_id == self.tenant_id))
            .join(
                CourseMember,
                (CourseMember.course_id == Course.id)
                & (CourseMember.user_id == user_id)
                & (CourseMember.tenant_id == self.tenant_id),
            )
            .where(
                Assignment.tenant_id == self.tenant_id,
                Course.archived_at.is_(None),
                (CourseMember.role != CourseRole.student) | Assignment.published_at.is_not(None),
            )
            .order_by(Assignment.due_at.is_(None), Assignment.due_at, Assignment.id)
            .limit(limit)
        )
        return [(a, c, r) for a, c, r in (await self.session.execute(stmt)).all()]

    async def for_course(self, course_id: uuid.UUID, *, published_only: bool) -> list[Assignment]:
        stmt = self.base().where(Assignment.course_id == course_id)
        if published_only:
            stmt = stmt.where(Assignment.published_at.is_not(None))
        return await self.all(stmt.order_by(Assignment.due_at.is_(None), Assignment.due_at, Assignment.id))

    async def remove(self, assignment: Assignment) -> None:
        # Children first: SQLite enforces the foreign keys but the ORM does not cascade them for us.
        await self.session.execute(
            delete(AssignmentGroupMember).where(
                AssignmentGroupMember.tenant_id == self.tenant_id, AssignmentGroupMember.assignment_id == assignment.id
            )
        )
        await self.session.execute(
            delete(AssignmentGroup).where(
                AssignmentGroup.tenant_id == self.tenant_id, AssignmentGroup.assignment_id == assignment.id
            )
        )
        await self.session.delete(assignment)
        await self.session.flush()


class TemplateRepository(TenantRepository[AssignmentTemplate]):
    model = AssignmentTemplate

    async def visible_to(self, user_id: uuid.UUID | None) -> list[AssignmentTemplate]:
        """``user_id=None``: every template (admins)."""
        stmt = self.base()
        if user_id is not None:
            stmt = stmt.where(
                (AssignmentTemplate.created_by == user_id)
                | (AssignmentTemplate.visibility == TemplateVisibility.institution)
            )
        return await self.all(stmt.order_by(func.lower(AssignmentTemplate.title), AssignmentTemplate.id))

    async def remove(self, template: AssignmentTemplate) -> None:
        await self.session.delete(template)
        await self.session.flush()


class GroupRepository(TenantRepository[AssignmentGroup]):
    model = AssignmentGroup

    async def for_assignment(self, assignment_id: uuid.UUID) -> list[AssignmentGroup]:
        return await self.all(
            self.base().where(AssignmentGroup.assignment_id == assignment_id).order_by(AssignmentGroup.name)
        )

    async def by_name(self, assignment_id: uuid.UUID, name: str) -> AssignmentGroup | None:
        return await self.one_or_none(
            self.base().where(AssignmentGroup.assignment_id == assignment_id, AssignmentGroup.name == name)
        )

    async def remove(self, group: AssignmentGroup) -> None:
        await self.session.execute(
            delete(AssignmentGroupMember).where(
                AssignmentGroupMember.tenant_id == self.tenant_id, AssignmentGroupMember.group_id == group.id
            )
        )
        await self.session.delete(group)
        await self.session.flush()


class GroupMemberRepository(TenantRepository[AssignmentGroupMember]):
    model = AssignmentGroupMember

    async def for_assignment(self, assignment_id: uuid.UUID) -> list[AssignmentGroupMember]:
        return await self.all(self.base().where(AssignmentGroupMember.assignment_id == assignment_id))

    async def clear_group(self, group_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(AssignmentGroupMember).where(
                AssignmentGroupMember.tenant_id == self.tenant_id, AssignmentGroupMember.group_id == group_id
            )
        )
        await self.session.flush()

    async def remove_user_from_course_groups(self, course_id: uuid.UUID, user_id: uuid.UUID) -> None:
        ids = select(Assignment.id).where(Assignment.tenant_id == self.tenant_id, Assignment.course_id == course_id)
        await self.session.execute(
            delete(AssignmentGroupMember).where(
                AssignmentGroupMember.tenant_id == self.tenant_id,
                AssignmentGroupMember.user_id == user_id,
                AssignmentGroupMember.assignment_id.in_(ids),
            )
        )
        await self.session.flush()
