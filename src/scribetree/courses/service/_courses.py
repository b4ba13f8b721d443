"""Courses, join codes and rosters."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, clock
from scribetree.courses.access import ADMIN, Need, access_course, effective_role, is_institution_admin
from scribetree.courses.exceptions import (
    AlreadyInCourse,
    CourseCreatorRequired,
    CourseInvalid,
    CourseMemberNotFound,
    InstructorNeedsEducator,
    JoinCodeInvalid,
    JoinNotForStaff,
    LastInstructor,
    NotInstitutionMember,
)
from scribetree.courses.models import Course, CourseMember, CourseRole
from scribetree.courses.repository import CourseMemberRepository, CourseRepository, GroupMemberRepository
from scribetree.courses.schemas import (
    CourseCreate,
    CourseMemberAdd,
    CourseMemberRead,
    CourseRead,
    CourseUpdate,
)
from scribetree.courses.service._common import CREATOR_ROLES, entry, require_creator, require_open, tenant_of
from scribetree.identity.models import User
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import Role
from scribetree.tenancy.service import member as member_service

# No 0/O, 1/I/L: codes are read aloud and copied from a projector. 31^8 ≈ 8.5e11 codes per institution.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
JOINABLE_TENANT_ROLES = (Role.student, Role.teaching_assistant)


def course_read(course: Course, role: str | None) -> CourseRead:
    out = CourseRead.model_validate(course, from_attributes=True).model_copy(update={"my_role": role})
    if role not in (CourseRole.instructor, ADMIN):
        out.join_code = None  # only those who manage the roster see (and hand out) the code
    return out


def _member_read(m: CourseMember, u: User) -> CourseMemberRead:
    return CourseMemberRead(
        user_id=u.id, email=u.email, display_name=u.display_name, role=m.role, added_at=m.created_at
    )


class CourseService:
    def may_create(self, ctx: AuthContext) -> bool:
        """Whether the caller may create courses (educators and institution admins)."""
        try:
            require_creator(ctx)
        except CourseCreatorRequired:
            return False
        return True

    def check_may_create(self, ctx: AuthContext) -> None:
        require_creator(ctx)

    async def list_courses(
        self, session: AsyncSession, ctx: AuthContext, *, archived: bool | None = False
    ) -> list[CourseRead]:
        """The caller's courses (institution admins: every course). Students never see archived courses."""
        admin = is_institution_admin(ctx)
        rows = await CourseRepository(session, tenant_of(ctx)).listing(
            user_id=ctx.user_id, members_only=not admin, archived=archived
        )
        out = []
        for c, member_role in rows:
            role = effective_role(ctx, member_role)
            if role == CourseRole.student and c.archived_at is not None:
                continue
            out.append(course_read(c, role))
        return out

    async def get_course(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> CourseRead:
        acc = await access_course(session, ctx, course_id)
        return course_read(acc.course, acc.course_role)

    async def get_for_managing(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> CourseRead:
        """The course, if the caller may change it (instructor, admin); else 403/404."""
        acc = await access_course(session, ctx, course_id, Need.manage)
        return course_read(acc.course, acc.course_role)

    async def get_for_teaching(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> CourseRead:
        """The course, if the caller may create and edit its assignments (instructor, TA, admin); else 403/404."""
        acc = await access_course(session, ctx, course_id, Need.teach)
        return course_read(acc.course, acc.course_role)

    async def create(self, session: AsyncSession, ctx: AuthContext, data: CourseCreate) -> CourseRead:
        """Create a course; the creator becomes its instructor."""
        require_creator(ctx)
        tenant_id = tenant_of(ctx)
        repo = CourseRepository(session, tenant_id)
        c = await repo.add(
            Course(
                tenant_id=tenant_id,
                title=data.title,
                description=data.description,
                section=data.section,
                term=data.term,
                starts_on=data.starts_on,
                ends_on=data.ends_on,
                created_by=ctx.user_id,
            )
        )
        if data.join_code_enabled:
            c.join_code = await self._new_code(repo)
        await CourseMemberRepository(session, tenant_id).add(
            CourseMember(tenant_id=tenant_id, course_id=c.id, user_id=ctx.user_id, role=CourseRole.instructor)
        )
        await session.flush()
        await audit.record(session, entry(ctx, "course.created", "course", c.id, title=c.title))
        return course_read(c, CourseRole.instructor)

    async def update(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, data: CourseUpdate
    ) -> CourseRead:
        acc = await access_course(session, ctx, course_id, Need.manage)
        c = acc.course
        require_open(c)
        changes = data.model_dump(exclude_unset=True)
        if "title" in changes and changes["title"] is None:
            raise CourseInvalid("A course needs a title.")
        if "description" in changes and changes["description"] is None:
            changes["description"] = ""
        starts = changes.get("starts_on", c.starts_on)
        ends = changes.get("ends_on", c.ends_on)
        if starts and ends and ends < starts:
            raise CourseInvalid("The end date must be on or after the start date.")
        changed = {k: v for k, v in changes.items() if getattr(c, k) != v}
        for k, v in changed.items():
            setattr(c, k, v)
        if changed:
            await session.flush()
            await audit.record(session, entry(ctx, "course.updated", "course", c.id, fields=sorted(changed)))
        return course_read(c, acc.course_role)

    async def set_archived(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, archived: bool
    ) -> CourseRead:
        """Archive (read-only for staff, hidden from students) or restore a course."""
        acc = await access_course(session, ctx, course_id, Need.manage)
        c = acc.course
        if (c.archived_at is not None) != archived:
            c.archived_at = clock.utcnow() if archived else None
            await session.flush()
            await audit.record(
                session, entry(ctx, "course.archived" if archived else "course.restored", "course", c.id)
            )
        return course_read(c, acc.course_role)

    # ---- join codes ----

    async def _new_code(self, repo: CourseRepository) -> str:
        for _ in range(10):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if await repo.by_join_code(code) is None:
                return code
        raise RuntimeError("could not find a free join code in 10 tries")  # pragma: no cover (8.5e11 codes)

    async def rotate_join_code(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> CourseRead:
        """Issue a new join code (the old one stops working at once)."""
        acc = await access_course(session, ctx, course_id, Need.manage)
        c = acc.course
        require_open(c)
        c.join_code = await self._new_code(CourseRepository(session, tenant_of(ctx)))
        await session.flush()
        await audit.record(session, entry(ctx, "course.join_code_rotated", "course", c.id))
        return course_read(c, acc.course_role)

    async def disable_join_code(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> CourseRead:
        acc = await access_course(session, ctx, course_id, Need.manage)
        c = acc.course
        if c.join_code is not None:
            c.join_code = None
            await session.flush()
            await audit.record(session, entry(ctx, "course.join_code_disabled", "course", c.id))
        return course_read(c, acc.course_role)

    async def join(self, session: AsyncSession, ctx: AuthContext, code: str) -> CourseRead:
        """Enroll the caller as a student of the course with this code (idempotent for current members)."""
        tenant_id = tenant_of(ctx)
        if ctx.role not in JOINABLE_TENANT_ROLES or ctx.is_support_session:
            raise JoinNotForStaff()
        normalized = code.strip().upper().replace("-", "").replace(" ", "")
        c = await CourseRepository(session, tenant_id).by_join_code(normalized)
        if c is None or c.archived_at is not None:
            raise JoinCodeInvalid()
        members = CourseMemberRepository(session, tenant_id)
        current = await members.role_of(c.id, ctx.user_id)
        if current is not None:
            return course_read(c, effective_role(ctx, current))
        added = await members.add_once(
            CourseMember(tenant_id=tenant_id, course_id=c.id, user_id=ctx.user_id, role=CourseRole.student)
        )
        if added is None:  # joined in a concurrent request
            return course_read(c, effective_role(ctx, await members.role_of(c.id, ctx.user_id)))
        await audit.record(session, entry(ctx, "course.joined", "course", c.id, role=CourseRole.student))
        return course_read(c, CourseRole.student)

    # ---- roster ----

    async def list_members(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID
    ) -> list[CourseMemberRead]:
        """The roster (instructors, TAs and admins; students may not list classmates)."""
        await access_course(session, ctx, course_id, Need.teach)
        rows = await CourseMemberRepository(session, tenant_of(ctx)).with_users(course_id)
        return [_member_read(m, u) for m, u in rows]

    async def student_names(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID
    ) -> list[tuple[uuid.UUID, str]]:
        """Staff: ``(user_id, display_name)`` of every student of the course (the submission list's rows)."""
        await access_course(session, ctx, course_id, Need.teach)
        return [
            (r.user_id, r.display_name)
            for r in await CourseMemberRepository(session, tenant_of(ctx)).students_brief(course_id)
        ]

    async def _institution_role(self, session: AsyncSession, tenant_id: uuid.UUID, user: User | None) -> Role:
        if user is not None and user.is_active:
            for m, t in await member_service.memberships_of(session, user.id):
                if t.id == tenant_id:
                    return m.role
        raise NotInstitutionMember()

    async def add_member(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, data: CourseMemberAdd
    ) -> CourseMemberRead:
        """Add a member of the institution to the course as student, TA or instructor."""
        acc = await access_course(session, ctx, course_id, Need.manage)
        require_open(acc.course)
        tenant_id = tenant_of(ctx)
        if (data.user_id is None) == (data.email is None):
            raise CourseInvalid("Give either the user_id or the email of the person to add, not both.")
        if data.user_id is not None:
            user = await identity.get_user(session, data.user_id)
        else:
            user = await identity.get_by_email(session, str(data.email).strip().lower())
        tenant_role = await self._institution_role(session, tenant_id, user)
        assert user is not None
        if data.role == CourseRole.instructor and tenant_role not in CREATOR_ROLES:
            raise InstructorNeedsEducator()
        members = CourseMemberRepository(session, tenant_id)
        if await members.role_of(course_id, user.id) is not None:
            raise AlreadyInCourse()
        m = await members.add_once(
            CourseMember(tenant_id=tenant_id, course_id=course_id, user_id=user.id, role=data.role)
        )
        if m is None:
            raise AlreadyInCourse()
        await audit.record(
            session, entry(ctx, "course.member_added", "course", course_id, user_id=str(user.id), role=data.role)
        )
        return _member_read(m, user)

    async def change_member_role(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, user_id: uuid.UUID, role: CourseRole
    ) -> CourseMemberRead:
        acc = await access_course(session, ctx, course_id, Need.manage)
        require_open(acc.course)
        tenant_id = tenant_of(ctx)
        members = CourseMemberRepository(session, tenant_id)
        m = await members.get_member(course_id, user_id, for_update=True)
        if m is None:
            raise CourseMemberNotFound()
        user = await identity.get_user(session, user_id)
        assert user is not None
        before = m.role
        if before != role:
            if (
                role == CourseRole.instructor
                and await self._institution_role(session, tenant_id, user) not in CREATOR_ROLES
            ):
                raise InstructorNeedsEducator()
            if before == CourseRole.instructor and await members.count_role(course_id, CourseRole.instructor) <= 1:
                raise LastInstructor()
            m.role = role
            await session.flush()
            await audit.record(
                session,
                entry(
                    ctx,
                    "course.member_role_changed",
                    "course",
                    course_id,
                    user_id=str(user_id),
                    to=role,
                    **{"from": before},
                ),
            )
        return _member_read(m, user)

    async def remove_member(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        """Take someone off the roster (and out of the course's assignment groups); their work is kept."""
        acc = await access_course(session, ctx, course_id, Need.manage)
        require_open(acc.course)
        tenant_id = tenant_of(ctx)
        members = CourseMemberRepository(session, tenant_id)
        m = await members.get_member(course_id, user_id, for_update=True)
        if m is None:
            raise CourseMemberNotFound()
        if m.role == CourseRole.instructor and await members.count_role(course_id, CourseRole.instructor) <= 1:
            raise LastInstructor()
        role = m.role
        await GroupMemberRepository(session, tenant_id).remove_user_from_course_groups(course_id, user_id)
        await members.remove(m)
        await audit.record(
            session, entry(ctx, "course.member_removed", "course", course_id, user_id=str(user_id), role=role)
        )


course = CourseService()
