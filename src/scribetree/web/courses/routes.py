"""Course pages. Educators: course list, new course, course details, course home (join code, roster,
assignments). Students: join a course by code, course home with its published assignments. The assignment
pages are in ``assignments.py`` and included here.

Adapters only: who may do what is decided by ``scribetree.courses.service`` (a course or assignment the
caller may not see is 404 there; a course role that does not allow an action is 403).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import ratelimit
from scribetree.core.errors import NotFound, ScribetreeError
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses import auth
from scribetree.courses.models import CourseRole
from scribetree.courses.schemas import (
    CourseCreate,
    CourseMemberAdd,
    CourseUpdate,
    JoinRequest,
)
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.tenancy.context import AuthContext
from scribetree.web.courses.assignments import router as assignments_router
from scribetree.web.courses.common import FormStr, failed
from scribetree.web.pages import FormState, parse_id, redirect, render

router = APIRouter(route_class=UnitOfWorkRoute)
JOIN_LIMIT = "20/minute"
ROLE_NAMES = {"instructor": "Instructor", "ta": "Teaching assistant", "student": "Student", "admin": "Admin"}
COURSE_ROLE_OPTIONS = [(r.value, ROLE_NAMES[r.value]) for r in CourseRole]


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
        return await failed(request, f"/courses/{cid}#roster", exc)
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
        return await failed(request, f"/courses/{cid}#roster", exc)
    return redirect(f"/courses/{cid}#roster", "They were taken off the roster; their work is kept.")


router.include_router(assignments_router)
