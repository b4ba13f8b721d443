"""Insight pages: the educator's course dashboard, the educator's page on one student, and the student's own
progress page. Figures come from the analytics service and the learner profile (``analytics.profile``); charts
are server-side SVG (``web.charts``) with their figures as tables.

Reads go to the read session and audit entries (and a single student's catch-up) to the write session, as the
analytics service expects; the course dashboard catches nothing up itself (docs/insight.md, "Freshness").

Adapters only: who may see what is decided by the services (a course's staff and the institution's admins see
everyone in it, a student only themselves, anyone else gets 404), and reads of a student's figures by someone
else are audited there. The educator pages answer 404 to students, the same as a missing course.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from scribetree.analytics.profile import STATE_LABELS, Profile, State, day_anchor
from scribetree.analytics.profile import profiles as profile_service
from scribetree.analytics.schemas import DocumentMetrics, StageCompletion, StudentMetrics
from scribetree.analytics.service import analytics as analytics_service
from scribetree.core import clock
from scribetree.core.errors import NotFound
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses import auth
from scribetree.courses.models import CourseRole
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.web import charts
from scribetree.web.charts import Day, Series
from scribetree.web.pages import parse_id, render

router = APIRouter(route_class=UnitOfWorkRoute)

SORTS = {
    "name": "Name",
    "state": "State",
    "words": "Words",
    "time": "Active time",
    "activity": "Last activity",
    "reflection": "Reflection quality",
}
STATE_ORDER = {
    State.struggling: 0,
    State.stalled: 1,
    State.not_started: 2,
    State.progressing: 3,
    State.nothing_open: 4,
}
TIMELINE_MAX_DAYS = 42  # six weeks of day columns still read on a phone
STAGE_SERIES = ("At target", "Not yet")


def _short(day: date) -> str:
    return f"{day:%d %b}"


# ---- charts from the figures ---------------------------------------------------------------------------------


def progress_chart(days: list[date], cumulative: list[int], active: list[int]) -> charts.Chart:
    if not days:
        return charts.line_chart(title="Class progress", desc="No writing yet.", x_labels=[], series=[])
    return charts.line_chart(
        title="Class progress: words written so far",
        desc=(
            f"From {days[0]:%d %b} to {days[-1]:%d %b} the class's drafts grew to {cumulative[-1]:,} words; at most "
            f"{max(active)} students wrote on one day."
        ),
        x_labels=[_short(d) for d in days],
        series=[Series("Words so far", cumulative)],
    )


def active_chart(days: list[date], active: list[int]) -> charts.Chart:
    return charts.bar_chart(
        title="Students writing per day",
        desc=f"Between {days[0]:%d %b} and {days[-1]:%d %b}; most on one day: {max(active)}." if days else "",
        categories=[_short(d) for d in days],
        series=[Series("Students writing", active)],
        stacked=False,
    )


def stage_chart(stages: list[StageCompletion], students: int) -> charts.Chart:
    with_target = [s for s in stages if s.target_words is not None]
    met = [s.met for s in with_target]
    return charts.bar_chart(
        title="Stage completion",
        desc=(
            "Students at or above each stage's word target: "
            + "; ".join(f"{s.label} {s.met} of {s.students}" for s in with_target)
            + "."
        )
        if with_target
        else "No stage has a word target.",
        categories=[s.label for s in with_target],
        series=[Series(STAGE_SERIES[0], met), Series(STAGE_SERIES[1], [s.students - s.met for s in with_target])],
        y_max=float(max(1, students)),
    )


def timeline_days(metrics: StudentMetrics, today: date) -> list[Day]:
    """One column per day from the first day with writing (at most ``TIMELINE_MAX_DAYS`` back) to today."""
    by_day = {d.day: d for d in metrics.daily}
    if not by_day:
        return []
    start = max(min(by_day), today - timedelta(days=TIMELINE_MAX_DAYS - 1))
    out = []
    day = start
    while day <= max(today, max(by_day)):
        d = by_day.get(day)
        out.append(Day(day, d.words_added if d else 0, round(d.active_minutes, 1) if d else 0.0, href=day_anchor(day)))
        day += timedelta(days=1)
    return out


def student_charts(metrics: StudentMetrics, prof: Profile, today: date, *, own: bool) -> dict[str, charts.Chart]:
    who = "your" if own else f"{metrics.name}'s"
    days = timeline_days(metrics, today)
    written = sum(d.value for d in days)
    timeline = charts.timeline(
        title="Writing timeline: words written per day",
        desc=(
            f"{who.capitalize()} writing from {days[0].day:%d %b} to {days[-1].day:%d %b}: {written:,.0f} words on "
            f"{sum(1 for d in days if d.value > 0)} days."
        )
        if days
        else "",
        days=days,
    )
    refl = [a for a in metrics.ai_daily if a.reflections and a.reflection_mean_total is not None]
    reflections = charts.line_chart(
        title="Reflection quality (mean score out of 20, per day)",
        desc=(
            f"{len(refl)} days with reflections; from {refl[0].reflection_mean_total:.1f} on {refl[0].day:%d %b} "
            f"to {refl[-1].reflection_mean_total:.1f} on {refl[-1].day:%d %b}."
        )
        if refl
        else "No reflections yet.",
        x_labels=[_short(a.day) for a in refl],
        series=[Series("Reflection score", [a.reflection_mean_total for a in refl])],
        y_max=20,
    )
    weeks = prof.ai_weeks
    rated = [w for w in weeks if w.per_1000 is not None]
    independence = charts.line_chart(
        title="AI partner exchanges per 1,000 words written, per week",
        desc=(
            "Lower means more independent writing. "
            + "; ".join(f"week of {w.week:%d %b}: {w.per_1000:.1f}" for w in rated)
            + "."
        )
        if rated
        else "Not enough writing yet for a weekly figure.",
        x_labels=[f"wk {w.week:%d %b}" for w in weeks],
        series=[Series("Exchanges per 1,000 words", [w.per_1000 for w in weeks])],
    )
    return {"timeline": timeline, "reflections": reflections, "independence": independence}


def _document_rows(metrics: StudentMetrics, titles: dict[uuid.UUID, str]) -> list[dict[str, Any]]:
    rows = []
    for d in metrics.documents:
        rows.append(
            {
                "doc": d,
                "title": titles.get(d.assignment_id, "Assignment"),
                "stages_met": sum(1 for s in d.stages if s.status == "met"),
                "stages_due": sum(1 for s in d.stages if s.status in ("met", "missed")),
            }
        )
    return rows


def _writing_days(metrics: StudentMetrics) -> list[Any]:
    return [d for d in reversed(metrics.daily) if d.words_added or d.words_deleted or d.active_minutes]


# ---- educator: course dashboard ------------------------------------------------------------------------------


def _sort_rows(rows: list[dict[str, Any]], sort: str) -> None:
    def last(r: dict[str, Any]) -> float:
        at: datetime | None = r["last_activity_at"]
        return -(clock.as_utc(at).timestamp()) if at else float("inf")

    keys = {
        "name": lambda r: r["name"].casefold(),
        "state": lambda r: (STATE_ORDER[r["profile"].state], r["name"].casefold()),
        "words": lambda r: (-r["words"], r["name"].casefold()),
        "time": lambda r: (-r["active_minutes"], r["name"].casefold()),
        "activity": lambda r: (last(r), r["name"].casefold()),
        "reflection": lambda r: (
            r["reflection"] is None,
            r["reflection"] if r["reflection"] is not None else 0,
            r["name"].casefold(),
        ),
    }
    rows.sort(key=keys[sort])


@router.get("/courses/{course_id}/insight", include_in_schema=False)
async def course_insight(
    request: Request,
    course_id: str,
    ctx: auth.CoursesRead,
    session: ReadSession,
    audit_session: WriteSession,
    sort: str = "name",
    assignment: str = "",
) -> Response:
    cid = parse_id(course_id)
    course = await course_service.get_course(session, ctx, cid)
    if course.my_role == CourseRole.student:
        raise NotFound()
    sort = sort if sort in SORTS else "name"
    metrics, profiles = await profile_service.course_profiles(session, ctx, cid, audit_session=audit_session)
    assignments = await assignment_service.list_for_course(session, ctx, cid)
    chosen = None
    if assignment:
        aid = parse_id(assignment)
        if not any(a.id == aid for a in assignments):
            raise NotFound()
        chosen = await analytics_service.assignment_metrics(session, ctx, aid, audit_session=audit_session)
    rows: list[dict[str, Any]] = []
    if chosen is not None:
        for r in chosen.rows:
            rows.append(
                {
                    "user_id": r.user_id,
                    "name": r.name,
                    "words": r.word_count,
                    "active_minutes": r.active_minutes,
                    "last_activity_at": r.last_activity_at,
                    "reflection": r.reflection_mean_total,
                    "profile": profiles[r.user_id],
                    "document_id": r.document_id,
                }
            )
        stages = chosen.stage_completion
        students = chosen.students
    else:
        for s in metrics.student_rows:
            rows.append(
                {
                    "user_id": s.user_id,
                    "name": s.name,
                    "words": s.word_count,
                    "active_minutes": s.active_minutes,
                    "last_activity_at": s.last_activity_at,
                    "reflection": s.reflection_mean_total,
                    "profile": profiles[s.user_id],
                    "document_id": None,
                }
            )
        stages = metrics.stage_completion
        students = metrics.students
    _sort_rows(rows, sort)
    days = [p.day for p in metrics.progress]
    active = [p.active_students for p in metrics.progress]
    counts = {state: sum(1 for p in profiles.values() if p.state == state) for state in State}
    return await render(
        request,
        "insight/course.html",
        session=session,
        title=f"Insight — {course.title}",
        course=course,
        rows=rows,
        sort=sort,
        sorts=SORTS,
        assignments=assignments,
        chosen=chosen,
        counts=counts,
        state_labels={s: STATE_LABELS[s][0] for s in State},
        progress=progress_chart(days, metrics.cumulative_words, active),
        active=active_chart(days, active) if days else None,
        stages=stage_chart(stages, students),
        metrics=metrics,
        query_assignment=assignment,
    )


# ---- educator: one student -------------------------------------------------------------------------------------


async def _student_page(
    request: Request,
    session: Any,
    ctx: Any,
    course: Any,
    prof: Profile,
    metrics: StudentMetrics,
    *,
    audience: str,
) -> Response:
    assignments = await assignment_service.list_for_course(session, ctx, course.id)
    titles = {a.id: a.title for a in assignments}
    today = clock.utcnow().date()
    styles: list[tuple[str, DocumentMetrics]] = [
        (titles.get(d.assignment_id, "Assignment"), d) for d in metrics.documents if d.style is not None
    ]
    own = audience == "student"
    return await render(
        request,
        "insight/student.html",
        session=session,
        title=("My progress" if own else f"{metrics.name}") + f" — {course.title}",
        course=course,
        prof=prof,
        metrics=metrics,
        audience=audience,
        state_label=prof.state_label(audience),
        charts=student_charts(metrics, prof, today, own=own),
        documents=_document_rows(metrics, titles),
        styles=styles,
        writing_days=_writing_days(metrics),
    )


@router.get("/courses/{course_id}/students/{user_id}/insight", include_in_schema=False)
async def student_insight(
    request: Request,
    course_id: str,
    user_id: str,
    ctx: auth.CoursesRead,
    session: ReadSession,
    audit_session: WriteSession,
) -> Response:
    cid, uid = parse_id(course_id), parse_id(user_id)
    course = await course_service.get_course(session, ctx, cid)
    if course.my_role == CourseRole.student:
        raise NotFound()
    prof, metrics = await profile_service.student_profile(session, ctx, cid, uid, audit_session=audit_session)
    return await _student_page(request, session, ctx, course, prof, metrics, audience="educator")


# ---- student: my progress -----------------------------------------------------------------------------------------


@router.get("/courses/{course_id}/my-progress", include_in_schema=False)
async def my_progress(
    request: Request, course_id: str, ctx: auth.CoursesRead, session: ReadSession, audit_session: WriteSession
) -> Response:
    cid = parse_id(course_id)
    course = await course_service.get_course(session, ctx, cid)
    if course.my_role != CourseRole.student:
        # Staff have no progress of their own here: the page says where the class's is.
        return await render(request, "insight/not_a_student.html", session=session, title="My progress", course=course)
    # the write session lets the service catch the figures up first (a student's own reads are not audited)
    prof, metrics = await profile_service.student_profile(session, ctx, cid, ctx.user_id, audit_session=audit_session)
    return await _student_page(request, session, ctx, course, prof, metrics, audience="student")
