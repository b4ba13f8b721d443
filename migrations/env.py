"""Alembic environment: one linear history for SQLite and PostgreSQL.

Migrations run with the synchronous flavour of the configured driver (pysqlite / psycopg), so they
can be called from inside a running event loop (tests, `scribetree init`) without nesting loops.
"""

from alembic import context
from sqlalchemy import create_engine, pool

from scribetree.core.config import settings
from scribetree.models import Base


def sync_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite", "sqlite").replace("postgresql+asyncpg", "postgresql+psycopg")


def run() -> None:
    url = context.config.attributes.get("database_url") or settings.database_url
    connection = context.config.attributes.get("connection")
    if connection is None:
        engine = create_engine(sync_url(url), poolclass=pool.NullPool)
        with engine.connect() as conn:
            _migrate(conn)
        engine.dispose()
    else:
        _migrate(connection)


def _migrate(conn) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=conn.dialect.name == "sqlite",  # SQLite ALTERs go through table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
