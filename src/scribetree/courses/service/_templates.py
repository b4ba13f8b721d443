"""The institution's assignment template library: private to the author or shared with every educator."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, clock
from scribetree.courses.access import Need, access_assignment, access_course, is_institution_admin
from scribetree.courses.exceptions import AssignmentInvalid, TemplateAuthorRequired, TemplateNotFound
from scribetree.courses.models import Assignment, AssignmentTemplate, TemplateVisibility
from scribetree.courses.repository import TemplateRepository
from scribetree.courses.schemas import TemplateCreate, TemplateDeploy, TemplateFromAssignment, TemplateUpdate
from scribetree.courses.service._assignments import (
    apply_changes,
    check_consistency,
    copy_values,
    creation_values,
    validated_update,
)
from scribetree.courses.service._assignments import (
    assignment as assignment_service,
)
from scribetree.courses.service._common import CREATOR_ROLES, entry, require_creator, require_open, tenant_of
from scribetree.tenancy.context import AuthContext


class TemplateService:
    async def list_templates(self, session: AsyncSession, ctx: AuthContext) -> list[AssignmentTemplate]:
        """Your templates and those shared with the institution (admins: all)."""
        require_creator(ctx)
        repo = TemplateRepository(session, tenant_of(ctx))
        return await repo.visible_to(None if is_institution_admin(ctx) else ctx.user_id)

    async def _visible(self, session: AsyncSession, ctx: AuthContext, template_id: uuid.UUID) -> AssignmentTemplate:
        if ctx.tenant_id is None or ctx.role not in CREATOR_ROLES or ctx.is_support_session:
            raise TemplateNotFound()
        t = await TemplateRepository(session, ctx.tenant_id).get(template_id)
        if t is None:
            raise TemplateNotFound()
        if not (
            is_institution_admin(ctx) or t.created_by == ctx.user_id or t.visibility == TemplateVisibility.institution
        ):
            raise TemplateNotFound()
        return t

    async def _editable(self, session: AsyncSession, ctx: AuthContext, template_id: uuid.UUID) -> AssignmentTemplate:
        t = await self._visible(session, ctx, template_id)
        if not (is_institution_admin(ctx) or t.created_by == ctx.user_id):
            raise TemplateAuthorRequired()
        return t

    async def get(self, session: AsyncSession, ctx: AuthContext, template_id: uuid.UUID) -> AssignmentTemplate:
        return await self._visible(session, ctx, template_id)

    async def create(self, session: AsyncSession, ctx: AuthContext, data: TemplateCreate) -> AssignmentTemplate:
        require_creator(ctx)
        values = creation_values(data)
        check_consistency(values, template=True)
        return await self._insert(session, ctx, values, data.description, data.visibility, action="template.created")

    async def _insert(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        values: dict,
        description: str,
        visibility: TemplateVisibility,
        *,
        action: str,
        **details: object,
    ) -> AssignmentTemplate:
        tenant_id = tenant_of(ctx)
        t = await TemplateRepository(session, tenant_id).add(
            AssignmentTemplate(
                tenant_id=tenant_id, description=description, visibility=visibility, created_by=ctx.user_id, **values
            )
        )
        await audit.record(
            session, entry(ctx, action, "assignment_template", t.id, title=t.title, visibility=visibility, **details)
        )
        return t

    async def update(
        self, session: AsyncSession, ctx: AuthContext, template_id: uuid.UUID, data: TemplateUpdate
    ) -> AssignmentTemplate:
        t = await self._editable(session, ctx, template_id)
        own = {k: getattr(data, k) for k in ("description", "visibility") if k in data.model_fields_set}
        if any(v is None for v in own.values()):
            raise AssignmentInvalid("'description' and 'visibility' cannot be empty; leave them out to keep them.")
        changed = apply_changes(t, validated_update(data, skip=tuple(own)), template=True)
        for k, v in own.items():
            if getattr(t, k) != v:
                setattr(t, k, v)
                changed.append(k)
        if changed:
            await session.flush()
            await audit.record(
                session, entry(ctx, "template.updated", "assignment_template", t.id, fields=sorted(changed))
            )
        return t

    async def delete(self, session: AsyncSession, ctx: AuthContext, template_id: uuid.UUID) -> None:
        """Delete a template; assignments deployed from it keep their copy."""
        t = await self._editable(session, ctx, template_id)
        await TemplateRepository(session, tenant_of(ctx)).remove(t)
        await audit.record(session, entry(ctx, "template.deleted", "assignment_template", template_id, title=t.title))

    async def deploy(
        self, session: AsyncSession, ctx: AuthContext, template_id: uuid.UUID, data: TemplateDeploy
    ) -> Assignment:
        """Create a draft assignment from the template in a course the caller teaches."""
        t = await self._visible(session, ctx, template_id)
        target = await access_course(session, ctx, data.course_id, Need.teach)
        require_open(target.course)
        values = copy_values(t)
        if data.title:
            values["title"] = data.title
        values["due_at"] = clock.as_utc(data.due_at) if data.due_at else None
        check_consistency(values)
        return await assignment_service._insert(
            session, ctx, target.course.id, values, template_id=t.id, action="template.deployed"
        )

    async def from_assignment(
        self, session: AsyncSession, ctx: AuthContext, data: TemplateFromAssignment
    ) -> AssignmentTemplate:
        """Save an assignment you teach into the library (dates are left out)."""
        require_creator(ctx)
        a = (await access_assignment(session, ctx, data.assignment_id, Need.teach)).assignment
        values = copy_values(a)
        values["stages"] = [{**s, "due_at": None} for s in values["stages"]]
        return await self._insert(
            session,
            ctx,
            values,
            data.description,
            data.visibility,
            action="template.created",
            source_assignment_id=str(a.id),
        )


template = TemplateService()
