"""JSON API of writing analytics: figures per document, student, assignment and course (docs/api.md, "Analytics").

Every figure is computed from the stored edit log (folded incrementally, see docs/analytics.md). Missing and
forbidden are the same 404 ``AnalyticsNotFound``; staff reads of students' figures are audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from scribetree.analytics import auth
from scribetree.analytics.schemas import (
    AssignmentMetrics,
    CourseMetrics,
    DailyActivity,
    DocumentMetrics,
    StudentMetrics,
)
from scribetree.analytics.service import DEFAULT_DAYS, MAX_DAYS
from scribetree.analytics.service import analytics as analytics_service
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, error_responses

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/analytics", tags=["analytics"])


@router.get(
    "/documents/{document_id}",
    response_model=DocumentMetrics,
    operation_id="analytics:document",
    responses=error_responses(),
)
async def get_document_metrics(
    document_id: uuid.UUID, ctx: auth.AnalyticsRead, session: ReadSession, write: WriteSession
) -> DocumentMetrics:
    """A document's writing figures (active time, sessions, words added and deleted, revision ratios, pauses and
    bursts, time to first words, stage progress, style of the current text, AI partner use). New batches are
    folded in first. For the document's author (or group) and the course's staff (audited)."""
    return await analytics_service.document_metrics(session, ctx, document_id, audit_session=write)


@router.get(
    "/courses/{course_id}",
    response_model=CourseMetrics,
    operation_id="analytics:course",
    responses=error_responses(),
)
async def get_course_metrics(
    course_id: uuid.UUID, ctx: auth.AnalyticsRead, session: ReadSession, write: WriteSession
) -> CourseMetrics:
    """Per assignment and per student summaries, the class's activity per day, and per-stage completion.
    The course's staff and the institution's admins (audited); others get 404."""
    return await analytics_service.course_metrics(session, ctx, course_id, audit_session=write)


@router.get(
    "/courses/{course_id}/daily",
    response_model=list[DailyActivity],
    operation_id="analytics:course_daily",
    responses=error_responses(422),
)
async def get_course_daily(
    course_id: uuid.UUID,
    ctx: auth.AnalyticsRead,
    session: ReadSession,
    write: WriteSession,
    days: Annotated[int, Query(description=f"last N UTC days, 1-{MAX_DAYS}")] = DEFAULT_DAYS,
    user_id: Annotated[uuid.UUID | None, Query(description="one student (default: the whole class)")] = None,
) -> list[DailyActivity]:
    """Activity per UTC day (active minutes, words added and deleted, pastes): the class (staff) or one student
    (the student themself, or staff, audited). Days without writing are left out; ``days`` out of range: 422."""
    return await analytics_service.daily_activity(session, ctx, course_id, user_id, days=days, audit_session=write)


@router.get(
    "/courses/{course_id}/students/{user_id}",
    response_model=StudentMetrics,
    operation_id="analytics:student",
    responses=error_responses(),
)
async def get_student_metrics(
    course_id: uuid.UUID, user_id: uuid.UUID, ctx: auth.AnalyticsRead, session: ReadSession, write: WriteSession
) -> StudentMetrics:
    """A student's figures in a course: each document, daily activity, AI partner use and reflection quality by
    day. The student themself, or the course's staff (audited)."""
    return await analytics_service.student_metrics(session, ctx, course_id, user_id, audit_session=write)


@router.get(
    "/assignments/{assignment_id}",
    response_model=AssignmentMetrics,
    operation_id="analytics:assignment",
    responses=error_responses(),
)
async def get_assignment_metrics(
    assignment_id: uuid.UUID, ctx: auth.AnalyticsRead, session: ReadSession, write: WriteSession
) -> AssignmentMetrics:
    """One row per student of the course (zeros for a student who has not started) and class aggregates: started,
    submitted, median words, active time, per-stage completion, AI partner use. Staff only (audited)."""
    return await analytics_service.assignment_metrics(session, ctx, assignment_id, audit_session=write)
