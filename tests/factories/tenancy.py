"""Factories: create real rows through the services' own models; flush, never commit."""

from __future__ import annotations

import itertools

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.identity import passwords
from scribetree.identity.models import PlatformRole, User
from scribetree.tenancy.models import Membership, MembershipStatus, Role, Tenant, TenantStatus, TenantType

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)
_hash_cache: dict[str, str] = {}


async def password_hash(password: str = PASSWORD) -> str:
    if password not in _hash_cache:
        _hash_cache[password] = await passwords.hash_password(password)
    return _hash_cache[password]


async def create_tenant(session: AsyncSession, **overrides: object) -> Tenant:
    n = next(_seq)
    values: dict[str, object] = {
        "slug": f"inst-{n}",
        "name": f"Institution {n}",
        "type": TenantType.higher_ed,
        "status": TenantStatus.active,
        "display_name": f"Institution {n}",
    }
    values.update(overrides)
    tenant = Tenant(**values)
    session.add(tenant)
    await session.flush()
    return tenant


async def create_user(session: AsyncSession, *, password: str | None = PASSWORD, **overrides: object) -> User:
    n = next(_seq)
    values: dict[str, object] = {"email": f"person{n}@example.edu", "display_name": f"Person {n}"}
    values.update(overrides)
    user = User(**values, password_hash=await password_hash(password) if password else None)
    session.add(user)
    await session.flush()
    return user


async def create_member(
    session: AsyncSession,
    tenant: Tenant,
    role: Role = Role.student,
    *,
    status: MembershipStatus = MembershipStatus.active,
    **user_overrides: object,
) -> tuple[User, Membership]:
    user = await create_user(session, **user_overrides)
    m = Membership(tenant_id=tenant.id, user_id=user.id, role=role, status=status)
    session.add(m)
    await session.flush()
    return user, m


async def create_platform_user(session: AsyncSession, role: PlatformRole, **overrides: object) -> User:
    return await create_user(session, platform_role=role, **overrides)
