"""Writing analytics over the edit log, kept incrementally (see ``analytics.models`` and ``analytics.metrics``).

Access: a student sees only their own figures; the staff of a course (instructor, TA) and the institution's
admins see the course's; anyone else gets the same 404 as for a missing object. A read of another person's
figures is written to the audit trail (ARCHITECTURE §6). Services never commit (STYLE T2).

Freshness: the periodic job (``analytics.tasks``, every 30 s) folds new batches of every active document.
A document or student page catches up the documents it shows first (only their new batches, at most
``CATCH_UP_MAX_BATCHES`` each); class pages read the aggregates as they are and say how many documents are
behind (``stale_documents``). A catch-up reads and folds through a read session (handing the event loop back
as it goes), then writes everything at once: on SQLite the single writer is held only for that write.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.analytics import metrics, style
from scribetree.analytics.exceptions import AnalyticsNotFound, InvalidRange
from scribetree.analytics.models import DailyActivityRow, DocumentMetricsRow
from scribetree.analytics.repository import MetricsRepository
from scribetree.analytics.schemas import (
    AiDay,
    AiUse,
    AssignmentMetrics,
    AssignmentSummary,
    CourseMetrics,
    DailyActivity,
    DocumentMetrics,
    GapBucket,
    RefreshResult,
    StageCompletion,
    StageProgress,
    StudentAssignmentRow,
    StudentMetrics,
    StudentSummary,
    StyleMeasures,
)
from scribetree.core import audit, clock, db, pacing
from scribetree.core.config import settings
from scribetree.core.errors import NotFound
from scribetree.courses.models import Assignment, AssignmentKind, CourseRole
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import assignment_access, course_access
from scribetree.tenancy.context import AuthContext
from scribetree.writing.service import document as document_service

DEFAULT_DAYS = 120
MAX_DAYS = 366
PAGE = 500  # batches read per statement while catching up
CATCH_UP_MAX_BATCHES = 5000  # per document and call; the periodic job carries on from there
TENANT_MAX_DOCUMENTS = 500  # documents caught up per tenant job run (the next run takes the rest)
TENANT_MAX_BATCHES = 20_000  # batches folded per tenant job run (about 2 s of one core), then a new job goes on
READ_SLICE = 100  # documents whose rows and new batches the periodic catch-up reads in one statement each
READ_SLICE_BATCHES = 2_000  # rows at most in that statement; the documents it did not reach read page by page
FOLD_SLICE = 64  # batches folded between two hand-backs of the event loop (a few ms of CPU at most)
STYLE_THREAD_CHARS = 4_000  # longer texts get their style measured on a worker thread (about 1 ms / 1,000 chars)
STUDENT = CourseRole.student
# The class views are the costliest (a row per student: an assignment's costs ~30 ms of CPU for 200 students,
# the course's students x assignments). A computed answer is reused for CLASS_CACHE_SECONDS by this process
# while the course's figures, assignments and roster size are unchanged (``MetricsRepository.course_version``
# and the assignments' modification times); the access check and the audit entry still happen on every request.
CLASS_CACHE_SECONDS = 10.0
_class_cache: dict[tuple[str, uuid.UUID, uuid.UUID], tuple[float, tuple[Any, ...], Any]] = {}


def _reused(key: tuple[str, uuid.UUID, uuid.UUID], version: tuple[Any, ...]) -> Any | None:
    hit = _class_cache.get(key)
    return hit[2] if hit is not None and hit[0] > time.monotonic() and hit[1] == version else None


def _keep(key: tuple[str, uuid.UUID, uuid.UUID], version: tuple[Any, ...], result: Any) -> None:
    if len(_class_cache) >= 1000:
        _class_cache.clear()
    _class_cache[key] = (time.monotonic() + CLASS_CACHE_SECONDS, version, result)


def _minutes(seconds: int | None) -> float:
    return round((seconds or 0) / 60, 1)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def _due(stage: dict[str, Any]) -> datetime | None:
    raw = stage.get("due_at")
    if not raw:
        return None
    value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    return clock.as_utc(value)


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    label: str
    due: datetime | None
    target: int | None  # words expected by the due date

    @property
    def due_day(self) -> date | None:
        return self.due.date() if self.due else None


def stage_targets(assignment: Assignment) -> list[Target]:
    """Stage i of n is expected to reach ``ceil(word_min * (i + 1) / n)`` words by its due date."""
    stages = list(assignment.stages or [])
    n = len(stages)
    return [
        Target(
            key=str(s.get("key", "")),
            label=str(s.get("label", s.get("key", ""))),
            due=_due(s),
            target=math.ceil(assignment.word_min * (i + 1) / n) if assignment.word_min else None,
        )
        for i, s in enumerate(stages)
    ]


def stage_cut_days(targets: Sequence[Target], now: datetime) -> list[date]:
    """The due days (UTC) of the stages that have a target and are past due: where words are looked up."""
    return [t.due.date() for t in targets if t.due and t.target and t.due <= now]


def stage_statuses(
    targets: Sequence[Target], current_words: int, words_at: dict[date, int], now: datetime
) -> list[tuple[int | None, str]]:
    """``(words, status)`` per stage: ``met``/``missed`` once its due date passed (words at the end of the due
    day, UTC), else ``reached``/``open`` against the current word count; ``no_target`` without a word_min."""
    out: list[tuple[int | None, str]] = []
    for t in targets:
        if t.target is None:
            out.append((None, "no_target"))
        elif t.due is not None and t.due <= now:
            words = words_at.get(t.due.date(), 0)
            out.append((words, "met" if words >= t.target else "missed"))
        else:
            out.append((current_words, "reached" if current_words >= t.target else "open"))
    return out


def stage_progress(
    targets: Sequence[Target], current_words: int, words_at: dict[date, int], now: datetime
) -> list[StageProgress]:
    return [
        StageProgress(key=t.key, label=t.label, due_at=t.due, target_words=t.target, words_at_due=w, status=st)
        for t, (w, st) in zip(targets, stage_statuses(targets, current_words, words_at, now), strict=True)
    ]


def _daily(rows: Sequence[Row[Any]]) -> list[DailyActivity]:
    return [
        DailyActivity(
            day=r[0],
            active_minutes=_minutes(int(r[1] or 0)),
            batches=int(r[2] or 0),
            words_added=int(r[3] or 0),
            words_deleted=int(r[4] or 0),
            word_delta=int(r[5] or 0),
            pastes=int(r[6] or 0),
            pasted_chars=int(r[7] or 0),
            active_students=int(r[8] or 0),
        )
        for r in rows
    ]


@dataclass
class _Doc:
    """A document row with its metrics columns (``MetricsRepository.documents_of``)."""

    row: Row[Any]

    @property
    def stale(self) -> bool:
        seen = self.row.seen_activity_at
        return self.row.last_activity_at is not None and (seen is None or self.row.last_activity_at > seen)


_STATE_FIELDS = tuple(metrics.State().values())


def _state_of(row: DocumentMetricsRow | None) -> metrics.State:
    """The folded state a document's metrics row holds (a new state without one)."""
    if row is None:
        return metrics.State()
    state = metrics.State(**{k: getattr(row, k) for k in _STATE_FIELDS})
    state.gaps = dict(state.gaps or {})
    return state


@dataclass(slots=True)
class _Known:
    """What the periodic catch-up reads of a slice of documents together (three statements for ``READ_SLICE``
    documents instead of three per document): the document, its metrics row, and its batches after the row's
    watermark when all of them were read (``None``: ``_compute`` reads them page by page)."""

    doc: Row[Any] | None
    row: DocumentMetricsRow | None
    batches: list[Row[Any]] | None

    @classmethod
    async def of(cls, repo: MetricsRepository, document_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, _Known]:
        docs = await repo.document_rows(document_ids)  # read before the batches, as _compute does
        rows = await repo.get_many(list(docs))
        marks = {}
        for d in docs:
            s = _state_of(rows.get(d))
            marks[d] = (s.wm_revision, s.wm_received_at, s.wm_batch_id)
        batches, complete = await repo.batches_after_many(marks, READ_SLICE_BATCHES)
        return {d: cls(docs.get(d), rows.get(d), batches.get(d, []) if d in complete else None) for d in document_ids}


@dataclass(slots=True)
class _Ai:
    """The AI partner use of some documents: their exchanges and reflections (rows of the repository), by
    document; two statements for any number of documents."""

    exchanges: dict[uuid.UUID, list[Row[Any]]]
    reflections: dict[uuid.UUID, list[Row[Any]]]

    @classmethod
    async def of(cls, repo: MetricsRepository, document_ids: Sequence[uuid.UUID]) -> _Ai:
        exchanges: dict[uuid.UUID, list[Row[Any]]] = defaultdict(list)
        reflections: dict[uuid.UUID, list[Row[Any]]] = defaultdict(list)
        for x in await repo.exchanges_of(document_ids):
            exchanges[x.document_id].append(x)
        for r in await repo.reflections_of(document_ids):
            reflections[r.document_id].append(r)
        return cls(exchanges, reflections)


@dataclass(slots=True)
class _Computed:
    """One document's catch-up, folded in memory by the compute phase and applied by the write phase."""

    doc: Row[Any]  # ``MetricsRepository.document_row``
    start: tuple[int, uuid.UUID | None] | None  # the row's watermark (revision, batch id) it began at; None: no row
    state: metrics.State
    days: dict[tuple[uuid.UUID, date], metrics.DayDelta]
    folded: int
    complete: bool  # every batch there was got folded: the row covers ``doc.last_activity_at``
    style: dict[str, Any] | None  # style measures of the new text, None if its revision did not change


def _values(c: _Computed) -> dict[str, Any]:
    """The metrics row's columns after ``c``: the folded state, and what the compute phase covered."""
    values = c.state.values()
    if c.complete:
        values["seen_activity_at"] = c.doc.last_activity_at
    if c.style is not None:
        values["style"], values["style_revision"] = c.style, c.state.wm_revision
    return values


def _new_row(tenant_id: uuid.UUID, c: _Computed) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "document_id": c.doc.id,
        "assignment_id": c.doc.assignment_id,
        "course_id": c.doc.course_id,
        **_values(c),
    }


class AnalyticsService:
    # ---- the incremental job ----------------------------------------------------------------------------
    #
    # A catch-up has two phases. Compute: read the document, its metrics row and the new batches through a read
    # session and fold them in memory, handing the event loop back every ``FOLD_SLICE`` batches. Write: in the
    # write session, lock the metrics rows and apply every result whose row still has the watermark the compute
    # phase started from; if another refresh moved it in between, that document is left for the next refresh
    # (applying it would count the same batches twice in the day rows). On SQLite only the write phase holds
    # the single writer, for a few statements.

    async def refresh_document(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        document_id: uuid.UUID,
        *,
        max_batches: int | None = None,
        read_session: AsyncSession | None = None,
    ) -> int:
        """Fold the batches after the document's watermark into its aggregates; returns how many were folded.

        Reads only the new batches (pages of ``PAGE``, at most ``max_batches``, default ``CATCH_UP_MAX_BATCHES``)
        through ``read_session`` (default: ``session``; a separate one is released once the reads are done, so
        one task never holds two pooled connections), then updates the document's row and its (author, day) rows
        in ``session``. Idempotent: a second call folds nothing. Returns 0, writing nothing, if another refresh
        moved the watermark meanwhile (the next refresh goes on from there).
        """
        limit = CATCH_UP_MAX_BATCHES if max_batches is None else max_batches
        computed = await self._compute(read_session or session, tenant_id, document_id, limit)
        await self._end_reads(session, read_session)
        written = await self._write(session, tenant_id, [computed] if computed is not None else [])
        return sum(c.folded for c in written)

    async def refresh_tenant(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        max_documents: int | None = None,
        max_batches: int | None = None,
        read_session: AsyncSession | None = None,
    ) -> RefreshResult:
        """Catch up the tenant's documents with activity after what their figures cover (the periodic job).

        Folds up to ``max_documents`` documents or ``max_batches`` batches in memory, reading through
        ``read_session`` (as in ``refresh_document``), then writes all of them at once in ``session``: on SQLite
        the single writer is held for the write phase only. ``more`` says whether documents are still behind.
        """
        max_documents = TENANT_MAX_DOCUMENTS if max_documents is None else max_documents
        max_batches = TENANT_MAX_BATCHES if max_batches is None else max_batches
        read = read_session or session
        repo = MetricsRepository(read, tenant_id)
        stale = await repo.stale_document_ids(max_documents)
        computed: list[_Computed] = []
        visited = batches = 0
        for first in range(0, len(stale), READ_SLICE):
            if batches >= max_batches:
                break
            read_together = await _Known.of(repo, stale[first : first + READ_SLICE])
            for document_id in stale[first : first + READ_SLICE]:
                if batches >= max_batches:
                    break
                visited += 1
                await pacing.pause()  # the computing is on the loop that answers requests (core/pacing.py)
                found = await self._compute(
                    read, tenant_id, document_id, max_batches - batches, known=read_together[document_id]
                )
                if found is not None:
                    computed.append(found)
                    batches += found.folded
        await self._end_reads(session, read_session)
        written = await self._write(session, tenant_id, computed)
        more = batches >= max_batches or visited < len(stale) or len(stale) == max_documents
        return RefreshResult(documents=len(written), batches=sum(c.folded for c in written), more=more)

    @staticmethod
    async def _end_reads(session: AsyncSession, read_session: AsyncSession | None) -> None:
        """The compute phase is over: a separate read session gives its connection back (PostgreSQL has one
        pool for reads and writes; a task waiting for a second connection while holding one can deadlock)."""
        if read_session is not None and read_session is not session:
            await db.release(read_session)

    async def _compute(
        self,
        read: AsyncSession,
        tenant_id: uuid.UUID,
        document_id: uuid.UUID,
        limit: int,
        *,
        known: _Known | None = None,
    ) -> _Computed | None:
        """The compute phase for one document: its figures after folding up to ``limit`` new batches, in memory.
        ``known``: what ``refresh_tenant`` already read of it along with other documents.

        The document row is read before the batches, so ``seen_activity_at`` never claims a batch not folded."""
        repo = MetricsRepository(read, tenant_id)
        doc = known.doc if known is not None else await repo.document_row(document_id)
        if doc is None:
            return None
        row = known.row if known is not None else await repo.get(document_id)
        state, start, style_revision = _state_of(row), None, None
        if row is not None:
            start, style_revision = (row.wm_revision, row.wm_batch_id), row.style_revision
        days: dict[tuple[uuid.UUID, date], metrics.DayDelta] = {}
        texts: dict[int, str] = {}
        folded = 0
        complete = False
        read_before = known.batches if known is not None else None
        while (want := min(PAGE, limit - folded)) > 0:
            if read_before is not None:  # every batch after the watermark: the first page, and maybe the last
                page, last = read_before[:want], len(read_before) <= want
                read_before = None
            else:
                page = await repo.batches_after(
                    document_id, state.wm_revision, state.wm_received_at, state.wm_batch_id, want
                )
                last = len(page) < want
            pending = [
                metrics.BatchIn(b.id, b.revision, b.base_revision, b.received_at, b.author_user_id, b.ops) for b in page
            ]
            await self._fold(repo, document_id, state, pending, days, texts)
            folded += len(page)
            if last:
                complete = True
                break
        if complete and doc.revision > state.wm_revision:
            # A restore after the last batch: the text changed outside the log.
            state.text = await self._text_at(repo, document_id, doc.revision)
            state.wm_revision = doc.revision
        measured = await self._measure(state.text) if style_revision != state.wm_revision else None
        return _Computed(doc, start, state, days, folded, complete, measured)

    async def _fold(
        self,
        repo: MetricsRepository,
        document_id: uuid.UUID,
        state: metrics.State,
        batches: list[metrics.BatchIn],
        days: dict[tuple[uuid.UUID, date], metrics.DayDelta],
        texts: dict[int, str],
    ) -> None:
        """Fold ``batches`` into ``state``, ``FOLD_SLICE`` at a time with the event loop handed back after each
        slice; a batch based on a text a restore changed gets it from ``writing`` (``metrics.NeedText``)."""
        i = 0
        while i < len(batches):
            piece = batches[i : i + FOLD_SLICE]
            before = state.batches
            try:
                metrics.fold(
                    state,
                    piece,
                    active_gap=settings.WRITING_ACTIVE_GAP_SECONDS,
                    idle_gap=settings.WRITING_SESSION_IDLE_SECONDS,
                    days=days,
                    texts=texts,
                )
            except metrics.NeedText as need:
                i += state.batches - before
                texts[need.revision] = await self._text_at(repo, document_id, need.revision)
                continue
            i += len(piece)
            await asyncio.sleep(0)

    @staticmethod
    async def _measure(text: str) -> dict[str, Any]:
        """Style measures of ``text``. They cost about 1 ms per 1,000 characters: a long text is measured on a
        worker thread, so the event loop keeps answering meanwhile."""
        if len(text) > STYLE_THREAD_CHARS:
            return (await asyncio.to_thread(style.measure, text)).model_dump()
        measured = style.measure(text).model_dump()
        await asyncio.sleep(0)
        return measured

    async def _text_at(self, repo: MetricsRepository, document_id: uuid.UUID, revision: int) -> str:
        document = await repo.document(document_id)
        assert document is not None
        return await document_service.rebuild(repo.session, document, revision)

    async def _write(
        self, session: AsyncSession, tenant_id: uuid.UUID, computed: Sequence[_Computed]
    ) -> list[_Computed]:
        """The write phase: lock the documents' metrics rows and apply each result whose row still has the
        watermark its compute phase started from (or still has no row); returns the results written."""
        if not computed:
            return []
        repo = MetricsRepository(session, tenant_id)
        marks = {r.document_id: (r.wm_revision, r.wm_batch_id) for r in await repo.locked([c.doc.id for c in computed])}
        written: list[_Computed] = []
        new: list[_Computed] = []
        for c in computed:
            mark = marks.get(c.doc.id)
            if mark is None:
                if c.start is None:
                    new.append(c)
            elif c.start == mark:
                written.append(c)
        # One executemany per set of columns, not a unit-of-work flush of every row loaded whole (text included): on
        # SQLite the single writer is held meanwhile. 200 documents (tests/analytics/bench_write_phase.py): SQLite
        # 94 -> 50 ms, PostgreSQL 127 -> 42 ms (medians of 5; bench/RESULTS.md).
        await repo.update_rows([{"document_id": c.doc.id, **_values(c)} for c in written])
        written.extend(await self._insert(session, tenant_id, new))
        await self._add_days(repo, written)
        await session.flush()
        return written

    @staticmethod
    async def _insert(session: AsyncSession, tenant_id: uuid.UUID, new: Sequence[_Computed]) -> list[_Computed]:
        """Create the metrics rows of documents folded for the first time. One that another refresh created
        meanwhile (PostgreSQL; SQLite's single writer rules it out) is left to that refresh."""
        if not new:
            return []
        repo = MetricsRepository(session, tenant_id)
        with contextlib.suppress(IntegrityError):
            async with session.begin_nested():
                await repo.insert_rows(DocumentMetricsRow, [_new_row(tenant_id, c) for c in new])
            return list(new)
        done = []
        for c in new:  # someone was faster for at least one of them: one by one
            with contextlib.suppress(IntegrityError):
                async with session.begin_nested():
                    await repo.insert_rows(DocumentMetricsRow, [_new_row(tenant_id, c)])
                done.append(c)
        return done

    async def _add_days(self, repo: MetricsRepository, written: Sequence[_Computed]) -> None:
        keys = [(c.doc.id, user_id, day) for c in written for (user_id, day) in c.days]
        if not keys:
            return
        existing = {(r.document_id, r.user_id, r.day): r.id for r in await repo.days(keys)}
        bumps: list[tuple[uuid.UUID, dict[str, int]]] = []
        new = []
        for c in written:
            for (user_id, day), delta in c.days.items():
                found = existing.get((c.doc.id, user_id, day))
                if found is not None:
                    bumps.append((found, delta.values()))
                else:
                    new.append(
                        {
                            "tenant_id": repo.tenant_id,
                            "document_id": c.doc.id,
                            "assignment_id": c.doc.assignment_id,
                            "course_id": c.doc.course_id,
                            "user_id": user_id,
                            "day": day,
                            **delta.values(),
                        }
                    )
        await repo.bump_days(bumps)
        await repo.insert_rows(DailyActivityRow, new)

    # ---- access -----------------------------------------------------------------------------------------

    async def _audit(
        self,
        audit_session: AsyncSession | None,
        ctx: AuthContext,
        target_type: str,
        target_id: uuid.UUID,
        **details: Any,
    ) -> None:
        if audit_session is None:
            return
        await audit.record(
            audit_session,
            audit.Entry(
                action="analytics.viewed",
                tenant_id=ctx.tenant_id,
                actor_user_id=ctx.user_id,
                actor_label=ctx.actor_label,
                meta=ctx.meta,
                target_type=target_type,
                target_id=str(target_id),
                details={k: str(v) for k, v in details.items()},
            ),
        )

    async def _staff_course(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> Any:
        try:
            acc = await course_access(session, ctx, course_id)
        except NotFound:
            raise AnalyticsNotFound() from None
        if acc.course_role == STUDENT:
            raise AnalyticsNotFound()
        return acc

    async def _student_of(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, user_id: uuid.UUID
    ) -> tuple[Any, str]:
        """The course access and the student's name; 404 unless the caller is that student or the course's staff
        and the user is a student of the course."""
        try:
            acc = await course_access(session, ctx, course_id)
        except NotFound:
            raise AnalyticsNotFound() from None
        if acc.course_role == STUDENT:
            if user_id != ctx.user_id:
                raise AnalyticsNotFound()
            return acc, ctx.display_name
        found = await MetricsRepository(session, acc.course.tenant_id).students_of(course_id, user_id)
        if not found:
            raise AnalyticsNotFound()
        return acc, found[0].display_name

    # ---- one document -----------------------------------------------------------------------------------

    async def document_metrics(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> DocumentMetrics:
        """One document's figures, caught up first if batches arrived since (only the new ones are read) when
        ``audit_session`` (the request's write session) is given. Staff reads are audited."""
        try:
            doc = await document_service.read(session, ctx, document_id)
        except NotFound:
            raise AnalyticsNotFound() from None
        assignment = await assignment_service.get(session, ctx, doc.assignment_id)
        docs, read = await self._documents(session, ctx, [assignment], document_ids=[doc.id], refresh_on=audit_session)
        composed = await self._compose(session, ctx.tenant_id, docs, {assignment.id: assignment}, metrics_session=read)
        if audit_session is not None:  # last: on SQLite the audit write takes the single writer until commit
            await document_service.read(session, ctx, document_id, audit_session=audit_session, what="analytics")
        return composed[0]

    async def _documents(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        assignments: Sequence[Assignment],
        *,
        document_ids: Sequence[uuid.UUID] | None = None,
        owner_user_id: uuid.UUID | None = None,
        refresh_on: AsyncSession | None = None,
    ) -> tuple[list[_Doc], AsyncSession]:
        """The documents with their figures, and the session to read figures from: ``refresh_on`` if stale ones
        were caught up there (their new rows are visible only to it until commit), else ``session``.

        A catch-up reads and folds through ``session`` (on SQLite the request's read connection) and then writes
        all of it at once in ``refresh_on``: the single writer is not held while the batches are folded."""
        tenant_id = ctx.tenant_id
        assert tenant_id is not None
        repo = MetricsRepository(session, tenant_id)
        ids = [a.id for a in assignments]
        rows = [
            _Doc(r)
            for r in await repo.documents_of(assignment_ids=ids, owner_user_id=owner_user_id, document_ids=document_ids)
        ]
        stale = [r.row.id for r in rows if r.stale]
        if refresh_on is not None and stale:
            computed = [await self._compute(session, tenant_id, d, CATCH_UP_MAX_BATCHES) for d in stale]
            await self._end_reads(refresh_on, session)
            await self._write(refresh_on, tenant_id, [c for c in computed if c is not None])
            fresh = MetricsRepository(refresh_on, tenant_id)
            rows = [
                _Doc(r)
                for r in await fresh.documents_of(
                    assignment_ids=ids, owner_user_id=owner_user_id, document_ids=document_ids
                )
            ]
            return rows, refresh_on
        return rows, session

    async def _compose(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID | None,
        docs: Sequence[_Doc],
        assignments: dict[uuid.UUID, Assignment],
        *,
        metrics_session: AsyncSession | None = None,
        ai: _Ai | None = None,
    ) -> list[DocumentMetrics]:
        """Each document's figures; ``ai``: its AI partner use if the caller read it already (``_ai``)."""
        assert tenant_id is not None
        repo = MetricsRepository(metrics_session or session, tenant_id)
        ai = ai or await _Ai.of(repo, [d.row.id for d in docs])
        full = {m.document_id: m for m in await repo.metrics_rows([d.row.id for d in docs])}
        now = clock.utcnow()
        targets = {a.id: stage_targets(a) for a in assignments.values()}
        cuts = {a_id: stage_cut_days(t, now) for a_id, t in targets.items()}
        words_at = await repo.words_by_day({a: c for a, c in cuts.items() if c}, [d.row.id for d in docs])
        out = []
        for d in docs:
            r = d.row
            a = assignments[r.assignment_id]
            m = full.get(r.id)
            per_day = {day: words_at.get((r.id, day), 0) for day in cuts[a.id]}
            exchanges = ai.exchanges.get(r.id, [])
            refl = ai.reflections.get(r.id, [])
            scored = [x.total for x in refl if not x.gamed]
            levels: dict[str, int] = defaultdict(int)
            for x in exchanges:
                levels[str(x.level)] += 1
            gaps = dict(m.gaps or {}) if m is not None else {}
            word_count = r.word_count
            words_added = m.words_added if m else 0
            words_deleted = m.words_deleted if m else 0
            first_words = m.first_words_at if m else None
            out.append(
                DocumentMetrics(
                    document_id=r.id,
                    assignment_id=r.assignment_id,
                    course_id=a.course_id,
                    owner_user_id=r.owner_user_id,
                    revision=m.wm_revision if m else 0,
                    stale=d.stale,
                    word_count=word_count,
                    active_minutes=_minutes(m.active_seconds if m else 0),
                    sessions=m.sessions if m else 0,
                    batches=m.batches if m else 0,
                    chars_inserted=m.chars_inserted if m else 0,
                    chars_deleted=m.chars_deleted if m else 0,
                    words_added=words_added,
                    words_deleted=words_deleted,
                    pastes=m.pastes if m else 0,
                    pasted_chars=m.pasted_chars if m else 0,
                    typed_to_final=_ratio(words_added, word_count),
                    deleted_to_added=_ratio(words_deleted, words_added),
                    gaps=[
                        GapBucket(label=label, upper_seconds=upper, count=gaps.get(label, 0))
                        for upper, label in metrics.GAP_BUCKETS
                    ],
                    pauses=m.pauses if m else 0,
                    pause_minutes=_minutes(m.pause_seconds if m else 0),
                    bursts=m.bursts if m else 0,
                    longest_burst_chars=m.longest_burst_chars if m else 0,
                    first_batch_at=m.first_batch_at if m else None,
                    first_words_at=first_words,
                    last_activity_at=r.last_activity_at,
                    seconds_to_first_words_from_publish=(
                        max(0, round((first_words - a.published_at).total_seconds()))
                        if first_words and a.published_at
                        else None
                    ),
                    seconds_to_first_words_from_open=(
                        max(0, round((first_words - r.created_at).total_seconds())) if first_words else None
                    ),
                    submitted_at=r.submitted_at,
                    style=StyleMeasures(**m.style) if m and m.style else None,
                    stages=stage_progress(targets[a.id], word_count, per_day, now),
                    ai=AiUse(
                        exchanges=len(exchanges),
                        reflections=len(refl),
                        reflection_mean_total=round(statistics.fmean(scored), 2) if scored else None,
                        gamed_reflections=sum(1 for x in refl if x.gamed),
                        levels=dict(levels),
                        last_level=str(max(exchanges, key=lambda x: x.created_at).level) if exchanges else None,
                    ),
                )
            )
        return out

    # ---- one student ------------------------------------------------------------------------------------

    async def student_metrics(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> StudentMetrics:
        """A student's documents in the course (caught up first), daily activity and AI partner use by day.
        The student themself, or the course's staff (audited)."""
        acc, name = await self._student_of(session, ctx, course_id, user_id)
        tenant_id = acc.course.tenant_id
        assignments = await assignment_service.list_for_course(session, ctx, course_id)
        by_id = {a.id: a for a in assignments}
        repo = MetricsRepository(session, tenant_id)
        group_ids = [a.id for a in assignments if a.kind == AssignmentKind.group]
        group_docs = await repo.group_document_ids(user_id, group_ids) if group_ids else []
        docs, read = await self._documents(
            session, ctx, assignments, owner_user_id=user_id, document_ids=group_docs, refresh_on=audit_session
        )
        use = await _Ai.of(repo, [d.row.id for d in docs])
        composed = await self._compose(session, tenant_id, docs, by_id, metrics_session=read, ai=use)
        since = clock.utcnow().date() - timedelta(days=DEFAULT_DAYS - 1)
        daily = _daily(await MetricsRepository(read, tenant_id).daily_series(course_id, since, user_id=user_id))
        ai: dict[date, list[Any]] = defaultdict(lambda: [0, 0, []])
        for x in (x for rows in use.exchanges.values() for x in rows if x.user_id == user_id):
            ai[clock.as_utc(x.created_at).date()][0] += 1
        for x in (x for rows in use.reflections.values() for x in rows if x.user_id == user_id):
            entry = ai[clock.as_utc(x.created_at).date()]
            entry[1] += 1
            if not x.gamed:
                entry[2].append(x.total)
        if user_id != ctx.user_id:  # last: see document_metrics
            await self._audit(audit_session, ctx, "user", user_id, course_id=course_id, what="student")
        return StudentMetrics(
            course_id=course_id,
            user_id=user_id,
            name=name,
            documents=composed,
            active_minutes=round(sum(d.active_minutes for d in composed), 1),
            words_added=sum(d.words_added for d in composed),
            words_deleted=sum(d.words_deleted for d in composed),
            daily=daily,
            ai_daily=[
                AiDay(
                    day=day,
                    exchanges=e,
                    reflections=r,
                    reflection_mean_total=round(statistics.fmean(t), 2) if t else None,
                )
                for day, (e, r, t) in sorted(ai.items())
            ],
        )

    async def daily_activity(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        user_id: uuid.UUID | None = None,
        *,
        days: int = DEFAULT_DAYS,
        audit_session: AsyncSession | None = None,
    ) -> list[DailyActivity]:
        """Per UTC day over the last ``days`` days (days without writing are left out): one student
        (``user_id``: the student themself or staff, audited) or the whole class (staff only)."""
        if not 1 <= days <= MAX_DAYS:
            raise InvalidRange(f"'days' is {days}; give a number of days from 1 to {MAX_DAYS}.", field="days")
        if user_id is None:
            acc = await self._staff_course(session, ctx, course_id)
        else:
            acc, _name = await self._student_of(session, ctx, course_id, user_id)
        since = clock.utcnow().date() - timedelta(days=days - 1)
        repo = MetricsRepository(session, acc.course.tenant_id)
        if user_id is None:  # the class's series: reused like the class views (its rows change with the fold)
            key, version = ("daily", acc.course.tenant_id, course_id), (since, *(await repo.course_version(course_id)))
            out: list[DailyActivity] | None = _reused(key, version)
            if out is None:
                out = _daily(await repo.daily_series(course_id, since))
                _keep(key, version, out)
            return list(out)
        out = _daily(await repo.daily_series(course_id, since, user_id=user_id))
        if user_id != ctx.user_id:  # last: see document_metrics
            await self._audit(audit_session, ctx, "user", user_id, course_id=course_id, what="daily")
        return out

    # ---- a class ----------------------------------------------------------------------------------------

    async def _class(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, assignments: Sequence[Assignment]
    ) -> _Class:
        tenant_id = ctx.tenant_id
        assert tenant_id is not None
        repo = MetricsRepository(session, tenant_id)
        students = list(await repo.students_of(course_id))  # access: the caller is staff of the course
        ids = [a.id for a in assignments]
        docs = [_Doc(r) for r in await repo.documents_of(assignment_ids=ids)] if ids else []
        now = clock.utcnow()
        targets = {a.id: stage_targets(a) for a in assignments}
        cuts = {a_id: stage_cut_days(t, now) for a_id, t in targets.items()}
        words_at = await repo.words_by_day({a: c for a, c in cuts.items() if c}) if ids else {}
        groups: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = {}  # (assignment, user) -> group
        group_ids = [a.id for a in assignments if a.kind == AssignmentKind.group]
        for a_id, g_id, u_id in await repo.group_members(group_ids) if group_ids else []:
            groups[(a_id, u_id)] = g_id
        by_owner = {(d.row.assignment_id, d.row.owner_user_id): d for d in docs if d.row.owner_user_id}
        by_group = {(d.row.assignment_id, d.row.group_id): d for d in docs if d.row.group_id}
        ai = await repo.ai_by_assignment_user(ids) if ids else {}
        refl = await repo.reflections_by_document_user(ids) if ids else {}
        submitted = await repo.submissions_count(ids) if ids else {}
        return _Class(students, docs, targets, cuts, words_at, groups, by_owner, by_group, ai, refl, submitted, now)

    def _light_rows(self, c: _Class, a: Assignment) -> list[_Row]:
        """One row per student of the course for ``a`` (their document or their group's), without pydantic."""
        targets, cuts = c.targets[a.id], c.cuts[a.id]
        group = a.kind == AssignmentKind.group
        rows = []
        for s in c.students:
            if group:
                g = c.groups.get((a.id, s.user_id))
                d = c.by_group.get((a.id, g)) if g else None
            else:
                d = c.by_owner.get((a.id, s.user_id))
            r = d.row if d else None
            per_day = {day: c.words_at.get((r.id, day), 0) for day in cuts} if r is not None else {}
            statuses = stage_statuses(targets, r.word_count if r is not None else 0, per_day, c.now)
            refl = c.refl.get((r.id, s.user_id), (0, 0)) if r is not None else (0, 0)
            rows.append(_Row(s.user_id, s.display_name, r, statuses, c.ai.get((a.id, s.user_id), 0), refl))
        rows.sort(key=lambda x: (x.name.casefold(), str(x.user_id)))
        return rows

    @staticmethod
    def _row(a_targets: Sequence[Target], x: _Row) -> StudentAssignmentRow:
        r = x.doc
        n, total = x.reflections
        return StudentAssignmentRow(
            user_id=x.user_id,
            name=x.name,
            document_id=r.id if r is not None else None,
            word_count=x.word_count,
            active_minutes=x.active_minutes,
            sessions=(r.sessions or 0) if r is not None else 0,
            words_added=x.words_added,
            words_deleted=x.words_deleted,
            pastes=(r.pastes or 0) if r is not None else 0,
            typed_to_final=_ratio(x.words_added, x.word_count) if r is not None else None,
            first_words_at=r.first_words_at if r is not None else None,
            last_activity_at=x.last_activity_at,
            submitted_at=x.submitted_at,
            stages_met=sum(1 for _w, st in x.statuses if st == "met"),
            stages_due=sum(1 for _w, st in x.statuses if st in ("met", "missed")),
            stages=[
                StageProgress(key=t.key, label=t.label, due_at=t.due, target_words=t.target, words_at_due=w, status=st)
                for t, (w, st) in zip(a_targets, x.statuses, strict=True)
            ],
            ai_exchanges=x.ai_exchanges,
            reflection_mean_total=round(total / n, 2) if n else None,
        )

    @staticmethod
    def _completion(targets: Sequence[Target], rows: Sequence[_Row]) -> list[StageCompletion]:
        out = []
        for i, t in enumerate(targets):
            met = sum(1 for r in rows if r.statuses[i][1] in ("met", "reached"))
            out.append(
                StageCompletion(
                    key=t.key,
                    label=t.label,
                    due_at=t.due,
                    target_words=t.target,
                    met=met if t.target else 0,
                    students=len(rows),
                    share=round(met / len(rows), 3) if t.target and rows else None,
                )
            )
        return out

    async def assignment_metrics(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        assignment_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> AssignmentMetrics:
        """Per-student rows (every student of the course) and class aggregates; staff only (audited)."""
        try:
            acc = await assignment_access(session, ctx, assignment_id)
        except NotFound:
            raise AnalyticsNotFound() from None
        if acc.course_role == STUDENT:
            raise AnalyticsNotFound()
        a = acc.assignment
        version = (
            *(await MetricsRepository(session, a.tenant_id).course_version(a.course_id)),
            a.modified_at or a.created_at,
        )
        key = ("assignment", a.tenant_id, a.id)
        result: AssignmentMetrics | None = _reused(key, version)
        if result is None:
            result = await self._assignment_metrics(session, ctx, a)
            _keep(key, version, result)
        await self._audit(audit_session, ctx, "assignment", a.id, course_id=a.course_id, what="class")  # last
        return result

    async def _assignment_metrics(self, session: AsyncSession, ctx: AuthContext, a: Assignment) -> AssignmentMetrics:
        c = await self._class(session, ctx, a.course_id, [a])
        rows = self._light_rows(c, a)
        refl = list(c.refl.values())  # the documents of this assignment only
        n_refl = sum(n for n, _ in refl)
        return AssignmentMetrics(
            assignment_id=a.id,
            course_id=a.course_id,
            title=a.title,
            due_at=a.due_at,
            published_at=a.published_at,
            word_min=a.word_min,
            **_class_figures(rows),
            mean_active_minutes=round(statistics.fmean(r.active_minutes for r in rows), 1) if rows else None,
            stage_completion=self._completion(c.targets[a.id], rows),
            rows=[self._row(c.targets[a.id], r) for r in rows],
            ai_exchanges=sum(n for (a_id, _u), n in c.ai.items() if a_id == a.id),
            reflection_mean_total=round(sum(t for _, t in refl) / n_refl, 2) if n_refl else None,
            stale_documents=sum(1 for d in c.docs if d.stale),
        )

    async def course_metrics(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> CourseMetrics:
        """Per assignment and per student summaries, the class's daily series and stage completion; staff only
        (audited)."""
        acc = await self._staff_course(session, ctx, course_id)
        assignments = await assignment_service.list_for_course(session, ctx, course_id)
        repo = MetricsRepository(session, acc.course.tenant_id)
        version = (
            *(await repo.course_version(course_id)),
            tuple((a.id, a.modified_at or a.created_at) for a in assignments),
        )
        key = ("course", acc.course.tenant_id, course_id)
        result: CourseMetrics | None = _reused(key, version)
        if result is None:
            result = await self._course_metrics(session, ctx, acc, assignments)
            _keep(key, version, result)
        await self._audit(audit_session, ctx, "course", course_id, what="class")  # last: see document_metrics
        return result

    async def _course_metrics(
        self, session: AsyncSession, ctx: AuthContext, acc: Any, assignments: Sequence[Assignment]
    ) -> CourseMetrics:
        course_id = acc.course.id
        c = await self._class(session, ctx, course_id, assignments)
        summaries, completion = [], []
        per_student: dict[uuid.UUID, list[_Row]] = defaultdict(list)
        for a in assignments:
            rows = self._light_rows(c, a)
            for r in rows:
                per_student[r.user_id].append(r)
            stages = self._completion(c.targets[a.id], rows)
            completion.extend(stages)
            summaries.append(
                AssignmentSummary(
                    assignment_id=a.id,
                    title=a.title,
                    due_at=a.due_at,
                    **_class_figures(rows),
                    stage_completion=stages,
                )
            )
        students = []
        for s in c.students:
            mine = per_student.get(s.user_id, [])
            refl = [(r.reflection_mean_total, 1) for r in mine if r.reflection_mean_total is not None]
            last = [r.last_activity_at for r in mine if r.last_activity_at]
            students.append(
                StudentSummary(
                    user_id=s.user_id,
                    name=s.display_name,
                    active_minutes=round(sum(r.active_minutes for r in mine), 1),
                    words_added=sum(r.words_added for r in mine),
                    words_deleted=sum(r.words_deleted for r in mine),
                    word_count=sum(r.word_count for r in mine),
                    documents=sum(1 for r in mine if r.document_id),
                    submitted=sum(1 for r in mine if r.submitted_at),
                    last_activity_at=max(last) if last else None,
                    ai_exchanges=sum(r.ai_exchanges for r in mine),
                    reflection_mean_total=round(statistics.fmean(v for v, _ in refl), 2) if refl else None,
                )
            )
        students.sort(key=lambda x: (x.name.casefold(), str(x.user_id)))
        start = acc.course.starts_on or (clock.utcnow().date() - timedelta(days=DEFAULT_DAYS - 1))
        progress = _daily(await MetricsRepository(session, acc.course.tenant_id).daily_series(course_id, start))
        running, cumulative = 0, []
        for p in progress:
            running += p.word_delta
            cumulative.append(running)
        completion.sort(key=lambda s: (s.due_at is None, s.due_at or clock.utcnow()))
        return CourseMetrics(
            course_id=course_id,
            title=acc.course.title,
            students=len(c.students),
            assignments=summaries,
            student_rows=students,
            progress=progress,
            cumulative_words=cumulative,
            stage_completion=completion,
            stale_documents=sum(1 for d in c.docs if d.stale),
        )


def _class_figures(rows: Sequence[_Row]) -> dict[str, Any]:
    """What an assignment's class row and its summary share: students, started, submitted, words, time."""
    started = [r.word_count for r in rows if r.word_count > 0]
    return {
        "students": len(rows),
        "started": len(started),
        "submitted": sum(1 for r in rows if r.submitted_at),
        "median_words": statistics.median(started) if started else None,
        "total_active_minutes": round(sum(r.active_minutes for r in rows), 1),
    }


@dataclass(slots=True)
class _Row:
    """A student on an assignment, before it becomes a ``StudentAssignmentRow`` (class views build hundreds)."""

    user_id: uuid.UUID
    name: str
    doc: Row[Any] | None
    statuses: list[tuple[int | None, str]]
    ai_exchanges: int
    reflections: tuple[int, int]  # (count, sum of totals)

    @property
    def document_id(self) -> uuid.UUID | None:
        return self.doc.id if self.doc is not None else None

    @property
    def word_count(self) -> int:
        return self.doc.word_count if self.doc is not None else 0

    @property
    def active_minutes(self) -> float:
        return _minutes(self.doc.active_seconds) if self.doc is not None else 0.0

    @property
    def words_added(self) -> int:
        return (self.doc.words_added or 0) if self.doc is not None else 0

    @property
    def words_deleted(self) -> int:
        return (self.doc.words_deleted or 0) if self.doc is not None else 0

    @property
    def last_activity_at(self) -> datetime | None:
        return self.doc.last_activity_at if self.doc is not None else None

    @property
    def submitted_at(self) -> datetime | None:
        return self.doc.submitted_at if self.doc is not None else None

    @property
    def reflection_mean_total(self) -> float | None:
        n, total = self.reflections
        return round(total / n, 2) if n else None


@dataclass
class _Class:
    students: list[Any]
    docs: list[_Doc]
    targets: dict[uuid.UUID, list[Target]]
    cuts: dict[uuid.UUID, list[date]]
    words_at: dict[tuple[uuid.UUID, date], int]
    groups: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID]
    by_owner: dict[tuple[uuid.UUID, Any], _Doc]
    by_group: dict[tuple[uuid.UUID, Any], _Doc]
    ai: dict[tuple[uuid.UUID, uuid.UUID], int]
    refl: dict[tuple[uuid.UUID, uuid.UUID], tuple[int, int]]
    submitted: dict[uuid.UUID, int]
    now: datetime


analytics = AnalyticsService()
