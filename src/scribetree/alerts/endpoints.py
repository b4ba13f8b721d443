"""JSON API of alerts: a course's alerts, one alert and its status, the course's alert settings. Rules,
thresholds and delivery are described in docs/alerts.md."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from scribetree.alerts import auth
from scribetree.alerts.models import AlertStatus
from scribetree.alerts.schemas import (
    AlertAction,
    AlertList,
    AlertRead,
    AlertSettingsRead,
    CourseAlertSettingsUpdate,
    EducatorAlertPrefsUpdate,
)
from scribetree.alerts.service import alerts as alert_service
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, error_responses

router = APIRouter(route_class=UnitOfWorkRoute, tags=["alerts"])


@router.get(
    "/courses/{course_id}/alerts",
    response_model=AlertList,
    operation_id="alerts:list",
    responses=error_responses(422),
)
async def list_alerts(
    course_id: uuid.UUID,
    ctx: auth.AlertsRead,
    session: ReadSession,
    audit_session: WriteSession,
    status: list[AlertStatus] | None = Query(default=None),
    rule: str | None = Query(default=None, max_length=40),
    student_user_id: uuid.UUID | None = None,
    limit: int = Query(default=100, ge=1, le=200),
) -> AlertList:
    """The course's alerts, newest first, with ``open_count``. Filters: ``status`` (repeatable), ``rule``,
    ``student_user_id``. Course staff only (others: 404); each read is audited. 422 ``UnknownRule``."""
    return await alert_service.list_for_course(
        session, audit_session, ctx, course_id, statuses=status, rule=rule, student_user_id=student_user_id, limit=limit
    )


@router.get("/alerts/{alert_id}", response_model=AlertRead, operation_id="alerts:get", responses=error_responses())
async def get_alert(
    alert_id: uuid.UUID, ctx: auth.AlertsRead, session: ReadSession, audit_session: WriteSession
) -> AlertRead:
    """One alert with its evidence (figures and links) and suggested actions. Audited."""
    return await alert_service.get(session, audit_session, ctx, alert_id)


@router.post(
    "/alerts/{alert_id}/status",
    response_model=AlertRead,
    operation_id="alerts:act",
    responses=error_responses(409, 422),
)
async def act_on_alert(
    alert_id: uuid.UUID, body: AlertAction, ctx: auth.AlertsWrite, session: WriteSession
) -> AlertRead:
    """``{"action": "acknowledge" | "resolve" | "dismiss"}``. Resolving or dismissing records who and when; a
    closed alert answers 409 ``AlertStatusConflict``."""
    return await alert_service.act(session, ctx, alert_id, body)


@router.get(
    "/courses/{course_id}/alert-settings",
    response_model=AlertSettingsRead,
    operation_id="alert_settings:get",
    responses=error_responses(),
)
async def get_alert_settings(course_id: uuid.UUID, ctx: auth.AlertsRead, session: ReadSession) -> AlertSettingsRead:
    """Rules, thresholds (defaults, allowed ranges, the course's values), muted rules, and the caller's own
    delivery preference. Course staff only."""
    return await alert_service.get_settings(session, ctx, course_id)


@router.put(
    "/courses/{course_id}/alert-settings",
    response_model=AlertSettingsRead,
    operation_id="alert_settings:put",
    responses=error_responses(403, 422),
)
async def put_alert_settings(
    course_id: uuid.UUID, body: CourseAlertSettingsUpdate, ctx: auth.AlertsWrite, session: WriteSession
) -> AlertSettingsRead:
    """Replace the course's threshold overrides and muted rules (instructors and admins; teaching assistants get
    403 ``AlertSettingsReadOnly``). 422 ``UnknownThreshold``, ``ThresholdOutOfRange`` or ``UnknownRule``; nothing
    is stored then. Audited."""
    return await alert_service.put_course_settings(session, ctx, course_id, body)


@router.put(
    "/courses/{course_id}/alert-settings/me",
    response_model=AlertSettingsRead,
    operation_id="alert_settings:put_mine",
    responses=error_responses(422),
)
async def put_my_alert_prefs(
    course_id: uuid.UUID, body: EducatorAlertPrefsUpdate, ctx: auth.AlertsWrite, session: WriteSession
) -> AlertSettingsRead:
    """The caller's delivery for this course: ``immediate`` or ``digest`` (daily at ``digest_hour``), quiet hours
    (``{"start": "22:00", "end": "07:00"}``) in ``timezone`` (IANA). 422 ``UnknownTimeZone`` or
    ``InvalidQuietHours``."""
    return await alert_service.put_my_prefs(session, ctx, course_id, body)
