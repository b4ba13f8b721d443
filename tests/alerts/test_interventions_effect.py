"""Intervention effectiveness: before/after activity from crafted writing-session histories (increase, decrease,
nothing before, too early), per intervention and pooled per kind through the API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.interventions_effect import Activity, measure, pool
from scribetree.alerts.interventions_models import Intervention, InterventionKind
from scribetree.core import clock
from scribetree.writing.models import WritingSession
from tests.factories.writing import create_document
from tests.writing.conftest import ClientFor, Klass, client_for, ctx_for, klass

__all__ = ["client_for", "ctx_for", "klass"]

T = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def history(per_day_before: list[int], per_day_after: list[int], at: datetime = T) -> list[Activity]:
    """One session a day of the given active minutes (and 10 words a minute), before and after ``at``."""
    out = []
    for i, m in enumerate(reversed(per_day_before), start=1):
        out.append(Activity(at - timedelta(days=i) + timedelta(hours=1), m * 60, m * 10))
    for i, m in enumerate(per_day_after):
        out.append(Activity(at + timedelta(days=i, hours=1), m * 60, m * 10))
    return out


class TestMeasure:
    def test_an_increase(self) -> None:
        e = measure(T, history([10, 12, 14], [30, 29, 28]), now=T + timedelta(days=4))
        assert e.ready and (e.before_minutes, e.after_minutes) == (12, 29)
        assert round(e.change_percent or 0) == 142 and e.trend == "up"
        assert e.summary.startswith("activity after: +142 % (12 → 29 active min/day over 3 days)")
        assert (e.before_words, e.after_words) == (120, 290)

    def test_a_decrease_and_a_steady_one(self) -> None:
        down = measure(T, history([20, 20, 20], [5, 5, 0]), now=T + timedelta(days=3))
        assert down.trend == "down" and round(down.change_percent or 0) == -83
        steady = measure(T, history([20, 20, 20], [21, 20, 21]), now=T + timedelta(days=3))
        assert steady.trend == "steady"

    def test_nothing_before_has_no_percentage(self) -> None:
        e = measure(T, history([0, 0, 0], [9, 0, 0]), now=T + timedelta(days=5))
        assert e.change_percent is None and e.trend == "up"
        assert e.summary.startswith("activity after: from 0 to 3 active min/day")

    def test_too_early_until_n_days_have_passed(self) -> None:
        e = measure(T, history([10, 10, 10], [50]), now=T + timedelta(days=2, hours=23))
        assert not e.ready and e.change_percent is None and e.trend is None
        assert e.summary == "too early to tell (in 1 h)"
        assert measure(T, history([10, 10, 10], [50]), now=T + timedelta(days=3)).ready

    def test_sessions_outside_the_windows_do_not_count(self) -> None:
        far = [Activity(T - timedelta(days=3, seconds=1), 6000, 999), Activity(T + timedelta(days=3), 6000, 999)]
        e = measure(T, far, now=T + timedelta(days=9))
        assert (e.before_minutes, e.after_minutes, e.before_words, e.after_words) == (0, 0, 0, 0)

    def test_n_days_is_a_parameter(self) -> None:
        e = measure(T, history([7] * 7, [14] * 7), now=T + timedelta(days=7), days=7)
        assert (e.before_minutes, e.after_minutes, e.change_percent) == (7, 14, 100)

    def test_pooling_per_kind(self) -> None:
        now = T + timedelta(days=10)
        effects = [
            measure(T, history([10, 10, 10], [20, 20, 20]), now),
            measure(T, history([10, 10, 10], [0, 0, 0]), now),
            measure(T, history([10, 10, 10], [10, 10, 10]), now),
            measure(T, history([1, 1, 1], [9, 9, 9]), T + timedelta(days=1)),  # too early: not pooled
        ]
        k = pool("message", effects)
        assert (k.count, k.measured, k.up, k.down, k.steady) == (4, 3, 1, 1, 1)
        assert (k.before_minutes, k.after_minutes, k.change_percent) == (10, 10, 0)
        assert pool("check_in", []).summary == "too early to tell"


async def add_sessions(
    session: AsyncSession, klass: Klass, doc_id: uuid.UUID, user_id: uuid.UUID, at: datetime, minutes: list[int]
) -> None:
    for i, m in enumerate(minutes):
        start = at + timedelta(days=i)
        session.add(
            WritingSession(
                tenant_id=klass.tenant.id,
                document_id=doc_id,
                user_id=user_id,
                started_at=start,
                ended_at=start + timedelta(minutes=m),
                active_seconds=m * 60,
                words_added=m * 10,
            )
        )
    await session.flush()


class TestThroughTheApi:
    async def test_course_list_shows_each_effect_and_the_pooled_one(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        now = clock.utcnow()
        at = now - timedelta(days=5)
        doc = await create_document(session, klass.assignment, owner=klass.student)
        mate_doc = await create_document(session, klass.assignment, owner=klass.classmate)
        # the student wrote 12 min/day before and 29 after; the classmate 20 before and 5 after
        await add_sessions(session, klass, doc.id, klass.student.id, at - timedelta(days=3), [10, 12, 14])
        await add_sessions(session, klass, doc.id, klass.student.id, at + timedelta(hours=1), [30, 29, 28])
        await add_sessions(session, klass, mate_doc.id, klass.classmate.id, at - timedelta(days=3), [20, 20, 20])
        await add_sessions(session, klass, mate_doc.id, klass.classmate.id, at + timedelta(hours=1), [5, 5, 5])
        for who, when in ((klass.student, at), (klass.classmate, at), (klass.student, now - timedelta(days=1))):
            session.add(
                Intervention(
                    tenant_id=klass.tenant.id,
                    course_id=klass.course.id,
                    student_user_id=who.id,
                    kind=InterventionKind.message,
                    params={"subject": "s", "body": "b"},
                    created_by=klass.instructor.id,
                    created_at=when,
                )
            )
        await session.commit()
        staff = await client_for(klass.instructor, klass.tenant)
        r: httpx.Response = await staff.get(f"/api/v1/courses/{klass.course.id}/interventions")
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        assert data["days"] == 3
        recent, *measured = data["items"]
        assert recent["effect"]["ready"] is False and recent["effect"]["summary"].startswith("too early to tell")
        by_student = {i["student_name"]: i["effect"] for i in measured}
        assert by_student["Ada Student"]["summary"].startswith("activity after: +142 % (12 → 29 active min/day")
        assert by_student["Bea Classmate"]["trend"] == "down"
        assert by_student["Bea Classmate"]["change_percent"] == -75.0
        message = next(k for k in data["by_kind"] if k["kind"] == "message")
        assert (message["count"], message["measured"], message["up"], message["down"]) == (3, 2, 1, 1)
        assert (message["before_active_min_per_day"], message["after_active_min_per_day"]) == (16.0, 17.0)
        check_in = next(k for k in data["by_kind"] if k["kind"] == "check_in")
        assert (check_in["count"], check_in["summary"]) == (0, "too early to tell")
