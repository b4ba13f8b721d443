"""Every SQL statement of similarity and style drift (STYLE N3): each one filters on the tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select

from scribetree.core.repository import TenantRepository
from scribetree.courses.models import Assignment, Course
from scribetree.identity.models import User
from scribetree.integrity.similarity_models import (
    IndexState,
    SimilarityFingerprint,
    SimilarityMatch,
    SimilaritySettings,
    SimilaritySubmission,
)
from scribetree.writing.models import Document, DocumentVersion, Submission

IN_CHUNK = 500  # bound parameters per IN (...) list


@dataclass(frozen=True)
class Source:
    """A submission with what indexing and display need: its text and where it sits."""

    submission_id: uuid.UUID
    document_id: uuid.UUID
    assignment_id: uuid.UUID
    course_id: uuid.UUID
    author_user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    submitted_at: datetime
    attempt: int
    text: str


@dataclass(frozen=True)
class Described:
    submission_id: uuid.UUID
    document_id: uuid.UUID
    assignment_id: uuid.UUID
    assignment_title: str
    course_id: uuid.UUID
    course_title: str
    author_name: str | None


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


class SimilarityRepository(TenantRepository[SimilaritySubmission]):
    model = SimilaritySubmission

    # ---- sources ----------------------------------------------------------------------------------------

    def _sources(self) -> Any:
        return (
            select(
                Submission.id,
                Submission.document_id,
                Submission.assignment_id,
                Assignment.course_id,
                Document.owner_user_id,
                Document.group_id,
                Submission.submitted_at,
                Submission.attempt,
                DocumentVersion.text,
            )
            .join(Document, and_(Document.id == Submission.document_id, Document.tenant_id == self.tenant_id))
            .join(Assignment, and_(Assignment.id == Submission.assignment_id, Assignment.tenant_id == self.tenant_id))
            .join(
                DocumentVersion,
                and_(DocumentVersion.id == Submission.version_id, DocumentVersion.tenant_id == self.tenant_id),
            )
            .where(Submission.tenant_id == self.tenant_id)
        )

    async def sources(self, submission_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Source]:
        out: dict[uuid.UUID, Source] = {}
        for chunk in _chunks(list(submission_ids)):
            rows = await self.session.execute(self._sources().where(Submission.id.in_(chunk)))
            for row in rows:
                out[row[0]] = Source(*row)
        return out

    async def source(self, submission_id: uuid.UUID) -> Source | None:
        return (await self.sources([submission_id])).get(submission_id)

    async def submission_ids_in_order(self) -> list[uuid.UUID]:
        stmt = (
            select(Submission.id)
            .where(Submission.tenant_id == self.tenant_id)
            .order_by(Submission.submitted_at, Submission.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def unindexed(self, limit: int) -> list[uuid.UUID]:
        """Submissions that have no index row yet (oldest first): the sweep's safety net."""
        stmt = (
            select(Submission.id)
            .outerjoin(
                SimilaritySubmission,
                and_(
                    SimilaritySubmission.tenant_id == self.tenant_id,
                    SimilaritySubmission.submission_id == Submission.id,
                ),
            )
            .where(Submission.tenant_id == self.tenant_id, SimilaritySubmission.id.is_(None))
            .order_by(Submission.submitted_at, Submission.id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def earlier_attempts(self, document_id: uuid.UUID, submitted_at: datetime) -> list[uuid.UUID]:
        stmt = select(Submission.id).where(
            Submission.tenant_id == self.tenant_id,
            Submission.document_id == document_id,
            Submission.submitted_at <= submitted_at,
        )
        return list((await self.session.scalars(stmt)).all())

    async def describe(self, submission_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Described]:
        out: dict[uuid.UUID, Described] = {}
        for chunk in _chunks(list(submission_ids)):
            stmt = (
                select(
                    Submission.id,
                    Submission.document_id,
                    Assignment.id,
                    Assignment.title,
                    Course.id,
                    Course.title,
                    User.display_name,
                )
                .join(Document, and_(Document.id == Submission.document_id, Document.tenant_id == self.tenant_id))
                .join(
                    Assignment, and_(Assignment.id == Submission.assignment_id, Assignment.tenant_id == self.tenant_id)
                )
                .join(Course, and_(Course.id == Assignment.course_id, Course.tenant_id == self.tenant_id))
                .outerjoin(User, User.id == Document.owner_user_id)
                .where(Submission.tenant_id == self.tenant_id, Submission.id.in_(chunk))
            )
            for row in await self.session.execute(stmt):
                out[row[0]] = Described(*row)
        return out

    async def earlier_of_author(self, author_user_id: uuid.UUID, before: datetime, limit: int) -> list[Source]:
        """The author's own individual submissions before ``before`` (latest attempt per document), newest first."""
        stmt = (
            self._sources()
            .where(Document.owner_user_id == author_user_id, Submission.submitted_at < before)
            .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        )
        seen: set[uuid.UUID] = set()
        out: list[Source] = []
        for row in await self.session.execute(stmt):
            src = Source(*row)
            if src.document_id in seen:
                continue
            seen.add(src.document_id)
            out.append(src)
            if len(out) >= limit:
                break
        return out

    # ---- the index --------------------------------------------------------------------------------------

    async def index_row(self, submission_id: uuid.UUID) -> SimilaritySubmission | None:
        return await self.one_or_none(self.base().where(SimilaritySubmission.submission_id == submission_id))

    async def clear(self, submission_id: uuid.UUID) -> None:
        """Forget what indexing ``submission_id`` wrote: its fingerprints and the matches it found."""
        await self.session.execute(
            delete(SimilarityFingerprint).where(
                SimilarityFingerprint.tenant_id == self.tenant_id, SimilarityFingerprint.submission_id == submission_id
            )
        )
        await self.session.execute(
            delete(SimilarityMatch).where(
                SimilarityMatch.tenant_id == self.tenant_id, SimilarityMatch.submission_id == submission_id
            )
        )

    async def clear_all(self) -> None:
        for model in (SimilarityMatch, SimilarityFingerprint, SimilaritySubmission):
            await self.session.execute(delete(model).where(model.tenant_id == self.tenant_id))

    async def drop_fingerprints(self, submission_ids: Sequence[uuid.UUID]) -> None:
        for chunk in _chunks(list(submission_ids)):
            await self.session.execute(
                delete(SimilarityFingerprint).where(
                    SimilarityFingerprint.tenant_id == self.tenant_id, SimilarityFingerprint.submission_id.in_(chunk)
                )
            )

    async def add_fingerprints(self, rows: list[dict[str, Any]]) -> None:
        for chunk in _chunks(rows, 1000):
            await self.session.execute(insert(SimilarityFingerprint), list(chunk))

    async def candidates(
        self,
        hashes: Sequence[int],
        *,
        exclude_document: uuid.UUID,
        course_id: uuid.UUID | None,
    ) -> list[tuple[uuid.UUID, int, int]]:
        """``(submission_id, hash, start)`` of indexed fingerprints with one of ``hashes``, outside the document;
        within ``course_id`` when it is given, else across the institution.

        Two single-table lookups rather than a join: the fingerprints by ``(tenant_id, hash)``, then which of their
        submissions qualify. A join left the plan to the statistics, and before PostgreSQL has analysed a young
        table it chose a nested loop over every indexed submission (5 s at 450 submissions)."""
        found: list[tuple[uuid.UUID, int, int]] = []
        for chunk in _chunks(sorted(set(hashes))):
            stmt = select(
                SimilarityFingerprint.submission_id, SimilarityFingerprint.hash, SimilarityFingerprint.start
            ).where(SimilarityFingerprint.tenant_id == self.tenant_id, SimilarityFingerprint.hash.in_(chunk))
            found.extend((r[0], r[1], r[2]) for r in await self.session.execute(stmt))
        allowed: set[uuid.UUID] = set()
        for ids in _chunks(sorted({f[0] for f in found})):
            stmt = select(SimilaritySubmission.submission_id).where(
                SimilaritySubmission.tenant_id == self.tenant_id,
                SimilaritySubmission.submission_id.in_(ids),
                SimilaritySubmission.document_id != exclude_document,
                SimilaritySubmission.state == IndexState.indexed,
            )
            if course_id is not None:
                stmt = stmt.where(SimilaritySubmission.course_id == course_id)
            allowed.update(await self.session.scalars(stmt))
        return [f for f in found if f[0] in allowed]

    async def add_matches(self, matches: list[SimilarityMatch]) -> None:
        self.session.add_all(matches)
        await self.session.flush()

    async def matches_of(self, submission_id: uuid.UUID) -> list[SimilarityMatch]:
        stmt = select(SimilarityMatch).where(
            SimilarityMatch.tenant_id == self.tenant_id,
            or_(SimilarityMatch.submission_id == submission_id, SimilarityMatch.other_submission_id == submission_id),
        )
        return list((await self.session.scalars(stmt)).all())

    async def all_matches(self) -> list[SimilarityMatch]:
        stmt = select(SimilarityMatch).where(SimilarityMatch.tenant_id == self.tenant_id)
        return list((await self.session.scalars(stmt)).all())

    async def all_fingerprints(self) -> list[tuple[uuid.UUID, int, int, int, bool]]:
        stmt = select(
            SimilarityFingerprint.submission_id,
            SimilarityFingerprint.start,
            SimilarityFingerprint.end,
            SimilarityFingerprint.hash,
            SimilarityFingerprint.quoted,
        ).where(SimilarityFingerprint.tenant_id == self.tenant_id)
        return [tuple(r) for r in await self.session.execute(stmt)]  # type: ignore[misc]

    async def fingerprint_count(self) -> int:
        stmt = select(func.count()).where(SimilarityFingerprint.tenant_id == self.tenant_id)
        return int((await self.session.execute(stmt)).scalar_one())

    # ---- the institution's setting ----------------------------------------------------------------------

    async def settings(self, *, for_update: bool = False) -> SimilaritySettings | None:
        stmt = select(SimilaritySettings).where(SimilaritySettings.tenant_id == self.tenant_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()
