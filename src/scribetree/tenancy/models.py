"""Institutions, memberships and roles, invitations, support access."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import scribetree.core.cache_epochs  # noqa: F401  (its listeners publish changes of these tables to every process)
from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class TenantType(StrEnum):
    k12 = "k12"
    higher_ed = "higher_ed"


class TenantStatus(StrEnum):
    onboarding = "onboarding"
    active = "active"
    suspended = "suspended"


class Plan(StrEnum):
    pilot = "pilot"
    standard = "standard"
    enterprise = "enterprise"


class SupportTier(StrEnum):
    basic = "basic"
    priority = "priority"
    premium = "premium"


class Role(StrEnum):
    """A person's role inside one institution. Order matters: later roles include earlier powers."""

    student = "student"
    teaching_assistant = "teaching_assistant"
    educator = "educator"
    institution_admin = "institution_admin"


class MembershipStatus(StrEnum):
    active = "active"
    deactivated = "deactivated"


class Tenant(RecordMixin, Base):
    __tablename__ = "tenants"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[TenantType] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(20), default="us")
    plan: Mapped[Plan] = mapped_column(String(20), default=Plan.standard)
    support_tier: Mapped[SupportTier] = mapped_column(String(20), default=SupportTier.basic)
    status: Mapped[TenantStatus] = mapped_column(String(20), default=TenantStatus.onboarding)
    hostname: Mapped[str | None] = mapped_column(String(253), unique=True, nullable=True)
    # Branding (shown on the sign-in page and in the header)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    logo_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    primary_color: Mapped[str] = mapped_column(String(7), default="#1f5f8b")
    accent_color: Mapped[str] = mapped_column(String(7), default="#c2410c")
    is_demo: Mapped[bool] = mapped_column(default=False)


class Membership(RecordMixin, TenantScoped, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"), Index("ix_memberships_user", "user_id"))

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(String(30))
    status: Mapped[MembershipStatus] = mapped_column(String(20), default=MembershipStatus.active)


class Invitation(RecordMixin, TenantScoped, Base):
    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_tenant_email", "tenant_id", "email"),)

    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(String(30))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SupportAccessGrant(RecordMixin, TenantScoped, Base):
    """A support person's time-boxed, reasoned entry into one tenant; visible to its admins."""

    __tablename__ = "support_access_grants"

    support_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
