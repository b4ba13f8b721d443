from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from scribetree.identity.models import PlatformRole
from scribetree.tenancy.models import MembershipStatus, Plan, Role, SupportTier, TenantStatus, TenantType

Slug = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Hostname = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=253, pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")
]


class BrandingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    display_name: str | None
    logo_url: str | None
    primary_color: str
    accent_color: str


class TenantPublic(BrandingRead):
    """What a signed-out visitor of the sign-in page may see."""

    slug: str
    name: str


class TenantRead(TenantPublic):
    id: uuid.UUID
    type: TenantType
    region: str
    plan: Plan
    support_tier: SupportTier
    status: TenantStatus
    hostname: str | None
    created_at: datetime


class TenantCreate(BaseModel):
    slug: Slug
    name: Name
    type: TenantType
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z0-9]+)?$")] = "us"
    plan: Plan = Plan.standard
    support_tier: SupportTier = SupportTier.basic
    hostname: Hostname | None = None
    admin_email: EmailStr | None = Field(default=None, description="Invite this person as the first admin.")


class TenantUpdate(BaseModel):
    name: Name | None = None
    plan: Plan | None = None
    support_tier: SupportTier | None = None
    status: TenantStatus | None = None
    hostname: Hostname | None = None


class BrandingUpdate(BaseModel):
    display_name: Name | None = None
    logo_url: Annotated[str, StringConstraints(max_length=500, pattern=r"^(https://|/static/)[^\s\"'<>]+$")] | None = (
        None
    )
    primary_color: Color | None = None
    accent_color: Color | None = None


class MemberRead(BaseModel):
    membership_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    display_name: str
    role: Role
    status: MembershipStatus
    joined_at: datetime
    last_signin_at: datetime | None


class MemberPage(BaseModel):
    items: list[MemberRead]
    total: int
    limit: int
    offset: int


class MemberCounts(BaseModel):
    by_role: dict[Role, int] = Field(description="Active members per role, every role listed (admins first).")
    active: int
    deactivated: int


class MemberUpdate(BaseModel):
    role: Role


class InvitationCreate(BaseModel):
    email: EmailStr
    role: Role = Role.student


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationPreview(BaseModel):
    email: str
    role: Role
    tenant: TenantPublic
    existing_account: bool = Field(
        description="True: the email already has an account; accept with its ``current_password``. "
        "False: accept with ``display_name`` and a new ``password``."
    )
    has_account: bool = Field(description="The same as ``existing_account`` (older name).")


class InvitationAccept(BaseModel):
    token: Annotated[str, Field(min_length=10, max_length=200)]
    display_name: Name | None = Field(default=None, description="New accounts: your name.")
    password: Annotated[str, Field(max_length=256)] | None = Field(
        default=None, description="New accounts: the password to set."
    )
    current_password: Annotated[str, Field(max_length=256)] | None = Field(
        default=None, description="Existing accounts: the account's current password, which proves it is yours."
    )


class SignIn(BaseModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class SessionStarted(BaseModel):
    user_id: uuid.UUID
    tenant_slug: str | None
    role: Role | None
    platform_role: PlatformRole | None
    csrf_token: str = Field(description="Send as X-CSRF-Token with state-changing requests that use the cookie.")


class MeRead(BaseModel):
    user_id: uuid.UUID
    email: str
    display_name: str
    role: Role | None
    platform_role: PlatformRole | None
    tenant: TenantPublic | None
    via: str
    scopes: list[str]
    permissions: list[str]
    support_session: bool


class SupportAccessCreate(BaseModel):
    tenant_slug: Slug
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=15, max_length=1000)] = Field(
        description="Why you need access (a ticket number and what you will look at). Shown to the tenant's admins."
    )
    minutes: int = Field(default=60, ge=5, le=480)


class SupportGrantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    support_user_id: uuid.UUID
    support_email: str | None = None
    reason: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
