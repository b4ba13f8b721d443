"""Schema rules (STYLE N1) and the migrations that produce the schema.

- Every table is tenant-owned (``tenant_id`` NOT NULL, a foreign key to ``tenants.id``, indexed, first in every
  composite index or unique constraint that contains it) or sits on ``GLOBAL_TABLES`` with a reason.
- ``alembic upgrade head`` on a fresh database produces exactly ``Base.metadata``, and the last migration's
  downgrade followed by ``upgrade head`` works on a scratch database.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Index, Table, UniqueConstraint, create_engine, inspect, text

from scribetree.models import GLOBAL_TABLES, Base
from tests.fixtures.db import KIND, PG_ADMIN_URL, alembic_config


def sync_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite", "sqlite")


def tenant_rule_problems(table: Table) -> list[str]:
    """Why ``table`` does not meet the tenant-owned rule (an empty list if it does)."""
    col = table.c.get("tenant_id")
    if col is None:
        return ["has no tenant_id column"]
    problems = []
    if col.nullable:
        problems.append("tenant_id is nullable")
    if not any(fk.column.table.name == "tenants" and fk.column.name == "id" for fk in col.foreign_keys):
        problems.append("tenant_id is not a foreign key to tenants.id")
    groups = [*table.indexes, *(c for c in table.constraints if isinstance(c, UniqueConstraint)), table.primary_key]
    leading = {next(iter(g.columns)).name for g in groups if len(g.columns)}
    if not col.index and "tenant_id" not in leading:
        problems.append("tenant_id is not indexed (no index or unique constraint starts with it)")
    return problems


def misplaced_tenant_id(table: Table) -> list[str]:
    """Composite indexes and unique constraints that contain tenant_id somewhere other than first."""
    found = []
    groups: list[tuple[str, Any]] = [(f"index {ix.name}", ix) for ix in table.indexes]
    groups += [(f"unique constraint {uq.name}", uq) for uq in table.constraints if isinstance(uq, UniqueConstraint)]
    for label, group in groups:
        names = [c.name for c in group.columns]
        if "tenant_id" in names and names[0] != "tenant_id":
            found.append(f"{table.name}: {label} {names} must start with tenant_id")
    return found


class TestTenantColumns:
    def test_every_table_is_tenant_owned_or_global(self) -> None:
        failures = []
        for table in Base.metadata.sorted_tables:
            if table.name in GLOBAL_TABLES:
                continue
            problems = tenant_rule_problems(table)
            if problems:
                failures.append(f"{table.name}: {'; '.join(problems)} (or add it to GLOBAL_TABLES with a reason)")
        assert not failures, "\n".join(failures)

    def test_tenant_id_leads_every_composite_index_and_unique_constraint(self) -> None:
        failures = [f for table in Base.metadata.sorted_tables for f in misplaced_tenant_id(table)]
        assert not failures, "\n".join(failures)

    def test_global_tables_has_no_stale_entries(self) -> None:
        tables = Base.metadata.tables
        unknown = sorted(set(GLOBAL_TABLES) - set(tables))
        assert not unknown, f"GLOBAL_TABLES names tables that do not exist: {unknown}"
        tenant_owned = sorted(name for name in GLOBAL_TABLES if not tenant_rule_problems(tables[name]))
        assert not tenant_owned, f"GLOBAL_TABLES lists tenant-owned tables (remove them): {tenant_owned}"
        no_reason = sorted(name for name, reason in GLOBAL_TABLES.items() if len(reason.strip()) < 10)
        assert not no_reason, f"GLOBAL_TABLES entries need a reason: {no_reason}"

    def test_the_rules_catch_a_bad_table(self) -> None:
        """The checks above can fail: a throwaway table that breaks each rule."""
        from sqlalchemy import Column, ForeignKey, MetaData, String, Uuid

        md = MetaData()
        Table("tenants", md, Column("id", Uuid, primary_key=True))
        bad = Table(
            "bad",
            md,
            Column("id", Uuid, primary_key=True),
            Column("tenant_id", Uuid, nullable=True),
            Column("name", String),
            UniqueConstraint("name", "tenant_id"),
        )
        assert tenant_rule_problems(bad) == [
            "tenant_id is nullable",
            "tenant_id is not a foreign key to tenants.id",
            "tenant_id is not indexed (no index or unique constraint starts with it)",
        ]
        assert misplaced_tenant_id(bad) == [
            "bad: unique constraint None ['name', 'tenant_id'] must start with tenant_id"
        ]
        good = Table(
            "good",
            md,
            Column("id", Uuid, primary_key=True),
            Column("tenant_id", Uuid, ForeignKey("tenants.id"), nullable=False),
            Index("ix_good_tenant", "tenant_id", "id"),
        )
        assert tenant_rule_problems(good) == []


# ---- migrations -------------------------------------------------------------------------------------------


def schema_diff(url: str) -> list[Any]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            return compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """An empty database of the suite's kind, dropped afterwards."""
    if KIND == "postgresql":
        name = f"scribetree_scratch_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory(prefix="scribetree-scratch-") as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/scratch.db"


class TestMigrations:
    def test_migrated_database_matches_the_models(self, database_url: str) -> None:
        diff = schema_diff(database_url)
        assert diff == [], "migrations and models disagree; autogenerate a migration:\n" + "\n".join(map(str, diff))

    def test_downgrade_one_step_then_upgrade_head(self, scratch_url: str) -> None:
        cfg = alembic_config(scratch_url)
        command.upgrade(cfg, "head")
        tables_at_head = set(inspect_tables(scratch_url))
        assert set(Base.metadata.tables) <= tables_at_head
        command.downgrade(cfg, "-1")
        assert set(inspect_tables(scratch_url)) != tables_at_head, "the downgrade changed nothing"
        command.upgrade(cfg, "head")
        assert set(inspect_tables(scratch_url)) == tables_at_head
        assert schema_diff(scratch_url) == []

    def test_the_comparison_sees_a_difference(self, scratch_url: str) -> None:
        """Control: a database that lacks a table is reported, so an empty diff above means something."""
        cfg = alembic_config(scratch_url)
        command.upgrade(cfg, "head")
        engine = create_engine(sync_url(scratch_url))
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE worker_heartbeats"))
        engine.dispose()
        assert any(d[0] == "add_table" and d[1].name == "worker_heartbeats" for d in schema_diff(scratch_url))


def inspect_tables(url: str) -> list[str]:
    engine = create_engine(sync_url(url))
    try:
        return [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    finally:
        engine.dispose()
