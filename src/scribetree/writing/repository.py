"""Every SQL statement of the writing domain (STYLE N3: tenant-scoped through ``TenantRepository``)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Connection,
    FromClause,
    Insert,
    Row,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.orm import defer
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from scribetree.core.prepared import can_pipeline, prepared, send_and_commit
from scribetree.core.repository import TenantRepository
from scribetree.identity.models import User
from scribetree.writing.models import (
    Document,
    DocumentChunk,
    DocumentVersion,
    EditBatch,
    Submission,
    WritingSession,
)


class DocumentRepository(TenantRepository[Document]):
    model = Document

    async def for_owner(self, assignment_id: uuid.UUID, user_id: uuid.UUID) -> Document | None:
        stmt = self.base().where(Document.assignment_id == assignment_id, Document.owner_user_id == user_id)
        return await self.one_or_none(stmt)

    async def for_group(self, assignment_id: uuid.UUID, group_id: uuid.UUID) -> Document | None:
        stmt = self.base().where(Document.assignment_id == assignment_id, Document.group_id == group_id)
        return await self.one_or_none(stmt)

    async def list_rows_for_assignment(self, assignment_id: uuid.UUID) -> list[Row[Any]]:
        """What the staff submission list shows of each document, as Core rows (no ORM objects, no text)."""
        stmt = select(
            Document.id,
            Document.owner_user_id,
            Document.group_id,
            Document.revision,
            Document.status,
            Document.word_count,
            Document.last_activity_at,
        ).where(Document.tenant_id == self.tenant_id, Document.assignment_id == assignment_id)
        return list((await self.session.execute(stmt)).all())

    # ---- the batch path (Core statements: no ORM objects, no text) ----------------------------------------

    async def ownership(self, document_id: uuid.UUID) -> Row[Any] | None:
        """``(id, assignment_id, owner_user_id, group_id)``: what access checks need, without the text."""
        stmt = select(Document.id, Document.assignment_id, Document.owner_user_id, Document.group_id).where(
            Document.tenant_id == self.tenant_id, Document.id == document_id
        )
        return (await self.session.execute(stmt)).first()


class EditBatchRepository(TenantRepository[EditBatch]):
    model = EditBatch

    async def last_of_session(self, document_id: uuid.UUID, session_id: uuid.UUID) -> Row[Any] | None:
        """``(seq, base_revision, revision, content_hash)`` of the session's latest batch: one index lookup."""
        stmt = (
            select(EditBatch.seq, EditBatch.base_revision, EditBatch.revision, EditBatch.content_hash)
            .where(
                EditBatch.tenant_id == self.tenant_id,
                EditBatch.document_id == document_id,
                EditBatch.session_id == session_id,
            )
            .order_by(EditBatch.seq.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).first()

    async def by_seq(self, document_id: uuid.UUID, session_id: uuid.UUID, seq: int) -> EditBatch | None:
        stmt = self.base().where(
            EditBatch.document_id == document_id, EditBatch.session_id == session_id, EditBatch.seq == seq
        )
        return await self.one_or_none(stmt)

    async def between(self, document_id: uuid.UUID, after_revision: int, upto_revision: int) -> list[EditBatch]:
        """Batches that produced revisions ``after_revision + 1 .. upto_revision``, in order."""
        stmt = (
            self.base()
            .where(
                EditBatch.document_id == document_id,
                EditBatch.revision > after_revision,
                EditBatch.revision <= upto_revision,
                EditBatch.revision > EditBatch.base_revision,  # batches that changed the text
            )
            .order_by(EditBatch.revision, EditBatch.id)
        )
        return await self.all(stmt)

    async def page(self, document_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[EditBatch]:
        """Batches in the order they were accepted (ids are time-ordered), after the ``after`` cursor."""
        stmt = self.base().where(EditBatch.document_id == document_id)
        if after is not None:
            stmt = stmt.where(EditBatch.id > after)
        return await self.all(stmt.order_by(EditBatch.id).limit(limit))

    async def timeline_page(self, document_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Row[Any]]:
        """``(id, base_revision, revision, received_at, ops)`` of batches in acceptance order after the ``after``
        cursor: plain rows, no ORM objects (a scan of a long log for replay's timeline)."""
        stmt = select(
            EditBatch.id, EditBatch.base_revision, EditBatch.revision, EditBatch.received_at, EditBatch.ops
        ).where(EditBatch.tenant_id == self.tenant_id, EditBatch.document_id == document_id)
        if after is not None:
            stmt = stmt.where(EditBatch.id > after)
        return list((await self.session.execute(stmt.order_by(EditBatch.id).limit(limit))).all())

    async def contributions(self, document_id: uuid.UUID) -> list[Row[Any]]:
        """Per author: ``(user_id, display_name, batches, chars_inserted, chars_deleted)``."""
        stmt = (
            select(
                EditBatch.author_user_id,
                User.display_name,
                func.count(EditBatch.id),
                func.coalesce(func.sum(EditBatch.chars_inserted), 0),
                func.coalesce(func.sum(EditBatch.chars_deleted), 0),
            )
            .outerjoin(User, User.id == EditBatch.author_user_id)
            .where(EditBatch.tenant_id == self.tenant_id, EditBatch.document_id == document_id)
            .group_by(EditBatch.author_user_id, User.display_name)
            .order_by(User.display_name)
        )
        return list((await self.session.execute(stmt)).all())


class VersionRepository(TenantRepository[DocumentVersion]):
    model = DocumentVersion

    async def of_document(self, document_id: uuid.UUID, version_id: uuid.UUID) -> DocumentVersion | None:
        stmt = self.base().where(DocumentVersion.id == version_id, DocumentVersion.document_id == document_id)
        return await self.one_or_none(stmt)

    async def listing(self, document_id: uuid.UUID) -> list[DocumentVersion]:
        """Newest first, without the texts."""
        stmt = (
            self.base()
            .where(DocumentVersion.document_id == document_id)
            .options(defer(DocumentVersion.text, raiseload=True))
            .order_by(DocumentVersion.revision.desc(), DocumentVersion.id.desc())
        )
        return await self.all(stmt)

    async def nearest(self, document_id: uuid.UUID, revision: int) -> DocumentVersion | None:
        """The latest snapshot at or before ``revision``."""
        stmt = (
            self.base()
            .where(DocumentVersion.document_id == document_id, DocumentVersion.revision <= revision)
            .order_by(DocumentVersion.revision.desc(), DocumentVersion.id.desc())
            .limit(1)
        )
        return await self.one_or_none(stmt)

    async def word_counts_before(self, assignment_id: uuid.UUID, before: Any) -> list[Row[Any]]:
        """``(document_id, word_count)``: each of the assignment's documents as of its latest snapshot taken
        before ``before`` (documents with none are left out). Index: ``(document_id, revision)``."""
        latest = (
            select(DocumentVersion.document_id, func.max(DocumentVersion.revision).label("revision"))
            .join(Document, Document.id == DocumentVersion.document_id)
            .where(
                DocumentVersion.tenant_id == self.tenant_id,
                Document.tenant_id == self.tenant_id,
                Document.assignment_id == assignment_id,
                DocumentVersion.created_at < before,
            )
            .group_by(DocumentVersion.document_id)
            .subquery()
        )
        stmt = (
            select(DocumentVersion.document_id, func.max(DocumentVersion.word_count))
            .join(
                latest,
                (DocumentVersion.document_id == latest.c.document_id) & (DocumentVersion.revision == latest.c.revision),
            )
            .where(DocumentVersion.tenant_id == self.tenant_id, DocumentVersion.created_at < before)
            .group_by(DocumentVersion.document_id)
        )
        return list((await self.session.execute(stmt)).all())


class WritingSessionRepository(TenantRepository[WritingSession]):
    model = WritingSession

    async def latest(self, document_id: uuid.UUID, user_id: uuid.UUID) -> WritingSession | None:
        stmt = (
            self.base()
            .where(WritingSession.document_id == document_id, WritingSession.user_id == user_id)
            .order_by(WritingSession.started_at.desc())
            .limit(1)
        )
        return await self.one_or_none(stmt)

    async def of_document(self, document_id: uuid.UUID) -> list[WritingSession]:
        stmt = self.base().where(WritingSession.document_id == document_id).order_by(WritingSession.started_at)
        return await self.all(stmt)


class SubmissionRepository(TenantRepository[Submission]):
    model = Submission

    async def of_document(self, document_id: uuid.UUID) -> list[Submission]:
        stmt = self.base().where(Submission.document_id == document_id).order_by(Submission.attempt)
        return await self.all(stmt)

    async def attempts(self, document_id: uuid.UUID) -> int:
        stmt = select(func.coalesce(func.max(Submission.attempt), 0)).where(
            Submission.tenant_id == self.tenant_id, Submission.document_id == document_id
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def of_assignment(self, assignment_id: uuid.UUID) -> list[Submission]:
        stmt = self.base().where(Submission.assignment_id == assignment_id).order_by(Submission.attempt)
        return await self.all(stmt)


# ---- the batch path's write script: statements built once, a call only binds parameters ---------------
#
# Every edit batch runs these (~1 per 2 s per student): building a statement per call (``.where``/``.values``
# coercions, a fresh cache key for SQLAlchemy's compiled cache) cost about as much CPU as SQLite's work, on the
# writer's thread, competing with the event loop for the GIL. Built once, a statement's cache key is memoized
# and each call is a compiled-cache hit plus parameter binding. Plain Core tables (not the ORM entities): no
# ORM compile plugin. A ``bindparam`` compared with or assigned to a column takes that column's type, so values
# are bound as before (``Uuid``, ``JSON``, ``UTCDateTime``). ``text()``/``exec_driver_sql`` would not help:
# without a compiled statement SQLAlchemy builds the result's metadata per call (measured slower).
# Every statement is tenant-scoped: ``:tenant_id`` is bound from ``BatchStore.tenant_id`` (STYLE N1/N3).

_docs = Document.__table__
_chunks = DocumentChunk.__table__
_batches = EditBatch.__table__
_versions = DocumentVersion.__table__
_ws = WritingSession.__table__


def _lock_state_statement() -> Select[Any]:
    last = (
        select(_batches.c.seq, _batches.c.base_revision, _batches.c.revision, _batches.c.content_hash)
        .where(
            _batches.c.tenant_id == bindparam("tenant_id"),
            _batches.c.document_id == bindparam("document_id"),
            _batches.c.session_id == bindparam("session_id"),
        )
        .order_by(_batches.c.seq.desc())
        .limit(1)
        .subquery()
    )
    ws = (
        select(_ws.c.id, _ws.c.ended_at)
        .where(
            _ws.c.tenant_id == bindparam("tenant_id"),
            _ws.c.document_id == bindparam("document_id"),
            _ws.c.user_id == bindparam("user_id"),
        )
        .order_by(_ws.c.started_at.desc())
        .limit(1)
        .subquery()
    )
    return (
        select(
            _docs.c.id,
            _docs.c.assignment_id,
            _docs.c.revision,
            _docs.c.content_hash,
            _docs.c.word_count,
            _docs.c.status,
            _docs.c.snapshot_at,
            _docs.c.chars_since_snapshot,
            last.c.seq.label("last_seq"),
            last.c.base_revision.label("last_base_revision"),
            last.c.revision.label("last_revision"),
            last.c.content_hash.label("last_content_hash"),
            ws.c.id.label("ws_id"),
            ws.c.ended_at.label("ws_ended_at"),
        )
        .select_from(_docs)
        .outerjoin(last, true())
        .outerjoin(ws, true())
        .where(_docs.c.tenant_id == bindparam("tenant_id"), _docs.c.id == bindparam("document_id"))
    )


_LOCK_STATE = _lock_state_statement()


def _lock_and_read_statement() -> Select[Any]:
    """PostgreSQL: ``_LOCK_STATE`` that also locks the document row (``FOR UPDATE OF documents``), plus the row's
    ``xmin`` twice: as locked, and as the statement's snapshot sees it. Equal: no other batch committed a change
    to the row between the snapshot and the lock, so the rest of the row read (the session's last batch, the
    writing session) is as current as the locked row. Unequal: the statement waited for another batch, whose
    inserts its snapshot does not see (READ COMMITTED re-checks only the locked row), and the state is read again.
    """
    snap = _docs.alias("snap")
    snapshot_xmin = select(literal_column("snap.xmin::text")).where(snap.c.id == _docs.c.id).scalar_subquery()
    return _LOCK_STATE.add_columns(
        literal_column("documents.xmin::text").label("locked_xmin"), snapshot_xmin.label("snapshot_xmin")
    ).with_for_update(of=_docs)


_LOCK_AND_READ = _lock_and_read_statement()

_BY_SEQ = select(_batches.c.seq, _batches.c.base_revision, _batches.c.revision, _batches.c.content_hash).where(
    _batches.c.tenant_id == bindparam("tenant_id"),
    _batches.c.document_id == bindparam("document_id"),
    _batches.c.session_id == bindparam("session_id"),
    _batches.c.seq == bindparam("seq"),
)

_CHUNKS = (
    select(_chunks.c.ord, _chunks.c.text)
    .where(_chunks.c.tenant_id == bindparam("tenant_id"), _chunks.c.document_id == bindparam("document_id"))
    .order_by(_chunks.c.ord)
)

# In UPDATE and INSERT statements a parameter may not share a column's name: the scope's are ``b_*``. The
# statement builders take a ``prefix`` for every parameter name: "" for a statement of its own, ``w<i>_`` for the
# i-th write of a combined statement (``_combined_statement``), where the writes' names must not collide.
_CHUNK_SCOPE = (_chunks.c.tenant_id == bindparam("b_tenant_id"), _chunks.c.document_id == bindparam("b_document_id"))
_DELETE_ALL_CHUNKS = delete(_chunks).where(*_CHUNK_SCOPE)
_DELETE_CHUNKS = delete(_chunks).where(*_CHUNK_SCOPE, _chunks.c.ord.in_(bindparam("b_ords", expanding=True)))
_INSERT_CHUNK = insert(_chunks).values({n: bindparam(n) for n in ("tenant_id", "document_id", "ord", "text")})


@functools.cache
def _update_chunk_statement(prefix: str = "") -> Update:
    scope = (
        _chunks.c.tenant_id == bindparam(f"{prefix}b_tenant_id"),
        _chunks.c.document_id == bindparam(f"{prefix}b_document_id"),
        _chunks.c.ord == bindparam(f"{prefix}b_ord"),
    )
    return update(_chunks).where(*scope).values(text=bindparam(f"{prefix}text"))


@functools.cache
def _insert_statement(table: FromClause, names: frozenset[str], prefix: str = "") -> Insert:
    """``INSERT INTO <table> (<names>) ...``: column defaults (``id``: uuid7) fill the other columns, and a name
    that is no column fails (``Unconsumed column names``), as ``.values(**kw)`` did. The service passes one
    fixed set of names per table, so this builds one statement each."""
    return insert(table).values({n: bindparam(f"{prefix}{n}") for n in sorted(names)})


@functools.cache
def _set_state_statement(names: frozenset[str], prefix: str = "") -> Update:
    """``UPDATE documents SET <names> ...`` (a batch sets one of a few fixed sets of columns); ``modified_at``
    gets its ``onupdate`` as before."""
    scope = (_docs.c.tenant_id == bindparam(f"{prefix}b_tenant_id"), _docs.c.id == bindparam(f"{prefix}b_document_id"))
    return update(_docs).where(*scope).values({n: bindparam(f"{prefix}{n}") for n in sorted(names)})


@functools.cache
def _extend_writing_session_statement(names: frozenset[str], prefix: str = "") -> Update:
    """``UPDATE writing_sessions SET ended_at = :ended_at, <n> = <n> + :inc_<n> ...``."""
    values: dict[str, Any] = {"ended_at": bindparam(f"{prefix}ended_at")}
    values.update({n: _ws.c[n] + bindparam(f"{prefix}inc_{n}") for n in sorted(names)})
    scope = (_ws.c.tenant_id == bindparam(f"{prefix}b_tenant_id"), _ws.c.id == bindparam(f"{prefix}b_ws_id"))
    return update(_ws).where(*scope).values(values)


# A write waiting to be sent: the name of its statement builder, the names it binds, the parameters.
_Write = tuple[str, frozenset[str], dict[str, Any]]

_BUILDERS: dict[str, Callable[[frozenset[str], str], UpdateBase]] = {
    "chunk": lambda names, prefix: _update_chunk_statement(prefix),
    "state": _set_state_statement,
    "extend_ws": _extend_writing_session_statement,
    "batch": lambda names, prefix: _insert_statement(_batches, names, prefix),
    "start_ws": lambda names, prefix: _insert_statement(_ws, names, prefix),
}


@functools.cache
def _combined_statement(shape: tuple[tuple[str, frozenset[str]], ...]) -> Select[Any]:
    """PostgreSQL: several writes as ONE statement, each a data-modifying ``WITH`` clause (all run, each once,
    on the statement's snapshot; they touch different rows, so none needs to see another's effect). The
    i-th write's parameters are prefixed ``w<i>_``. A batch's writes come in a few fixed shapes: one each."""
    ctes = [_BUILDERS[kind](names, f"w{i}_").cte(f"w{i}") for i, (kind, names) in enumerate(shape)]
    return select(literal_column("1")).add_cte(*ctes)


def _combined(pending: list[_Write]) -> tuple[UpdateBase | Select[Any], dict[str, Any]]:
    """The statement and parameters that send the kept writes: the write itself when there is one, else ONE
    statement for all of them (``_combined_statement``, each write's parameters prefixed ``w<i>_``)."""
    if len(pending) == 1:
        kind, names, params = pending[0]
        return _BUILDERS[kind](names, ""), params
    combined: dict[str, Any] = {}
    for i, (_, _, params) in enumerate(pending):
        combined.update({f"w{i}_{k}": v for k, v in params.items()})
    return _combined_statement(tuple((kind, names) for kind, names, _ in pending)), combined


def _row_of(kind: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The row an update of ``kind`` changes (its table and key), or None for an insert."""
    if kind in ("batch", "start_ws"):
        return None
    return (kind, params.get("b_document_id"), params.get("b_ord"), params.get("b_ws_id"))


def _python_defaults(table: Table, values: dict[str, Any], *, on_update: bool) -> dict[str, Any]:
    """``values`` plus the Python-side column defaults (``onupdate`` for an UPDATE) of the columns it lacks: a
    statement sent on the DB-API cursor (``core.prepared``) gets none from SQLAlchemy, so the store binds them
    itself, as the ORM would."""
    out = dict(values)
    for name, make, value in _defaults_of(table, on_update):
        if name not in out:
            out[name] = value if make is None else make(None)
    return out


@functools.cache
def _defaults_of(table: Table, on_update: bool) -> tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]:
    """``(column, callable or None, value)`` for each column of ``table`` with a Python-side default."""
    out = []
    for column in table.columns:
        default = column.onupdate if on_update else column.default
        if isinstance(default, CallableColumnDefault):
            out.append((column.name, default.arg, None))
        elif isinstance(default, ScalarElementColumnDefault):
            out.append((column.name, None, default.arg))
    return tuple(out)


class BatchStore:
    """The batch path's statements on one sync Connection, every statement tenant-scoped.

    Sync so the whole write transaction of a batch can run in one step (``core.db.run_in_transaction``). The
    statements are module constants (built once), compiled once per dialect and sent on the DB-API cursor
    (``core.prepared``): a call only binds its parameters and executes.

    With ``combine`` on PostgreSQL (the service's batch path), the batch's writes (the batch row, a chunk or two,
    the document's counters, the writing session) are kept until ``flush()`` (or the next read, or a write that
    cannot be combined) and sent as ONE statement: each statement through the async driver is a round trip and a
    few trips through the event loop, so a batch's eight round trips become four (BEGIN, lock and read, writes,
    COMMIT), and three with ``commit`` (the writes and COMMIT in one, see ``finish()``). Whoever turns ``combine``
    on calls ``finish()`` (or ``flush()``) before the transaction commits. SQLite has no data-modifying ``WITH``
    and no network: there every write is sent at once, as without ``combine``.
    """

    def __init__(self, conn: Connection, tenant_id: uuid.UUID, *, combine: bool = False, commit: bool = False) -> None:
        self.conn, self.tenant_id = conn, tenant_id
        self._pending: list[_Write] | None = [] if combine and conn.dialect.name != "sqlite" else None
        # PostgreSQL through psycopg: with ``commit``, the last writes and COMMIT go in one round trip (``finish()``,
        # ``core.prepared.send_and_commit``).
        self._commit = commit and self._pending is not None and can_pipeline(conn)

    def flush(self) -> None:
        """Send the writes kept so far (``combine``): one statement, however many there are."""
        self._send(commit=False)

    def finish(self) -> None:
        """The batch's last writes: send those kept so far; with ``commit`` (the caller's transaction is the batch's
        own), COMMIT in the same round trip: the caller's unit of work then finds nothing left to commit."""
        self._send(commit=self._commit)

    def _send(self, *, commit: bool) -> None:
        pending = self._pending or []
        if pending:
            self._pending = []
        statement, params = _combined(pending) if pending else (None, {})
        if commit:  # PostgreSQL through psycopg only (see __init__): the writes and COMMIT in one round trip
            send_and_commit(self.conn, [] if statement is None else [(prepared(statement, self.conn.dialect), params)])
        elif statement is not None:
            self._run(statement, params)

    def _run(self, statement: Any, params: dict[str, Any]) -> None:
        """Execute a statement built once, on the DB-API cursor (``core.prepared``)."""
        prepared(statement, self.conn.dialect).execute(self.conn, params)

    def _first(self, statement: Any, params: dict[str, Any]) -> Any:
        return prepared(statement, self.conn.dialect).first(self.conn, params)

    def _write(self, kind: str, names: frozenset[str], params: dict[str, Any]) -> None:
        if self._pending is None:
            self._run(_BUILDERS[kind](names, ""), params)
            return
        # PostgreSQL applies only one of two changes to the same row in one statement: such a write waits for
        # the next statement. (The inserts make new rows; the updates name their row by these parameters.)
        row = _row_of(kind, params)
        if row is not None and any(_row_of(k, p) == row for k, _, p in self._pending):
            self.flush()
        self._pending.append((kind, names, params))

    def lock_state(self, document_id: uuid.UUID, session_id: uuid.UUID, user_id: uuid.UUID) -> Row[Any] | None:
        """The counters a batch needs (no text), the client session's latest batch (``last_*``, one index lookup)
        and the author's latest writing session (``ws_*``), in one statement, the document row locked until the
        unit of work ends. SQLite holds its single writer already. PostgreSQL locks the row in the same
        statement (``FOR UPDATE``) and reads the state again only when that statement waited for another batch
        (see ``_lock_and_read_statement``): one round trip instead of two in the common case."""
        self.flush()
        params = {"tenant_id": self.tenant_id, "document_id": document_id, "session_id": session_id, "user_id": user_id}
        if self.conn.dialect.name != "sqlite":
            row = self._first(_LOCK_AND_READ, params)
            if row is None or row.locked_xmin == row.snapshot_xmin:
                return row
        return self._first(_LOCK_STATE, params)

    def by_seq(self, document_id: uuid.UUID, session_id: uuid.UUID, seq: int) -> Row[Any] | None:
        self.flush()
        params = {"tenant_id": self.tenant_id, "document_id": document_id, "session_id": session_id, "seq": seq}
        return self._first(_BY_SEQ, params)

    def chunks(self, document_id: uuid.UUID) -> list[tuple[int, str]]:
        """``(ord, text)`` of every chunk in order: the whole text (a text-cache miss, a 409's recovery data)."""
        self.flush()
        rows = prepared(_CHUNKS, self.conn.dialect).all(
            self.conn, {"tenant_id": self.tenant_id, "document_id": document_id}
        )
        return [(o, t) for o, t in rows]

    def write_chunks(
        self,
        document_id: uuid.UUID,
        *,
        update_: list[tuple[int, str]],
        insert_: list[tuple[int, str]],
        delete_: list[int],
        delete_all: bool = False,
    ) -> None:
        """Rewrite only the chunks a batch touched (or, ``delete_all``, replace them all). Typing in one place
        updates one chunk or two; only those updates are combined, anything else is sent at once, in order."""
        scope = {"b_tenant_id": self.tenant_id, "b_document_id": document_id}
        if delete_all or delete_ or insert_:
            self.flush()
        if delete_all:
            self._run(_DELETE_ALL_CHUNKS, scope)
        elif delete_:
            self.conn.execute(_DELETE_CHUNKS, {**scope, "b_ords": list(delete_)})
        for ord_, text in update_:
            self._write("chunk", frozenset(), {**scope, "b_ord": ord_, "text": text})
        if insert_:
            self.flush()
            rows = [{"tenant_id": self.tenant_id, "document_id": document_id, "ord": o, "text": t} for o, t in insert_]
            prepared(_INSERT_CHUNK, self.conn.dialect).executemany(self.conn, rows)

    def set_state(self, document_id: uuid.UUID, **values: Any) -> None:
        values = _python_defaults(_docs, values, on_update=True)
        self._write("state", frozenset(values), {"b_tenant_id": self.tenant_id, "b_document_id": document_id, **values})

    def append_batch(self, **values: Any) -> None:
        values = _python_defaults(_batches, {**values, "tenant_id": self.tenant_id}, on_update=False)
        self._write("batch", frozenset(values), values)

    def add_version(self, **values: Any) -> None:
        values = _python_defaults(_versions, {**values, "tenant_id": self.tenant_id}, on_update=False)
        self._run(_insert_statement(_versions, frozenset(values)), values)

    def extend_writing_session(self, ws_id: uuid.UUID, ended_at: Any, **increments: int) -> None:
        """Set ``ended_at`` and add to the counters."""
        params: dict[str, Any] = {"b_tenant_id": self.tenant_id, "b_ws_id": ws_id, "ended_at": ended_at}
        params.update({f"inc_{n}": v for n, v in increments.items()})
        self._write("extend_ws", frozenset(increments), params)

    def start_writing_session(self, **values: Any) -> None:
        values = _python_defaults(_ws, {**values, "tenant_id": self.tenant_id}, on_update=False)
        self._write("start_ws", frozenset(values), values)
