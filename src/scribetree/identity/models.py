"""People and their credentials. Users are global; a user's roles live in tenancy memberships."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import scribetree.core.cache_epochs  # noqa: F401  (its listeners publish changes of these tables to every process)
from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class PlatformRole(StrEnum):
    operator = "operator"  # runs the platform: creates and suspends institutions
    support = "support"  # may enter a tenant for a stated reason, for a limited time


class User(RecordMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    platform_role: Mapped[PlatformRole | None] = mapped_column(String(20), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_signin_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Bumped by "sign out everywhere" and password changes; sessions and tokens issued before are dead.
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ExternalIdentity(RecordMixin, TenantScoped, Base):
    """A subject asserted by a SAML IdP, an OIDC provider or an LMS (LTI), linked to a user."""

    __tablename__ = "external_identities"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider", "issuer", "subject"),
        Index("ix_external_identities_user", "user_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))  # saml | oidc | lti
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(500))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UserSession(RecordMixin, Base):
    """A server-side sign-in session; the cookie carries a random token, the row its SHA-256.

    Global table: an operator's session acts in no tenant (``tenant_id`` is NULL); every other session
    acts in exactly one tenant, fixed at sign-in (STYLE N2).
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(400), nullable=True)
    support_grant_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)


class ApiToken(RecordMixin, TenantScoped, Base):
    """A personal API token: shown once, stored as SHA-256, scoped, expiring, revocable."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_tenant_user", "tenant_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists so people can tell tokens apart
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PasswordReset(RecordMixin, Base):
    """A one-time reset link; only its SHA-256 is kept."""

    __tablename__ = "password_resets"
    __table_args__ = (Index("ix_password_resets_user", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
