"""Every SQL statement of the AI partner (STYLE N3): tenant-scoped repositories."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select

from scribetree.ai_partner.models import AiExchange, AiLevelChange, AiProviderSettings, AiReflection
from scribetree.core.repository import TenantRepository
from scribetree.identity.models import User
from scribetree.writing.models import Document


class ReflectionRepository(TenantRepository[AiReflection]):
    model = AiReflection

    async def for_document_user(self, document_id: uuid.UUID, user_id: uuid.UUID) -> list[AiReflection]:
        """Oldest first."""
        stmt = (
            self.base()
            .where(AiReflection.document_id == document_id, AiReflection.user_id == user_id)
            .order_by(AiReflection.created_at, AiReflection.id)
        )
        return await self.all(stmt)

    async def for_document(self, document_id: uuid.UUID) -> list[AiReflection]:
        stmt = self.base().where(AiReflection.document_id == document_id).order_by(AiReflection.created_at)
        return await self.all(stmt)

    async def recent_texts(self, user_id: uuid.UUID, limit: int = 20) -> list[str]:
        """The user's latest reflections in this tenant (any document), newest first: the duplicate check."""
        stmt = (
            select(AiReflection.text)
            .where(AiReflection.tenant_id == self.tenant_id, AiReflection.user_id == user_id)
            .order_by(AiReflection.created_at.desc())
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def last_accepted_at(self, document_id: uuid.UUID, user_id: uuid.UUID) -> datetime | None:
        stmt = select(func.max(AiReflection.created_at)).where(
            AiReflection.tenant_id == self.tenant_id,
            AiReflection.document_id == document_id,
            AiReflection.user_id == user_id,
            AiReflection.accepted.is_(True),
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_assignment(self, assignment_id: uuid.UUID) -> list[AiReflection]:
        stmt = (
            self.base()
            .join(Document, Document.id == AiReflection.document_id)
            .where(Document.tenant_id == self.tenant_id, Document.assignment_id == assignment_id)
            .order_by(AiReflection.created_at)
        )
        return await self.all(stmt)


class ExchangeRepository(TenantRepository[AiExchange]):
    model = AiExchange

    async def lock_budget(self, document_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Serialise budget checks of one student on one document until the transaction ends.

        PostgreSQL: a transaction-scoped advisory lock on a key derived from both ids (requests sent at the same
        moment would otherwise all count the same usage). SQLite needs none: its single writer serialises them.
        """
        if self.session.get_bind().dialect.name != "postgresql":
            return
        key = int.from_bytes(document_id.bytes[:8], "big") ^ int.from_bytes(user_id.bytes[8:], "big")
        key = key - (1 << 64) if key >= (1 << 63) else key  # a signed bigint
        await self.session.execute(select(func.pg_advisory_xact_lock(key)))

    async def for_document(self, document_id: uuid.UUID, user_id: uuid.UUID | None = None) -> list[AiExchange]:
        stmt = self.base().where(AiExchange.document_id == document_id)
        if user_id is not None:
            stmt = stmt.where(AiExchange.user_id == user_id)
        return await self.all(stmt.order_by(AiExchange.created_at, AiExchange.id))

    async def times_since(self, document_id: uuid.UUID, user_id: uuid.UUID, since: datetime) -> list[datetime]:
        """When this user asked on this document since ``since``, oldest first (the budget windows)."""
        stmt = (
            select(AiExchange.created_at)
            .where(
                AiExchange.tenant_id == self.tenant_id,
                AiExchange.document_id == document_id,
                AiExchange.user_id == user_id,
                AiExchange.created_at > since,
            )
            .order_by(AiExchange.created_at)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def last_at(self, document_id: uuid.UUID, user_id: uuid.UUID) -> datetime | None:
        stmt = select(func.max(AiExchange.created_at)).where(
            AiExchange.tenant_id == self.tenant_id,
            AiExchange.document_id == document_id,
            AiExchange.user_id == user_id,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def counts_for_assignment(self, assignment_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID, int, int]]:
        """(user_id, document_id, requests, fallbacks) per student and document of the assignment."""
        stmt = (
            select(
                AiExchange.user_id,
                AiExchange.document_id,
                func.count(),
                func.sum(case((AiExchange.fell_back.is_(True), 1), else_=0)),
            )
            .where(AiExchange.tenant_id == self.tenant_id, AiExchange.assignment_id == assignment_id)
            .group_by(AiExchange.user_id, AiExchange.document_id)
        )
        return [(u, d, int(n), int(fb or 0)) for u, d, n, fb in (await self.session.execute(stmt)).all()]


class LevelChangeRepository(TenantRepository[AiLevelChange]):
    model = AiLevelChange

    async def for_document(self, document_id: uuid.UUID, user_id: uuid.UUID | None = None) -> list[AiLevelChange]:
        stmt = self.base().where(AiLevelChange.document_id == document_id)
        if user_id is not None:
            stmt = stmt.where(AiLevelChange.user_id == user_id)
        return await self.all(stmt.order_by(AiLevelChange.created_at, AiLevelChange.id))

    async def latest(self, document_id: uuid.UUID, user_id: uuid.UUID) -> AiLevelChange | None:
        stmt = (
            self.base()
            .where(AiLevelChange.document_id == document_id, AiLevelChange.user_id == user_id)
            .order_by(AiLevelChange.created_at.desc(), AiLevelChange.id.desc())
            .limit(1)
        )
        return await self.one_or_none(stmt)

    async def latest_for_assignment(self, assignment_id: uuid.UUID) -> dict[tuple[uuid.UUID, uuid.UUID], str]:
        """(document_id, user_id) -> the current level, for every student with a change on the assignment."""
        stmt = (
            self.base()
            .join(Document, Document.id == AiLevelChange.document_id)
            .where(Document.tenant_id == self.tenant_id, Document.assignment_id == assignment_id)
            .order_by(AiLevelChange.created_at, AiLevelChange.id)
        )
        found: dict[tuple[uuid.UUID, uuid.UUID], str] = {}
        for row in await self.all(stmt):
            found[(row.document_id, row.user_id)] = row.to_level
        return found


class ProviderSettingsRepository(TenantRepository[AiProviderSettings]):
    model = AiProviderSettings

    async def current(self) -> AiProviderSettings | None:
        """The tenant's one row, if an admin has ever saved the settings."""
        return await self.one_or_none(self.base().limit(1))

    async def lock(self) -> None:
        """Serialise changes of the tenant's settings until the transaction ends (two first saves at once would
        both insert). PostgreSQL: an advisory lock on the tenant id; SQLite's single writer needs none."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        key = int.from_bytes(self.tenant_id.bytes[:8], "big") ^ 0x5CB1_7EE0_A1_9B0D  # not the budget locks' keys
        key = key - (1 << 64) if key >= (1 << 63) else key
        await self.session.execute(select(func.pg_advisory_xact_lock(key)))


class PeopleRepository(TenantRepository[Document]):
    """Names and document word counts for the class summary (read-only lookups on lower domains' tables)."""

    model = Document

    async def names(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not user_ids:
            return {}
        stmt = select(User.id, User.display_name).where(User.id.in_(list(user_ids)))
        return {u: n for u, n in (await self.session.execute(stmt)).all()}

    async def documents(self, assignment_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID | None, int]]:
        """(document_id, owner_user_id (None for a group's), word_count) of the assignment's documents."""
        stmt = select(Document.id, Document.owner_user_id, Document.word_count).where(
            Document.tenant_id == self.tenant_id, Document.assignment_id == assignment_id
        )
        return [(d, o, n) for d, o, n in (await self.session.execute(stmt)).all()]
