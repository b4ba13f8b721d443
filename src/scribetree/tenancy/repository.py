from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select

from scribetree.core.repository import RepositoryBase, TenantRepository
from scribetree.identity.models import User
from scribetree.tenancy.models import (
    Invitation,
    Membership,
    MembershipStatus,
    Role,
    SupportAccessGrant,
    Tenant,
    TenantStatus,
)


class TenantDirectory(RepositoryBase[Tenant]):
    """The tenants table is global: looked up by slug or host before anyone is signed in."""

    model = Tenant

    async def by_slug(self, slug: str) -> Tenant | None:
        return await self.one_or_none(self.base().where(Tenant.slug == slug.lower()))

    async def by_hostname(self, hostname: str) -> Tenant | None:
        return await self.one_or_none(self.base().where(Tenant.hostname == hostname.lower()))

    async def listing(self, *, status: TenantStatus | None = None) -> list[Tenant]:
        stmt = self.base().order_by(Tenant.name)
        if status is not None:
            stmt = stmt.where(Tenant.status == status)
        return await self.all(stmt)

    async def ids(self) -> list[uuid.UUID]:
        return list((await self.session.execute(select(Tenant.id))).scalars())

    async def member_counts(self) -> dict[uuid.UUID, int]:
        rows = await self.session.execute(
            select(Membership.tenant_id, func.count())
            .where(Membership.status == MembershipStatus.active)
            .group_by(Membership.tenant_id)
        )
        return {tid: n for tid, n in rows.all()}


class MembershipRepository(TenantRepository[Membership]):
    model = Membership

    async def for_user(self, user_id: uuid.UUID) -> Membership | None:
        return await self.one_or_none(self.base().where(Membership.user_id == user_id))

    async def with_users(
        self,
        *,
        role: Role | None = None,
        status: MembershipStatus | None = None,
        query: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[tuple[Membership, User]], int]:
        stmt = (
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.tenant_id == self.tenant_id)
        )
        if role is not None:
            stmt = stmt.where(Membership.role == role)
        if status is not None:
            stmt = stmt.where(Membership.status == status)
        if query:
            like = f"%{query.lower()}%"
            stmt = stmt.where(func.lower(User.email).like(like) | func.lower(User.display_name).like(like))
        total = await self.count(stmt)
        rows = (await self.session.execute(stmt.order_by(User.display_name, User.id).limit(limit).offset(offset))).all()
        return [(m, u) for m, u in rows], total

    async def count_by_role(self) -> dict[MembershipStatus, dict[Role, int]]:
        """Members of this tenant per status and role, in one GROUP BY (roles without members are absent)."""
        rows = await self.session.execute(
            select(Membership.status, Membership.role, func.count())
            .where(Membership.tenant_id == self.tenant_id)
            .group_by(Membership.status, Membership.role)
        )
        counts: dict[MembershipStatus, dict[Role, int]] = {}
        for status, role, n in rows.all():
            counts.setdefault(MembershipStatus(status), {})[Role(role)] = n
        return counts

    async def active_admin_count(self) -> int:
        return await self.count(
            self.base().where(Membership.role == Role.institution_admin, Membership.status == MembershipStatus.active)
        )


def memberships_of_user_stmt(user_id: uuid.UUID):
    return (
        select(Membership, Tenant)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user_id, Membership.status == MembershipStatus.active)
        .order_by(Tenant.name)
    )


class UserMemberships(RepositoryBase[Membership]):
    """A signed-out person's own memberships across tenants (choosing where to sign in)."""

    model = Membership

    async def of_user(self, user_id: uuid.UUID) -> list[tuple[Membership, Tenant]]:
        return [(m, t) for m, t in (await self.session.execute(memberships_of_user_stmt(user_id))).all()]


class InvitationRepository(TenantRepository[Invitation]):
    model = Invitation

    async def pending(self, now: datetime) -> list[Invitation]:
        return await self.all(
            self.base()
            .where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now)
            .order_by(Invitation.id.desc())
        )

    async def open_for_email(self, email: str, now: datetime) -> list[Invitation]:
        return await self.all(
            self.base().where(
                Invitation.email == email,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
        )

    @staticmethod
    async def by_token_hash(session, token_hash: str) -> Invitation | None:
        # The invitation link is the credential that names the tenant (STYLE N2).
        return (
            await session.execute(select(Invitation).where(Invitation.token_hash == token_hash))
        ).scalar_one_or_none()


class SupportGrantRepository(TenantRepository[SupportAccessGrant]):
    model = SupportAccessGrant

    async def recent(self, limit: int = 50) -> list[SupportAccessGrant]:
        return await self.all(self.base().order_by(SupportAccessGrant.id.desc()).limit(limit))
