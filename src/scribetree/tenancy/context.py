from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from scribetree.core.audit import RequestMeta
from scribetree.identity.models import PlatformRole
from scribetree.tenancy.models import Role
from scribetree.tenancy.permissions import (
    PLATFORM_PERMISSIONS,
    ROLE_PERMISSIONS,
    SCOPE_FOR,
    SUPPORT_IN_TENANT,
    Permission,
    Scope,
)


@dataclass(frozen=True)
class AuthContext:
    """Who is acting, in which tenant, with which powers. Built only from a credential (STYLE N2)."""

    user_id: uuid.UUID
    email: str
    display_name: str
    tenant_id: uuid.UUID | None
    tenant_slug: str | None
    role: Role | None
    platform_role: PlatformRole | None
    via: str  # "session" | "token"
    scopes: frozenset[Scope] = field(default_factory=lambda: frozenset(Scope))
    session_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None
    support_grant_id: uuid.UUID | None = None
    meta: RequestMeta = field(default_factory=RequestMeta)

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.tenant_id is None:
            granted = PLATFORM_PERMISSIONS.get(self.platform_role, frozenset()) if self.platform_role else frozenset()
        elif self.support_grant_id is not None:
            granted = SUPPORT_IN_TENANT
        else:
            granted = ROLE_PERMISSIONS.get(self.role, frozenset()) if self.role else frozenset()
        return frozenset(p for p in granted if SCOPE_FOR[p] in self.scopes)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def is_support_session(self) -> bool:
        return self.support_grant_id is not None

    @property
    def actor_label(self) -> str:
        return f"{self.email} (support)" if self.support_grant_id else self.email
