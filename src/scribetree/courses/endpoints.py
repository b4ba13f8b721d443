"""JSON API: courses, enrollment (join codes, rosters), assignment templates, assignments and groups.

Course roles decide what each caller may do (see ``access.py`` and docs/api.md); a course or assignment the
caller may not see is always 404.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from scribetree.core import ratelimit
from scribetree.core.errors import ErrorBody
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses import auth
from scribetree.courses.models import Assignment, AssignmentTemplate
from scribetree.courses.schemas import (
    AssignmentClone,
    AssignmentCreate,
    AssignmentRead,
    AssignmentUpdate,
    CourseCreate,
    CourseMemberAdd,
    CourseMemberRead,
    CourseMemberUpdate,
    CourseRead,
    CourseUpdate,
    GroupCreate,
    GroupRead,
    GroupUpdate,
    JoinRequest,
    MyAssignmentRead,
    TemplateCreate,
    TemplateDeploy,
    TemplateFromAssignment,
    TemplateRead,
    TemplateUpdate,
)
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.courses.service import template as template_service

E401 = {401: {"model": ErrorBody, "description": "No valid credential"}}
E403 = {403: {"model": ErrorBody, "description": "Your role (in the institution or the course) does not allow this"}}
E404 = {404: {"model": ErrorBody, "description": "Not found (or not yours)"}}
E409 = {409: {"model": ErrorBody, "description": "Conflicts with the current state (archived course, last instructor)"}}
E422 = {422: {"model": ErrorBody, "description": "Some values are not valid; the detail says which"}}
E429 = {429: {"model": ErrorBody, "description": "Too many attempts; see Retry-After"}}
JOIN_LIMIT = "20/minute"

router = APIRouter(route_class=UnitOfWorkRoute)


# ---- courses ----------------------------------------------------------------------------------------------


@router.get("/courses", response_model=list[CourseRead], operation_id="courses:list", responses=E401, tags=["courses"])
async def list_courses(
    ctx: auth.CoursesRead,
    session: ReadSession,
    archived: bool = Query(False, description="true: archived courses instead of current ones"),
) -> list[CourseRead]:
    """Your courses with your role in each (institution admins: every course of the institution).

    ``archived=true`` lists archived courses instead (staff only; students never see archived courses).
    """
    return await course_service.list_courses(session, ctx, archived=archived)


@router.post(
    "/courses",
    response_model=CourseRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="courses:create",
    responses={**E401, **E403, **E422},
    tags=["courses"],
)
async def create_course(body: CourseCreate, ctx: auth.CoursesWrite, session: WriteSession) -> CourseRead:
    """Create a course (educators and admins); you become its instructor. A join code is made unless
    ``join_code_enabled`` is false."""
    return await course_service.create(session, ctx, body)


@router.post(
    "/courses/join",
    response_model=CourseRead,
    operation_id="courses:join",
    responses={**E401, **E403, **E404, **E429},
    tags=["courses"],
)
async def join_course(body: JoinRequest, ctx: auth.CoursesWrite, session: WriteSession) -> CourseRead:
    """Join a course of your institution as a student with the code your instructor gave you.

    Case, spaces and dashes in the code do not matter. Joining a course you are already in changes nothing.
    """
    await ratelimit.hit(JOIN_LIMIT, "course-join", str(ctx.user_id), "Too many join attempts.")
    return await course_service.join(session, ctx, body.code)


@router.get(
    "/courses/{course_id}",
    response_model=CourseRead,
    operation_id="courses:get",
    responses={**E401, **E404},
    tags=["courses"],
)
async def get_course(course_id: uuid.UUID, ctx: auth.CoursesRead, session: ReadSession) -> CourseRead:
    """A course you belong to (instructors and admins also see its join code)."""
    return await course_service.get_course(session, ctx, course_id)


@router.patch(
    "/courses/{course_id}",
    response_model=CourseRead,
    operation_id="courses:update",
    responses={**E401, **E403, **E404, **E409, **E422},
    tags=["courses"],
)
async def update_course(
    course_id: uuid.UUID, body: CourseUpdate, ctx: auth.CoursesWrite, session: WriteSession
) -> CourseRead:
    """Change title, description, section, term or dates (instructors and admins)."""
    return await course_service.update(session, ctx, course_id, body)


@router.post(
    "/courses/{course_id}/archive",
    response_model=CourseRead,
    operation_id="courses:archive",
    responses={**E401, **E403, **E404},
    tags=["courses"],
)
async def archive_course(course_id: uuid.UUID, ctx: auth.CoursesWrite, session: WriteSession) -> CourseRead:
    """Archive a course: read-only for staff, hidden from students, join code no longer works."""
    return await course_service.set_archived(session, ctx, course_id, True)


@router.post(
    "/courses/{course_id}/restore",
    response_model=CourseRead,
    operation_id="courses:restore",
    responses={**E401, **E403, **E404},
    tags=["courses"],
)
async def restore_course(course_id: uuid.UUID, ctx: auth.CoursesWrite, session: WriteSession) -> CourseRead:
    """Bring an archived course back."""
    return await course_service.set_archived(session, ctx, course_id, False)


@router.post(
    "/courses/{course_id}/join-code",
    response_model=CourseRead,
    operation_id="courses:rotate_join_code",
    responses={**E401, **E403, **E404, **E409},
    tags=["courses"],
)
async def rotate_join_code(course_id: uuid.UUID, ctx: auth.CoursesWrite, session: WriteSession) -> CourseRead:
    """Make a new join code (instructors and admins); the previous code stops working at once."""
    return await course_service.rotate_join_code(session, ctx, course_id)


@router.delete(
    "/courses/{course_id}/join-code",
    response_model=CourseRead,
    operation_id="courses:disable_join_code",
    responses={**E401, **E403, **E404},
    tags=["courses"],
)
async def disable_join_code(course_id: uuid.UUID, ctx: auth.CoursesWrite, session: WriteSession) -> CourseRead:
    """Turn joining by code off (instructors and admins); make a new code to turn it back on."""
    return await course_service.disable_join_code(session, ctx, course_id)


# ---- roster -----------------------------------------------------------------------------------------------


@router.get(
    "/courses/{course_id}/members",
    response_model=list[CourseMemberRead],
    operation_id="course_members:list",
    responses={**E401, **E403, **E404},
    tags=["courses"],
)
async def list_course_members(
    course_id: uuid.UUID, ctx: auth.CoursesRead, session: ReadSession
) -> list[CourseMemberRead]:
    """The course roster (instructors, TAs and admins)."""
    return await course_service.list_members(session, ctx, course_id)


@router.post(
    "/courses/{course_id}/members",
    response_model=CourseMemberRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="course_members:add",
    responses={**E401, **E403, **E404, **E409, **E422},
    tags=["courses"],
)
async def add_course_member(
    course_id: uuid.UUID, body: CourseMemberAdd, ctx: auth.CoursesWrite, session: WriteSession
) -> CourseMemberRead:
    """Add a member of the institution (by ``user_id`` or ``email``) as student, ta or instructor.

    Instructors must be educators or admins of the institution (instructors and admins)."""
    return await course_service.add_member(session, ctx, course_id, body)


@router.patch(
    "/courses/{course_id}/members/{user_id}",
    response_model=CourseMemberRead,
    operation_id="course_members:update",
    responses={**E401, **E403, **E404, **E409, **E422},
    tags=["courses"],
)
async def update_course_member(
    course_id: uuid.UUID, user_id: uuid.UUID, body: CourseMemberUpdate, ctx: auth.CoursesWrite, session: WriteSession
) -> CourseMemberRead:
    """Change someone's course role, e.g. make a student a TA (instructors and admins)."""
    return await course_service.change_member_role(session, ctx, course_id, user_id, body.role)


@router.delete(
    "/courses/{course_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="course_members:remove",
    responses={**E401, **E403, **E404, **E409},
    tags=["courses"],
)
async def remove_course_member(
    course_id: uuid.UUID, user_id: uuid.UUID, ctx: auth.CoursesWrite, session: WriteSession
) -> None:
    """Take someone off the roster (and out of its assignment groups); their work is kept."""
    await course_service.remove_member(session, ctx, course_id, user_id)


# ---- assignments ------------------------------------------------------------------------------------------


@router.get(
    "/assignments",
    response_model=list[MyAssignmentRead],
    operation_id="assignments:mine",
    responses=E401,
    tags=["assignments"],
)
async def list_my_assignments(ctx: auth.CoursesRead, session: ReadSession) -> list[MyAssignmentRead]:
    """Assignments of all your current courses, soonest due first (students: published ones; at most 100).

    Each carries ``course_title`` and your role in its course (``my_role``)."""
    return await assignment_service.list_mine(session, ctx)


@router.get(
    "/courses/{course_id}/assignments",
    response_model=list[AssignmentRead],
    operation_id="assignments:list",
    responses={**E401, **E404},
    tags=["assignments"],
)
async def list_assignments(course_id: uuid.UUID, ctx: auth.CoursesRead, session: ReadSession) -> list[Assignment]:
    """A course's assignments by due date (students: published ones only)."""
    return await assignment_service.list_for_course(session, ctx, course_id)


@router.post(
    "/courses/{course_id}/assignments",
    response_model=AssignmentRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="assignments:create",
    responses={**E401, **E403, **E404, **E409, **E422},
    tags=["assignments"],
)
async def create_assignment(
    course_id: uuid.UUID, body: AssignmentCreate, ctx: auth.CoursesWrite, session: WriteSession
) -> Assignment:
    """Create a draft assignment (instructors, TAs and admins). Stages default to
    brainstorm, outline, draft, revise, edit."""
    return await assignment_service.create(session, ctx, course_id, body)


@router.get(
    "/assignments/{assignment_id}",
    response_model=AssignmentRead,
    operation_id="assignments:get",
    responses={**E401, **E404},
    tags=["assignments"],
)
async def get_assignment(assignment_id: uuid.UUID, ctx: auth.CoursesRead, session: ReadSession) -> Assignment:
    """An assignment with its instructions rendered to safe HTML (``instructions_html``)."""
    return await assignment_service.get(session, ctx, assignment_id)


@router.patch(
    "/assignments/{assignment_id}",
    response_model=AssignmentRead,
    operation_id="assignments:update",
    responses={**E401, **E403, **E404, **E409, **E422},
    tags=["assignments"],
)
async def update_assignment(
    assignment_id: uuid.UUID, body: AssignmentUpdate, ctx: auth.CoursesWrite, session: WriteSession
) -> Assignment:
    """Change an assignment (instructors, TAs and admins); only the fields sent change."""
    return await assignment_service.update(session, ctx, assignment_id, body)


@router.delete(
    "/assignments/{assignment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="assignments:delete",
    responses={**E401, **E403, **E404},
    tags=["assignments"],
)
async def delete_assignment(assignment_id: uuid.UUID, ctx: auth.CoursesWrite, session: WriteSession) -> None:
    """Delete an assignment (instructors and admins)."""
    await assignment_service.delete(session, ctx, assignment_id)


@router.post(
    "/assignments/{assignment_id}/publish",
    response_model=AssignmentRead,
    operation_id="assignments:publish",
    responses={**E401, **E403, **E404, **E409},
    tags=["assignments"],
)
async def publish_assignment(assignment_id: uuid.UUID, ctx: auth.CoursesWrite, session: WriteSession) -> Assignment:
    """Publish: the course's students see it (instructors and admins)."""
    return await assignment_service.set_published(session, ctx, assignment_id, True)


@router.post(
    "/assignments/{assignment_id}/unpublish",
    response_model=AssignmentRead,
    operation_id="assignments:unpublish",
    responses={**E401, **E403, **E404, **E409},
    tags=["assignments"],
)
async def unpublish_assignment(assignment_id: uuid.UUID, ctx: auth.CoursesWrite, session: WriteSession) -> Assignment:
    """Take an assignment back to draft; students no longer see it (instructors and admins)."""
    return await assignment_service.set_published(session, ctx, assignment_id, False)


@router.post(
    "/assignments/{assignment_id}/clone",
    response_model=AssignmentRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="assignments:clone",
    responses={**E401, **E403, **E404, **E409},
    tags=["assignments"],
)
async def clone_assignment(
    assignment_id: uuid.UUID, body: AssignmentClone, ctx: auth.CoursesWrite, session: WriteSession
) -> Assignment:
    """Copy an assignment as a draft into another course you teach (dates and groups are not copied)."""
    return await assignment_service.clone(session, ctx, assignment_id, body)


# ---- groups -----------------------------------------------------------------------------------------------


@router.get(
    "/assignments/{assignment_id}/groups",
    response_model=list[GroupRead],
    operation_id="assignment_groups:list",
    responses={**E401, **E404},
    tags=["assignments"],
)
async def list_groups(assignment_id: uuid.UUID, ctx: auth.CoursesRead, session: ReadSession) -> list[GroupRead]:
    """The groups of a group assignment (students: only their own group)."""
    return await assignment_service.list_groups(session, ctx, assignment_id)


@router.post(
    "/assignments/{assignment_id}/groups",
    response_model=GroupRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="assignment_groups:create",
    responses={**E401, **E403, **E404, **E409, **E422},
    tags=["assignments"],
)
async def create_group(
    assignment_id: uuid.UUID, body: GroupCreate, ctx: auth.CoursesWrite, session: WriteSession
) -> GroupRead:
    """Create a group of students of the course (instructors, TAs and admins; group assignments only)."""
    return await assignment_service.create_group(session, ctx, assignment_id, body)


@router.patch(
    "/assignments/{assignment_id}/groups/{group_id}",
    response_model=GroupRead,
    operation_id="assignment_groups:update",
    responses={**E401, **E403, **E404, **E409, **E422},
    tags=["assignments"],
)
async def update_group(
    assignment_id: uuid.UUID, group_id: uuid.UUID, body: GroupUpdate, ctx: auth.CoursesWrite, session: WriteSession
) -> GroupRead:
    """Rename a group or replace its members."""
    return await assignment_service.update_group(session, ctx, assignment_id, group_id, body)


@router.delete(
    "/assignments/{assignment_id}/groups/{group_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="assignment_groups:delete",
    responses={**E401, **E403, **E404},
    tags=["assignments"],
)
async def delete_group(
    assignment_id: uuid.UUID, group_id: uuid.UUID, ctx: auth.CoursesWrite, session: WriteSession
) -> None:
    """Delete a group (its students become ungrouped)."""
    await assignment_service.delete_group(session, ctx, assignment_id, group_id)


# ---- templates --------------------------------------------------------------------------------------------


@router.get(
    "/assignment-templates",
    response_model=list[TemplateRead],
    operation_id="templates:list",
    responses={**E401, **E403},
    tags=["templates"],
)
async def list_templates(ctx: auth.CoursesRead, session: ReadSession) -> list[AssignmentTemplate]:
    """Your templates and those shared with the institution (educators; admins see all)."""
    return await template_service.list_templates(session, ctx)


@router.post(
    "/assignment-templates",
    response_model=TemplateRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="templates:create",
    responses={**E401, **E403, **E422},
    tags=["templates"],
)
async def create_template(body: TemplateCreate, ctx: auth.CoursesWrite, session: WriteSession) -> AssignmentTemplate:
    """Add a template to the library (educators and admins); ``visibility: institution`` shares it."""
    return await template_service.create(session, ctx, body)


@router.post(
    "/assignment-templates/from-assignment",
    response_model=TemplateRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="templates:from_assignment",
    responses={**E401, **E403, **E404},
    tags=["templates"],
)
async def template_from_assignment(
    body: TemplateFromAssignment, ctx: auth.CoursesWrite, session: WriteSession
) -> AssignmentTemplate:
    """Save an assignment you teach into the library (without its dates)."""
    return await template_service.from_assignment(session, ctx, body)


@router.get(
    "/assignment-templates/{template_id}",
    response_model=TemplateRead,
    operation_id="templates:get",
    responses={**E401, **E404},
    tags=["templates"],
)
async def get_template(template_id: uuid.UUID, ctx: auth.CoursesRead, session: ReadSession) -> AssignmentTemplate:
    """A template of yours or one shared with the institution."""
    return await template_service.get(session, ctx, template_id)


@router.patch(
    "/assignment-templates/{template_id}",
    response_model=TemplateRead,
    operation_id="templates:update",
    responses={**E401, **E403, **E404, **E422},
    tags=["templates"],
)
async def update_template(
    template_id: uuid.UUID, body: TemplateUpdate, ctx: auth.CoursesWrite, session: WriteSession
) -> AssignmentTemplate:
    """Change a template (its author or an admin); assignments already deployed keep their copy."""
    return await template_service.update(session, ctx, template_id, body)


@router.delete(
    "/assignment-templates/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="templates:delete",
    responses={**E401, **E403, **E404},
    tags=["templates"],
)
async def delete_template(template_id: uuid.UUID, ctx: auth.CoursesWrite, session: WriteSession) -> None:
    """Delete a template (its author or an admin)."""
    await template_service.delete(session, ctx, template_id)


@router.post(
    "/assignment-templates/{template_id}/deploy",
    response_model=AssignmentRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="templates:deploy",
    responses={**E401, **E403, **E404, **E409, **E422},
    tags=["templates"],
)
async def deploy_template(
    template_id: uuid.UUID, body: TemplateDeploy, ctx: auth.CoursesWrite, session: WriteSession
) -> Assignment:
    """Create a draft assignment from a template in a course you teach."""
    return await template_service.deploy(session, ctx, template_id, body)
