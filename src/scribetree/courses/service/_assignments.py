"""Assignments (settings, stages, rubric, objectives, publishing, cloning) and their groups."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, clock
from scribetree.courses.access import Need, access_assignment, access_course
from scribetree.courses.exceptions import (
    AlreadyInGroup,
    AssignmentInvalid,
    GroupNameTaken,
    GroupNotFound,
)
from scribetree.courses.models import Assignment, AssignmentGroup, AssignmentGroupMember, AssignmentKind, CourseRole
from scribetree.courses.repository import (
    AssignmentRepository,
    CourseMemberRepository,
    GroupMemberRepository,
    GroupRepository,
)
from scribetree.courses.schemas import (
    AssignmentClone,
    AssignmentCreate,
    AssignmentRead,
    AssignmentUpdate,
    GroupCreate,
    GroupRead,
    GroupUpdate,
    MyAssignmentRead,
    Rubric,
    Stage,
)
from scribetree.courses.service._common import entry, require_open, tenant_of
from scribetree.tenancy.context import AuthContext

# Fields an assignment shares with a template (copied on deploy, clone and save-as-template).
SHARED_FIELDS = (
    "title",
    "instructions_md",
    "kind",
    "stages",
    "word_min",
    "word_max",
    "late_policy",
    "late_penalty_percent",
    "resubmission",
    "ai_statement_required",
    "ai_settings",
    "rubric",
    "objectives",
)


def new_item_id() -> str:
    return uuid.uuid4().hex[:12]


def store_rubric(rubric: Rubric | dict[str, Any] | None) -> dict[str, Any] | None:
    """The rubric as stored: every criterion and level gets a stable id (kept when the client sends one, so
    scores given against an id survive edits), and ``total_points`` is computed."""
    if rubric is None:
        return None
    model = rubric if isinstance(rubric, Rubric) else Rubric.model_validate(rubric)
    seen: set[str] = set()
    for c in model.criteria:
        if c.id is None or c.id in seen:
            c.id = new_item_id()
        seen.add(c.id)
        for lv in c.levels:
            if lv.id is None or lv.id in seen:
                lv.id = new_item_id()
            seen.add(lv.id)
    return model.model_dump(mode="json")


def store_stages(stages: list[Stage] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for s in stages:
        st = s if isinstance(s, Stage) else Stage.model_validate(s)
        due = clock.as_utc(st.due_at).isoformat() if st.due_at else None
        out.append({"key": st.key, "label": st.label, "due_at": due})
    return out


def check_consistency(values: dict[str, Any], *, template: bool = False) -> None:
    """Rules across fields, on the values as they will be stored (after a partial update is merged)."""
    wmin, wmax = values.get("word_min"), values.get("word_max")
    if wmin is not None and wmax is not None and wmin > wmax:
        raise AssignmentInvalid("The minimum word count cannot be larger than the maximum.")
    if values.get("late_policy") == "penalty" and not values.get("late_penalty_percent"):
        raise AssignmentInvalid("A late penalty needs a percentage between 1 and 100.")
    stages = values.get("stages") or []
    due_at: datetime | None = values.get("due_at")
    for s in stages:
        stage_due = datetime.fromisoformat(s["due_at"]) if s.get("due_at") else None
        if stage_due is None:
            continue
        if template:
            raise AssignmentInvalid(
                "Templates cannot carry stage due dates (they are reused across terms); set them after deploying."
            )
        if due_at is not None and stage_due > due_at:
            raise AssignmentInvalid(
                f"Stage '{s['label']}' is due after the assignment itself; move it before the due date."
            )


def validated_update(data: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields sent, in their stored form; ``null`` for required fields is refused."""
    changes: dict[str, Any] = {}
    for name in sorted(data.model_fields_set - set(skip)):
        value = getattr(data, name)
        if value is None and name not in ("due_at", "word_min", "word_max", "rubric"):
            raise AssignmentInvalid(f"'{name}' cannot be empty; leave it out to keep the current value.")
        if name == "stages":
            value = store_stages(value)
        elif name == "rubric":
            value = store_rubric(value)
        elif name == "objectives":
            value = [o.model_dump(mode="json") for o in value]
        elif name == "due_at" and value is not None:
            value = clock.as_utc(value)
        changes[name] = value
    return changes


def apply_changes(row: Any, changes: dict[str, Any], *, template: bool = False) -> list[str]:
    merged = {k: getattr(row, k) for k in (*SHARED_FIELDS, *(() if template else ("due_at",)))}
    merged.update(changes)
    check_consistency(merged, template=template)
    changed = [k for k, v in changes.items() if getattr(row, k) != v]
    for k in changed:
        setattr(row, k, changes[k])
    return sorted(changed)


def creation_values(data: AssignmentCreate | Any) -> dict[str, Any]:
    return {
        "title": data.title,
        "instructions_md": data.instructions_md,
        "kind": data.kind,
        "stages": store_stages(data.stages),
        "word_min": data.word_min,
        "word_max": data.word_max,
        "late_policy": data.late_policy,
        "late_penalty_percent": data.late_penalty_percent,
        "resubmission": data.resubmission,
        "ai_statement_required": data.ai_statement_required,
        "ai_settings": data.ai_settings,
        "rubric": store_rubric(data.rubric),
        "objectives": [o.model_dump(mode="json") for o in data.objectives],
    }


def copy_values(source: Any) -> dict[str, Any]:
    return {k: copy.deepcopy(getattr(source, k)) for k in SHARED_FIELDS}


def _group_read(g: AssignmentGroup, user_ids: list[uuid.UUID]) -> GroupRead:
    return GroupRead(id=g.id, assignment_id=g.assignment_id, name=g.name, user_ids=sorted(user_ids))


class AssignmentService:
    async def list_for_course(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> list[Assignment]:
        """Staff see drafts too; students see published assignments only."""
        acc = await access_course(session, ctx, course_id)
        return await AssignmentRepository(session, tenant_of(ctx)).for_course(
            course_id, published_only=acc.course_role == CourseRole.student
        )

    async def list_mine(self, session: AsyncSession, ctx: AuthContext, *, limit: int = 100) -> list[MyAssignmentRead]:
        """Assignments of all the caller's current courses, soonest due first (students: published ones)."""
        rows = await AssignmentRepository(session, tenant_of(ctx)).of_member(ctx.user_id, limit)
        return [
            MyAssignmentRead(
                **AssignmentRead.model_validate(a).model_dump(exclude={"instructions_html"}),
                course_title=c.title,
                my_role=r,
            )
            for a, c, r in rows
        ]

    async def get(self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> Assignment:
        return (await access_assignment(session, ctx, assignment_id)).assignment

    async def get_for_teaching(self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> Assignment:
        """The assignment, if the caller may edit it (instructor, TA, admin); else 403/404."""
        return (await access_assignment(session, ctx, assignment_id, Need.teach)).assignment

    async def create(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        data: AssignmentCreate,
        *,
        template_id: uuid.UUID | None = None,
    ) -> Assignment:
        """Create a draft assignment (instructors, TAs, admins)."""
        acc = await access_course(session, ctx, course_id, Need.teach)
        require_open(acc.course)
        values = creation_values(data)
        values["due_at"] = clock.as_utc(data.due_at) if data.due_at else None
        check_consistency(values)
        return await self._insert(session, ctx, course_id, values, template_id=template_id, action="assignment.created")

    async def _insert(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        values: dict[str, Any],
        *,
        action: str,
        template_id: uuid.UUID | None = None,
        **details: Any,
    ) -> Assignment:
        tenant_id = tenant_of(ctx)
        a = await AssignmentRepository(session, tenant_id).add(
            Assignment(
                tenant_id=tenant_id, course_id=course_id, template_id=template_id, created_by=ctx.user_id, **values
            )
        )
        await audit.record(
            session, entry(ctx, action, "assignment", a.id, course_id=str(course_id), title=a.title, **details)
        )
        return a

    async def update(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID, data: AssignmentUpdate
    ) -> Assignment:
        acc = await access_assignment(session, ctx, assignment_id, Need.teach)
        a = acc.assignment
        course = await access_course(session, ctx, a.course_id, Need.teach)
        require_open(course.course)
        changed = apply_changes(a, validated_update(data))
        if changed:
            await session.flush()
            await audit.record(session, entry(ctx, "assignment.updated", "assignment", a.id, fields=changed))
        return a

    async def delete(self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> None:
        """Delete an assignment (instructors and admins)."""
        a = (await access_assignment(session, ctx, assignment_id, Need.manage)).assignment
        await AssignmentRepository(session, tenant_of(ctx)).remove(a)
        await audit.record(
            session,
            entry(ctx, "assignment.deleted", "assignment", assignment_id, course_id=str(a.course_id), title=a.title),
        )

    async def set_published(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID, published: bool
    ) -> Assignment:
        """Publish (students of the course see it) or take back to draft (instructors and admins)."""
        a = (await access_assignment(session, ctx, assignment_id, Need.manage)).assignment
        course = await access_course(session, ctx, a.course_id, Need.manage)
        require_open(course.course)
        if (a.published_at is not None) != published:
            a.published_at = clock.utcnow() if published else None
            await session.flush()
            action = "assignment.published" if published else "assignment.unpublished"
            await audit.record(session, entry(ctx, action, "assignment", a.id))
        return a

    async def clone(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID, data: AssignmentClone
    ) -> Assignment:
        """Copy an assignment as a draft into a course the caller teaches (groups and dates are not copied)."""
        source = (await access_assignment(session, ctx, assignment_id, Need.teach)).assignment
        target = await access_course(session, ctx, data.course_id, Need.teach)
        require_open(target.course)
        values = copy_values(source)
        values["stages"] = [{**s, "due_at": None} for s in values["stages"]]
        values["due_at"] = None
        if data.title:
            values["title"] = data.title
        return await self._insert(
            session,
            ctx,
            target.course.id,
            values,
            template_id=source.template_id,
            action="assignment.cloned",
            source_id=str(source.id),
        )

    # ---- groups ----

    async def list_groups(self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> list[GroupRead]:
        """Every group (staff); a student sees only their own group."""
        acc = await access_assignment(session, ctx, assignment_id)
        tenant_id = tenant_of(ctx)
        groups = await GroupRepository(session, tenant_id).for_assignment(assignment_id)
        members: dict[uuid.UUID, list[uuid.UUID]] = {}
        for gm in await GroupMemberRepository(session, tenant_id).for_assignment(assignment_id):
            members.setdefault(gm.group_id, []).append(gm.user_id)
        if acc.course_role == CourseRole.student:
            groups = [g for g in groups if g.id == acc.group_id]
        return [_group_read(g, members.get(g.id, [])) for g in groups]

    async def _group_assignment(self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> Assignment:
        a = (await access_assignment(session, ctx, assignment_id, Need.teach)).assignment
        require_open((await access_course(session, ctx, a.course_id, Need.teach)).course)
        if a.kind != AssignmentKind.group:
            raise AssignmentInvalid(
                "Groups belong to group assignments; change the assignment's type to 'group' first."
            )
        return a

    async def _set_members(
        self, session: AsyncSession, ctx: AuthContext, a: Assignment, group: AssignmentGroup, user_ids: list[uuid.UUID]
    ) -> list[uuid.UUID]:
        tenant_id = tenant_of(ctx)
        wanted = list(dict.fromkeys(user_ids))
        students = await CourseMemberRepository(session, tenant_id).user_ids_with_role(a.course_id, CourseRole.student)
        strangers = [u for u in wanted if u not in students]
        if strangers:
            raise AssignmentInvalid(
                "Only students of the course can be in a group; these are not: " + ", ".join(map(str, strangers)),
            )
        gm_repo = GroupMemberRepository(session, tenant_id)
        taken = {
            gm.user_id for gm in await gm_repo.for_assignment(a.id) if gm.group_id != group.id and gm.user_id in wanted
        }
        if taken:
            raise AlreadyInGroup(
                "A student can be in only one group per assignment; already in another group: "
                + ", ".join(map(str, sorted(taken)))
            )
        await gm_repo.clear_group(group.id)
        for uid in wanted:
            session.add(AssignmentGroupMember(tenant_id=tenant_id, assignment_id=a.id, group_id=group.id, user_id=uid))
        await session.flush()
        return wanted

    async def create_group(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID, data: GroupCreate
    ) -> GroupRead:
        a = await self._group_assignment(session, ctx, assignment_id)
        repo = GroupRepository(session, tenant_of(ctx))
        if await repo.by_name(a.id, data.name) is not None:
            raise GroupNameTaken()
        g = await repo.add(AssignmentGroup(tenant_id=tenant_of(ctx), assignment_id=a.id, name=data.name))
        members = await self._set_members(session, ctx, a, g, data.user_ids)
        await audit.record(
            session,
            entry(
                ctx,
                "assignment.group_created",
                "assignment",
                a.id,
                group_id=str(g.id),
                user_ids=[str(u) for u in members],
            ),
        )
        return _group_read(g, members)

    async def _group(
        self, session: AsyncSession, ctx: AuthContext, a: Assignment, group_id: uuid.UUID
    ) -> AssignmentGroup:
        g = await GroupRepository(session, tenant_of(ctx)).get(group_id)
        if g is None or g.assignment_id != a.id:
            raise GroupNotFound()
        return g

    async def update_group(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID, group_id: uuid.UUID, data: GroupUpdate
    ) -> GroupRead:
        a = await self._group_assignment(session, ctx, assignment_id)
        g = await self._group(session, ctx, a, group_id)
        repo = GroupRepository(session, tenant_of(ctx))
        if data.name is not None and data.name != g.name:
            if await repo.by_name(a.id, data.name) is not None:
                raise GroupNameTaken()
            g.name = data.name
        if data.user_ids is not None:
            members = await self._set_members(session, ctx, a, g, data.user_ids)
        else:
            members = [
                gm.user_id
                for gm in await GroupMemberRepository(session, tenant_of(ctx)).for_assignment(a.id)
                if gm.group_id == g.id
            ]
        await session.flush()
        await audit.record(
            session,
            entry(
                ctx,
                "assignment.group_updated",
                "assignment",
                a.id,
                group_id=str(g.id),
                name=g.name,
                user_ids=[str(u) for u in members],
            ),
        )
        return _group_read(g, members)

    async def delete_group(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID, group_id: uuid.UUID
    ) -> None:
        a = await self._group_assignment(session, ctx, assignment_id)
        g = await self._group(session, ctx, a, group_id)
        await GroupRepository(session, tenant_of(ctx)).remove(g)
        await audit.record(session, entry(ctx, "assignment.group_deleted", "assignment", a.id, group_id=str(group_id)))


assignment = AssignmentService()
