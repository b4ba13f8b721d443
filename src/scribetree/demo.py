"""The demo institution for the embedded default: an admin, two educators, a dozen students, and
platform staff. Idempotent: running it again adds only what is missing. Refused in production.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.config import settings
from scribetree.identity.models import PlatformRole
from scribetree.identity.service import identity
from scribetree.tenancy.exceptions import TenantNotFound
from scribetree.tenancy.models import Role, TenantStatus, TenantType
from scribetree.tenancy.schemas import TenantCreate
from scribetree.tenancy.service import member, tenant_service

DEMO_SLUG = "demo"
DEMO_NAME = "Maplewood University (demo)"
STUDENTS = [
    "Amara Okafor",
    "Benjamin Hughes",
    "Chen Wei",
    "Daniela Restrepo",
    "Elif Yilmaz",
    "Farah Haddad",
    "Gabriel Santos",
    "Hana Sato",
    "Isaac Mensah",
    "Julia Kowalska",
    "Kofi Asante",
    "Lena Fischer",
]
PEOPLE: list[tuple[str, str, Role | PlatformRole]] = [
    ("admin@maplewood.example.edu", "Morgan Reyes", Role.institution_admin),
    ("r.patel@maplewood.example.edu", "Dr. Riya Patel", Role.educator),
    ("t.nguyen@maplewood.example.edu", "Thomas Nguyen", Role.educator),
    *[
        (f"{n.split()[0].lower()}.{n.split()[1].lower()}@students.maplewood.example.edu", n, Role.student)
        for n in STUDENTS
    ],
    ("operator@scribetree.example.com", "Sam Operator", PlatformRole.operator),
    ("support@scribetree.example.com", "Alex Support", PlatformRole.support),
]


@dataclass
class DemoResult:
    created_tenant: bool
    created_people: int
    accounts: list[dict[str, str]]


async def seed_demo(session: AsyncSession) -> DemoResult:
    if settings.is_production:
        raise SystemExit("The demo institution is never created in production.")
    password = settings.DEMO_PASSWORD.get_secret_value()
    created_tenant = False
    try:
        tenant = await tenant_service.resolve(session, slug=DEMO_SLUG)
    except TenantNotFound:  # first run
        tenant = await tenant_service.create(
            session, None, TenantCreate(slug=DEMO_SLUG, name=DEMO_NAME, type=TenantType.higher_ed, region="us")
        )
        tenant.status, tenant.is_demo = TenantStatus.active, True
        tenant.primary_color, tenant.accent_color = "#1f5f8b", "#b45309"
        created_tenant = True
    created = 0
    accounts = []
    for email, name, role in PEOPLE:
        user = await identity.get_by_email(session, email)
        if user is None:
            platform_role = role if isinstance(role, PlatformRole) else None
            user = await identity.create_user(
                session, email=email, display_name=name, password=password, platform_role=platform_role
            )
            created += 1
        if isinstance(role, Role):
            memberships = {t.id for _, t in await member.memberships_of(session, user.id)}
            if tenant.id not in memberships:
                await member.add_member(session, tenant.id, user, role)
        accounts.append(
            {
                "email": email,
                "name": name,
                "role": role.value,
                "area": "platform" if isinstance(role, PlatformRole) else "institution",
            }
        )
    await session.flush()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    (settings.DATA_DIR / "demo-accounts.json").write_text(json.dumps(accounts, indent=2))
    return DemoResult(created_tenant, created, accounts)
