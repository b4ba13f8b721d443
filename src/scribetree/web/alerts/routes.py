"""Alert pages (docs/alerts.md): the educator's alert centre of a course (each alert with its evidence, the
suggested actions as links to the interventions pages, acknowledge/resolve/dismiss) and the course's alert
settings (thresholds and mutes for instructors; everyone's own delivery and quiet hours).

Adapters only: who may see or change what, validation and audit are ``alerts.service``'s.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts import auth, rules
from scribetree.alerts.models import AlertStatus
from scribetree.alerts.schemas import (
    AlertAction,
    AlertSettingsRead,
    CourseAlertSettingsUpdate,
    EducatorAlertPrefsUpdate,
    QuietHours,
)
from scribetree.alerts.service import alerts as alert_service
from scribetree.core.errors import NotFound, ScribetreeError
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses.service import course as course_service
from scribetree.tenancy.context import AuthContext
from scribetree.web.pages import FormState, parse_id, redirect, render

router = APIRouter(route_class=UnitOfWorkRoute)

ACTION_LABELS = {
    "message": "Message the student",
    "check_in": "Schedule a check-in",
    "extend_deadline": "Extend the deadline",
    "adjust_ai_budget": "Adjust the AI budget",
}
STATUS_VIEWS = {
    "open": ("Open", [AlertStatus.open, AlertStatus.acknowledged]),
    "closed": ("Resolved and dismissed", [AlertStatus.resolved, AlertStatus.dismissed]),
    "all": ("All", None),
}
SEVERITY_LABELS = {"urgent": "Urgent", "attention": "Needs attention", "info": "Good news"}


def figure_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


@router.get("/courses/{course_id}/alerts", include_in_schema=False)
async def alert_centre(
    request: Request,
    course_id: str,
    ctx: auth.AlertsRead,
    session: ReadSession,
    audit_session: WriteSession,
    view: str = "open",
) -> Response:
    cid = parse_id(course_id)
    if view not in STATUS_VIEWS:
        view = "open"
    listing = await alert_service.list_for_course(session, audit_session, ctx, cid, statuses=STATUS_VIEWS[view][1])
    course = await course_service.get_course(session, ctx, cid)
    return await render(
        request,
        "alerts/centre.html",
        session=session,
        title=f"Alerts: {course.title}",
        course=course,
        listing=listing,
        view=view,
        views=[(k, v[0]) for k, v in STATUS_VIEWS.items()],
        action_labels=ACTION_LABELS,
        severity_labels=SEVERITY_LABELS,
        rule_labels={code: info.label for code, info in rules.all_rules().items()},
        figure_label=figure_label,
    )


@router.post("/alerts/{alert_id}/status", include_in_schema=False)
async def alert_status(request: Request, alert_id: str, ctx: auth.AlertsWrite, session: WriteSession) -> Response:
    aid = parse_id(alert_id)
    form = await request.form()
    try:
        body = AlertAction(action=str(form.get("action", "")))  # type: ignore[arg-type]
    except ValidationError:
        raise NotFound("Unknown action.") from None
    back = str(form.get("back") or "")
    try:
        alert = await alert_service.act(session, ctx, aid, body)
    except NotFound:
        raise
    except ScribetreeError as exc:
        return redirect(back if back.startswith("/courses/") else "/", exc.detail, kind="error")
    done = {"acknowledge": "acknowledged", "resolve": "resolved", "dismiss": "dismissed"}[body.action]
    return redirect(f"/courses/{alert.course_id}/alerts", f"Alert {done}: {alert.title}")


# ---- settings -------------------------------------------------------------------------------------------------


def _values(read: AlertSettingsRead) -> dict[str, Any]:
    v: dict[str, Any] = {f"t-{t.name}": _num(t.value) for t in read.catalog}
    v["muted"] = list(read.muted_rules)
    mine = read.mine
    v |= {
        "delivery": mine.delivery.value,
        "timezone": mine.timezone,
        "digest_hour": str(mine.digest_hour),
        "quiet_start": mine.quiet_hours.start if mine.quiet_hours else "",
        "quiet_end": mine.quiet_hours.end if mine.quiet_hours else "",
    }
    return v


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


async def _settings_page(
    request: Request,
    session: AsyncSession,
    ctx: AuthContext,
    cid: uuid.UUID,
    *,
    read: AlertSettingsRead | None = None,
    values: dict[str, Any] | None = None,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    read = read or await alert_service.get_settings(session, ctx, cid)
    course = await course_service.get_course(session, ctx, cid)
    form = form or FormState()
    form.values = values if values is not None else _values(read)
    return await render(
        request,
        "alerts/settings.html",
        session=session,
        status=status,
        title=f"Alert settings: {course.title}",
        course=course,
        read=read,
        form=form,
        v=form.values,
        catalog={t.name: t for t in read.catalog},
        action_labels=ACTION_LABELS,
        hours=[(str(h), f"{h:02d}:00") for h in range(24)],
    )


@router.get("/courses/{course_id}/alerts/settings", include_in_schema=False)
async def settings_page(request: Request, course_id: str, ctx: auth.AlertsRead, session: ReadSession) -> Response:
    return await _settings_page(request, session, ctx, parse_id(course_id))


@router.post("/courses/{course_id}/alerts/settings", include_in_schema=False)
async def save_settings(
    request: Request, course_id: str, ctx: auth.AlertsWrite, read: ReadSession, session: WriteSession
) -> Response:
    cid = parse_id(course_id)
    current = await alert_service.get_settings(read, ctx, cid)  # 404 for those who may not see it
    raw = await request.form()
    values = _values(current) | {k: str(v) for k, v in raw.items() if k.startswith("t-")}
    values["muted"] = [str(m) for m in raw.getlist("muted")]
    form = FormState()
    thresholds: dict[str, float] = {}
    for t in current.catalog:
        text = str(raw.get(f"t-{t.name}", "")).strip()
        if text == "":
            continue
        try:
            number = float(text)
        except ValueError:
            form.error(f"t-{t.name}", f"{t.label}: enter a number from {t.low:g} to {t.high:g}.")
            continue
        if number != t.default:
            thresholds[t.name] = number
    if form.errors:
        return await _settings_page(request, read, ctx, cid, read=current, values=values, form=form, status=422)
    try:
        await alert_service.put_course_settings(
            session, ctx, cid, CourseAlertSettingsUpdate(thresholds=thresholds, muted_rules=values["muted"])
        )
    except NotFound:
        raise
    except ScribetreeError as exc:
        name = exc.detail.split("'")[1] if exc.detail.count("'") >= 2 else ""
        form.error(f"t-{name}" if f"t-{name}" in values else "_form", exc.detail)
        return await _settings_page(
            request, read, ctx, cid, read=current, values=values, form=form, status=exc.status_code
        )
    return redirect(f"/courses/{cid}/alerts/settings", "Alert settings saved. They apply from the next evaluation.")


@router.post("/courses/{course_id}/alerts/settings/me", include_in_schema=False)
async def save_my_prefs(
    request: Request, course_id: str, ctx: auth.AlertsWrite, read: ReadSession, session: WriteSession
) -> Response:
    cid = parse_id(course_id)
    current = await alert_service.get_settings(read, ctx, cid)
    raw = await request.form()
    values = _values(current) | {
        k: str(raw.get(k, "")).strip() for k in ("delivery", "timezone", "digest_hour", "quiet_start", "quiet_end")
    }
    form = FormState()
    quiet = None
    if values["quiet_start"] or values["quiet_end"]:
        try:
            quiet = QuietHours(start=values["quiet_start"], end=values["quiet_end"])
        except ValidationError:
            form.error("quiet_start", "Give both the start and the end of quiet hours as HH:MM, for example 22:00.")
    try:
        body = EducatorAlertPrefsUpdate(
            delivery=values["delivery"],  # type: ignore[arg-type]
            timezone=values["timezone"] or "UTC",
            digest_hour=int(values["digest_hour"] or 7),
            quiet_hours=quiet,
        )
    except (ValidationError, ValueError):
        form.error("_form", "Choose how alerts reach you and an hour for the digest.")
        body = None
    if body is None or form.errors:
        return await _settings_page(request, read, ctx, cid, read=current, values=values, form=form, status=422)
    try:
        await alert_service.put_my_prefs(session, ctx, cid, body)
    except NotFound:
        raise
    except ScribetreeError as exc:
        form.error("timezone" if "time zone" in exc.detail else "quiet_start", exc.detail)
        return await _settings_page(
            request, read, ctx, cid, read=current, values=values, form=form, status=exc.status_code
        )
    return redirect(f"/courses/{cid}/alerts/settings", "Your alert delivery is saved.")
