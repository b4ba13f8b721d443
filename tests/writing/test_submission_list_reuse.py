"""The staff submission list is computed once and shared by the course's staff for SUBMISSION_LIST_REUSE_SECONDS:
a second educator's request asks the database only about access; a roster change, a submission or a returned grade
shows at once; the live figures (words, last activity) show once the reuse time is over; access is checked every
time, so a cached list never reaches a student or another institution; a change committed by another process is
seen after the epoch check interval."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import cache_epochs, db
from scribetree.core.config import settings
from scribetree.courses.models import CourseMember, CourseRole
from scribetree.writing import service
from tests.core.test_cache_epochs import FakeClock, fake_epoch_clock
from tests.factories.courses import create_course, create_course_member
from tests.factories.tenancy import create_tenant
from tests.factories.writing import ins
from tests.sql_log import statements
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_cache_epochs import bump, other_process
from tests.writing.test_documents_api import open_doc
from tests.writing.test_history import Writer


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t


@pytest.fixture
def reuse(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The production reuse time (2 s) on a clock the test moves."""
    fake = Clock()
    monkeypatch.setattr(settings, "SUBMISSION_LIST_REUSE_SECONDS", 2.0)
    monkeypatch.setattr(service, "time", fake)
    service._lists.clear()
    try:
        yield fake
    finally:
        service._lists.clear()


async def listed(c: httpx.AsyncClient, klass: Klass) -> dict[str, dict[str, Any]]:
    r = await c.get(f"/api/v1/assignments/{klass.assignment.id}/submissions")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    return {row["name"]: row for row in r.json()}


def list_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and ("FROM documents" in s or "FROM submissions" in s)]


async def test_a_second_educator_gets_the_computed_list(klass: Klass, client_for: ClientFor, reuse: Clock) -> None:
    teacher = await client_for(klass.instructor, klass.tenant)
    ta = await client_for(klass.ta, klass.tenant)
    with statements() as first:
        a = await teacher.get(f"/api/v1/assignments/{klass.assignment.id}/submissions")
    assert list_reads(first), "the first request computes the list"
    with statements() as second:
        b = await ta.get(f"/api/v1/assignments/{klass.assignment.id}/submissions")
    assert b.status_code == 200 and b.content == a.content
    assert list_reads(second) == [], second
    assert [row["name"] for row in b.json()] == ["Ada Student", "Bea Classmate"]


async def test_live_figures_show_after_the_reuse_time(klass: Klass, client_for: ClientFor, reuse: Clock) -> None:
    teacher = await client_for(klass.instructor, klass.tenant)
    assert (await listed(teacher, klass))["Ada Student"]["status"] == "not_started"
    student = await client_for(klass.student, klass.tenant)
    w = Writer(student, await open_doc(student, klass.assignment.id))  # a new document: shows at once
    assert (await listed(teacher, klass))["Ada Student"]["word_count"] == 0
    await w.send([ins(0, "Three little words")])  # an editor's batch publishes nothing
    reuse.t += 1.9
    assert (await listed(teacher, klass))["Ada Student"]["word_count"] == 0
    reuse.t += 0.2
    row = (await listed(teacher, klass))["Ada Student"]
    assert row["word_count"] == 3 and row["status"] == "in_progress" and row["last_activity_at"] is not None


async def test_submission_roster_and_grade_show_at_once(
    klass: Klass, client_for: ClientFor, session: AsyncSession, reuse: Clock
) -> None:
    student = await client_for(klass.student, klass.tenant)
    w = Writer(student, await open_doc(student, klass.assignment.id))
    teacher = await client_for(klass.instructor, klass.tenant)
    assert (await listed(teacher, klass))["Ada Student"]["status"] == "not_started"
    await w.send([ins(0, "An essay of some words")])
    assert (await listed(teacher, klass))["Ada Student"]["status"] == "not_started"  # the batch is not shown yet

    r = await student.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
    assert r.status_code == 201, r.text
    row = (await listed(teacher, klass))["Ada Student"]
    assert row["status"] == "submitted" and row["word_count"] == 5 and row["attempts"] == 1

    assert (
        await teacher.put(f"/api/v1/submissions/{r.json()['id']}/grade", json={"scores": {}, "feedback": "Good start"})
    ).status_code == 200
    assert (await teacher.post(f"/api/v1/submissions/{r.json()['id']}/grade/return")).status_code == 200
    assert (await listed(teacher, klass))["Ada Student"]["status"] == "graded"

    await create_course_member(session, klass.course, klass.tenant, CourseRole.student, display_name="Cy Newcomer")
    await session.commit()
    assert "Cy Newcomer" in await listed(teacher, klass)
    r = await teacher.delete(f"/api/v1/courses/{klass.course.id}/members/{klass.classmate.id}")
    assert r.status_code == 204, r.text
    assert "Bea Classmate" not in await listed(teacher, klass)


async def test_access_is_checked_on_every_request(
    klass: Klass, client_for: ClientFor, session: AsyncSession, reuse: Clock
) -> None:
    teacher = await client_for(klass.instructor, klass.tenant)
    path = f"/api/v1/assignments/{klass.assignment.id}/submissions"
    assert (await teacher.get(path)).status_code == 200  # now kept
    student = await client_for(klass.student, klass.tenant)
    assert (await student.get(path)).status_code == 403
    other = await create_tenant(session)
    stranger = await create_course_member(session, await create_course(session, other), other, CourseRole.instructor)
    await session.commit()
    outsider = await client_for(stranger, other)
    r = await outsider.get(path)
    assert r.status_code == 404, r.text
    assert str(klass.student.id) not in r.text


@pytest.fixture
def epoch_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    with fake_epoch_clock(monkeypatch) as fake:
        yield fake


async def test_a_change_by_another_process_is_seen_after_the_check_interval(
    klass: Klass, client_for: ClientFor, engines: db.Engines, reuse: Clock, epoch_clock: FakeClock
) -> None:
    teacher = await client_for(klass.instructor, klass.tenant)
    assert "Bea Classmate" in await listed(teacher, klass)
    await other_process(
        engines,
        delete(CourseMember).where(
            CourseMember.course_id == klass.course.id, CourseMember.user_id == klass.classmate.id
        ),
        bump(cache_epochs.SUBMISSION_LISTS.name),
    )
    epoch_clock.t += 0.5
    assert "Bea Classmate" in await listed(teacher, klass)  # within the interval: the kept list
    epoch_clock.t += 0.6
    assert "Bea Classmate" not in await listed(teacher, klass)


async def test_reuse_zero_computes_every_time(
    klass: Klass, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "SUBMISSION_LIST_REUSE_SECONDS", 0.0)
    teacher = await client_for(klass.instructor, klass.tenant)
    await listed(teacher, klass)
    with statements() as seen:
        await listed(teacher, klass)
    assert list_reads(seen), seen


class SlowList:
    """Wraps ``DocumentService._overview_rows``: counts the lists made and holds each until ``release`` is set, so
    the requests the test sends meanwhile overlap it; ``fail_first`` makes the first one raise after the wait."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fail_first: bool = False) -> None:
        self.made, self.fail_first = 0, fail_first
        self.started, self.release = asyncio.Event(), asyncio.Event()
        original = service.DocumentService._overview_rows

        async def wrapped(this: service.DocumentService, *args: Any) -> Any:
            self.made += 1
            first = self.made == 1
            self.started.set()
            await self.release.wait()
            if first and self.fail_first:
                raise RuntimeError("the first list failed")
            return await original(this, *args)

        monkeypatch.setattr(service.DocumentService, "_overview_rows", wrapped)


async def test_staff_asking_while_the_list_is_made_share_that_one(
    klass: Klass, client_for: ClientFor, reuse: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    teacher = await client_for(klass.instructor, klass.tenant)
    ta = await client_for(klass.ta, klass.tenant)
    slow = SlowList(monkeypatch)
    path = f"/api/v1/assignments/{klass.assignment.id}/submissions"
    first = asyncio.create_task(teacher.get(path))
    await slow.started.wait()
    others = [asyncio.create_task(c.get(path)) for c in (ta, teacher, ta)]
    await asyncio.sleep(0.2)  # they reach the in-flight list and wait for it
    slow.release.set()
    answers = [await first, *[await t for t in others]]
    assert [r.status_code for r in answers] == [200] * 4
    assert len({r.content for r in answers}) == 1
    assert slow.made == 1


async def test_when_the_list_being_made_fails_the_waiting_staff_make_their_own(
    klass: Klass, client_for: ClientFor, reuse: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    teacher = await client_for(klass.instructor, klass.tenant)
    ta = await client_for(klass.ta, klass.tenant)
    slow = SlowList(monkeypatch, fail_first=True)
    path = f"/api/v1/assignments/{klass.assignment.id}/submissions"
    first = asyncio.create_task(teacher.get(path))
    await slow.started.wait()
    waiting = asyncio.create_task(ta.get(path))
    await asyncio.sleep(0.2)
    slow.release.set()
    assert (await first).status_code == 500
    r = await waiting
    assert r.status_code == 200 and [row["name"] for row in r.json()] == ["Ada Student", "Bea Classmate"]
    assert slow.made == 2
    assert service._computing == {}
