"""``core.prepared`` as the batch path uses it (here for the writing tables and fixtures): a statement run on the DB-API
cursor sends what ``Connection.execute`` would send (the same SQL, the same processed values) and reads back the same
values, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, bindparam, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, db
from scribetree.core.prepared import Prepared, can_pipeline, prepared, send_and_commit
from scribetree.writing.models import Document, DocumentStatus, EditBatch
from tests.factories.writing import create_document
from tests.writing.conftest import Klass

_batches = EditBatch.__table__
_docs = Document.__table__

INSERT_BATCH = insert(_batches).values(
    {
        n: bindparam(n)
        for n in (
            "id",
            "tenant_id",
            "document_id",
            "session_id",
            "seq",
            "base_revision",
            "revision",
            "content_hash",
            "author_user_id",
            "ops",
            "chars_inserted",
            "chars_deleted",
            "received_at",
        )
    }
)
BATCHES = (
    select(_batches.c.id, _batches.c.seq, _batches.c.ops, _batches.c.received_at, _batches.c.session_id)
    .where(_batches.c.tenant_id == bindparam("tenant_id"), _batches.c.document_id == bindparam("document_id"))
    .order_by(_batches.c.seq.desc())
    .limit(2)  # a value the statement carries itself
)
DOCUMENT = select(_docs.c.id, _docs.c.status, _docs.c.snapshot_at, func.length(_docs.c.content_hash).label("n")).where(
    _docs.c.tenant_id == bindparam("tenant_id"), _docs.c.id == bindparam("document_id")
)
SET_STATUS = (
    update(_docs)
    .where(_docs.c.tenant_id == bindparam("b_tenant_id"), _docs.c.id == bindparam("b_id"))
    .values(status=bindparam("status"), modified_at=bindparam("modified_at"))
)


@contextmanager
def sent() -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


async def _script(script: Any) -> Any:
    async with db.unit_of_work() as s:
        return await db.run_in_transaction(s, script)


def _normal(params: Any) -> Any:
    return list(params) if isinstance(params, (list, tuple)) else dict(params)


async def test_the_driver_gets_what_sqlalchemy_would_send_and_rows_read_back_alike(
    klass: Klass, session: AsyncSession
) -> None:
    doc = await create_document(session, klass.assignment, owner=klass.student, text="Hello")
    await session.commit()
    scope = {"tenant_id": klass.tenant.id, "document_id": doc.id}
    now = clock.utcnow()

    def row(seq: int) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            **scope,
            "session_id": uuid.UUID(int=7),
            "seq": seq,
            "base_revision": 0,
            "revision": 0,
            "content_hash": doc.content_hash,
            "author_user_id": klass.student.id,
            "ops": [{"kind": "insert", "pos": 0, "text": "é👍🏽\u05d0", "t": seq}],
            "chars_inserted": 3,
            "chars_deleted": 0,
            "received_at": now,
        }

    def both(conn: Connection) -> dict[str, Any]:
        out: dict[str, Any] = {}
        with sent() as by_sqlalchemy:
            conn.execute(INSERT_BATCH, row(1))
            out["sa_batches"] = [tuple(r) for r in conn.execute(BATCHES, scope).all()]
            out["sa_doc"] = tuple(conn.execute(DOCUMENT, scope).one())
        with sent() as by_driver:
            prepared(INSERT_BATCH, conn.dialect).execute(conn, row(2))
            out["driver_batches"] = [tuple(r) for r in prepared(BATCHES, conn.dialect).all(conn, scope)]
            out["driver_doc"] = tuple(prepared(DOCUMENT, conn.dialect).first(conn, scope))
        out["sent"] = (by_sqlalchemy, by_driver)
        return out

    out = await _script(both)
    by_sqlalchemy, by_driver = out["sent"]
    assert [sql for sql, _ in by_driver] == [sql for sql, _ in by_sqlalchemy]
    # the same values, processed the same way (UUIDs, JSON, time stamps), but for the rows' own ids and seq
    (sa_ins, sa_sel, sa_doc), (dr_ins, dr_sel, dr_doc) = by_sqlalchemy, by_driver
    assert _normal(sa_sel[1]) == _normal(dr_sel[1]) and _normal(sa_doc[1]) == _normal(dr_doc[1])
    assert len(_normal(sa_ins[1])) == len(_normal(dr_ins[1]))
    assert [type(v) for v in _normal(sa_ins[1])] == [type(v) for v in _normal(dr_ins[1])]
    newest, older = out["driver_batches"]
    assert out["sa_batches"] == [older]  # SQLAlchemy's read ran before the second insert
    assert (newest[1], older[1]) == (2, 1)
    assert isinstance(newest[0], uuid.UUID) and newest[2][0]["text"] == "é👍🏽\u05d0"
    assert newest[3] == now and newest[3].tzinfo is not None
    assert out["driver_doc"] == out["sa_doc"]
    assert out["driver_doc"][1] == DocumentStatus.draft


async def test_a_write_through_the_driver_is_committed_with_the_connections_transaction(
    klass: Klass, session: AsyncSession
) -> None:
    """A Connection that has sent nothing through SQLAlchemy yet is begun first: its commit commits the write."""
    doc = await create_document(session, klass.assignment, owner=klass.student, text="Hello")
    await session.commit()
    values = {"b_tenant_id": klass.tenant.id, "b_id": doc.id, "status": DocumentStatus.submitted}
    values["modified_at"] = clock.utcnow()
    async with db.engines().write.connect() as conn:
        await conn.run_sync(lambda c: (prepared(SET_STATUS, c.dialect).execute(c, values), c.commit()))
    await session.refresh(doc)
    assert doc.status == DocumentStatus.submitted


DIALECTS = [sqlite.dialect(), postgresql.dialect()]


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "postgresql"])
def test_statements_with_per_call_sql_are_refused(dialect: Dialect) -> None:
    expanding = select(_docs.c.id).where(_docs.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="per-call SQL"):
        Prepared(expanding, dialect)


def test_a_statement_is_prepared_once_per_dialect() -> None:
    lite, pg = DIALECTS
    assert prepared(DOCUMENT, lite) is prepared(DOCUMENT, lite)
    assert prepared(DOCUMENT, pg) is not prepared(DOCUMENT, lite)
    assert "?" in prepared(DOCUMENT, lite).sql and "%(tenant_id)s" in prepared(DOCUMENT, pg).sql


async def test_a_drivers_error_is_raised_as_sqlalchemys_and_nothing_is_kept(
    klass: Klass, session: AsyncSession
) -> None:
    """A duplicate key through the cursor is ``sqlalchemy.exc.IntegrityError``, as through ``Connection.execute``;
    on PostgreSQL a failed write sent with COMMIT commits nothing."""
    doc = await create_document(session, klass.assignment, owner=klass.student, text="Hello")
    await session.commit()
    values = {
        "id": uuid.uuid4(),
        "tenant_id": klass.tenant.id,
        "document_id": doc.id,
        "session_id": uuid.UUID(int=9),
        "seq": 1,
        "base_revision": 0,
        "revision": 0,
        "content_hash": doc.content_hash,
        "author_user_id": klass.student.id,
        "ops": [],
        "chars_inserted": 0,
        "chars_deleted": 0,
        "received_at": clock.utcnow(),
    }

    def twice(conn: Connection) -> None:
        prepared(INSERT_BATCH, conn.dialect).execute(conn, values)
        if can_pipeline(conn):
            send_and_commit(conn, [(prepared(INSERT_BATCH, conn.dialect), values)])
        else:
            prepared(INSERT_BATCH, conn.dialect).execute(conn, values)

    with pytest.raises(IntegrityError):
        await _script(twice)
    async with db.unit_of_work(write=False) as r:
        kept = (await r.execute(select(_batches.c.id).where(_batches.c.document_id == doc.id))).all()
    assert kept == []
