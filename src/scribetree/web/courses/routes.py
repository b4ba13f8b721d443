"""Course pages. Educators: course list, new course, course home (details, join code, roster, assignments),
the assignment form (stages, rubric, objectives) and publishing. Students: join a course by code, course home
with its published assignments, and an assignment's page.

Adapters only: who may do what is decided by ``scribetree.courses.service`` (a course or assignment the
caller may not see is 404 there; a course role that does not allow an action is 403).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import ratelimit
from scribetree.core.db import ReadSession, WriteSession, finish_request_sessions
from scribetree.core.errors import InvalidInput, NotFound, ScribetreeError
from scribetree.core.http import UnitOfWorkRoute
from scribetree.courses import auth
from scribetree.courses.models import Assignment, CourseRole
from scribetree.courses.schemas import (
    AssignmentCreate,
    AssignmentRead,
    AssignmentUpdate,
    CourseCreate,
    CourseMemberAdd,
    CourseUpdate,
    GroupCreate,
    GroupUpdate,
    JoinRequest,
    TemplateDeploy,
    TemplateFromAssignment,
)
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.courses.service import template as template_service
from scribetree.tenancy.context import AuthContext
from scribetree.web.courses import forms
from scribetree.web.pages import FormState, parse_id, redirect, render

router = APIRouter(route_class=UnitOfWorkRoute)
FormStr = Annotated[str, Form()]
JOIN_LIMIT = "20/minute"
ROLE_NAMES = {"instructor": "Instructor", "ta": "Teaching assistant", "student": "Student", "admin": "Admin"}
COURSE_ROLE_OPTIONS = [(r.value, ROLE_NAMES[r.value]) for r in CourseRole]


async def _failed(request: Request, url: str, exc: ScribetreeError) -> Response:
    """Answer a failed change with a redirect and its message. A 3xx would commit the request's work, so what it
    wrote on the way (a group row before its members were refused) is rolled back first."""
    await finish_request_sessions(request, ok=False)
    return redirect(url, exc.detail, "error")


# ---- course list, new course, join ------------------------------------------------------------------------


async def _index(
    request: Request,
    session: AsyncSession,
    ctx: AuthContext,
    *,
    archived: bool = False,
    join_form: FormState | None = None,
    status: int = 200,
) -> Response:
    courses = await course_service.list_courses(session, ctx, archived=archived)
    return await render(
        request,
        "courses/index.html",
        session=session,
        status=status,
        title="Archived courses" if archived else "Courses",
        courses=courses,
        archived=archived,
        may_create=course_service.may_create(ctx),
        join_form=join_form or FormState(),
        role_names=ROLE_NAMES,
    )


@router.get("/courses", include_in_schema=False)
async def course_list(request: Request, ctx: auth.CoursesRead, session: ReadSession, archived: str = "") -> Response:
    return await _index(request, session, ctx, archived=archived == "1")


@router.get("/courses/new", include_in_schema=False)
async def new_course(request: Request, ctx: auth.CoursesRead, session: ReadSession) -> Response:
    course_service.check_may_create(ctx)
    return await render(request, "courses/new.html", session=session, title="New course", form=FormState())


COURSE_MESSAGES = {
    "title": "Give the course a title (up to 200 characters).",
    "section": "Keep the section under 100 characters.",
    "term": "Keep the term under 100 characters.",
    "starts_on": "Enter the start date as a date, or leave it empty.",
    "ends_on": "Enter the end date as a date, or leave it empty.",
}


@router.post("/courses/new", include_in_schema=False)
async def create_course(
    request: Request,
    ctx: auth.CoursesWrite,
    read: ReadSession,
    write: WriteSession,
    title: FormStr = "",
    section: FormStr = "",
    term: FormStr = "",
    starts_on: FormStr = "",
    ends_on: FormStr = "",
    description: FormStr = "",
) -> Response:
    course_service.check_may_create(ctx)
    values = {
        "title": title,
        "section": section,
        "term": term,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "description": description,
    }
    form = FormState(values=values)
    try:
        data = CourseCreate.model_validate(
            {
                "title": title,
                "description": description,
                **{k: values[k].strip() or None for k in ("section", "term", "starts_on", "ends_on")},
            }
        )
    except ValidationError as exc:
        form.from_validation(exc, COURSE_MESSAGES)
        if "_form" in form.errors:
            form.errors["_form"] = form.errors["_form"].removeprefix("Value error, ")
        return await render(request, "courses/new.html", session=read, status=422, title="New course", form=form)
    created = await course_service.create(write, ctx, data)
    return redirect(f"/courses/{created.id}", f"“{created.title}” was created. Share its join code with your students.")


@router.post("/courses/join", include_in_schema=False)
async def join_course(
    request: Request, ctx: auth.CoursesWrite, read: ReadSession, write: WriteSession, code: FormStr = ""
) -> Response:
    form = FormState(values={"code": code.strip()})
    try:
        data = JoinRequest(code=code)
    except ValidationError:
        form.error("code", "Enter the join code your instructor gave you (4 to 16 letters and digits).")
        return await _index(request, read, ctx, join_form=form, status=422)
    try:
        await ratelimit.hit(JOIN_LIMIT, "course-join", str(ctx.user_id), "Too many join attempts.")
        joined = await course_service.join(write, ctx, data.code)
    except ScribetreeError as exc:
        form.error("code", exc.detail)
        return await _index(request, read, ctx, join_form=form, status=exc.status_code)
    return redirect(f"/courses/{joined.id}", f"You are in “{joined.title}”.")


# ---- course home ------------------------------------------------------------------------------------------


async def _course_page(
    request: Request,
    session: AsyncSession,
    ctx: AuthContext,
    course_id: uuid.UUID,
    *,
    member_form: FormState | None = None,
    status: int = 200,
) -> Response:
    course = await course_service.get_course(session, ctx, course_id)
    staff = course.my_role != CourseRole.student
    return await render(
        request,
        "courses/course.html",
        session=session,
        status=status,
        title=course.title,
        course=course,
        staff=staff,
        can_manage=course.my_role in ("instructor", "admin"),
        assignments=await assignment_service.list_for_course(session, ctx, course_id),
        members=await course_service.list_members(session, ctx, course_id) if staff else [],
        member_form=member_form or FormState(values={"role": "student"}),
        role_options=COURSE_ROLE_OPTIONS,
        role_names=ROLE_NAMES,
    )


@router.get("/courses/{course_id}", include_in_schema=False)
async def course_home(request: Request, course_id: str, ctx: auth.CoursesRead, session: ReadSession) -> Response:
    return await _course_page(request, session, ctx, parse_id(course_id))


async def _edit_page(
    request: Request, session: AsyncSession, course: Any, form: FormState, *, status: int = 200
) -> Response:
    return await render(
        request,
        "courses/edit.html",
        session=session,
        status=status,
        title=f"Edit {course.title}",
        course=course,
        form=form,
    )


@router.get("/courses/{course_id}/edit", include_in_schema=False)
async def edit_course(request: Request, course_id: str, ctx: auth.CoursesRead, session: ReadSession) -> Response:
    course = await course_service.get_for_managing(session, ctx, parse_id(course_id))
    values = {
        k: "" if getattr(course, k) is None else str(getattr(course, k))
        for k in ("title", "section", "term", "starts_on", "ends_on", "description")
    }
    return await _edit_page(request, session, course, FormState(values=values))


@router.post("/courses/{course_id}/edit", include_in_schema=False)
async def update_course(
    request: Request,
    course_id: str,
    ctx: auth.CoursesWrite,
    read: ReadSession,
    write: WriteSession,
    title: FormStr = "",
    section: FormStr = "",
    term: FormStr = "",
    starts_on: FormStr = "",
    ends_on: FormStr = "",
    description: FormStr = "",
) -> Response:
    course = await course_service.get_for_managing(read, ctx, parse_id(course_id))
    values = {
        "title": title,
        "section": section,
        "term": term,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "description": description,
    }
    form = FormState(values=values)
    try:
        data = CourseUpdate.model_validate(
            {
                "title": title,
                "description": description,
                **{k: values[k].strip() or None for k in ("section", "term", "starts_on", "ends_on")},
            }
        )
    except ValidationError as exc:
        form.from_validation(exc, COURSE_MESSAGES)
        if "_form" in form.errors:
            form.errors["_form"] = form.errors["_form"].removeprefix("Value error, ")
        return await _edit_page(request, read, course, form, status=422)
    try:
        updated = await course_service.update(write, ctx, course.id, data)
    except NotFound:
        raise
    except ScribetreeError as exc:
        form.error("_form", exc.detail)
        return await _edit_page(request, read, course, form, status=exc.status_code)
    return redirect(f"/courses/{updated.id}", "The course details were saved.")


@router.post("/courses/{course_id}/join-code", include_in_schema=False)
async def join_code(
    request: Request, course_id: str, ctx: auth.CoursesWrite, session: WriteSession, action: FormStr = "rotate"
) -> Response:
    cid = parse_id(course_id)
    if action == "disable":
        await course_service.disable_join_code(session, ctx, cid)
        return redirect(f"/courses/{cid}#join-code", "Joining by code is off. Make a new code to turn it back on.")
    course = await course_service.rotate_join_code(session, ctx, cid)
    return redirect(
        f"/courses/{cid}#join-code", f"The new join code is {course.join_code}; the old one no longer works."
    )


@router.post("/courses/{course_id}/archive", include_in_schema=False)
async def archive(request: Request, course_id: str, ctx: auth.CoursesWrite, session: WriteSession) -> Response:
    course = await course_service.set_archived(session, ctx, parse_id(course_id), True)
    return redirect("/courses", f"“{course.title}” was archived. Find it under Archived courses.")


@router.post("/courses/{course_id}/restore", include_in_schema=False)
async def restore(request: Request, course_id: str, ctx: auth.CoursesWrite, session: WriteSession) -> Response:
    course = await course_service.set_archived(session, ctx, parse_id(course_id), False)
    return redirect(f"/courses/{course.id}", f"“{course.title}” is back.")


@router.post("/courses/{course_id}/members", include_in_schema=False)
async def add_member(
    request: Request,
    course_id: str,
    ctx: auth.CoursesWrite,
    read: ReadSession,
    write: WriteSession,
    email: FormStr = "",
    role: FormStr = "student",
) -> Response:
    cid = parse_id(course_id)
    form = FormState(values={"email": email.strip(), "role": role})
    try:
        data = CourseMemberAdd(email=email.strip(), role=role)  # type: ignore[arg-type]
    except ValidationError as exc:
        form.from_validation(
            exc, {"email": "Enter an email address like name@school.edu.", "role": "Choose one of the course roles."}
        )
        return await _course_page(request, read, ctx, cid, member_form=form, status=422)
    try:
        added = await course_service.add_member(write, ctx, cid, data)
    except NotFound:
        raise
    except ScribetreeError as exc:
        form.error("email", exc.detail)
        return await _course_page(request, read, ctx, cid, member_form=form, status=exc.status_code)
    return redirect(f"/courses/{cid}#roster", f"{added.display_name} was added as {ROLE_NAMES[added.role].lower()}.")


@router.post("/courses/{course_id}/members/{user_id}/role", include_in_schema=False)
async def change_role(
    request: Request, course_id: str, user_id: str, ctx: auth.CoursesWrite, session: WriteSession, role: FormStr = ""
) -> Response:
    cid, uid = parse_id(course_id), parse_id(user_id)
    if role not in CourseRole.__members__:
        return redirect(f"/courses/{cid}#roster", "Choose one of the course roles.", "error")
    try:
        m = await course_service.change_member_role(session, ctx, cid, uid, CourseRole(role))
    except NotFound:
        raise
    except ScribetreeError as exc:
        return await _failed(request, f"/courses/{cid}#roster", exc)
    return redirect(f"/courses/{cid}#roster", f"{m.display_name} is now {ROLE_NAMES[m.role].lower()}.")


@router.post("/courses/{course_id}/members/{user_id}/remove", include_in_schema=False)
async def remove_member(
    request: Request, course_id: str, user_id: str, ctx: auth.CoursesWrite, session: WriteSession
) -> Response:
    cid, uid = parse_id(course_id), parse_id(user_id)
    try:
        await course_service.remove_member(session, ctx, cid, uid)
    except NotFound:
        raise
    except ScribetreeError as exc:
        return await _failed(request, f"/courses/{cid}#roster", exc)
    return redirect(f"/courses/{cid}#roster", "They were taken off the roster; their work is kept.")


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
        return await _failed(request, back, exc)
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
        return await _failed(request, back, exc)
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
