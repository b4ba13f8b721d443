"""Insight pages over HTTP: the course dashboard, an educator's page on one student and a student's own progress.
Every figure asserted here is computed from a crafted writing history written through the edit log on chosen
days (``clock.travel``), so the pages show what the analytics service derives from stored data."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.analytics.service import analytics as analytics_service
from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import Assignment, Course, CourseRole
from scribetree.identity.models import User
from scribetree.tenancy.models import Tenant
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.writing import create_document, ins, write
from tests.fixtures.auth import make_client

EVIL = "<script>alert('x')</script>"


@dataclass
class Class:
    course: Course
    teacher: User
    assignment: Assignment
    students: dict[str, User]
    words: dict[str, int]


def sentence(words: int, tag: str) -> str:
    return " ".join(f"{tag}{i}" for i in range(words)) + ". "


async def _history(session: AsyncSession, assignment: Assignment, user: User, days: list[tuple[int, int]]) -> int:
    """``(days ago, words)``: one batch on each of those days appending that many words; returns the total."""
    doc = await create_document(session, assignment, owner=user)
    total = 0
    for ago, words in sorted(days, reverse=True):
        with clock.travel(timedelta(days=-ago)):
            await write(session, doc, user, [ins(len(doc.text), sentence(words, f"w{ago}x"))])
            doc.last_activity_at = clock.utcnow()  # as the batch path sets it (the factory writes only the log)
        total += words
    return total


async def _seed(session: AsyncSession, tenant: Tenant) -> Class:
    course = await create_course(session, tenant, title="Composition")
    teacher = await create_course_member(session, course, tenant, CourseRole.instructor, display_name="Grace Hopper")
    with clock.travel(timedelta(days=-20)):
        assignment = await create_assignment(
            session, course, title="Essay", due_at=clock.utcnow() + timedelta(days=27), word_min=600
        )
    students = {
        name: await create_course_member(session, course, tenant, display_name=display)
        for name, display in (("steady", "Sam Steady"), ("bursty", "Bea Bursty"), ("idle", EVIL), ("none", "Nia None"))
    }
    words = {
        "steady": await _history(session, assignment, students["steady"], [(i, 40) for i in range(0, 14, 2)]),
        "bursty": await _history(session, assignment, students["bursty"], [(12, 20), (6, 400), (1, 20)]),
        "idle": await _history(session, assignment, students["idle"], [(9, 100), (6, 100)]),
        "none": 0,
    }
    await analytics_service.refresh_tenant(session, tenant.id)  # what the catch-up job does every 30 s
    await session.commit()
    return Class(course, teacher, assignment, students, words)


def row(html: str, user: User) -> str:
    match = re.search(rf'<tr data-user="{user.id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {user.display_name}"
    return match.group(1)


class TestCourseDashboard:
    async def test_states_patterns_and_figures(self, app: FastAPI, session: AsyncSession, tenant: Tenant) -> None:
        c = await _seed(session, tenant)
        async with await make_client(app, session, c.teacher, tenant) as client:
            r = await client.get(f"/courses/{c.course.id}/insight")
        assert r.status_code == 200, r.text[:2000]
        html = r.text
        steady, bursty, idle, none = (row(html, c.students[k]) for k in ("steady", "bursty", "idle", "none"))
        assert 'data-state="progressing"' in steady and 'data-patterns="steady"' in steady
        assert 'data-state="progressing"' in bursty and 'data-patterns="bursty"' in bursty
        assert 'data-state="stalled"' in idle  # last wrote 6 days ago, the essay is open
        assert 'data-state="stalled"' in none  # published 20 days ago, no words
        assert f'data-words="{c.words["steady"]}"' in steady and f'data-words="{c.words["bursty"]}"' in bursty
        assert EVIL not in html and "&lt;script&gt;" in html
        assert re.search(r'data-state-count="stalled">2<', html)
        assert html.count('role="img"') >= 3  # progress, who wrote each day, stage completion
        assert "Class progress: words written so far" in html
        # the class total at the end of the progress line is every word written
        assert f"grew to {sum(c.words.values()):,} words" in html
        # the class view is audited (once, for the course)
        viewed = select(AuditEvent).where(AuditEvent.action == "analytics.viewed")
        targets = [e.target_id for e in (await session.execute(viewed)).scalars()]
        assert targets == [str(c.course.id)]

    async def test_sorting_and_assignment_filter(self, app: FastAPI, session: AsyncSession, tenant: Tenant) -> None:
        c = await _seed(session, tenant)
        async with await make_client(app, session, c.teacher, tenant) as client:
            r = await client.get(f"/courses/{c.course.id}/insight?sort=words")
            order = re.findall(r'<tr data-user="([0-9a-f-]+)">', r.text)
            expected = sorted(c.students, key=lambda k: -c.words[k])
            assert order == [str(c.students[k].id) for k in expected]
            r = await client.get(f"/courses/{c.course.id}/insight?assignment={c.assignment.id}&sort=state")
            assert r.status_code == 200
            assert "Per-stage completion: Essay" in r.text
            states = re.findall(r'<tr data-user="[^"]+">.*?data-state="(\w+)"', r.text, re.S)
            assert states == ["stalled", "stalled", "progressing", "progressing"]
            assert (await client.get(f"/courses/{c.course.id}/insight?assignment={uuid.uuid4()}")).status_code == 404
            assert (await client.get(f"/courses/{c.course.id}/insight?assignment=nope")).status_code == 404
            # an unknown sort falls back to the name order
            r = await client.get(f"/courses/{c.course.id}/insight?sort=bogus")
            assert r.status_code == 200 and '<strong aria-current="true">Name</strong>' in r.text

    async def test_students_and_strangers_get_404(
        self, app: FastAPI, session: AsyncSession, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        c = await _seed(session, tenant)
        stranger = await create_course_member(
            session, await create_course(session, other_tenant), other_tenant, CourseRole.instructor
        )
        await session.commit()
        async with await make_client(app, session, c.students["steady"], tenant) as client:
            assert (await client.get(f"/courses/{c.course.id}/insight")).status_code == 404
            url = f"/courses/{c.course.id}/students/{c.students['steady'].id}/insight"
            assert (await client.get(url)).status_code == 404
        async with await make_client(app, session, stranger, other_tenant) as client:
            assert (await client.get(f"/courses/{c.course.id}/insight")).status_code == 404
            url = f"/courses/{c.course.id}/students/{c.students['steady'].id}/insight"
            assert (await client.get(url)).status_code == 404


class TestStudentPage:
    async def test_profile_timeline_and_audit(self, app: FastAPI, session: AsyncSession, tenant: Tenant) -> None:
        c = await _seed(session, tenant)
        steady = c.students["steady"]
        async with await make_client(app, session, c.teacher, tenant) as client:
            r = await client.get(f"/courses/{c.course.id}/students/{steady.id}/insight")
            assert r.status_code == 200, r.text[:2000]
            html = r.text
            assert f'data-figure="words-added">{c.words["steady"]:,}<' in html
            assert 'data-figure="writing-days">7<' in html
            assert 'data-code="pattern.steady"' in html and "Steady: wrote on 7 of 13 days" in html
            # the timeline has a column per day, its bars' values are the words of each day, and days link to rows
            bars = re.findall(r'data-value="(\d+)" data-day="([\d-]+)"', html)
            assert len(bars) == 13 and sum(int(v) for v, _ in bars) == c.words["steady"]
            for value, day in bars:
                if int(value):
                    assert f'id="day-{day}"' in html and f'href="#day-{day}"' in html
            assert re.search(r'href="/documents/[0-9a-f-]{36}/history"', html)
            # a student of another course (or none) is 404
            assert (await client.get(f"/courses/{c.course.id}/students/{uuid.uuid4()}/insight")).status_code == 404
            assert (await client.get(f"/courses/{c.course.id}/students/{c.teacher.id}/insight")).status_code == 404
        events = (
            (
                await session.execute(
                    select(AuditEvent).where(
                        AuditEvent.action == "analytics.viewed", AuditEvent.target_id == str(steady.id)
                    )
                )
            )
            .scalars()
            .all()
        )
        assert events and all(e.actor_user_id == c.teacher.id for e in events)


class TestMyProgress:
    async def test_student_sees_own_profile_in_encouraging_words(
        self, app: FastAPI, session: AsyncSession, tenant: Tenant
    ) -> None:
        c = await _seed(session, tenant)
        idle = c.students["idle"]
        async with await make_client(app, session, idle, tenant) as client:
            r = await client.get(f"/courses/{c.course.id}/my-progress")
            course_page = await client.get(f"/courses/{c.course.id}")
        assert r.status_code == 200, r.text[:2000]
        html = r.text
        assert "My progress" in html and 'data-state="stalled"' in html
        assert "Time to pick it back up" in html and "Stalled" not in html and "truggling" not in html
        assert f'data-figure="words-added">{c.words["idle"]:,}<' in html
        assert EVIL not in html
        assert f'href="/courses/{c.course.id}/my-progress"' in course_page.text
        # no one else's figures: the educator's pages stay closed
        before = (await session.execute(select(AuditEvent).where(AuditEvent.action == "analytics.viewed"))).all()
        assert before == []  # a student's own reads are not audited

    async def test_staff_get_a_pointer_to_insight(self, app: FastAPI, session: AsyncSession, tenant: Tenant) -> None:
        c = await _seed(session, tenant)
        async with await make_client(app, session, c.teacher, tenant) as client:
            r = await client.get(f"/courses/{c.course.id}/my-progress")
            course_page = await client.get(f"/courses/{c.course.id}")
        assert r.status_code == 200 and f'href="/courses/{c.course.id}/insight"' in r.text
        assert f'href="/courses/{c.course.id}/insight">Insight</a>' in course_page.text
