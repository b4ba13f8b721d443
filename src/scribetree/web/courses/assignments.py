"""Assignment pages: the form (stages, objectives, rubric; "add a row" buttons work without JavaScript),
an assignment's page, publishing, groups of a group assignment, and the template library (save to it, start
from it). Adapters only, like ``routes.py``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.errors import InvalidInput, NotFound, ScribetreeError
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses import auth
from scribetree.courses.models import Assignment, CourseRole
from scribetree.courses.schemas import (
    AssignmentCreate,
    AssignmentRead,
    AssignmentUpdate,
    GroupCreate,
    GroupUpdate,
    TemplateDeploy,
    TemplateFromAssignment,
)
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.courses.service import template as template_service
from scribetree.tenancy.context import AuthContext
from scribetree.web.courses import forms
from scribetree.web.courses.common import FormStr, failed
from scribetree.web.pages import FormState, parse_id, redirect, render

router = APIRouter(route_class=UnitOfWorkRoute)


# ---- assignments ------------------------------------------------------------------------------------------


async def _assignment_form(
    request: Request,
    session: AsyncSession,
    course: Any,
    values: dict[str, Any],
    form: FormState,
    *,
    assignment: Assignment | None = None,
    status: int = 200,
    templates: list[Any] | None = None,
) -> Response:
    form.values = values  # the form macros read the top-level fields from here
    return await render(
        request,
        "courses/assignment_form.html",
        session=session,
        status=status,
        title=f"Edit {assignment.title}" if assignment else "New assignment",
        course=course,
        assignment=assignment,
        v=values,
        form=form,
        kinds=forms.KINDS,
        late_policies=forms.LATE_POLICIES,
        resubmission=forms.RESUBMISSION,
        bloom_levels=forms.BLOOM_LEVELS,
        templates=templates or [],
    )


async def _submitted(
    request: Request,
    read: AsyncSession,
    write: AsyncSession,
    ctx: AuthContext,
    course: Any,
    *,
    assignment: Assignment | None = None,
) -> Response:
    """Handle a submitted assignment form: an "add a row" button re-renders, "save" creates or updates."""
    raw = await request.form()
    values = forms.values_from_form(raw)
    action = str(raw.get("action", "save"))
    form = FormState()
    if action != "save":
        if not forms.add_row(values, action):
            form.error("_form", "That button did nothing; use Save assignment to save.")
        return await _assignment_form(request, read, course, values, form, assignment=assignment)
    body = forms.payload(values, form)
    model = AssignmentUpdate if assignment is not None else AssignmentCreate
    try:
        data = model.model_validate(body)
    except ValidationError as exc:
        forms.errors_from(exc, form)
    if not form.ok:
        return await _assignment_form(request, read, course, values, form, assignment=assignment, status=422)
    try:
        if assignment is None:
            saved = await assignment_service.create(write, ctx, course.id, data)  # type: ignore[arg-type]
        else:
            saved = await assignment_service.update(write, ctx, assignment.id, data)  # type: ignore[arg-type]
    except NotFound:
        raise
    except ScribetreeError as exc:
        form.error("_form", exc.detail)
        return await _assignment_form(
            request, read, course, values, form, assignment=assignment, status=exc.status_code
        )
    verb = "created as a draft" if assignment is None else "saved"
    return redirect(f"/courses/{course.id}/assignments/{saved.id}", f"“{saved.title}” was {verb}.")


@router.get("/courses/{course_id}/assignments/new", include_in_schema=False)
async def new_assignment(request: Request, course_id: str, ctx: auth.CoursesRead, session: ReadSession) -> Response:
    course = await course_service.get_for_teaching(session, ctx, parse_id(course_id))
    templates = await template_service.list_templates(session, ctx) if course_service.may_create(ctx) else []
    return await _assignment_form(request, session, course, forms.blank_values(), FormState(), templates=templates)


@router.post("/courses/{course_id}/assignments/from-template", include_in_schema=False)
async def from_template(
    request: Request, course_id: str, ctx: auth.CoursesWrite, session: WriteSession, template_id: FormStr = ""
) -> Response:
    cid = parse_id(course_id)
    deployed = await template_service.deploy(session, ctx, parse_id(template_id), TemplateDeploy(course_id=cid))
    return redirect(
        f"/courses/{cid}/assignments/{deployed.id}/edit",
        f"“{deployed.title}” was copied from the library as a draft. Set its dates, then save.",
    )


@router.post("/courses/{course_id}/assignments/new", include_in_schema=False)
async def create_assignment(
    request: Request, course_id: str, ctx: auth.CoursesWrite, read: ReadSession, write: WriteSession
) -> Response:
    course = await course_service.get_for_teaching(read, ctx, parse_id(course_id))
    return await _submitted(request, read, write, ctx, course)


async def _in_course(session: AsyncSession, ctx: AuthContext, course_id: str, assignment_id: str, *, teach: bool):
    cid, aid = parse_id(course_id), parse_id(assignment_id)
    if teach:
        a = await assignment_service.get_for_teaching(session, ctx, aid)
    else:
        a = await assignment_service.get(session, ctx, aid)
    if a.course_id != cid:
        raise NotFound()
    return a


@router.get("/courses/{course_id}/assignments/{assignment_id}", include_in_schema=False)
async def assignment_page(
    request: Request, course_id: str, assignment_id: str, ctx: auth.CoursesRead, session: ReadSession
) -> Response:
    a = await _in_course(session, ctx, course_id, assignment_id, teach=False)
    course = await course_service.get_course(session, ctx, a.course_id)
    staff = course.my_role != CourseRole.student
    groups = await assignment_service.list_groups(session, ctx, a.id) if a.kind == "group" else []
    students = []
    if staff and a.kind == "group":
        students = [m for m in await course_service.list_members(session, ctx, a.course_id) if m.role == "student"]
    grouped = {u for g in groups for u in g.user_ids}
    return await render(
        request,
        "courses/assignment.html",
        session=session,
        title=a.title,
        course=course,
        a=AssignmentRead.model_validate(a),
        staff=course.my_role != CourseRole.student,
        can_manage=course.my_role in ("instructor", "admin"),
        may_save_template=course_service.may_create(ctx) and course.my_role != CourseRole.student,
        groups=groups,
        students=students,
        names={m.user_id: m.display_name for m in students},
        ungrouped=[m for m in students if m.user_id not in grouped],
    )


@router.get("/courses/{course_id}/assignments/{assignment_id}/edit", include_in_schema=False)
async def edit_assignment(
    request: Request, course_id: str, assignment_id: str, ctx: auth.CoursesRead, session: ReadSession
) -> Response:
    a = await _in_course(session, ctx, course_id, assignment_id, teach=True)
    course = await course_service.get_for_teaching(session, ctx, a.course_id)
    return await _assignment_form(request, session, course, forms.values_from_assignment(a), FormState(), assignment=a)


@router.post("/courses/{course_id}/assignments/{assignment_id}/edit", include_in_schema=False)
async def update_assignment(
    request: Request,
    course_id: str,
    assignment_id: str,
    ctx: auth.CoursesWrite,
    read: ReadSession,
    write: WriteSession,
) -> Response:
    a = await _in_course(read, ctx, course_id, assignment_id, teach=True)
    course = await course_service.get_for_teaching(read, ctx, a.course_id)
    return await _submitted(request, read, write, ctx, course, assignment=a)


def _uuids(values: list[str]) -> list[uuid.UUID]:
    out = []
    for v in values:
        try:
            out.append(uuid.UUID(v))
        except ValueError:
            raise InvalidInput("One of the chosen students is not valid; reload the page and try again.") from None
    return out


def _group_page(course_id: uuid.UUID, assignment_id: uuid.UUID) -> str:
    return f"/courses/{course_id}/assignments/{assignment_id}#groups"


@router.post("/courses/{course_id}/assignments/{assignment_id}/groups", include_in_schema=False)
async def create_group(
    request: Request,
    course_id: str,
    assignment_id: str,
    ctx: auth.CoursesWrite,
    session: WriteSession,
    name: FormStr = "",
    user_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    a = await _in_course(session, ctx, course_id, assignment_id, teach=True)
    back = _group_page(a.course_id, a.id)
    try:
        data = GroupCreate(name=name, user_ids=_uuids(user_ids))
    except ValidationError:
        return redirect(back, "Give the group a name (up to 100 characters).", "error")
    try:
        g = await assignment_service.create_group(session, ctx, a.id, data)
    except NotFound:
        raise
    except ScribetreeError as exc:
        return await failed(request, back, exc)
    return redirect(back, f"Group “{g.name}” was created with {len(g.user_ids)} students.")


@router.post("/courses/{course_id}/assignments/{assignment_id}/groups/{group_id}", include_in_schema=False)
async def update_group(
    request: Request,
    course_id: str,
    assignment_id: str,
    group_id: str,
    ctx: auth.CoursesWrite,
    session: WriteSession,
    user_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    a = await _in_course(session, ctx, course_id, assignment_id, teach=True)
    back = _group_page(a.course_id, a.id)
    try:
        g = await assignment_service.update_group(
            session, ctx, a.id, parse_id(group_id), GroupUpdate(user_ids=_uuids(user_ids))
        )
    except NotFound:
        raise
    except ScribetreeError as exc:
        return await failed(request, back, exc)
    return redirect(back, f"Group “{g.name}” now has {len(g.user_ids)} students.")


@router.post("/courses/{course_id}/assignments/{assignment_id}/groups/{group_id}/delete", include_in_schema=False)
async def delete_group(
    request: Request, course_id: str, assignment_id: str, group_id: str, ctx: auth.CoursesWrite, session: WriteSession
) -> Response:
    a = await _in_course(session, ctx, course_id, assignment_id, teach=True)
    await assignment_service.delete_group(session, ctx, a.id, parse_id(group_id))
    return redirect(_group_page(a.course_id, a.id), "The group was deleted; its students are ungrouped.")


@router.post("/courses/{course_id}/assignments/{assignment_id}/save-template", include_in_schema=False)
async def save_template(
    request: Request,
    course_id: str,
    assignment_id: str,
    ctx: auth.CoursesWrite,
    session: WriteSession,
    visibility: FormStr = "private",
) -> Response:
    a = await _in_course(session, ctx, course_id, assignment_id, teach=True)
    shared = visibility == "institution"
    await template_service.from_assignment(
        session,
        ctx,
        TemplateFromAssignment(assignment_id=a.id, visibility="institution" if shared else "private"),  # type: ignore[arg-type]
    )
    where = "the institution's library, for every educator" if shared else "your library"
    return redirect(f"/courses/{a.course_id}/assignments/{a.id}", f"“{a.title}” was saved to {where}.")


@router.post("/courses/{course_id}/assignments/{assignment_id}/{action}", include_in_schema=False)
async def publish(
    request: Request, course_id: str, assignment_id: str, action: str, ctx: auth.CoursesWrite, session: WriteSession
) -> Response:
    if action not in ("publish", "unpublish"):
        raise NotFound()
    a = await _in_course(session, ctx, course_id, assignment_id, teach=False)
    a = await assignment_service.set_published(session, ctx, a.id, action == "publish")
    message = "is published: students of the course see it now" if a.published_at else "is a draft again"
    return redirect(f"/courses/{a.course_id}/assignments/{a.id}", f"“{a.title}” {message}.")
