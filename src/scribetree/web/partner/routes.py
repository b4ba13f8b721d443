"""AI partner pages (docs/ai-partner.md). Students: the history of their reflections, exchanges and level
changes on a document (the editor's side panel is in ``web/writing`` and ``static/js/partner.js``). Educators:
the assignment's AI settings as a form, the class view (per student: requests, level, reflection scores,
over-reliance), any student's history, and the short AI-use summary the submission reader loads next to the
student's AI-use statement.

Adapters only: every rule (who may see or change what, scoring, levels, budgets) is ``ai_partner.service``'s.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner import auth
from scribetree.ai_partner.engine.types import HelpKind, Level
from scribetree.ai_partner.exceptions import SettingsReadOnly
from scribetree.ai_partner.schemas import AiSettings, AiSettingsRead, HistoryRead, LevelRead
from scribetree.ai_partner.service import partner as partner_service
from scribetree.core import clock
from scribetree.core.errors import NotFound, ScribetreeError
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses.schemas import AssignmentRead
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.web.pages import FormState, parse_id, redirect, render, render_fragment
from scribetree.writing.service import document as document_service

router = APIRouter(route_class=UnitOfWorkRoute)

KIND_LABELS: dict[str, str] = {
    HelpKind.brainstorming.value: "Brainstorming questions",
    HelpKind.organisation.value: "Organisation questions",
    HelpKind.evidence.value: "Evidence and reasoning questions",
    HelpKind.clarity.value: "Clarity questions",
    HelpKind.grammar_explanation.value: "Grammar explanations",
}
LEVEL_LABELS: dict[str, str] = {
    Level.restricted.value: "Restricted",
    Level.basic.value: "Basic",
    Level.standard.value: "Standard",
    Level.advanced.value: "Advanced",
}
INT_FIELDS = {
    "budget_per_hour": ("Requests per hour", 0, 100),
    "budget_per_day": ("Requests per day", 0, 500),
    "reflection_min_words": ("Minimum words of a reflection", 0, 500),
}
STAGE_MODES = (("same", "Same as the assignment"), ("off", "Off in this stage"), ("custom", "Only the kinds ticked"))
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def kind_label(kind: str | None) -> str:
    return KIND_LABELS.get(kind or "", (kind or "").replace("_", " ").capitalize())


def level_label(level: str | None) -> str:
    return LEVEL_LABELS.get(level or "", level or "")


# ---- the student's state (the editor's side panel) ------------------------------------------------------------


@dataclass(frozen=True)
class PanelState:
    """What the side panel shows when the editor opens; partner.js keeps it current afterwards."""

    available: bool
    can_reflect: bool  # not in exam mode, on in this stage, not submitted
    reason: str | None  # why the partner cannot answer now, in plain words
    budget_resets_at: datetime | None
    level: LevelRead | None
    reflection_due: str | None
    min_words: int
    follow_up_min: int  # a follow-up needs half the minimum (docs/ai-partner.md section 2)
    follow_up: bool
    reflection_required: bool
    kinds: list[str]
    history: HistoryRead | None


def budget_resets_at(level: LevelRead, times: list[datetime], now: datetime) -> datetime | None:
    """When a request is possible again if the budget is used up (the service's rule, for display)."""
    times = sorted(clock.as_utc(t) for t in times)
    day = [t for t in times if t > now - DAY]
    hour = [t for t in day if t > now - HOUR]
    resets = []
    if level.budget_per_hour and len(hour) >= level.budget_per_hour:
        resets.append(hour[len(hour) - level.budget_per_hour] + HOUR)
    if level.budget_per_day and len(day) >= level.budget_per_day:
        resets.append(day[len(day) - level.budget_per_day] + DAY)
    return max(resets) if resets else None


async def panel_state(session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID, submitted: bool) -> PanelState:
    """The student's partner state on their document: on or off and why, level, which reflection is due."""
    doc = await document_service.get(session, ctx, document_id)
    read = await partner_service.get_settings(session, ctx, doc.assignment_id)
    hist = await partner_service.history(session, session, ctx, document_id)
    eff = read.effective
    settings = read.settings
    reason = eff.reason
    resets = None
    level = hist.level
    if eff.enabled and submitted:
        reason = "Your document has been submitted, so the partner is closed for it."
    elif eff.enabled and level is not None:
        if not level.kinds:
            reason = (
                f"At your level ({level_label(level.level)}) the partner can help with none of the kinds of "
                "help your teacher allows in this stage. A thoughtful reflection can raise your level."
            )
        else:
            resets = budget_resets_at(level, [e.created_at for e in hist.exchanges], clock.utcnow())
            if resets is not None:
                reason = (
                    f"You have used your requests for now ({level.budget_per_hour} an hour, "
                    f"{level.budget_per_day} a day at your level). You can ask again at "
                    f"{resets.strftime('%H:%M')} UTC."
                )
    due = hist.reflection_due
    first = not any(r.accepted for r in hist.reflections)
    minimum = settings.reflection_min_words if (due == "initial" or first) else settings.reflection_min_words // 2
    return PanelState(
        available=reason is None,
        can_reflect=eff.enabled and not submitted,
        reason=reason,
        budget_resets_at=resets,
        level=level,
        reflection_due=due,
        min_words=minimum,
        # after an answer the gate has passed, so an accepted reflection exists when the gate is on
        follow_up_min=settings.reflection_min_words // (2 if not first or settings.reflection_required else 1),
        follow_up=settings.follow_up_reflection,
        reflection_required=settings.reflection_required,
        kinds=[kind_label(k) for k in (level.kinds if level else [])],
        history=hist,
    )


# ---- history ----------------------------------------------------------------------------------------------


async def _names(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = sorted(set(ids))
    users = await identity.users_by_ids(session, wanted) if wanted else {}
    return {uid: u.display_name for uid, u in users.items()}


def _timeline(hist: HistoryRead) -> list[dict[str, Any]]:
    """Reflections, exchanges and level changes in the order they happened."""
    items: list[dict[str, Any]] = []
    items += [{"type": "reflection", "at": r.created_at, "user_id": r.user_id, "item": r} for r in hist.reflections]
    items += [{"type": "exchange", "at": e.created_at, "user_id": e.user_id, "item": e} for e in hist.exchanges]
    items += [{"type": "level", "at": c.created_at, "user_id": c.user_id, "item": c} for c in hist.level_changes]
    order = {"reflection": 0, "level": 1, "exchange": 2}
    items.sort(key=lambda i: (clock.as_utc(i["at"]), order[i["type"]]))
    return items


@router.get("/documents/{document_id}/partner", include_in_schema=False)
async def history_page(
    request: Request, document_id: str, ctx: auth.PartnerRead, session: ReadSession, audit_session: WriteSession
) -> Response:
    doc = await document_service.get(session, ctx, parse_id(document_id))
    hist = await partner_service.history(session, audit_session, ctx, doc.id)
    a = AssignmentRead.model_validate(await assignment_service.get(session, ctx, doc.assignment_id))
    course = await course_service.get_course(session, ctx, a.course_id)
    staff = hist.level is None
    users = {r.user_id for r in hist.reflections} | {e.user_id for e in hist.exchanges}
    users |= {c.user_id for c in hist.level_changes}
    names = await _names(session, list(users)) if staff else {}
    return await render(
        request,
        "partner/history.html",
        session=session,
        title=f"Writing partner history: {a.title}",
        a=a,
        course=course,
        doc=doc,
        hist=hist,
        staff=staff,
        names=names,
        timeline=_timeline(hist),
        kind_label=kind_label,
        level_label=level_label,
    )


# ---- the educator's settings ------------------------------------------------------------------------------


def _values_of(settings: AiSettings, stages: list[dict[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "enabled": settings.enabled,
        "exam_mode": settings.exam_mode,
        "kinds": [k.value for k in settings.kinds],
        "budget_per_hour": str(settings.budget_per_hour),
        "budget_per_day": str(settings.budget_per_day),
        "reflection_required": settings.reflection_required,
        "reflection_min_words": str(settings.reflection_min_words),
        "follow_up_reflection": settings.follow_up_reflection,
    }
    for s in stages:
        key = s.get("key")
        override = settings.stages.get(key) if key else None
        mode = (
            "same"
            if override is None
            else ("off" if not override.enabled else ("custom" if override.kinds is not None else "same"))
        )
        values[f"stage-{key}"] = mode
        values[f"stage-{key}-kinds"] = [k.value for k in (override.kinds or [])] if override else []
    return values


def _parse(raw: Any, stages: list[dict[str, Any]], form: FormState) -> tuple[dict[str, Any], AiSettings | None]:
    """The submitted form as values to show again and, when everything is valid, the settings."""
    values: dict[str, Any] = {
        "enabled": raw.get("enabled") == "on",
        "exam_mode": raw.get("exam_mode") == "on",
        "kinds": [str(k) for k in raw.getlist("kinds")],
        "reflection_required": raw.get("reflection_required") == "on",
        "follow_up_reflection": raw.get("follow_up_reflection") == "on",
    }
    body: dict[str, Any] = {k: values[k] for k in values}
    for name, (label, low, high) in INT_FIELDS.items():
        text = str(raw.get(name, "")).strip()
        values[name] = text
        try:
            number = int(text)
        except ValueError:
            form.error(name, f"{label}: enter a whole number from {low} to {high}.")
            continue
        if not low <= number <= high:
            form.error(name, f"{label}: enter a whole number from {low} to {high}.")
            continue
        body[name] = number
    overrides: dict[str, Any] = {}
    for s in stages:
        key = s.get("key")
        mode = str(raw.get(f"stage-{key}", "same"))
        kinds = [str(k) for k in raw.getlist(f"stage-{key}-kinds")]
        values[f"stage-{key}"] = mode
        values[f"stage-{key}-kinds"] = kinds
        if mode == "off":
            overrides[key] = {"enabled": False}
        elif mode == "custom":
            overrides[key] = {"enabled": True, "kinds": kinds}
        elif mode != "same":
            form.error(f"stage-{key}", f"Choose what applies in the {s.get('label') or key} stage.")
    body["stages"] = overrides
    if not form.ok:
        return values, None
    try:
        return values, AiSettings.model_validate(body)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            if not loc:  # the model's own check: the daily budget against the hourly one
                form.error("budget_per_day", str(err.get("msg", "")).removeprefix("Value error, "))
            elif loc[0] == "kinds":
                form.error("kinds", "Choose kinds of help from the list.")
            elif loc[0] == "stages" and len(loc) > 1:
                form.error(f"stage-{loc[1]}", "Choose kinds of help from the list for this stage.")
            else:
                form.error("_form", str(err.get("msg", "This value is not valid.")))
        return values, None


async def _settings_page(
    request: Request,
    session: AsyncSession,
    ctx: AuthContext,
    assignment_id: uuid.UUID,
    *,
    read: AiSettingsRead | None = None,
    values: dict[str, Any] | None = None,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    a = AssignmentRead.model_validate(await assignment_service.get(session, ctx, assignment_id))
    course = await course_service.get_course(session, ctx, a.course_id)
    read = read or await partner_service.get_settings(session, ctx, assignment_id)
    form = form or FormState()
    form.values = values if values is not None else _values_of(read.settings, a.stages)
    return await render(
        request,
        "partner/settings.html",
        session=session,
        status=status,
        title=f"AI partner settings: {a.title}",
        a=a,
        course=course,
        read=read,
        form=form,
        v=form.values,
        kinds=list(KIND_LABELS.items()),
        stage_modes=STAGE_MODES,
    )


@router.get("/assignments/{assignment_id}/partner/settings", include_in_schema=False)
async def settings_page(request: Request, assignment_id: str, ctx: auth.PartnerRead, session: ReadSession) -> Response:
    return await _settings_page(request, session, ctx, parse_id(assignment_id))


@router.post("/assignments/{assignment_id}/partner/settings", include_in_schema=False)
async def save_settings(
    request: Request, assignment_id: str, ctx: auth.PartnerWrite, read: ReadSession, session: WriteSession
) -> Response:
    aid = parse_id(assignment_id)
    current = await partner_service.get_settings(read, ctx, aid)  # 404 for those who may not see it
    a = AssignmentRead.model_validate(await assignment_service.get(read, ctx, aid))
    form = FormState()
    if not current.editable:
        form.error("_form", SettingsReadOnly.default_detail)
        return await _settings_page(request, read, ctx, aid, read=current, form=form, status=403)
    values, data = _parse(await request.form(), a.stages, form)
    if data is None:
        return await _settings_page(request, read, ctx, aid, read=current, values=values, form=form, status=422)
    try:
        await partner_service.put_settings(session, ctx, aid, data)
    except NotFound:
        raise
    except ScribetreeError as exc:
        form.error("_form", exc.detail)
        return await _settings_page(
            request, read, ctx, aid, read=current, values=values, form=form, status=exc.status_code
        )
    return redirect(
        f"/assignments/{aid}/partner/settings", "AI partner settings saved. They apply to the students' next request."
    )


# ---- the class view ---------------------------------------------------------------------------------------


@router.get("/assignments/{assignment_id}/partner", include_in_schema=False)
async def class_page(
    request: Request, assignment_id: str, ctx: auth.PartnerRead, session: ReadSession, audit_session: WriteSession
) -> Response:
    aid = parse_id(assignment_id)
    summary = await partner_service.summary(session, audit_session, ctx, aid)
    a = AssignmentRead.model_validate(await assignment_service.get(session, ctx, aid))
    course = await course_service.get_course(session, ctx, a.course_id)
    read = await partner_service.get_settings(session, ctx, aid)
    return await render(
        request,
        "partner/class.html",
        session=session,
        title=f"Writing partner: {a.title}",
        a=a,
        course=course,
        summary=summary,
        read=read,
        level_label=level_label,
        kind_label=kind_label,
    )


# ---- the AI-use summary on the submission reader ---------------------------------------------------------


@router.get("/documents/{document_id}/partner/summary", include_in_schema=False)
async def use_summary(
    request: Request, document_id: str, ctx: auth.PartnerRead, session: ReadSession, audit_session: WriteSession
) -> Response:
    """A fragment (loaded by htmx next to the AI-use statement): requests, levels, reflections per student."""
    doc = await document_service.get(session, ctx, parse_id(document_id))
    hist = await partner_service.history(session, audit_session, ctx, doc.id)
    users = sorted({r.user_id for r in hist.reflections} | {e.user_id for e in hist.exchanges})
    names = await _names(session, users) if hist.level is None else {}
    rows = []
    for uid in users:
        refl = [r for r in hist.reflections if r.user_id == uid]
        counted = [r.total for r in refl if not r.gamed]
        changes = [c for c in hist.level_changes if c.user_id == uid]
        rows.append(
            {
                "name": names.get(uid, "The student"),
                "requests": sum(1 for e in hist.exchanges if e.user_id == uid),
                "refusals": sum(1 for e in hist.exchanges if e.user_id == uid and e.refusal),
                "reflections": len(refl),
                "gamed": sum(1 for r in refl if r.gamed),
                "mean": round(sum(counted) / len(counted), 1) if counted else None,
                "level": level_label(changes[-1].to_level if changes else Level.basic.value),
            }
        )
    body = render_fragment("partner/_use_summary.html", rows=rows, doc=doc)
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})
