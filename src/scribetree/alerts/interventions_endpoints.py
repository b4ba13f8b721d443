"""JSON API of interventions: act on an alert or a student, list a course's interventions with their effect, record
the outcome. Staff of the course only (instructor, TA, institution admin); anyone else gets 404.

Message bodies, notes and names are plain text: show them with ``textContent``, never as HTML.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from scribetree.alerts.interventions import interventions as intervention_service
from scribetree.alerts.interventions_schemas import (
    CourseInterventions,
    InterventionCreate,
    InterventionRead,
    OutcomeUpdate,
    StudentInterventionCreate,
)
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, error_responses, with_details
from scribetree.tenancy.auth import TenantProfileWrite, TenantSigned

router = APIRouter(route_class=UnitOfWorkRoute, tags=["interventions"])

InterventionsRead = TenantSigned
InterventionsWrite = TenantProfileWrite


@router.post(
    "/alerts/{alert_id}/interventions",
    response_model=InterventionRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="interventions:create_from_alert",
    responses=error_responses(409, 422),
)
async def create_from_alert(
    alert_id: uuid.UUID, data: InterventionCreate, ctx: InterventionsWrite, session: WriteSession
) -> InterventionRead | JSONResponse:
    """Act on an alert for its student: ``kind`` is ``message`` (``subject``, ``body``), ``check_in`` (``at``,
    ``agenda``), ``extend_deadline`` (``assignment_id``, ``due_at``, optional ``stage``) or ``adjust_ai_budget``
    (``assignment_id``, ``budget_per_hour`` 0-100, ``budget_per_day`` 0-500); every kind takes a private ``note``.

    The student is notified in the app (and by email for messages and check-ins); the alert becomes
    ``acknowledged``. 422 ``ExtensionInvalid`` when the new due date is not in the future or not after the current
    one, ``CheckInTimeInvalid``, ``BudgetInvalid``, ``AssignmentNotInCourse``, ``ValidationError``; 409
    ``AlertClosed`` for a resolved or dismissed alert.
    """
    return await with_details(intervention_service.from_alert(session, ctx, alert_id, data))


@router.post(
    "/courses/{course_id}/interventions",
    response_model=InterventionRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="interventions:create_for_student",
    responses=error_responses(422),
)
async def create_for_student(
    course_id: uuid.UUID, data: StudentInterventionCreate, ctx: InterventionsWrite, session: WriteSession
) -> InterventionRead | JSONResponse:
    """Act on a student of the course without an alert (from the student's row); same kinds and errors as above."""
    return await with_details(
        intervention_service.for_student(session, ctx, course_id, data.student_user_id, data.intervention)
    )


@router.get(
    "/courses/{course_id}/interventions",
    response_model=CourseInterventions,
    operation_id="interventions:list",
    responses=error_responses(),
)
async def list_interventions(
    course_id: uuid.UUID, ctx: InterventionsRead, session: ReadSession, audit_session: WriteSession
) -> CourseInterventions:
    """The course's interventions, newest first (at most 200), each with ``effect``: the student's active minutes and
    words added per day over the N days (``days``, 3) before and after it, or "too early to tell" until N days have
    passed; ``by_kind`` pools the measured ones per kind ("intervention effectiveness", docs/alerts.md)."""
    return await intervention_service.list_for_course(session, ctx, course_id, audit_session=audit_session)


@router.get(
    "/interventions/{intervention_id}",
    response_model=InterventionRead,
    operation_id="interventions:get",
    responses=error_responses(),
)
async def get_intervention(
    intervention_id: uuid.UUID, ctx: InterventionsRead, session: ReadSession, audit_session: WriteSession
) -> InterventionRead:
    """One intervention with its parameters, outcome and effect."""
    return await intervention_service.get(session, ctx, intervention_id, audit_session=audit_session)


@router.patch(
    "/interventions/{intervention_id}",
    response_model=InterventionRead,
    operation_id="interventions:record_outcome",
    responses=error_responses(422),
)
async def record_outcome(
    intervention_id: uuid.UUID, data: OutcomeUpdate, ctx: InterventionsWrite, session: WriteSession
) -> InterventionRead:
    """Record how it went: ``outcome`` is ``helped``, ``no_change`` or ``student_unreachable``, with an optional
    ``outcome_note`` (at most 2,000 characters). Recording again replaces the outcome (audited each time)."""
    return await intervention_service.record_outcome(session, ctx, intervention_id, data)
