"""Repository bases (STYLE N3). Every SQL statement of a domain lives in its repository.

``TenantRepository`` filters every statement on ``tenant_id``; crossing tenants needs an explicit
``unscoped()`` repository, which only ``ops`` and ``compliance`` may use.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ExecutableOption

from scribetree.core.db import Base

M = TypeVar("M", bound=Base)


def dialect_insert(session: AsyncSession) -> Any:
    """The ``insert()`` of the session's database (PostgreSQL or SQLite), the one with ``on_conflict_do_*``.

    Imported on use, not with the module: SQLAlchemy's PostgreSQL package loads every PostgreSQL dialect (asyncpg,
    pg8000, psycopg2...: about 2 MB of a serve process's RSS), which a SQLite deployment never needs.
    """
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class RepositoryBase(Generic[M]):
    """For global tables (tenants, users, sessions)."""

    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def base(self) -> Select[tuple[M]]:
        return select(self.model)

    async def get(
        self, id_: uuid.UUID, *, options: Sequence[ExecutableOption] = (), for_update: bool = False
    ) -> M | None:
        stmt = self.base().where(self.model.id == id_).options(*options)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def one_or_none(self, stmt: Select[tuple[M]]) -> M | None:
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def all(self, stmt: Select[tuple[M]]) -> list[M]:
        return list((await self.session.execute(stmt)).scalars().all())

    async def count(self, stmt: Select[Any]) -> int:
        return int((await self.session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())

    async def add(self, obj: M) -> M:
        self.session.add(obj)
        await self.session.flush()
        return obj


class TenantRepository(RepositoryBase[M]):
    """For tenant-owned tables: the base statement always carries the tenant filter."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        super().__init__(session)
        if tenant_id is None:
            raise ValueError("TenantRepository needs a tenant_id (STYLE N3)")
        self.tenant_id = tenant_id

    def base(self) -> Select[tuple[M]]:
        return select(self.model).where(self.model.tenant_id == self.tenant_id)

    async def add(self, obj: M) -> M:
        if getattr(obj, "tenant_id", None) is None:
            obj.tenant_id = self.tenant_id
        elif obj.tenant_id != self.tenant_id:
            raise ValueError("object belongs to another tenant")
        return await super().add(obj)

    @classmethod
    def unscoped(cls, session: AsyncSession) -> RepositoryBase[M]:
        """Cross-tenant access for ops and compliance only (enforced by tests/architecture)."""
        repo: RepositoryBase[M] = RepositoryBase(session)
        repo.model = cls.model  # type: ignore[misc]
        return repo
