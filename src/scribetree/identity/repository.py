from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection, delete, or_, select, update

from scribetree.core.repository import RepositoryBase, TenantRepository
from scribetree.identity.models import ApiToken, ExternalIdentity, PasswordReset, User, UserSession


class UserRepository(RepositoryBase[User]):
    model = User

    async def by_email(self, email: str) -> User | None:
        return await self.one_or_none(self.base().where(User.email == email.strip().lower()))

    async def by_ids(self, ids: list[uuid.UUID]) -> list[User]:
        return await self.all(self.base().where(User.id.in_(ids))) if ids else []


class SessionRepository(RepositoryBase[UserSession]):
    model = UserSession

    async def by_token_hash(self, token_hash: str) -> UserSession | None:
        return await self.one_or_none(self.base().where(UserSession.token_hash == token_hash))

    async def revoke_all(self, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None) -> None:
        stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        if keep is not None:
            stmt = stmt.where(UserSession.id != keep)
        await self.session.execute(stmt.values(revoked_at=now))

    async def revoke_for_tenant_user(self, tenant_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.tenant_id == tenant_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def touch(self, session_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))

    @staticmethod
    def touch_on(conn: Connection, session_id: uuid.UUID, now: datetime) -> None:
        """``touch`` as a sync Core statement on a Connection (``core.db.commit_now``)."""
        conn.execute(update(UserSession.__table__).where(UserSession.id == session_id).values(last_seen_at=now))

    async def delete_ended_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(UserSession).where(or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff))
        )
        return result.rowcount or 0


class ApiTokenRepository(TenantRepository[ApiToken]):
    model = ApiToken

    async def for_user(self, user_id: uuid.UUID) -> list[ApiToken]:
        return await self.all(self.base().where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()))

    @staticmethod
    async def by_token_hash(session, token_hash: str) -> ApiToken | None:
        # Resolving a presented token is how we learn its tenant: the one lookup that cannot be scoped.
        return (await session.execute(select(ApiToken).where(ApiToken.token_hash == token_hash))).scalar_one_or_none()

    async def touch(self, token_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(ApiToken)
            .where(ApiToken.tenant_id == self.tenant_id, ApiToken.id == token_id)
            .values(last_used_at=now)
        )

    @staticmethod
    def touch_on(conn: Connection, tenant_id: uuid.UUID, token_id: uuid.UUID, now: datetime) -> None:
        """``touch`` as a sync Core statement on a Connection (``core.db.commit_now``)."""
        conn.execute(
            update(ApiToken.__table__)
            .where(ApiToken.tenant_id == tenant_id, ApiToken.id == token_id)
            .values(last_used_at=now)
        )

    async def revoke_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(ApiToken)
            .where(ApiToken.tenant_id == self.tenant_id, ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class PasswordResetRepository(RepositoryBase[PasswordReset]):
    model = PasswordReset

    async def by_token_hash(self, token_hash: str) -> PasswordReset | None:
        return await self.one_or_none(self.base().where(PasswordReset.token_hash == token_hash))

    async def delete_ended_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(PasswordReset).where(or_(PasswordReset.expires_at < cutoff, PasswordReset.used_at < cutoff))
        )
        return result.rowcount or 0

    async def expire_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(PasswordReset)
            .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )


class ExternalIdentityRepository(TenantRepository[ExternalIdentity]):
    model = ExternalIdentity

    async def find(self, provider: str, issuer: str, subject: str) -> ExternalIdentity | None:
        return await self.one_or_none(
            self.base().where(
                ExternalIdentity.provider == provider,
                ExternalIdentity.issuer == issuer,
                ExternalIdentity.subject == subject,
            )
        )
