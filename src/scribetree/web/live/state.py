"""The live class view's state, read through the courses, writing and alerts services (no queries of its own).

One row per student of the course for one assignment (the page's choice, by default the assignment due
next): the stage they are in, whether they are writing now (a batch in the last ``WRITING_NOW_SECONDS``),
words today (the change of the document's word count since 00:00 UTC, see ``word_counts_before``), words
against the assignment's word target, each stage against its share of the target, last activity and open
alerts. The page renders it; ``live.json`` serves the same data for the page's periodic refresh; pushes then
change it (docs/live.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.models import AlertStatus
from scribetree.alerts.schemas import AlertRead
from scribetree.alerts.service import alerts as alerts_service
from scribetree.core import clock
from scribetree.core.errors import NotFound
from scribetree.courses.schemas import AssignmentRead, CourseRead, Stage
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.tenancy.context import AuthContext
from scribetree.writing.service import document as document_service

WRITING_NOW_SECONDS = 120
STAFF = frozenset({"instructor", "ta", "admin"})


class LiveViewNotFound(NotFound):
    default_detail = "There is no such course, or its live view is for the course's staff only."


@dataclass(frozen=True)
class StageCell:
    key: str
    label: str
    due_at: datetime | None
    target_words: int | None  # the stage's share of the assignment's minimum words (None: no target)
    status: str  # met | missed | open | no_target

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "due_at": _iso(self.due_at),
            "target_words": self.target_words,
            "status": self.status,
        }


@dataclass
class LiveRow:
    user_id: uuid.UUID
    name: str
    document_id: uuid.UUID | None
    status: str  # not_started | in_progress | submitted | late | graded
    word_count: int
    words_today: int
    last_activity_at: datetime | None
    writing_now: bool
    stages: list[StageCell]
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": str(self.user_id),
            "name": self.name,
            "document_id": str(self.document_id) if self.document_id else None,
            "status": self.status,
            "word_count": self.word_count,
            "words_today": self.words_today,
            "last_activity_at": _iso(self.last_activity_at),
            "writing_now": self.writing_now,
            "stages": [s.to_json() for s in self.stages],
            "alerts": self.alerts,
        }


@dataclass
class LiveState:
    course: CourseRead
    assignments: list[AssignmentRead]  # every assignment of the course (staff see drafts too)
    assignment: AssignmentRead | None  # the one shown
    current_stage: str | None
    rows: list[LiveRow]
    alerts: list[dict[str, Any]]
    generated_at: datetime

    def to_json(self) -> dict[str, Any]:
        a = self.assignment
        return {
            "course_id": str(self.course.id),
            "assignment": None
            if a is None
            else {
                "id": str(a.id),
                "title": a.title,
                "due_at": _iso(a.due_at),
                "word_min": a.word_min,
                "word_max": a.word_max,
                "current_stage": self.current_stage,
            },
            "writing_now_seconds": WRITING_NOW_SECONDS,
            "rows": [r.to_json() for r in self.rows],
            "alerts": self.alerts,
            "generated_at": _iso(self.generated_at),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else clock.as_utc(value).isoformat()


async def staff_course(session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> CourseRead:
    """The course if the caller is its instructor, TA or an institution admin; else 404 (missing or forbidden)."""
    try:
        course = await course_service.get_course(session, ctx, course_id)
    except NotFound:
        raise LiveViewNotFound() from None
    if course.my_role not in STAFF:
        raise LiveViewNotFound()
    return course


def pick_assignment(assignments: list[AssignmentRead], now: datetime) -> AssignmentRead | None:
    """The default: the published assignment due next; else the latest due (or created) published one; else
    the first draft."""
    published = [a for a in assignments if a.published_at is not None]
    upcoming = [a for a in published if a.due_at is not None and clock.as_utc(a.due_at) >= now]
    if upcoming:
        return min(upcoming, key=lambda a: clock.as_utc(a.due_at))  # type: ignore[arg-type]
    if published:
        return max(published, key=lambda a: clock.as_utc(a.due_at) if a.due_at else clock.as_utc(a.created_at))
    return assignments[0] if assignments else None


def _stages(a: AssignmentRead) -> list[Stage]:
    return [Stage.model_validate(s) for s in a.stages or []]


def stage_cells(a: AssignmentRead, words: int, now: datetime) -> list[StageCell]:
    """Each stage against its even share of the minimum words: stage i of n expects word_min * i / n by its due
    date. Met once the words reach it; missed when the due date passed first; open until then."""
    stages = _stages(a)
    n = len(stages)
    cells = []
    for i, s in enumerate(stages, start=1):
        due = clock.as_utc(s.due_at) if s.due_at else None
        target = -(-a.word_min * i // n) if a.word_min else None  # ceiling
        if target is None:
            status = "no_target"
        elif words >= target:
            status = "met"
        elif due is not None and due < now:
            status = "missed"
        else:
            status = "open"
        cells.append(StageCell(s.key, s.label, due, target, status))
    return cells


def current_stage(a: AssignmentRead, now: datetime) -> str | None:
    """The first stage not yet due (the last one once all are due)."""
    stages = _stages(a)
    for s in stages:
        if s.due_at is None or clock.as_utc(s.due_at) >= now:
            return s.label
    return stages[-1].label if stages else None


def alert_payload(a: AlertRead) -> dict[str, Any]:
    """An alert as the alerts domain pushes it on the course's channel (docs/live.md)."""
    return {
        "type": "alert",
        "alert_id": str(a.id),
        "course_id": str(a.course_id),
        "assignment_id": str(a.assignment_id) if a.assignment_id else None,
        "student_user_id": str(a.student_user_id),
        "student_name": a.student_name or "",
        "rule": a.rule,
        "severity": str(a.severity),
        "positive": a.positive,
        "title": a.title,
        "created_at": _iso(a.created_at),
        "url": a.url,
    }


async def _open_alerts(
    session: AsyncSession, audit_session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The course's open and acknowledged alerts, newest first (the alerts service audits the listing)."""
    found = await alerts_service.list_for_course(
        session, audit_session, ctx, course_id, statuses=[AlertStatus.open, AlertStatus.acknowledged]
    )
    return [alert_payload(a) for a in found.items]


async def class_state(
    session: AsyncSession,
    audit_session: AsyncSession,
    ctx: AuthContext,
    course_id: uuid.UUID,
    assignment_id: uuid.UUID | None = None,
) -> LiveState:
    course = await staff_course(session, ctx, course_id)
    now = clock.utcnow()
    assignments = [
        AssignmentRead.model_validate(a) for a in await assignment_service.list_for_course(session, ctx, course_id)
    ]
    if assignment_id is not None:
        chosen = next((a for a in assignments if a.id == assignment_id), None)
        if chosen is None:
            raise LiveViewNotFound("This course has no such assignment.")
    else:
        chosen = pick_assignment(assignments, now)
    alerts = await _open_alerts(session, audit_session, ctx, course_id)
    members = await course_service.list_members(session, ctx, course_id)
    students = sorted((m for m in members if m.role == "student"), key=lambda m: m.display_name.casefold())
    rows: list[LiveRow] = []
    if chosen is None:
        rows = [LiveRow(m.user_id, m.display_name, None, "not_started", 0, 0, None, False, []) for m in students]
        stage = None
    else:
        overview = await document_service.assignment_overview(session, ctx, chosen.id)
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        at_midnight = await document_service.word_counts_before(session, ctx, chosen.id, today)
        by_user = {r.user_id: r for r in overview if r.user_id is not None}
        if chosen.kind == "group":
            by_group = {r.group_id: r for r in overview if r.group_id is not None}
            for g in await assignment_service.list_groups(session, ctx, chosen.id):
                for uid in g.user_ids:
                    if g.id in by_group:
                        by_user[uid] = by_group[g.id]
        recent = now - timedelta(seconds=WRITING_NOW_SECONDS)
        for m in students:
            r = by_user.get(m.user_id)
            last = clock.as_utc(r.last_activity_at) if r and r.last_activity_at else None
            words = r.word_count if r else 0
            rows.append(
                LiveRow(
                    user_id=m.user_id,
                    name=m.display_name,
                    document_id=r.document_id if r else None,
                    status=r.status if r else "not_started",
                    word_count=words,
                    words_today=words - at_midnight.get(r.document_id, 0) if last and last >= today else 0,
                    last_activity_at=last,
                    writing_now=last is not None and last >= recent and (r is None or r.status == "in_progress"),
                    stages=stage_cells(chosen, words, now),
                )
            )
        stage = current_stage(chosen, now)
    by_student: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        by_student.setdefault(str(alert.get("student_user_id")), []).append(alert)
    for row in rows:
        row.alerts = by_student.get(str(row.user_id), [])
    return LiveState(course, assignments, chosen, stage, rows, alerts, now)
