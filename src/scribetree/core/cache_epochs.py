"""Cross-process cache epochs: in-process caches that every process can clear.

Three in-process caches depend on tables others may change: the cookie sign-in cache (``tenancy.auth``), the
edit-access cache (``writing.access``) and the staff submission list (``writing.service``), each on a few tables
(``Watched.tables``). Every unit of work, in any process (app node, worker, CLI command), that changes one of
those tables through the ORM also bumps the cache's row in ``cache_epochs`` in the same transaction
(``before_commit``), so the bump is committed exactly when the change is.

Readers:
- this process drops the cache the moment such a unit of work commits here (``after_commit``: ``generation``);
- ``check(session)``, called before a cached entry is trusted, reads the epochs at most once per
  ``CACHE_EPOCH_CHECK_SECONDS`` for the whole process (one small query; concurrent requests do not wait for it)
  and drops every cache whose epoch moved since the last read: a change committed by another process is seen
  within about that interval plus one query;
- ``settle(session, cache)``, called before an entry is filled from ``session``, makes sure the epochs were read in
  that session's transaction (before the entry's own reads), so an entry is never older than the epoch of its cache
  it is trusted under.

The watched tables are named here, not in the caches' modules, so a process that never imports those modules (a CLI
command, the worker) still publishes its changes: the modules that map the tables import this one. A statement that
bypasses the ORM session (a Core connection, ``text()``) publishes nothing.

Platform bookkeeping, not tenant data (``models.GLOBAL_TABLES``). A missing row reads as 0 and is created by the
first bump.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Text, event, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, SessionTransaction, mapped_column

from scribetree.core.config import settings
from scribetree.core.db import Base

CACHE_EPOCH_CHECK_SECONDS = settings.CACHE_EPOCH_CHECK_SECONDS  # 1.0 s; see core.config
_STUCK_SECONDS = 5.0  # a check that has not answered by then (its task was lost) no longer blocks the next one


class CacheEpoch(Base):
    """``epoch`` goes up by one in every transaction that changes what the named cache holds."""

    __tablename__ = "cache_epochs"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger)


@dataclass(eq=False)
class Watched:
    """One in-process cache whose entries depend on ``tables``.

    ``generation`` moves, and the ``on_change`` callbacks run, when this process commits a change to one of the
    tables or sees the epoch moved by another process. A cache takes the generation before it reads the database
    and trusts an entry only while the generation is unchanged.
    """

    name: str
    tables: frozenset[str]
    inserts: bool  # does a new row change a cached answer?
    bookkeeping: frozenset[str] = frozenset()  # columns whose change alone changes no cached answer
    generation: int = 0
    _callbacks: list[Callable[[], None]] = field(default_factory=list)

    @property
    def flag(self) -> str:
        return f"cache_epochs.stale.{self.name}"

    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        return callback

    def invalidate(self) -> None:
        self.generation += 1
        for callback in self._callbacks:
            callback()

    def changed_by(self, obj: object, kind: str) -> bool:
        """Does flushing ``obj`` (``kind``: new, dirty or deleted) change an answer of this cache?"""
        if getattr(getattr(obj, "__table__", None), "name", None) not in self.tables:
            return False
        if kind == "new":
            return self.inserts
        if kind == "deleted" or not self.bookkeeping:
            return True
        changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
        return bool(changed - self.bookkeeping)

    def changed_by_statement(self, state: ORMExecuteState) -> bool:
        if getattr(getattr(state.statement, "table", None), "name", None) not in self.tables:
            return False
        if state.is_insert:
            return self.inserts
        if state.is_update and self.bookkeeping:
            columns = {getattr(k, "key", k) for k in getattr(state.statement, "_values", None) or {}}
            return not (columns and columns <= self.bookkeeping)
        return True


# The sign-in cache: a new row (a sign-in's session) cannot make a cached context stale; changed and deleted rows
# can. Bookkeeping: the once-a-minute touch (last_seen_at: the idle limit is a bound on the entry instead, see
# tenancy.auth) and the sign-in's own lockout counters, which the session check does not read (a storm of sign-ins
# must not clear every process's cache).
AUTH = Watched(
    "auth",
    frozenset({"user_sessions", "users", "memberships", "tenants", "support_access_grants"}),
    inserts=False,
    bookkeeping=frozenset({"last_seen_at", "failed_signins", "locked_until", "last_signin_at"}),
)
# The edit-access cache: a course, its roster, an assignment or its groups (a new roster row changes access too).
EDIT_ACCESS = Watched(
    "edit_access",
    frozenset({"courses", "course_members", "assignments", "assignment_groups", "assignment_group_members"}),
    inserts=True,
)
# The staff submission list (``writing.service``): the roster or the groups, each document's status, submissions and
# returned grades. A new row of any of these changes the list. Bookkeeping: the document columns an editor's batch and
# a restore change (the live figures, words and last activity, which the list may show up to its reuse time late;
# batches commit through Core and publish nothing anyway).
SUBMISSION_LISTS = Watched(
    "submission_lists",
    frozenset(
        {
            "assignments",
            "course_members",
            "assignment_groups",
            "assignment_group_members",
            "documents",
            "submissions",
            "grades",
        }
    ),
    inserts=True,
    bookkeeping=frozenset(
        {
            "revision",
            "content_hash",
            "word_count",
            "last_activity_at",
            "snapshot_at",
            "snapshot_revision",
            "chars_since_snapshot",
        }
    ),
)
WATCHED = (AUTH, EDIT_ACCESS, SUBMISSION_LISTS)  # in name order: rows are bumped in this order (no deadlock)

_SEEN = "cache_epochs.seen"  # session.info: the epochs read in the session's current transaction
_BUMP = text(
    "INSERT INTO cache_epochs (name, epoch) VALUES (:name, 1) "
    "ON CONFLICT (name) DO UPDATE SET epoch = cache_epochs.epoch + 1"
)
_READ = select(CacheEpoch.name, CacheEpoch.epoch)


# ---- writers: flag in the unit of work, bump before its commit, clear this process after it --------------------


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush: object) -> None:
    for w in WATCHED:
        if session.info.get(w.flag):
            continue
        for kind, objs in (("new", session.new), ("dirty", session.dirty), ("deleted", session.deleted)):
            if any(w.changed_by(obj, kind) for obj in objs):
                session.info[w.flag] = True
                break


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    for w in WATCHED:
        if w.changed_by_statement(state):
            state.session.info[w.flag] = True


@event.listens_for(Session, "before_commit")
def _publish(session: Session) -> None:
    # Flush first (a no-op when clean): the commit's own flush comes after this hook and could set a flag too late.
    session.flush()
    # Also at a savepoint's release (the bump then commits or rolls back with the outer transaction); the flag stays
    # until the outer commit, which bumps again: an extra bump costs one more clear, a missing one a stale cache.
    for w in WATCHED:
        if session.info.get(w.flag):
            session.execute(_BUMP, {"name": w.name})


@event.listens_for(Session, "after_commit")
def _clear_here(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a released savepoint: the outer transaction may still roll back
    for w in WATCHED:
        if session.info.pop(w.flag, False):
            w.invalidate()


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (flags already used) or rolled back (nothing to publish)
        for w in WATCHED:
            session.info.pop(w.flag, None)
        session.info.pop(_SEEN, None)


# ---- readers: at most one check per interval for the process ----------------------------------------------------


@dataclass
class _Watch:
    known: dict[str, int] | None = None  # the epochs last read (None: never; the first read clears everything)
    checked_at: float = float("-inf")  # monotonic time the last applied read started
    busy_since: float | None = None  # a periodic check is waiting for its answer
    issued: int = 0  # reads started
    applied: int = 0  # the latest read whose answer was applied (an older answer arriving later is not)


_watch = _Watch()


def _now() -> float:
    return time.monotonic()


async def _read(session: AsyncSession) -> dict[str, int]:
    _watch.issued += 1
    ticket, started = _watch.issued, _now()
    seen: dict[str, Any] = {name: epoch for name, epoch in (await session.execute(_READ)).all()}
    session.info[_SEEN] = seen
    if ticket > _watch.applied:
        _watch.applied, _watch.checked_at = ticket, started
        previous, _watch.known = _watch.known, seen
        for w in WATCHED:
            if previous is None or previous.get(w.name, 0) != seen.get(w.name, 0):
                w.invalidate()
    return seen


async def check(session: AsyncSession) -> None:
    """Before a cached entry is trusted: read the epochs on ``session`` if the last read is older than
    ``CACHE_EPOCH_CHECK_SECONDS`` and drop every cache whose epoch moved. One request does the read; others arriving
    meanwhile use the state as it is."""
    now = _now()
    if now - _watch.checked_at < CACHE_EPOCH_CHECK_SECONDS:
        return
    if _watch.busy_since is not None and now - _watch.busy_since < _STUCK_SECONDS:
        return
    _watch.busy_since = now
    try:
        await _read(session)
    finally:
        _watch.busy_since = None


async def settle(session: AsyncSession, cache: Watched) -> bool:
    """Before an entry of ``cache`` is filled from ``session``: read the epochs in its transaction unless already
    done (one small query per miss). True when ``cache``'s epoch is the one the process trusts: the caller takes
    the cache's ``generation`` after this and may keep what it reads. False (a newer read has been applied
    meanwhile and saw that epoch move): do not keep it.

    Only the cache's own epoch counts: while students open their documents (each a new row for the submission
    lists' epoch), a sign-in read under an older submission-list epoch is as good as any, and refusing to keep it
    left the sign-in and edit-access caches empty until the openings stopped; then every editor missed at once
    (bench/RESULTS.md, PostgreSQL c, the window's first seconds)."""
    seen = session.info.get(_SEEN)
    if seen is None:
        seen = await _read(session)
    known = _watch.known  # None only after a reset() since this transaction's read
    return known is not None and seen.get(cache.name, 0) == known.get(cache.name, 0)


def reset() -> None:
    """Forget what was read (tests): the next check or settle reads again and drops every cache."""
    global _watch
    _watch = _Watch()
