"""Replay of a document's writing: a manifest for the timeline, the text at any revision, pages of batches.

Nothing here reads the log's tables directly: the text at a revision is ``writing``'s rebuild (nearest snapshot
plus the batches after it) and the batches come from the writing service, a page at a time, so a document with
tens of thousands of batches is never loaded whole, here or in the page. Staff reads are audited
(``document.viewed`` with ``what`` = ``replay``, ``replay_state`` or ``replay_batches``).

:func:`replay_steps` applies stored ops exactly as the batch path did (``writing.ops``: positions in code points),
so a replayed text can be checked against each batch's ``content_hash``.
"""

from __future__ import annotations

import bisect
import heapq
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.core.errors import InvalidInput
from scribetree.integrity.replay_schemas import (
    GapMarker,
    PasteMarker,
    ReplayBatch,
    ReplayBatchPage,
    ReplayManifest,
    ReplayState,
    RestoreMarker,
    SessionMarker,
    SubmissionMarker,
    Tick,
)
from scribetree.tenancy.context import AuthContext
from scribetree.writing import ops
from scribetree.writing.models import VersionKind
from scribetree.writing.service import document as document_service

PAGE_SIZE = 500  # batches per page suggested to players
MAX_PAGE = 1000
SCAN_PAGE = 1000  # batches per query when the manifest scans the log
MAX_PASTE_MARKERS = 1000
MAX_TICKS = 400
DEFAULT_GAP_MINUTES = 5


class RevisionOutOfRange(InvalidInput):
    default_detail = "That revision does not exist for this document."


class InvalidReplayQuery(InvalidInput):
    default_detail = "The replay query is not valid."


# ---- pure helpers ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    revision: int
    text: str
    expected_hash: str

    @property
    def ok(self) -> bool:
        return ops.content_hash(self.text) == self.expected_hash


def replay_steps(text: str, batches: Iterable[Any]) -> Iterator[Step]:
    """Apply each batch's stored ops in turn; one :class:`Step` per batch with the hash it was stored with.

    ``batches`` are rows or dicts with ``ops``, ``revision`` and ``content_hash``. Raises the writing domain's
    ``InvalidOp`` errors if an op does not fit the text (a log that cannot be replayed).
    """
    for b in batches:
        get = b.get if isinstance(b, dict) else lambda name, b=b: getattr(b, name)
        text = ops.apply(text, ops.parse_ops(get("ops")))
        yield Step(revision=get("revision"), text=text, expected_hash=get("content_hash"))


def _ticks(points: list[tuple[int, datetime]]) -> list[Tick]:
    if len(points) <= MAX_TICKS:
        return [Tick(revision=r, at=t) for r, t in points]
    step = (len(points) - 1) / (MAX_TICKS - 1)
    picks = sorted({round(i * step) for i in range(MAX_TICKS)})
    return [Tick(revision=points[i][0], at=points[i][1]) for i in picks]


# ---- the service -------------------------------------------------------------------------------------------


class ReplayService:
    async def manifest(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        *,
        gap_minutes: int = DEFAULT_GAP_MINUTES,
        audit_session: AsyncSession | None = None,
    ) -> ReplayManifest:
        """Scan the log once, a page at a time (ops are read, never kept), for the timeline's markers."""
        if not 1 <= gap_minutes <= 24 * 60:
            raise InvalidReplayQuery(
                f"'gap_minutes' is {gap_minutes}; give a whole number of minutes from 1 to 1440.", field="gap_minutes"
            )
        doc = await document_service.read(session, ctx, document_id, audit_session=audit_session, what="replay")
        gap_seconds = gap_minutes * 60
        pastes: list[tuple[int, int, PasteMarker]] = []  # a heap of the largest (size, tie, marker)
        pastes_total = 0
        gaps: list[GapMarker] = []
        points: list[tuple[int, datetime]] = []
        event_count = 0
        first: datetime | None = None
        last: datetime | None = None
        last_revision = 0
        after: uuid.UUID | None = None
        while True:
            page = await document_service.timeline_page(session, doc, after, SCAN_PAGE)
            for b in page:
                at = clock.as_utc(b.received_at)
                event_count += 1
                if first is None:
                    first = at
                if last is not None and (at - last).total_seconds() > gap_seconds:
                    gaps.append(
                        GapMarker(
                            after_revision=last_revision,
                            start=last,
                            end=at,
                            minutes=round((at - last).total_seconds() / 60, 1),
                        )
                    )
                last = at
                if b.revision == b.base_revision:
                    continue
                last_revision = b.revision
                points.append((b.revision, at))
                for raw in b.ops:
                    if raw.get("kind") == "paste":
                        pastes_total += 1
                        marker = PasteMarker(
                            revision=b.revision,
                            at=at,
                            pos=int(raw.get("pos", 0)),
                            size=len(raw.get("text", "")),
                            seen_in_doc=bool(raw.get("seen_in_doc")),
                        )
                        item = (marker.size, -pastes_total, marker)
                        if len(pastes) < MAX_PASTE_MARKERS:
                            heapq.heappush(pastes, item)
                        else:
                            heapq.heappushpop(pastes, item)
            if len(page) < SCAN_PAGE:
                break
            after = page[-1].id
        versions = await document_service.versions_of(session, doc)
        restores = sorted(
            (
                RestoreMarker(revision=v.revision, at=clock.as_utc(v.created_at))
                for v in versions
                if v.kind == VersionKind.restore
            ),
            key=lambda m: m.revision,
        )
        for r in restores:  # a restore is a revision without a batch
            bisect.insort(points, (r.revision, r.at))
        sessions = await document_service.list_sessions(session, ctx, doc.id)
        subs = await document_service.list_submissions(session, ctx, doc.id)
        batch_count = len(points) - len(restores)
        return ReplayManifest(
            document_id=doc.id,
            revision_from=0,
            revision_to=doc.revision,
            content_hash=doc.content_hash,
            started_at=first,
            ended_at=last,
            batch_count=batch_count,
            event_count=event_count,
            page_size=PAGE_SIZE,
            pages=-(-doc.revision // PAGE_SIZE),
            gap_minutes=gap_minutes,
            pastes=sorted((m for _, _, m in pastes), key=lambda m: (m.revision, m.pos)),
            pastes_total=pastes_total,
            gaps=gaps,
            sessions=[
                SessionMarker(
                    started_at=clock.as_utc(s.started_at),
                    ended_at=clock.as_utc(s.ended_at),
                    active_seconds=s.active_seconds,
                )
                for s in sessions
            ],
            submissions=[
                SubmissionMarker(attempt=s.attempt, revision=s.revision, at=clock.as_utc(s.submitted_at), late=s.late)
                for s in subs
            ],
            restores=restores,
            ticks=_ticks(points),
        )

    async def state(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        revision: int,
        *,
        audit_session: AsyncSession | None = None,
    ) -> ReplayState:
        """The text at ``revision``, rebuilt from the nearest snapshot and the batches after it."""
        doc = await document_service.read(
            session, ctx, document_id, audit_session=audit_session, what="replay_state", revision=revision
        )
        if not 0 <= revision <= doc.revision:
            raise RevisionOutOfRange(
                f"Revision {revision} does not exist: this document's revisions go from 0 to {doc.revision}.",
                field="revision",
            )
        text = await document_service.rebuild(session, doc, revision)
        return ReplayState(document_id=doc.id, revision=revision, text=text, content_hash=ops.content_hash(text))

    async def batches(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        after: int,
        limit: int = PAGE_SIZE,
        *,
        audit_session: AsyncSession | None = None,
    ) -> ReplayBatchPage:
        """The text-changing batches that made revisions ``after + 1 .. after + limit``, in order.

        A revision made by a restore has no batch: the next batch's ``base_revision`` is then ahead of the
        player's revision, and the player fetches that state.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidReplayQuery(f"'limit' is {limit}; give 1 to {MAX_PAGE}.", field="limit")
        doc = await document_service.read(
            session, ctx, document_id, audit_session=audit_session, what="replay_batches", after=after
        )
        if not 0 <= after <= doc.revision:
            raise RevisionOutOfRange(
                f"'after' is {after}: this document's revisions go from 0 to {doc.revision}.", field="after"
            )
        upto = min(after + limit, doc.revision)
        rows = await document_service.batches_between(session, doc, after, upto)
        return ReplayBatchPage(
            items=[
                ReplayBatch(
                    base_revision=b.base_revision,
                    revision=b.revision,
                    at=clock.as_utc(b.received_at),
                    content_hash=b.content_hash,
                    ops=b.ops,
                )
                for b in rows
            ],
            next_after=upto if upto < doc.revision else None,
        )


replay = ReplayService()
