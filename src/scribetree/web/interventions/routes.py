"""Intervention pages (adapters only; every rule is ``alerts.interventions``'s):

- ``/alerts/{id}/intervene?action=message|check_in|extend_deadline|adjust_ai_budget``: act on an alert (the
  alerts centre links here); ``/courses/{id}/students/{user_id}/intervene`` does the same from a student's row;
- ``/courses/{id}/interventions``: the course's interventions with each one's effect, the effect per kind (a chart
  with its figures as a table), and a form per intervention to record how it went.

Times in the forms are UTC (``datetime-local`` has no zone; the label says so). Staff of the course only; anyone
else gets the same 404 as a missing page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from scribetree.alerts.interventions import Target
from scribetree.alerts.interventions import interventions as intervention_service
from scribetree.alerts.interventions_models import InterventionKind, InterventionOutcome
from scribetree.alerts.interventions_schemas import InterventionCreate, OutcomeUpdate
from scribetree.core.errors import InvalidInput
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses import auth
from scribetree.web import charts
from scribetree.web.charts import Series
from scribetree.web.pages import parse_id, redirect, render

router = APIRouter(route_class=UnitOfWorkRoute)
FormStr = Annotated[str, Form()]

ACTIONS = {
    InterventionKind.message.value: "Message",
    InterventionKind.check_in.value: "Schedule a check-in",
    InterventionKind.extend_deadline.value: "Extend the deadline",
    InterventionKind.adjust_ai_budget.value: "Adjust the AI budget",
}
KIND_LABELS = {
    InterventionKind.message.value: "Message",
    InterventionKind.check_in.value: "Check-in",
    InterventionKind.extend_deadline.value: "Deadline extension",
    InterventionKind.adjust_ai_budget.value: "AI budget",
}
OUTCOME_LABELS = {
    InterventionOutcome.helped.value: "Helped",
    InterventionOutcome.no_change.value: "No change",
    InterventionOutcome.student_unreachable.value: "Student unreachable",
}
_CREATE: TypeAdapter[Any] = TypeAdapter(InterventionCreate)
FIELD_LABELS = {
    "subject": "Subject",
    "body": "Message",
    "at": "Date and time",
    "agenda": "What it is about",
    "assignment_id": "Assignment",
    "due_at": "New due date",
    "stage": "Stage",
    "budget_per_hour": "Requests per hour",
    "budget_per_day": "Requests per day",
    "note": "Private note",
}


def _action(value: str | None) -> str:
    return value if value in ACTIONS else InterventionKind.message.value


def _utc(value: str) -> str:
    """A ``datetime-local`` value read as UTC (ISO with the zone), or the value as typed (then invalid)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()


def _payload(action: str, form: dict[str, str]) -> dict[str, Any]:
    fields = {
        "message": ("subject", "body"),
        "check_in": ("at", "agenda"),
        "extend_deadline": ("assignment_id", "due_at", "stage"),
        "adjust_ai_budget": ("assignment_id", "budget_per_hour", "budget_per_day"),
    }[action]
    data: dict[str, Any] = {"kind": action, "note": form.get("note", "")}
    for name in fields:
        value = form.get(name, "").strip()
        if name in ("at", "due_at") and value:
            value = _utc(value)
        if name == "stage" and not value:
            continue
        data[name] = value
    return data


def _errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if str(p) not in ACTIONS]
        name = loc[-1] if loc else "form"
        out.setdefault(name, str(err.get("msg", "Not valid.")).removeprefix("Value error, "))
    return out


async def _page(
    request: Request,
    session: Any,
    target: Target,
    action: str,
    form: dict[str, str],
    errors: dict[str, str],
    status: int,
) -> Response:
    base = (
        f"/alerts/{target.alert.id}/intervene"
        if target.alert
        else (f"/courses/{target.course_id}/students/{target.student_user_id}/intervene")
    )
    return await render(
        request,
        "interventions/intervene.html",
        session=session,
        status=status,
        title=f"Act for {target.student_name}",
        target=target,
        action=action,
        actions=ACTIONS,
        base=base,
        form=form,
        errors=errors,
        labels=FIELD_LABELS,
    )


@router.get("/alerts/{alert_id}/intervene", include_in_schema=False)
async def intervene_on_alert(
    request: Request, alert_id: str, ctx: auth.CoursesRead, session: ReadSession, action: str | None = None
) -> Response:
    target = await intervention_service.target(session, ctx, alert_id=parse_id(alert_id))
    return await _page(request, session, target, _action(action), {}, {}, 200)


@router.get("/courses/{course_id}/students/{user_id}/intervene", include_in_schema=False)
async def intervene_on_student(
    request: Request,
    course_id: str,
    user_id: str,
    ctx: auth.CoursesRead,
    session: ReadSession,
    action: str | None = None,
) -> Response:
    target = await intervention_service.target(
        session, ctx, course_id=parse_id(course_id), student_user_id=parse_id(user_id)
    )
    return await _page(request, session, target, _action(action), {}, {}, 200)


async def _submit(request: Request, ctx: Any, session: Any, target: Target) -> Response:
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items() if k != "csrf_token"}
    action = _action(form.get("action"))
    try:
        data = _CREATE.validate_python(_payload(action, form))
    except ValidationError as exc:
        return await _page(request, session, target, action, form, _errors(exc), 422)
    try:
        if target.alert is not None:
            await intervention_service.from_alert(session, ctx, target.alert.id, data)
        else:
            await intervention_service.for_student(session, ctx, target.course_id, target.student_user_id, data)
    except InvalidInput as exc:
        field = str(exc.extra.get("field", "form"))
        return await _page(request, session, target, action, form, {field: exc.detail}, 422)
    done = {
        "message": "Your message was sent.",
        "check_in": "The check-in is scheduled; you will be reminded at the time.",
        "extend_deadline": "The new due date is set.",
        "adjust_ai_budget": "The AI budget is set.",
    }[action]
    return redirect(f"/courses/{target.course_id}/interventions", f"{done} {target.student_name} was notified.")


@router.post("/alerts/{alert_id}/intervene", include_in_schema=False)
async def intervene_on_alert_post(
    request: Request, alert_id: str, ctx: auth.CoursesWrite, session: WriteSession
) -> Response:
    target = await intervention_service.target(session, ctx, alert_id=parse_id(alert_id))
    return await _submit(request, ctx, session, target)


@router.post("/courses/{course_id}/students/{user_id}/intervene", include_in_schema=False)
async def intervene_on_student_post(
    request: Request, course_id: str, user_id: str, ctx: auth.CoursesWrite, session: WriteSession
) -> Response:
    target = await intervention_service.target(
        session, ctx, course_id=parse_id(course_id), student_user_id=parse_id(user_id)
    )
    return await _submit(request, ctx, session, target)


# ---- the course's interventions --------------------------------------------------------------------------------


def effect_chart(by_kind: list[Any]) -> charts.Chart:
    measured = [k for k in by_kind if k.measured]
    return charts.bar_chart(
        title="Active minutes per day before and after, by kind of intervention",
        desc=(
            "Mean active writing minutes per day over the days before and after: "
            + "; ".join(
                f"{KIND_LABELS[k.kind]} {k.before_active_min_per_day:g} before, {k.after_active_min_per_day:g} after "
                f"({k.measured} measured)"
                for k in measured
            )
            + "."
        )
        if measured
        else "No intervention is old enough to measure yet.",
        categories=[KIND_LABELS[k.kind] for k in measured],
        series=[
            Series("Before", [k.before_active_min_per_day for k in measured]),
            Series("After", [k.after_active_min_per_day for k in measured]),
        ],
        stacked=False,
        unit="min/day",
    )


@router.get("/courses/{course_id}/interventions", include_in_schema=False)
async def course_interventions(
    request: Request, course_id: str, ctx: auth.CoursesRead, session: ReadSession, audit_session: WriteSession
) -> Response:
    cid = parse_id(course_id)
    data = await intervention_service.list_for_course(session, ctx, cid, audit_session=audit_session)
    target_course = await intervention_service.course_title(session, ctx, cid)
    return await render(
        request,
        "interventions/course.html",
        session=session,
        title="Interventions",
        course_id=cid,
        course_title=target_course,
        data=data,
        chart=effect_chart(data.by_kind),
        kind_labels=KIND_LABELS,
        outcome_labels=OUTCOME_LABELS,
    )


@router.post("/interventions/{intervention_id}/outcome", include_in_schema=False)
async def record_outcome(
    request: Request,
    intervention_id: str,
    ctx: auth.CoursesWrite,
    session: WriteSession,
    outcome: FormStr = "",
    outcome_note: FormStr = "",
) -> Response:
    iid = parse_id(intervention_id)
    try:
        data = OutcomeUpdate(outcome=outcome, outcome_note=outcome_note)  # type: ignore[arg-type]
    except ValidationError:
        found = await intervention_service.course_of(session, ctx, iid)
        return redirect(
            f"/courses/{found}/interventions#intervention-{iid}",
            "Choose how it went (helped, no change or student unreachable); the note takes up to 2,000 characters.",
            "error",
        )
    done = await intervention_service.record_outcome(session, ctx, iid, data)
    return redirect(f"/courses/{done.course_id}/interventions#intervention-{iid}", "The outcome is recorded.")
