"""The batch path's cached access check: a second batch asks the database nothing about access, and losing
access in this process (removed from the roster, assignment unpublished) takes effect on the very next batch."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.courses.models import Assignment
from tests.factories.writing import batch_body, ins
from tests.sql_log import statements
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc, send


class Typist:
    def __init__(self, c, doc_id: str) -> None:  # type: ignore[no-untyped-def]
        self.c, self.doc_id, self.text, self.rev, self.seq, self.sid = c, doc_id, "", 0, 0, uuid.uuid4()

    async def type(self, word: str) -> int:
        body, after = batch_body(
            self.text, [ins(len(self.text), word)], seq=self.seq + 1, base_revision=self.rev, session_id=self.sid
        )
        r = await send(self.c, self.doc_id, body)
        if r.status_code == 200:
            self.text, self.rev, self.seq = after, r.json()["revision"], self.seq + 1
        return r.status_code


def access_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and ("course_members" in s or "FROM assignments" in s)]


async def test_removed_from_the_roster_stops_the_next_batch(klass: Klass, client_for: ClientFor) -> None:
    student = await client_for(klass.student, klass.tenant)
    t = Typist(student, (await open_doc(student, klass.assignment.id))["id"])
    with statements() as first:
        assert await t.type("One ") == 200
    assert access_reads(first), "the first batch checks access"
    with statements() as second:
        assert await t.type("two ") == 200
    assert access_reads(second) == [], second  # answered from the cache

    teacher = await client_for(klass.instructor, klass.tenant)
    r = await teacher.delete(f"/api/v1/courses/{klass.course.id}/members/{klass.student.id}")
    assert r.status_code == 204, r.text
    assert await t.type("three") == 404  # at once, not after the cache's TTL
    assert t.text == "One two "


async def test_unpublishing_the_assignment_stops_the_next_batch(
    klass: Klass, client_for: ClientFor, session: AsyncSession
) -> None:
    student = await client_for(klass.student, klass.tenant)
    t = Typist(student, (await open_doc(student, klass.assignment.id))["id"])
    assert await t.type("One ") == 200
    assert await t.type("two ") == 200
    await session.execute(update(Assignment).where(Assignment.id == klass.assignment.id).values(published_at=None))
    await session.commit()
    assert await t.type("three") == 404
