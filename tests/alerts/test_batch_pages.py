"""The evaluation reads an hour of batches in pages (keyset on received_at, id): the pages together are exactly the
rows of one unpaged read, in the same order, including batches received at the same instant across a page edge."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.repository import ActivityRepository
from scribetree.core import clock
from tests.factories.alerts import add_batch
from tests.factories.writing import create_document
from tests.writing.conftest import Klass


async def test_pages_add_up_to_one_read(session: AsyncSession, klass: Klass) -> None:
    start = clock.utcnow() - timedelta(minutes=30)
    mine = await create_document(session, klass.assignment, owner=klass.student)
    theirs = await create_document(session, klass.assignment, owner=klass.classmate)
    for i in range(7):  # a few at the very same instant, so a page can end between two of them
        at = start + timedelta(seconds=i // 3)
        await add_batch(session, mine, klass.student, at, inserted=f"m{i}")
        await add_batch(session, theirs, klass.classmate, at, inserted=f"t{i}")
    await add_batch(session, mine, klass.student, start - timedelta(minutes=5), inserted="before the window")
    await session.commit()
    repo = ActivityRepository(session, klass.tenant.id)
    docs = [mine.id, theirs.id]
    whole = await repo.batches(docs, start - timedelta(seconds=1), page=1000)
    assert len(whole) == 14
    for page in (1, 2, 3, 5, 13, 14):
        assert await repo.batches(docs, start - timedelta(seconds=1), page=page) == whole, page
    assert [(b.received_at, b.id) for b in whole] == sorted((b.received_at, b.id) for b in whole)
