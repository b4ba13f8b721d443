"""The writing log's rules: documents, edit batches, versions, writing sessions, submissions.

The batch path (:meth:`DocumentService.apply_batch`) is the hottest write of the product. Its cost does not
depend on how long the document's history is: it locks the document row, reads the session's last batch
through the ``(document_id, session_id, seq)`` index, applies the ops to the current text, and writes one
batch row, the document row and the current writing session row (plus, now and then, a snapshot). It
never reads the log. Services never commit (STYLE T2); the request's unit of work does.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import TypeAdapter
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, cache_epochs, clock, pubsub
from scribetree.core.config import settings
from scribetree.core.db import after_commit, run_committed, run_in_transaction
from scribetree.courses.extensions import extensions as extension_service
from scribetree.courses.service import AssignmentAccess, assignment_access
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.tenancy.context import AuthContext
from scribetree.writing import chunks, ops, submission_hooks
from scribetree.writing.access import STUDENT, Need, access_document, check_edit
from scribetree.writing.exceptions import (
    AiStatementRequired,
    BatchTooLarge,
    DocumentNotFound,
    DocumentSubmitted,
    DocumentTooLarge,
    HashMismatch,
    InvalidText,
    NoGroup,
    NotSubmitted,
    ResubmissionClosed,
    SeqGap,
    SeqReused,
    StaffOnly,
    StaleRevision,
    StudentsOnly,
    SubmissionClosed,
    SubmissionNotFound,
    VersionNotFound,
)
from scribetree.writing.feedback import feedback as feedback_service
from scribetree.writing.feedback import graded_submission_ids
from scribetree.writing.models import (
    Document,
    DocumentStatus,
    DocumentVersion,
    EditBatch,
    Submission,
    VersionKind,
    WritingSession,
)
from scribetree.writing.repository import (
    BatchStore,
    DocumentRepository,
    EditBatchRepository,
    SubmissionRepository,
    VersionRepository,
    WritingSessionRepository,
)
from scribetree.writing.schemas import (
    BatchAccepted,
    BatchCreate,
    CheckpointCreate,
    Contribution,
    DiffRead,
    DiffSegment,
    DocumentRead,
    EditBatchPage,
    EditBatchRead,
    SubmissionReceipt,
    SubmissionRow,
    SubmitRequest,
    WritingLimits,
)

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
EMPTY_HASH = ops.content_hash("")
ops.warm_up()  # at start-up, not in the first batch


def limits() -> WritingLimits:
    return WritingLimits(
        max_batch_ops=settings.WRITING_MAX_BATCH_OPS,
        max_batch_bytes=settings.WRITING_MAX_BATCH_BYTES,
        max_document_chars=settings.WRITING_MAX_DOCUMENT_CHARS,
    )


def document_read(doc: Document) -> DocumentRead:
    return DocumentRead(
        id=doc.id,
        assignment_id=doc.assignment_id,
        owner_user_id=doc.owner_user_id,
        group_id=doc.group_id,
        text=doc.text,
        revision=doc.revision,
        content_hash=doc.content_hash,
        word_count=doc.word_count,
        status=doc.status,
        created_at=doc.created_at,
        updated_at=doc.modified_at or doc.created_at,
        last_activity_at=doc.last_activity_at,
        submitted_at=doc.submitted_at,
        limits=limits(),
    )


def _clean(value: str | None, field: str) -> str | None:
    """Free text that will be stored: refuse what PostgreSQL or UTF-8 cannot hold, trim the ends."""
    if value is None:
        return None
    if _UNSTORABLE.search(value):
        raise InvalidText(
            f"'{field}' contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored.",
            field=field,
        )
    return value.strip()


def _entry(ctx: AuthContext, action: str, doc: Document, **details: object) -> audit.Entry:
    return audit.Entry(
        action=action,
        tenant_id=ctx.tenant_id,
        actor_user_id=ctx.user_id,
        actor_label=ctx.actor_label,
        meta=ctx.meta,
        target_type="document",
        target_id=str(doc.id),
        details={"assignment_id": str(doc.assignment_id), **details},
    )


def _stale(doc: Document, sent: int) -> StaleRevision:
    return _stale_state(doc.revision, doc.content_hash, doc.text, sent)


def _stale_state(revision: int, content_hash: str, text: str, sent: int) -> StaleRevision:
    return StaleRevision(
        f"The document is at revision {revision}, but your changes are based on revision {sent} (it was "
        "changed in another tab or device). Apply your unsent changes to the current text and send them again.",
        current={"revision": revision, "content_hash": content_hash, "text": text},
    )


class _Batch(NamedTuple):
    seq: int
    base_revision: int
    revision: int
    content_hash: str


@dataclass(frozen=True)
class _Written:
    accepted: BatchAccepted
    layout: chunks.Layout | None  # the new text's layout, for the text cache once the transaction commits
    activity: dict[str, Any] | None = None  # the live view's message (docs/live.md), published after commit


# Texts and chunk layouts of documents written recently (this process), checked against (revision, hash).
_texts = chunks.TextCache(settings.WRITING_TEXT_CACHE_CHARS)


async def _cache_text(document_id: uuid.UUID, revision: int, content_hash: str, layout: chunks.Layout) -> None:
    _texts.put(document_id, revision, content_hash, layout)


class DocumentService:
    # ---- opening ----------------------------------------------------------------------------------------

    async def open_mine(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        assignment_id: uuid.UUID,
        *,
        write_session: AsyncSession | None = None,
    ) -> Document:
        """The caller's document for an assignment (the group's, for a group assignment), created empty if new.

        Reopening (every page load) only reads; ``write_session`` (default: ``session``) is used to create.
        """
        acc = await assignment_access(session, ctx, assignment_id)
        if acc.course_role != STUDENT:
            raise StudentsOnly()
        tenant_id = ctx.tenant_id
        assert tenant_id is not None  # assignment_access refuses callers outside a tenant
        group = acc.assignment.kind == "group"
        if group and acc.group_id is None:
            raise NoGroup()

        async def existing(repo: DocumentRepository) -> Document | None:
            if group:
                assert acc.group_id is not None
                return await repo.for_group(assignment_id, acc.group_id)
            return await repo.for_owner(assignment_id, ctx.user_id)

        doc = await existing(DocumentRepository(session, tenant_id))
        if doc is not None:
            return doc
        session = write_session or session
        now = clock.utcnow()
        doc = Document(
            tenant_id=tenant_id,
            assignment_id=assignment_id,
            owner_user_id=None if group else ctx.user_id,
            group_id=acc.group_id if group else None,
            text="",
            revision=0,
            content_hash=EMPTY_HASH,
            word_count=0,
            status=DocumentStatus.draft,
            snapshot_at=now,
            snapshot_revision=0,
            chars_since_snapshot=0,
        )
        try:
            async with session.begin_nested():
                session.add(doc)
                await session.flush()
                # Revision 0 is a snapshot too, so every revision can be rebuilt from a snapshot plus batches.
                session.add(self._version(doc, VersionKind.auto, created_by=ctx.user_id, at=now))
                await session.flush()
        except IntegrityError:  # a second tab created it at the same moment
            found = await existing(DocumentRepository(session, tenant_id))
            assert found is not None
            return found
        return doc

    async def _read(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        audit_session: AsyncSession | None,
        what: str,
        **details: object,
    ) -> Document:
        """Read access; a staff member reading a student's writing is written to the audit trail (ARCHITECTURE §6).

        ``audit_session`` is the request's write session (reads may run on another connection).
        """
        da = await access_document(session, ctx, document_id)
        if da.is_staff and audit_session is not None:
            await audit.record(audit_session, _entry(ctx, "document.viewed", da.document, what=what, **details))
        return da.document

    async def get(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> Document:
        return await self._read(session, ctx, document_id, audit_session, "text")

    # ---- the batch path ---------------------------------------------------------------------------------

    async def apply_batch(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        body: BatchCreate,
        *,
        read_session: AsyncSession | None = None,
        commit_now: bool = False,
    ) -> BatchAccepted:
        """Append a batch and apply it, or refuse it whole (nothing applied). Idempotent on (session_id, seq).

        Checks, in order: op count (413), op shapes (422), text bytes (413), access (404/403), replay (the
        earlier answer), submitted (409), seq gap (409), stale base revision (409), positions (422),
        document size (413), content hash (422).

        Access is checked on ``read_session`` (default: ``session``) before the write transaction, which then
        only locks the document row, looks up the session's last batch, and writes the batch, the touched
        chunks, the document's counters and the writing session: on SQLite the single writer is held for those
        few statements only. With ``commit_now`` (the HTTP route) the write transaction is the batch's own,
        committed before this returns (``core.db.run_committed``: on SQLite a group commit with the batches that
        arrive at the same moment); a failure later in the request then leaves the batch kept, and the editor's
        resend gets the same answer with ``replayed: true``.
        """
        if len(body.ops) > settings.WRITING_MAX_BATCH_OPS:
            raise BatchTooLarge(
                f"The batch has {len(body.ops):,} operations; the limit is {settings.WRITING_MAX_BATCH_OPS:,} per "
                "batch. Send them in several batches.",
                limit=settings.WRITING_MAX_BATCH_OPS,
            )
        parsed = ops.parse_ops(body.ops)
        size = sum(len(op.text.encode("utf-8")) for op in parsed)
        if size > settings.WRITING_MAX_BATCH_BYTES:
            raise BatchTooLarge(
                f"The batch carries {size:,} bytes of text; the limit is {settings.WRITING_MAX_BATCH_BYTES:,} "
                "bytes per batch. Send the text in several batches.",
                limit=settings.WRITING_MAX_BATCH_BYTES,
            )
        await check_edit(read_session or session, ctx, document_id)
        tenant_id = ctx.tenant_id
        assert tenant_id is not None  # check_edit refuses callers outside a tenant
        run = run_committed if commit_now else run_in_transaction
        done = await run(
            session,
            lambda conn: self._write_batch(
                BatchStore(conn, tenant_id, combine=True, commit=commit_now), ctx.user_id, document_id, body, parsed
            ),
        )
        if done.layout is not None:
            layout, revision, new_hash = done.layout, done.accepted.revision, done.accepted.content_hash
            after_commit(session, lambda: _cache_text(document_id, revision, new_hash, layout))
        if done.activity is not None:  # one publish per accepted batch (the editor sends one per ~2 s at most)
            channel, message = pubsub.activity_channel(tenant_id, done.activity["assignment_id"]), done.activity
            after_commit(session, lambda: pubsub.publish(channel, message))
        return done.accepted

    def _write_batch(
        self, store: BatchStore, user_id: uuid.UUID, document_id: uuid.UUID, body: BatchCreate, parsed: list[ops.Op]
    ) -> _Written:
        """The write transaction of a batch (sync: one step on SQLite's writer, see ``core.db.run_in_transaction``).

        Locks the document row, looks up the session's last batch (one index lookup), applies the ops to the
        text (from the text cache, or the chunks on a miss), then writes the batch, the touched chunks, the
        document's counters and the writing session. Raises (nothing written) on any refusal.
        """
        doc = store.lock_state(document_id, body.session_id, user_id)
        if doc is None:  # deleted since the access check
            raise DocumentNotFound()
        last = (
            None
            if doc.last_seq is None
            else _Batch(doc.last_seq, doc.last_base_revision, doc.last_revision, doc.last_content_hash)
        )
        if last is not None and body.seq <= last.seq:
            prior = last if body.seq == last.seq else store.by_seq(doc.id, body.session_id, body.seq)
            assert prior is not None  # seqs of a session are contiguous from 1
            if prior.content_hash != body.content_hash or prior.base_revision != body.base_revision:
                raise SeqReused(expected_seq=last.seq + 1)
            replayed = BatchAccepted(
                document_id=doc.id,
                session_id=body.session_id,
                seq=body.seq,
                revision=prior.revision,
                content_hash=prior.content_hash,
                replayed=True,
            )
            return _Written(replayed, None)
        if doc.status == DocumentStatus.submitted:
            raise DocumentSubmitted()
        expected = 1 if last is None else last.seq + 1
        if body.seq != expected:
            raise SeqGap(
                f"This session's next batch is seq {expected}, but seq {body.seq} arrived. Send the batches from "
                f"seq {expected} on, in order.",
                expected_seq=expected,
            )
        layout = _texts.get(doc.id, doc.revision, doc.content_hash)
        if layout is None:
            layout = chunks.Layout.of_chunks(store.chunks(doc.id))
            _texts.put(doc.id, doc.revision, doc.content_hash, layout)
        if body.base_revision != doc.revision:
            raise _stale_state(doc.revision, doc.content_hash, layout.text, body.base_revision)
        applied = ops.apply_counted(layout.text, parsed)
        # Only growth is refused: a document already over a lowered limit can still be shortened.
        if len(applied.text) > settings.WRITING_MAX_DOCUMENT_CHARS and len(applied.text) > len(layout.text):
            raise DocumentTooLarge(
                f"With this batch the document would have {len(applied.text):,} characters; the limit is "
                f"{settings.WRITING_MAX_DOCUMENT_CHARS:,}. Nothing was applied.",
                limit=settings.WRITING_MAX_DOCUMENT_CHARS,
            )
        new_hash = ops.content_hash(applied.text) if applied.changed else doc.content_hash
        if new_hash != body.content_hash:
            raise HashMismatch(revision=doc.revision)

        now = clock.utcnow()
        revision = doc.revision + 1 if applied.changed else doc.revision
        store.append_batch(
            document_id=doc.id,
            session_id=body.session_id,
            seq=body.seq,
            base_revision=body.base_revision,
            revision=revision,
            content_hash=new_hash,
            author_user_id=user_id,
            ops=[op.to_json() for op in parsed],
            chars_inserted=applied.chars_inserted,
            chars_deleted=applied.chars_deleted,
            received_at=now,
        )
        state: dict[str, Any] = {"last_activity_at": now}
        new_layout = None
        if applied.changed:
            plan = chunks.plan(layout, applied.text, parsed)
            store.write_chunks(
                doc.id, update_=plan.update, insert_=plan.insert, delete_=plan.delete, delete_all=plan.rewrite_all
            )
            new_layout = plan.layout
            since = doc.chars_since_snapshot + applied.chars_inserted + applied.chars_deleted
            state.update(revision=revision, content_hash=new_hash, word_count=doc.word_count + applied.word_delta)
            if (
                since >= settings.WRITING_SNAPSHOT_CHARS
                or (now - doc.snapshot_at).total_seconds() >= settings.WRITING_SNAPSHOT_SECONDS
            ):
                store.add_version(
                    document_id=doc.id,
                    revision=revision,
                    kind=VersionKind.auto,
                    text=applied.text,
                    content_hash=new_hash,
                    word_count=state["word_count"],
                    created_at=now,
                )
                state.update(snapshot_at=now, snapshot_revision=revision, chars_since_snapshot=0)
            else:
                state["chars_since_snapshot"] = since
        store.set_state(doc.id, **state)
        self._track_session(store, doc, user_id, applied, now)
        store.finish()  # the writes above, as one statement on PostgreSQL, committed with it (see ``BatchStore``)
        accepted = BatchAccepted(
            document_id=doc.id,
            session_id=body.session_id,
            seq=body.seq,
            revision=revision,
            content_hash=new_hash,
            replayed=False,
        )
        activity = {
            "type": "activity",
            "document_id": str(doc.id),
            "assignment_id": str(doc.assignment_id),
            "user_id": str(user_id),
            "revision": revision,
            "word_count": state.get("word_count", doc.word_count),
            "chars_inserted": applied.chars_inserted,
            "chars_deleted": applied.chars_deleted,
            "at": now.isoformat(),
        }
        return _Written(accepted, new_layout, activity)

    def _track_session(
        self, store: BatchStore, doc: Row[Any], user_id: uuid.UUID, applied: ops.Applied, now: datetime
    ) -> None:
        """Extend the author's current writing session, or start one after an idle gap (no log scan)."""
        counts = {
            "batches": 1,
            "chars_inserted": applied.chars_inserted,
            "chars_deleted": applied.chars_deleted,
            "words_added": applied.words_added,
            "words_removed": applied.words_removed,
            "pastes": applied.pastes,
        }
        if doc.ws_id is not None:  # the author's latest writing session, read with the document row
            gap = (now - clock.as_utc(doc.ws_ended_at)).total_seconds()
            if gap <= settings.WRITING_SESSION_IDLE_SECONDS:
                active = max(0, round(gap)) if gap <= settings.WRITING_ACTIVE_GAP_SECONDS else 0
                store.extend_writing_session(doc.ws_id, now, active_seconds=active, **counts)
                return
        store.start_writing_session(
            document_id=doc.id, user_id=user_id, started_at=now, ended_at=now, active_seconds=0, **counts
        )

    def _version(
        self,
        doc: Document,
        kind: VersionKind,
        *,
        created_by: uuid.UUID | None,
        at: datetime,
        name: str | None = None,
        restored_from: uuid.UUID | None = None,
    ) -> DocumentVersion:
        """A snapshot of the document as it is now; resets the automatic-snapshot counters."""
        doc.snapshot_at = at
        doc.snapshot_revision = doc.revision
        doc.chars_since_snapshot = 0
        return DocumentVersion(
            tenant_id=doc.tenant_id,
            document_id=doc.id,
            revision=doc.revision,
            kind=kind,
            name=name,
            text=doc.text,
            content_hash=doc.content_hash,
            word_count=doc.word_count,
            created_by=created_by,
            restored_from_id=restored_from,
            created_at=at,
        )

    # ---- versions ---------------------------------------------------------------------------------------

    async def list_versions(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID
    ) -> list[DocumentVersion]:
        doc = (await access_document(session, ctx, document_id)).document
        return await VersionRepository(session, doc.tenant_id).listing(doc.id)

    async def get_version(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        version_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> DocumentVersion:
        doc = await self._read(session, ctx, document_id, audit_session, "version", version_id=str(version_id))
        version = await VersionRepository(session, doc.tenant_id).of_document(doc.id, version_id)
        if version is None:
            raise VersionNotFound()
        return version

    async def checkpoint(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID, data: CheckpointCreate
    ) -> DocumentVersion:
        """A named version of the current text (allowed after submission too: it changes nothing)."""
        name = _clean(data.name, "name")
        if not name:
            raise InvalidText("Give the checkpoint a name (it cannot be only spaces).", field="name")
        doc = (await access_document(session, ctx, document_id, Need.edit, for_update=True)).document
        version = self._version(doc, VersionKind.checkpoint, created_by=ctx.user_id, at=clock.utcnow(), name=name)
        session.add(version)
        await session.flush()
        return version

    async def diff(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        version_id: uuid.UUID,
        against: uuid.UUID | None,
        *,
        audit_session: AsyncSession | None = None,
    ) -> DiffRead:
        """Word diff from a version to another version (``against``) or to the current text."""
        doc = await self._read(session, ctx, document_id, audit_session, "diff", version_id=str(version_id))
        repo = VersionRepository(session, doc.tenant_id)
        old = await repo.of_document(doc.id, version_id)
        if old is None:
            raise VersionNotFound()
        if against is None:
            new_text, new_revision = doc.text, doc.revision
        else:
            new = await repo.of_document(doc.id, against)
            if new is None:
                raise VersionNotFound()
            new_text, new_revision = new.text, new.revision
        return DiffRead(
            from_version_id=old.id,
            to_version_id=against,
            from_revision=old.revision,
            to_revision=new_revision,
            segments=[DiffSegment(**s) for s in ops.word_diff(old.text, new_text)],  # type: ignore[arg-type]
        )

    async def restore(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID, version_id: uuid.UUID
    ) -> Document:
        """Make an older version's text current: a new revision and a new ``restore`` version; nothing deleted."""
        doc = (await access_document(session, ctx, document_id, Need.edit, for_update=True)).document
        if doc.status == DocumentStatus.submitted:
            raise DocumentSubmitted()
        source = await VersionRepository(session, doc.tenant_id).of_document(doc.id, version_id)
        if source is None:
            raise VersionNotFound()
        now = clock.utcnow()
        doc.text = source.text
        doc.content_hash = source.content_hash
        doc.word_count = source.word_count
        doc.revision += 1
        doc.last_activity_at = now
        session.add(self._version(doc, VersionKind.restore, created_by=ctx.user_id, at=now, restored_from=source.id))
        await session.flush()
        return doc

    async def rebuild(self, session: AsyncSession, document: Document, at_revision: int) -> str:
        """The text at ``at_revision``: the nearest snapshot at or before it, plus the batches after it."""
        if not 0 <= at_revision <= document.revision:
            raise VersionNotFound(f"Revisions of this document go from 0 to {document.revision}.")
        snapshot = await VersionRepository(session, document.tenant_id).nearest(document.id, at_revision)
        assert snapshot is not None  # revision 0 is always a snapshot
        text = snapshot.text
        for batch in await EditBatchRepository(session, document.tenant_id).between(
            document.id, snapshot.revision, at_revision
        ):
            text = ops.apply(text, ops.parse_ops(batch.ops))
        return text

    # ---- reads for higher domains (integrity: replay, export, reports); the caller has checked access ------

    async def read(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
        what: str = "text",
        **details: object,
    ) -> Document:
        """Read access to a document; staff reads are audited as ``document.viewed`` with ``what``."""
        return await self._read(session, ctx, document_id, audit_session, what, **details)

    async def batches_between(
        self, session: AsyncSession, document: Document, after_revision: int, upto_revision: int
    ) -> list[EditBatch]:
        """The batches that produced revisions ``after_revision + 1 .. upto_revision`` (text changes only)."""
        return await EditBatchRepository(session, document.tenant_id).between(
            document.id, after_revision, upto_revision
        )

    async def log_page(
        self, session: AsyncSession, document: Document, after: uuid.UUID | None, limit: int
    ) -> list[EditBatch]:
        """Every batch (focus-only ones too) in acceptance order after the ``after`` batch id."""
        return await EditBatchRepository(session, document.tenant_id).page(document.id, after, limit)

    async def timeline_page(
        self, session: AsyncSession, document: Document, after: uuid.UUID | None, limit: int
    ) -> list[Row[Any]]:
        """Like :meth:`log_page`, as plain ``(id, base_revision, revision, received_at, ops)`` rows."""
        return await EditBatchRepository(session, document.tenant_id).timeline_page(document.id, after, limit)

    async def versions_of(self, session: AsyncSession, document: Document) -> list[DocumentVersion]:
        """The document's versions, newest first, without their texts."""
        return await VersionRepository(session, document.tenant_id).listing(document.id)

    async def text_at(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        revision: int,
        *,
        audit_session: AsyncSession | None = None,
    ) -> tuple[Document, str]:
        doc = await self._read(session, ctx, document_id, audit_session, "revision", revision=revision)
        return doc, await self.rebuild(session, doc, revision)

    async def list_batches(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        after: uuid.UUID | None,
        limit: int,
        *,
        audit_session: AsyncSession | None = None,
    ) -> EditBatchPage:
        """The event log in acceptance order, a page at a time (replay, process evidence)."""
        doc = await self._read(session, ctx, document_id, audit_session, "events")
        rows = await EditBatchRepository(session, doc.tenant_id).page(doc.id, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return EditBatchPage(
            items=[EditBatchRead.model_validate(r) for r in rows], next_after=rows[-1].id if more else None
        )

    # ---- sessions and contributions ---------------------------------------------------------------------

    async def list_sessions(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID
    ) -> list[WritingSession]:
        doc = (await access_document(session, ctx, document_id)).document
        return await WritingSessionRepository(session, doc.tenant_id).of_document(doc.id)

    async def contributions(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID
    ) -> list[Contribution]:
        """Per author of a (group) document: batches and characters inserted/deleted. Staff only."""
        doc = (await access_document(session, ctx, document_id, Need.teach)).document
        rows = await EditBatchRepository(session, doc.tenant_id).contributions(doc.id)
        return [
            Contribution(user_id=u, display_name=n, batches=b, chars_inserted=i, chars_deleted=d)
            for u, n, b, i, d in rows
        ]

    # ---- submissions ------------------------------------------------------------------------------------

    async def submit(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID, data: SubmitRequest
    ) -> Submission:
        """Submit the current text: a ``submission`` version, a submission row, and the document becomes read-only.

        ``late`` is set when the submitter's due date (the assignment's, or their deadline extension) has passed.
        Late policy ``reject`` refuses late submissions. A document is submitted again only after it is reopened
        (see :meth:`reopen`).
        """
        statement = _clean(data.ai_statement, "ai_statement") or None
        da = await access_document(session, ctx, document_id, Need.edit, for_update=True)
        doc, assignment = da.document, da.access.assignment
        if doc.status == DocumentStatus.submitted:
            raise DocumentSubmitted("This document is already submitted. Reopen it to change and submit it again.")
        if data.revision != doc.revision:
            raise _stale(doc, data.revision)
        now = clock.utcnow()
        # The submitter's own due date: a deadline extension granted to them replaces the assignment's.
        late = await extension_service.late_for(session, assignment, ctx.user_id, now)
        if late and assignment.late_policy == "reject":
            raise SubmissionClosed()
        if assignment.ai_statement_required and not statement:
            raise AiStatementRequired()
        attempt = await SubmissionRepository(session, doc.tenant_id).attempts(doc.id) + 1
        version = self._version(doc, VersionKind.submission, created_by=ctx.user_id, at=now)
        session.add(version)
        await session.flush()
        submission = Submission(
            tenant_id=doc.tenant_id,
            document_id=doc.id,
            assignment_id=doc.assignment_id,
            version_id=version.id,
            submitted_by=ctx.user_id,
            attempt=attempt,
            revision=doc.revision,
            content_hash=doc.content_hash,
            word_count=doc.word_count,
            submitted_at=now,
            late=late,
            ai_statement=statement,
        )
        session.add(submission)
        doc.status = DocumentStatus.submitted
        doc.submitted_at = now
        await session.flush()
        await submission_hooks.submitted(session, submission)  # higher domains' jobs, in this transaction
        await audit.record(
            session,
            _entry(ctx, "submission.created", doc, submission_id=str(submission.id), attempt=attempt, late=late),
        )
        submitted = {
            "type": "submitted",
            "document_id": str(doc.id),
            "assignment_id": str(doc.assignment_id),
            "user_id": str(ctx.user_id),
            "submission_id": str(submission.id),
            "attempt": attempt,
            "late": late,
            "revision": doc.revision,
            "word_count": doc.word_count,
            "at": now.isoformat(),
        }
        channel = pubsub.activity_channel(doc.tenant_id, doc.assignment_id)
        after_commit(session, lambda: pubsub.publish(channel, submitted))
        return submission

    async def reopen(self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID) -> Document:
        """Make a submitted document editable again.

        Staff may always reopen, and the student is then notified. The student may reopen their own submission
        when the assignment's resubmission policy allows it: ``unlimited`` always, ``until_due`` until the due
        date, ``none`` never.
        """
        da = await access_document(session, ctx, document_id, Need.read, for_update=True)
        doc, assignment = da.document, da.access.assignment
        if doc.status != DocumentStatus.submitted:
            raise NotSubmitted()
        if not da.is_staff:
            policy = assignment.resubmission
            if policy == "none":
                raise ResubmissionClosed(
                    "This assignment takes one submission. Ask your instructor to reopen it if you need to."
                )
            if policy == "until_due" and await extension_service.late_for(
                session, assignment, ctx.user_id, clock.utcnow()
            ):
                raise ResubmissionClosed(
                    "Resubmission closed at the due date. Ask your instructor to reopen it if you need to."
                )
        doc.status = DocumentStatus.reopened
        await audit.record(session, _entry(ctx, "document.reopened", doc, by_staff=da.is_staff))
        if da.is_staff:  # in the app and by email (a student reopening their own needs no telling)
            await feedback_service.notify_reopened(session, ctx, da)
        return doc

    async def list_submissions(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID
    ) -> list[Submission]:
        doc = (await access_document(session, ctx, document_id)).document
        return await SubmissionRepository(session, doc.tenant_id).of_document(doc.id)

    async def receipt(self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID) -> SubmissionReceipt:
        if ctx.tenant_id is None:
            raise SubmissionNotFound()
        sub = await SubmissionRepository(session, ctx.tenant_id).get(submission_id)
        if sub is None:
            raise SubmissionNotFound()
        try:
            da = await access_document(session, ctx, sub.document_id)
        except DocumentNotFound:
            raise SubmissionNotFound() from None
        return SubmissionReceipt(
            submission_id=sub.id,
            submitted_at=sub.submitted_at,
            content_hash=sub.content_hash,
            word_count=sub.word_count,
            attempt=sub.attempt,
            late=sub.late,
            revision=sub.revision,
            document_id=sub.document_id,
            assignment_id=sub.assignment_id,
            assignment_title=da.access.assignment.title,
            submitted_by=sub.submitted_by,
            ai_statement=sub.ai_statement,
        )

    async def word_counts_before(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID, before: datetime
    ) -> dict[uuid.UUID, int]:
        """Staff: each document's word count as of its latest snapshot before ``before`` (the live view's
        "words today" is the current count minus this at 00:00 UTC). Snapshots are taken at most 5 minutes
        or 500 changed characters apart while someone writes, so work just before ``before`` that no snapshot
        caught counts as after it. Documents without an earlier snapshot are left out (they started later)."""
        acc = await _staff_access(session, ctx, assignment_id)
        rows = await VersionRepository(session, acc.assignment.tenant_id).word_counts_before(assignment_id, before)
        return {doc_id: int(words or 0) for doc_id, words in rows}

    async def assignment_overview(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID
    ) -> list[SubmissionRow]:
        """Staff: one row per student (or group) with status, words and last activity."""
        acc = await _staff_access(session, ctx, assignment_id)
        return await self._overview_rows(session, ctx, acc)

    async def assignment_overview_json(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID
    ) -> bytes:
        """``assignment_overview`` as its JSON body, reused (see ``_lists``). The access check runs every time."""
        acc = await _staff_access(session, ctx, assignment_id)
        reuse = settings.SUBMISSION_LIST_REUSE_SECONDS
        if reuse <= 0:
            return _submission_rows.dump_json(await self._overview_rows(session, ctx, acc))
        key = (acc.assignment.tenant_id, assignment_id)
        now = time.monotonic()
        await cache_epochs.check(session)  # at most once a second: changes committed by other processes
        hit = _lists.get(key)
        if hit is not None and hit[0] > now and hit[1] == cache_epochs.SUBMISSION_LISTS.generation:
            return hit[2]
        pending = _computing.get(key)
        if pending is not None and pending[0] == cache_epochs.SUBMISSION_LISTS.generation:
            shared = await asyncio.shield(pending[1])  # another request is making this list now: its answer
            if shared is not None:
                return shared
        keep = await cache_epochs.settle(session, cache_epochs.SUBMISSION_LISTS)
        generation = cache_epochs.SUBMISSION_LISTS.generation  # before reading: a change seen meanwhile makes it stale
        making: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        if keep:
            _computing[key] = (generation, making)
        try:
            body = _submission_rows.dump_json(await self._overview_rows(session, ctx, acc))
        except BaseException:
            making.set_result(None)  # this request failed or was cancelled: whoever waited makes the list itself
            raise
        finally:
            if _computing.get(key, (0, None))[1] is making:
                del _computing[key]
        making.set_result(body)
        if keep:
            if len(_lists) >= 1000:
                _lists.clear()
            _lists[key] = (now + reuse, generation, body)
        return body

    async def _overview_rows(
        self, session: AsyncSession, ctx: AuthContext, acc: AssignmentAccess
    ) -> list[SubmissionRow]:
        assignment_id = acc.assignment.id
        tenant_id = acc.assignment.tenant_id
        docs = await DocumentRepository(session, tenant_id).list_rows_for_assignment(assignment_id)
        subs: dict[uuid.UUID, list[Submission]] = {}
        for s in await SubmissionRepository(session, tenant_id).of_assignment(assignment_id):
            subs.setdefault(s.document_id, []).append(s)
        graded = await graded_submission_ids(session, tenant_id, assignment_id)
        if acc.assignment.kind == "group":
            by_group = {d.group_id: d for d in docs}
            targets = [
                (None, g.id, g.name, by_group.get(g.id))
                for g in await assignment_service.list_groups(session, ctx, assignment_id)
            ]
        else:
            by_owner = {d.owner_user_id: d for d in docs}
            students = await course_service.student_names(session, ctx, acc.assignment.course_id)
            targets = [(user_id, None, name, by_owner.get(user_id)) for user_id, name in students]
        rows = []
        for user_id, group_id, name, doc in targets:
            history = subs.get(doc.id, []) if doc is not None else []
            last = history[-1] if history else None
            if doc is None or (doc.revision == 0 and last is None):
                status = "not_started"
            elif doc.status == DocumentStatus.submitted and last is not None:
                # Graded: the latest submission's grade was returned (one returned before a resubmission is not).
                status = "graded" if last.id in graded else "late" if last.late else "submitted"
            else:
                status = "in_progress"
            rows.append(
                SubmissionRow.model_construct(  # values straight from the database: no validation per row
                    user_id=user_id,
                    group_id=group_id,
                    name=name,
                    status=status,  # type: ignore[arg-type]
                    document_id=doc.id if doc else None,
                    document_status=DocumentStatus(doc.status) if doc else None,
                    word_count=doc.word_count if doc else 0,
                    last_activity_at=doc.last_activity_at if doc else None,
                    submitted_at=last.submitted_at if last else None,
                    attempts=len(history),
                    late=bool(last and last.late),
                )
            )
        rows.sort(key=lambda r: r.name.casefold())
        return rows


async def _staff_access(session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> AssignmentAccess:
    """The assignment for its course's staff: 404 as ``assignment_access``, 403 (``StaffOnly``) for a student."""
    acc = await assignment_access(session, ctx, assignment_id)
    if acc.course_role == STUDENT:
        raise StaffOnly()
    return acc


# The staff submission list: a row per student, what an educator's live page asks for every few seconds (about 20 ms
# of CPU for a class of 500). Its encoded answer is shared by every staff member asking within
# SUBMISSION_LIST_REUSE_SECONDS: a change to the roster, groups, a document's status, a submission or a grade clears it
# (in this process at commit, in others within CACHE_EPOCH_CHECK_SECONDS: core.cache_epochs); the live figures an
# editor's batch changes (words, last activity) show up to that many seconds late.
# While one request makes a list, others for the same list (and generation) wait for its answer instead of making it
# too: when the reuse time ends under a class's load, every staff page polling meanwhile used to make its own copy (7
# at once in bench scenario c, ~400 ms each on a busy loop).
_lists: dict[tuple[uuid.UUID, uuid.UUID], tuple[float, int, bytes]] = {}
_computing: dict[tuple[uuid.UUID, uuid.UUID], tuple[int, asyncio.Future[bytes | None]]] = {}
_submission_rows = TypeAdapter(list[SubmissionRow])


@cache_epochs.SUBMISSION_LISTS.on_change
def _forget_lists() -> None:
    _lists.clear()


document = DocumentService()
