"""``core.db`` ends a unit of work's session only when there is something to end: a session nothing was done with
is neither committed nor closed (its after-commit hooks still run); anything begun, loaded or added is committed,
rolled back and closed as before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from scribetree.core import db
from scribetree.core.cache_epochs import CacheEpoch


@contextmanager
def ends() -> Iterator[list[str]]:
    """What SQLAlchemy's sessions did at their ends: each commit and each close."""
    seen: list[str] = []

    def committed(session: Session) -> None:
        seen.append("commit")

    def closed(session: Session) -> None:
        seen.append("close")

    event.listen(Session, "after_commit", committed)
    original = Session.close

    def close(self: Session) -> None:
        closed(self)
        original(self)

    Session.close = close  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Session.close = original  # type: ignore[method-assign]
        event.remove(Session, "after_commit", committed)


async def test_an_untouched_session_is_not_committed_or_closed_but_its_hooks_run(session: AsyncSession) -> None:
    ran: list[str] = []

    async def hook() -> None:
        ran.append("hook")

    with ends() as seen:
        async with db.unit_of_work() as s:
            db.after_commit(s, hook)
    assert ran == ["hook"] and seen == []


async def test_a_session_that_added_read_or_began_is_committed_and_closed(session: AsyncSession) -> None:
    with ends() as seen:
        async with db.unit_of_work() as s:
            added = CacheEpoch(name="test-added", epoch=1)
            s.add(added)  # pending only: nothing begun yet
    assert seen == ["commit", "close"]  # closed: ``added`` was still in its identity map
    assert added.epoch == 1
    async with db.unit_of_work(write=False) as r:
        assert (await r.execute(select(CacheEpoch.epoch).where(CacheEpoch.name == "test-added"))).scalar_one() == 1

    with ends() as seen:
        async with db.unit_of_work() as s:
            await s.execute(select(CacheEpoch.name).limit(1))
    assert seen == ["commit"]  # committed; then nothing loaded or begun is left to close


async def test_rollback_of_a_touched_session_takes_its_writes_back(session: AsyncSession) -> None:
    try:
        async with db.unit_of_work() as s:
            s.add(CacheEpoch(name="test-rolled-back", epoch=1))
            await s.flush()
            raise RuntimeError("the unit of work fails")
    except RuntimeError:
        pass
    async with db.unit_of_work(write=False) as r:
        found = (await r.execute(select(CacheEpoch).where(CacheEpoch.name == "test-rolled-back"))).first()
    assert found is None
