"""Core statements compiled once and run on the DB-API cursor: the hottest statements without SQLAlchemy's
per-call execution machinery.

Every edit batch runs four to six small statements. Through ``Connection.execute`` each one pays for the
compiled-cache lookup, an execution context, parameter processing in general form and a result object: on SQLite
an edit-batch insert takes ~41 µs that way and ~18 µs on the cursor (``python -m bench.batch_costs``). A
:class:`Prepared` keeps what SQLAlchemy would work out per call (the SQL string, the order of its parameters, the
columns' bind and result processors) and sends the statement through the connection's own DB-API cursor. What
the database receives is exactly what ``Connection.execute`` would send: the same SQL and the same processed
values (tests/writing/test_prepared.py compares both).

The ``before_cursor_execute`` listeners of the connection still run (tests count statements with them). Python
column defaults are NOT applied here: the caller binds every column it writes (the batch path does, see
``writing.repository._python_defaults``). Statements whose SQL is only known per call (``IN`` lists with
``expanding`` parameters, literal rendering) are refused at preparation: run those through SQLAlchemy. A driver's
error is raised as SQLAlchemy raises it (``IntegrityError`` wrapping it, and so on; a lost connection invalidated).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


class Prepared:
    """One statement compiled for one dialect (see the module's docstring)."""

    __slots__ = ("binds", "fixed", "positional", "results", "row", "sql", "statement")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement with per-call SQL (expanding or literal parameters) cannot be prepared")
        self.statement = statement  # kept alive: the cache below is keyed by its id
        self.sql = compiled.string
        self.positional = bool(dialect.positional)
        processors = compiled._bind_processors
        names = compiled.positiontup if self.positional else list(dict.fromkeys(compiled.bind_names.values()))
        if compiled.escaped_bind_names:
            raise ValueError("a statement whose parameter names need escaping cannot be prepared")
        self.binds: tuple[tuple[str, Processor], ...] = tuple((n, processors.get(n)) for n in names or ())
        # Values the statement carries itself (``.limit(1)``, a literal compared with a column), by name.
        self.fixed = {n: b.effective_value for b, n in compiled.bind_names.items() if not b.required}
        self.row: type[tuple[Any, ...]] | None = None
        self.results: tuple[Processor, ...] = ()
        columns = compiled._result_columns
        if columns:
            self.row = collections.namedtuple("Row", [c.keyname for c in columns], rename=True)  # type: ignore[misc]
            self.results = tuple(c.type._cached_result_processor(dialect, None) for c in columns)

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The values as the driver takes them: processed, in order (positional) or by name."""
        if self.fixed:
            values = {**self.fixed, **values}
        if self.positional:
            return [value if proc is None else proc(value) for name, proc in self.binds for value in (values[name],)]
        return {name: values[name] if proc is None else proc(values[name]) for name, proc in self.binds}

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> None:
        """Run the statement once, for its effect."""
        self._send(conn, values, None)

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        params = [self.parameters(values) for values in rows]
        cursor = _cursor(conn)
        try:
            _before(conn, cursor, self.sql, params, many=True)
            cursor.executemany(self.sql, params)
        except Exception as exc:
            _raise_as_sqlalchemy(conn, exc, self.sql, params, cursor)
            raise
        finally:
            cursor.close()

    def first(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        """The first row (a named tuple, values processed as SQLAlchemy would), or None."""
        rows = self._send(conn, values, lambda cursor: [cursor.fetchone()])
        return None if rows[0] is None else self._row(rows[0])

    def all(self, conn: Connection, values: Mapping[str, Any]) -> list[Any]:
        return [self._row(raw) for raw in self._send(conn, values, lambda cursor: cursor.fetchall())]

    def _send(self, conn: Connection, values: Mapping[str, Any], fetch: Callable[[Any], list[Any]] | None) -> Any:
        params = self.parameters(values)
        cursor = _cursor(conn)
        try:
            _before(conn, cursor, self.sql, params, many=False)
            cursor.execute(self.sql, params)
            return None if fetch is None else fetch(cursor)
        except Exception as exc:
            _raise_as_sqlalchemy(conn, exc, self.sql, params, cursor)
            raise
        finally:
            cursor.close()

    def _row(self, raw: Sequence[Any]) -> Any:
        assert self.row is not None, "not a statement that returns rows"
        return self.row(*(v if proc is None else proc(v) for v, proc in zip(raw, self.results, strict=True)))


def can_pipeline(conn: Connection) -> bool:
    """Whether :func:`send_and_commit` can send on this connection (PostgreSQL through psycopg's async driver)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg" and conn.dialect.is_async


def send_and_commit(conn: Connection, items: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> None:
    """PostgreSQL: send the statements (for their effect) and COMMIT the connection's transaction, in ONE round trip
    (psycopg's pipeline mode).

    Through the async driver a round trip costs a few trips through the event loop besides the wait: psycopg
    sends COMMIT as a round trip of its own; here it goes with the statements before it. (BEGIN cannot be sent
    this way: psycopg waits for its answer before anything else, in pipeline mode too.) After the COMMIT the
    SQLAlchemy transaction stays open in name only: its own commit or rollback then finds nothing to do (psycopg
    sends nothing when the server says no transaction is open). A statement that fails makes the server skip the
    rest (COMMIT included) and raises here; the transaction is then aborted and the unit of work rolls it back.
    """
    sends = [(p.sql, p.parameters(values)) for p, values in items]
    if not conn.in_transaction():
        conn.begin()
    for sql, params in [*sends, ("COMMIT", None)]:
        _before(conn, None, sql, params, many=False)

    async def send(pg: Any) -> None:
        cursors = [pg.cursor() for _ in range(len(sends) + 1)]
        try:
            async with pg.pipeline():  # leaving it sends one Sync and reads every result
                for cursor, (sql, params) in zip(cursors, sends, strict=False):
                    await cursor.execute(sql, params)
                await cursors[-1].execute("COMMIT", prepare=False)
        finally:
            for cursor in cursors:
                await cursor.close()

    try:
        conn.connection.dbapi_connection.run_async(send)  # type: ignore[union-attr]
    except Exception as exc:
        _raise_as_sqlalchemy(conn, exc, "; ".join(sql for sql, _ in sends), [params for _, params in sends], None)
        raise


_prepared: dict[tuple[int, str], Prepared] = {}


def prepared(statement: ClauseElement, dialect: Dialect) -> Prepared:
    """The statement prepared for the dialect, made once per (statement, dialect name). Meant for statements
    built once (module constants, ``functools.cache`` builders): the cache holds every statement it is given."""
    key = (id(statement), f"{dialect.name}+{dialect.driver}")
    found = _prepared.get(key)
    if found is None or found.statement is not statement:
        found = _prepared[key] = Prepared(statement, dialect)
    return found


def _cursor(conn: Connection) -> Any:
    """The connection's DB-API cursor, inside a SQLAlchemy transaction: a statement sent past SQLAlchemy must not
    leave the Connection believing nothing began (its ``commit()`` would then commit nothing)."""
    if not conn.in_transaction():
        conn.begin()
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def _before(conn: Connection, cursor: Any, sql: str, params: Any, *, many: bool) -> None:
    listeners = conn.dispatch.before_cursor_execute
    if listeners:
        for listener in listeners:
            listener(conn, cursor, sql, params, None, many)  # no execution context: SQLAlchemy made none


def _raise_as_sqlalchemy(conn: Connection, exc: Exception, sql: str, params: Any, cursor: Any) -> None:
    """A driver's error as SQLAlchemy would raise it (``IntegrityError``, ``OperationalError``, ... wrapping it), the
    connection invalidated when the error says it is gone, as ``Connection.execute`` does; other errors unchanged."""
    dialect = conn.dialect
    base = dialect.loaded_dbapi.Error
    if not isinstance(exc, base):
        return
    gone = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
    wrapped = DBAPIError.instance(sql, params, exc, base, connection_invalidated=gone, dialect=dialect)
    if gone:
        conn.invalidate(wrapped)
    raise wrapped from exc
