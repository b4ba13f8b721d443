"""Every SQL statement of the analytics domain, tenant-scoped (STYLE N3).

The edit log, documents and AI partner tables are read here (never written): only the batches after a
document's watermark, and aggregates that use the indexes those tables already have.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Row, Select, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner.models import AiExchange, AiReflection
from scribetree.analytics.models import DailyActivityRow, DocumentMetricsRow
from scribetree.core.repository import TenantRepository
from scribetree.courses.models import Assignment, AssignmentGroupMember, CourseMember
from scribetree.courses.repository import CourseMemberRepository
from scribetree.writing.models import Document, EditBatch, Submission

DOC_COLUMNS = (
    Document.id,
    Document.assignment_id,
    Document.owner_user_id,
    Document.group_id,
    Document.revision,
    Document.word_count,
    Document.status,
    Document.created_at,
    Document.last_activity_at,
    Document.submitted_at,
)


BATCH_COLUMNS = (
    EditBatch.id,
    EditBatch.revision,
    EditBatch.base_revision,
    EditBatch.received_at,
    EditBatch.author_user_id,
    EditBatch.ops,
)


NO_MARK = (-1, datetime(1970, 1, 1, tzinfo=UTC), uuid.UUID(int=0))  # before every batch: revisions start at 1


def _mark(revision: int, received_at: datetime | None, batch_id: uuid.UUID | None) -> tuple[int, datetime, uuid.UUID]:
    """A watermark, or ``NO_MARK`` for none yet: one statement shape either way (compiled once)."""
    return NO_MARK if received_at is None or batch_id is None else (revision, received_at, batch_id)


def _after(document_id: Any, revision: Any, received_at: Any, batch_id: Any) -> ColumnElement[bool]:
    """A document's batches after the watermark ``(revision, received_at, id)``: values or bound parameters."""
    return and_(
        EditBatch.document_id == document_id,
        EditBatch.revision >= revision,
        or_(
            EditBatch.revision > revision,
            EditBatch.received_at > received_at,
            and_(EditBatch.received_at == received_at, EditBatch.id > batch_id),
        ),
    )


@functools.cache
def _after_many(width: int) -> Select[Any]:
    """``batches_after_many``'s statement for ``width`` documents, built once: parameters ``tenant_id``,
    ``limit`` and ``d{i}``, ``r{i}``, ``t{i}``, ``b{i}`` (document, revision, received_at, batch id)."""
    conditions = [
        _after(bindparam(f"d{i}"), bindparam(f"r{i}"), bindparam(f"t{i}"), bindparam(f"b{i}")) for i in range(width)
    ]
    return (
        select(EditBatch.document_id, *BATCH_COLUMNS)
        .where(EditBatch.tenant_id == bindparam("tenant_id"), or_(*conditions))
        .order_by(EditBatch.document_id, EditBatch.revision, EditBatch.received_at, EditBatch.id)
        .limit(bindparam("limit", type_=Integer))
    )


class MetricsRepository(TenantRepository[DocumentMetricsRow]):
    model = DocumentMetricsRow

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        super().__init__(session, tenant_id)

    # ---- the incremental job ----------------------------------------------------------------------------

    async def document(self, document_id: uuid.UUID) -> Document | None:
        """The ORM document (for ``writing``'s rebuild of a past text, after a restore)."""
        return await self.session.get(Document, document_id) if await self.document_row(document_id) else None

    async def document_row(self, document_id: uuid.UUID) -> Row[Any] | None:
        """The document (no text) with its course: what a refresh needs to know."""
        stmt = (
            select(*DOC_COLUMNS, Assignment.course_id)
            .join(Assignment, and_(Assignment.id == Document.assignment_id, Assignment.tenant_id == self.tenant_id))
            .where(Document.tenant_id == self.tenant_id, Document.id == document_id)
        )
        return (await self.session.execute(stmt)).first()

    async def document_rows(self, document_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Row[Any]]:
        """``document_row`` of many documents, by id, in one statement (missing ones are left out)."""
        if not document_ids:
            return {}
        stmt = (
            select(*DOC_COLUMNS, Assignment.course_id)
            .join(Assignment, and_(Assignment.id == Document.assignment_id, Assignment.tenant_id == self.tenant_id))
            .where(Document.tenant_id == self.tenant_id, Document.id.in_(document_ids))
        )
        return {r.id: r for r in (await self.session.execute(stmt)).all()}

    async def get_many(self, document_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, DocumentMetricsRow]:
        """The metrics rows of many documents, by document id, in one statement (documents without one left out)."""
        if not document_ids:
            return {}
        stmt = self.base().where(DocumentMetricsRow.document_id.in_(document_ids))
        return {r.document_id: r for r in await self.all(stmt)}

    async def get(self, document_id: uuid.UUID, *, for_update: bool = False) -> DocumentMetricsRow | None:
        stmt = self.base().where(DocumentMetricsRow.document_id == document_id)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return await self.one_or_none(stmt)

    async def locked(self, document_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        """``(document_id, wm_revision, wm_batch_id)`` of these documents' metrics rows, locked (PostgreSQL;
        SQLite's writer is single) in document order (two refreshes lock in the same order), as committed."""
        if not document_ids:
            return []
        m = DocumentMetricsRow
        stmt = (
            select(m.document_id, m.wm_revision, m.wm_batch_id)
            .where(m.tenant_id == self.tenant_id, m.document_id.in_(document_ids))
            .order_by(m.document_id)
            .with_for_update()
        )
        return list((await self.session.execute(stmt)).all())

    async def update_rows(self, values: Sequence[dict[str, Any]]) -> None:
        """Write ``values`` (each with its ``document_id``) to this tenant's metrics rows: one executemany per set
        of columns, no ORM objects. Instances of those rows this session holds are expired (reloaded on next read)."""
        m = DocumentMetricsRow
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for v in values:
            groups.setdefault(tuple(sorted(v)), []).append(v)
        stmt = update(m).where(m.tenant_id == self.tenant_id).execution_options(synchronize_session=None)
        for group in groups.values():
            await self.session.execute(stmt, group)
        sync = self.session.sync_session
        for v in values:
            instance = sync.identity_map.get(sync.identity_key(m, (v["document_id"],)))
            if instance is not None:
                self.session.expire(instance)

    async def batches_after(
        self,
        document_id: uuid.UUID,
        revision: int,
        received_at: datetime | None,
        batch_id: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Row[Any]]:
        """Batches after the watermark ``(revision, received_at, id)``, in the order the batch path applied them
        (one range of the ``(document_id, revision)`` index)."""
        stmt = (
            select(*BATCH_COLUMNS)
            .where(EditBatch.tenant_id == self.tenant_id, _after(document_id, *_mark(revision, received_at, batch_id)))
            .order_by(EditBatch.revision, EditBatch.received_at, EditBatch.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).all()

    async def batches_after_many(
        self, marks: Mapping[uuid.UUID, tuple[int, datetime | None, uuid.UUID | None]], limit: int
    ) -> tuple[dict[uuid.UUID, list[Row[Any]]], set[uuid.UUID]]:
        """``batches_after`` of many documents, each after its own watermark in ``marks``, in one statement of at
        most ``limit`` rows. Returns the batches by document and the documents whose list is complete: all of
        them unless the limit cut the result, and then those before the last one it reached (rows come ordered
        by document first)."""
        if not marks:
            return {}, set()
        # A power of two of documents (the last one repeated): a few statements, each built, compiled and prepared
        # once, not one per number of documents.
        given = [(d, *_mark(*mark)) for d, mark in marks.items()]
        given += given[-1:] * ((1 << (len(given) - 1).bit_length()) - len(given))
        params: dict[str, Any] = {"tenant_id": self.tenant_id, "limit": limit}
        for i, (d, revision, received_at, batch_id) in enumerate(given):
            params.update({f"d{i}": d, f"r{i}": revision, f"t{i}": received_at, f"b{i}": batch_id})
        stmt = _after_many(len(given))
        rows = (await self.session.execute(stmt, params)).all()
        by_document: dict[uuid.UUID, list[Row[Any]]] = {}
        for r in rows:
            by_document.setdefault(r.document_id, []).append(r)
        if len(rows) < limit:
            return by_document, set(marks)
        reached = list(by_document)  # in the statement's order
        return by_document, set(reached[:-1])

    async def stale_document_ids(self, limit: int) -> list[uuid.UUID]:
        """Documents with activity after their watermark (or none folded yet), oldest activity first."""
        m = DocumentMetricsRow
        stmt = (
            select(Document.id)
            .outerjoin(m, and_(m.document_id == Document.id, m.tenant_id == self.tenant_id))
            .where(
                Document.tenant_id == self.tenant_id,
                Document.last_activity_at.is_not(None),
                or_(
                    m.document_id.is_(None),
                    m.seen_activity_at.is_(None),
                    Document.last_activity_at > m.seen_activity_at,
                ),
            )
            .order_by(Document.last_activity_at)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def days(self, keys: Sequence[tuple[uuid.UUID, uuid.UUID, date]]) -> list[Row[Any]]:
        """``(id, document_id, user_id, day)`` of the daily rows among ``(document, user, day)`` keys that exist
        (one statement for many documents)."""
        if not keys:
            return []
        d = DailyActivityRow
        stmt = select(d.id, d.document_id, d.user_id, d.day).where(
            d.tenant_id == self.tenant_id,
            d.document_id.in_({k[0] for k in keys}),
            d.user_id.in_({k[1] for k in keys}),
            d.day.in_({k[2] for k in keys}),
        )
        wanted = set(keys)
        return [r for r in (await self.session.execute(stmt)).all() if (r.document_id, r.user_id, r.day) in wanted]

    def base_daily(self) -> Any:
        return select(DailyActivityRow).where(DailyActivityRow.tenant_id == self.tenant_id)

    async def insert_rows(
        self, model: type[DocumentMetricsRow | DailyActivityRow], rows: Sequence[dict[str, Any]]
    ) -> None:
        """Insert ``rows`` (column values; defaults filled in) of this tenant's ``model``: executemany statements,
        no ORM objects. The job writes hundreds at a time, and on SQLite holds the single writer meanwhile."""
        if not rows:
            return
        if any(r["tenant_id"] != self.tenant_id for r in rows):
            raise ValueError("a row of another tenant")
        await self.session.execute(insert(model), list(rows))

    async def bump_days(self, bumps: Sequence[tuple[uuid.UUID, dict[str, int]]]) -> None:
        """Add ``values`` to the counters of each daily row ``(row id, values)``: one executemany statement."""
        if not bumps:
            return
        t = DailyActivityRow.__table__
        names = list(bumps[0][1])
        stmt = (
            update(t)
            .where(t.c.tenant_id == self.tenant_id, t.c.id == bindparam("row_id"))
            .values({name: t.c[name] + bindparam(f"add_{name}") for name in names})
        )
        params = [{"row_id": row_id, **{f"add_{k}": v for k, v in values.items()}} for row_id, values in bumps]
        await self.session.execute(stmt, params)

    # ---- reads for pages --------------------------------------------------------------------------------

    async def course_version(self, course_id: uuid.UUID) -> tuple[Any, ...]:
        """What changes when a course's figures may: its documents' figures (count, latest activity covered; not the
        latest batch, so a class writing now does not defeat the cache), submissions and its roster. One statement.
        """
        m, cm = DocumentMetricsRow, CourseMember
        course_docs = (
            select(Document.id, Document.submitted_at)
            .join(Assignment, and_(Assignment.id == Document.assignment_id, Assignment.tenant_id == self.tenant_id))
            .where(Document.tenant_id == self.tenant_id, Assignment.course_id == course_id)
            .subquery()
        )
        figures = select(m.seen_activity_at).where(m.tenant_id == self.tenant_id, m.course_id == course_id).subquery()
        members = (
            select(cm.created_at, cm.modified_at)
            .where(cm.tenant_id == self.tenant_id, cm.course_id == course_id)
            .subquery()
        )
        stmt = select(
            select(func.count()).select_from(figures).scalar_subquery(),
            select(func.max(figures.c.seen_activity_at)).scalar_subquery(),
            select(func.count()).select_from(members).scalar_subquery(),
            select(func.max(members.c.created_at)).scalar_subquery(),
            select(func.max(members.c.modified_at)).scalar_subquery(),
            select(func.count()).select_from(course_docs).scalar_subquery(),
            select(func.max(course_docs.c.submitted_at)).scalar_subquery(),
        )
        return tuple((await self.session.execute(stmt)).one())

    async def students_of(self, course_id: uuid.UUID, user_id: uuid.UUID | None = None) -> Sequence[Row[Any]]:
        """``(user_id, display_name)`` of the course's students (or of one of them); the caller checked access."""
        return await CourseMemberRepository(self.session, self.tenant_id).students_brief(course_id, user_id)

    async def documents_of(
        self,
        *,
        assignment_ids: Sequence[uuid.UUID],
        owner_user_id: uuid.UUID | None = None,
        document_ids: Sequence[uuid.UUID] | None = None,
    ) -> Sequence[Row[Any]]:
        """Documents (no text) of assignments, each with its metrics row's columns (or NULLs)."""
        m = DocumentMetricsRow
        stmt = (
            select(
                *DOC_COLUMNS,
                m.wm_revision,
                m.wm_received_at,
                m.active_seconds,
                m.sessions,
                m.words_added,
                m.words_deleted,
                m.pastes,
                m.first_words_at,
                m.seen_activity_at,
            )
            .outerjoin(m, and_(m.document_id == Document.id, m.tenant_id == self.tenant_id))
            .where(Document.tenant_id == self.tenant_id, Document.assignment_id.in_(assignment_ids))
        )
        if owner_user_id is not None and document_ids is not None:
            stmt = stmt.where(or_(Document.owner_user_id == owner_user_id, Document.id.in_(document_ids)))
        elif owner_user_id is not None:
            stmt = stmt.where(Document.owner_user_id == owner_user_id)
        elif document_ids is not None:
            stmt = stmt.where(Document.id.in_(document_ids))
        return (await self.session.execute(stmt)).all()

    async def group_members(self, assignment_ids: Sequence[uuid.UUID]) -> Sequence[Row[Any]]:
        """``(assignment_id, group_id, user_id)`` of every group assignment among ``assignment_ids``."""
        g = AssignmentGroupMember
        stmt = select(g.assignment_id, g.group_id, g.user_id).where(
            g.tenant_id == self.tenant_id, g.assignment_id.in_(assignment_ids)
        )
        return (await self.session.execute(stmt)).all()

    async def group_document_ids(self, user_id: uuid.UUID, assignment_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        g = AssignmentGroupMember
        stmt = (
            select(Document.id)
            .join(g, and_(g.tenant_id == self.tenant_id, g.group_id == Document.group_id, g.user_id == user_id))
            .where(Document.tenant_id == self.tenant_id, Document.assignment_id.in_(assignment_ids))
        )
        return list((await self.session.scalars(stmt)).all())

    async def words_by_day(
        self, cuts: dict[uuid.UUID, list[date]], document_ids: Sequence[uuid.UUID] | None = None
    ) -> dict[tuple[uuid.UUID, date], int]:
        """Each document's word count at the end of each cut day (sum of its daily ``word_delta`` up to it), for
        the cut days of its assignment (``cuts``: assignment id -> days). One grouped statement."""
        d = DailyActivityRow
        columns: list[Any] = []
        labels: list[tuple[uuid.UUID, date]] = []
        for assignment_id, days in cuts.items():
            for day in days:
                columns.append(
                    func.sum(case((and_(d.assignment_id == assignment_id, d.day <= day), d.word_delta), else_=0))
                )
                labels.append((assignment_id, day))
        if not columns:
            return {}
        stmt = (
            select(d.document_id, d.assignment_id, *columns)
            .where(d.tenant_id == self.tenant_id, d.assignment_id.in_(list(cuts)))
            .group_by(d.document_id, d.assignment_id)
        )
        if document_ids is not None:
            stmt = stmt.where(d.document_id.in_(document_ids))
        out: dict[tuple[uuid.UUID, date], int] = {}
        for row in (await self.session.execute(stmt)).all():
            for (assignment_id, day), value in zip(labels, row[2:], strict=True):
                if assignment_id == row[1]:
                    out[(row[0], day)] = int(value or 0)
        return out

    async def daily_series(
        self,
        course_id: uuid.UUID,
        since: date,
        *,
        user_id: uuid.UUID | None = None,
        document_ids: Sequence[uuid.UUID] | None = None,
    ) -> Sequence[Row[Any]]:
        """Per day since ``since``: sums over the course (or one author, or some documents) and distinct authors."""
        d = DailyActivityRow
        stmt = select(
            d.day,
            func.sum(d.active_seconds),
            func.sum(d.batches),
            func.sum(d.words_added),
            func.sum(d.words_deleted),
            func.sum(d.word_delta),
            func.sum(d.pastes),
            func.sum(d.pasted_chars),
            func.count(func.distinct(d.user_id)),
        ).where(d.tenant_id == self.tenant_id, d.course_id == course_id, d.day >= since)
        if user_id is not None:
            stmt = stmt.where(d.user_id == user_id)
        if document_ids is not None:
            stmt = stmt.where(d.document_id.in_(document_ids))
        return (await self.session.execute(stmt.group_by(d.day).order_by(d.day))).all()

    async def metrics_rows(self, document_ids: Sequence[uuid.UUID]) -> list[DocumentMetricsRow]:
        if not document_ids:
            return []
        return await self.all(self.base().where(DocumentMetricsRow.document_id.in_(document_ids)))

    async def submissions_count(self, assignment_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        stmt = (
            select(Submission.assignment_id, func.count(func.distinct(Submission.document_id)))
            .where(Submission.tenant_id == self.tenant_id, Submission.assignment_id.in_(assignment_ids))
            .group_by(Submission.assignment_id)
        )
        return {a: int(n) for a, n in (await self.session.execute(stmt)).all()}

    # ---- AI partner use (its own indexes: tenant, document/assignment, user, created_at) -------------------

    async def ai_by_user(self, assignment_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        stmt = (
            select(AiExchange.user_id, func.count())
            .where(AiExchange.tenant_id == self.tenant_id, AiExchange.assignment_id.in_(assignment_ids))
            .group_by(AiExchange.user_id)
        )
        return {u: int(n) for u, n in (await self.session.execute(stmt)).all()}

    async def ai_by_assignment_user(
        self, assignment_ids: Sequence[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
        stmt = (
            select(AiExchange.assignment_id, AiExchange.user_id, func.count())
            .where(AiExchange.tenant_id == self.tenant_id, AiExchange.assignment_id.in_(assignment_ids))
            .group_by(AiExchange.assignment_id, AiExchange.user_id)
        )
        return {(a, u): int(n) for a, u, n in (await self.session.execute(stmt)).all()}

    async def reflections_by_document_user(
        self, assignment_ids: Sequence[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[int, int]]:
        """``(document, user) -> (count, sum of totals)`` of reflections (not flagged as gamed) on the documents
        of these assignments."""
        r = AiReflection
        docs = select(Document.id).where(
            Document.tenant_id == self.tenant_id, Document.assignment_id.in_(assignment_ids)
        )
        stmt = (
            select(r.document_id, r.user_id, func.count(), func.sum(r.total))
            .where(r.tenant_id == self.tenant_id, r.document_id.in_(docs), r.gamed.is_(False))
            .group_by(r.document_id, r.user_id)
        )
        return {(d, u): (int(n), int(s or 0)) for d, u, n, s in (await self.session.execute(stmt)).all()}

    async def exchanges_of(self, document_ids: Sequence[uuid.UUID]) -> Sequence[Row[Any]]:
        """``(document_id, user_id, level, created_at)`` of these documents' exchanges (tens per document)."""
        if not document_ids:
            return []
        x = AiExchange
        stmt = select(x.document_id, x.user_id, x.level, x.created_at).where(
            x.tenant_id == self.tenant_id, x.document_id.in_(document_ids)
        )
        return (await self.session.execute(stmt)).all()

    async def reflections_of(self, document_ids: Sequence[uuid.UUID]) -> Sequence[Row[Any]]:
        """``(document_id, user_id, created_at, total, gamed)`` of reflections on these documents."""
        if not document_ids:
            return []
        r = AiReflection
        stmt = select(r.document_id, r.user_id, r.created_at, r.total, r.gamed).where(
            r.tenant_id == self.tenant_id, r.document_id.in_(document_ids)
        )
        return (await self.session.execute(stmt)).all()
