"""Roles, platform roles and token scopes mapped to permissions (STYLE N5: declared, not inlined).

A session may do what the member's role allows. An API token may do what the role allows *and* its
scopes cover: ``read`` for reading, ``write`` for changing one's own things, ``admin`` for managing the
institution.
"""

from __future__ import annotations

from enum import StrEnum

from scribetree.identity.models import PlatformRole
from scribetree.tenancy.models import Role


class Scope(StrEnum):
    read = "read"
    write = "write"
    admin = "admin"
    # De-identified research aggregates over MCP; only institution admins can hold it (docs/mcp.md).
    research = "research"


class Permission(StrEnum):
    profile_read = "profile:read"
    profile_write = "profile:write"
    members_read = "members:read"
    members_write = "members:write"
    audit_read = "audit:read"
    tenant_settings_write = "tenant:settings"
    support_grants_read = "support:grants"
    # platform
    tenants_manage = "platform:tenants"
    jobs_manage = "platform:jobs"
    support_enter = "platform:support"


SCOPE_FOR: dict[Permission, Scope] = {
    Permission.profile_read: Scope.read,
    Permission.profile_write: Scope.write,
    Permission.members_read: Scope.read,
    Permission.audit_read: Scope.read,
    Permission.support_grants_read: Scope.read,
    Permission.members_write: Scope.admin,
    Permission.tenant_settings_write: Scope.admin,
    Permission.tenants_manage: Scope.admin,
    Permission.jobs_manage: Scope.admin,
    Permission.support_enter: Scope.admin,
}

_EVERYONE = frozenset({Permission.profile_read, Permission.profile_write})
_ADMIN = _EVERYONE | {
    Permission.members_read,
    Permission.members_write,
    Permission.audit_read,
    Permission.tenant_settings_write,
    Permission.support_grants_read,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.student: _EVERYONE,
    Role.teaching_assistant: _EVERYONE,
    Role.educator: _EVERYONE,
    Role.institution_admin: frozenset(_ADMIN),
}

# Support inside a tenant (with a live grant) reads, and changes nothing.
SUPPORT_IN_TENANT = frozenset(
    {Permission.profile_read, Permission.members_read, Permission.audit_read, Permission.support_grants_read}
)
PLATFORM_PERMISSIONS: dict[PlatformRole, frozenset[Permission]] = {
    PlatformRole.operator: frozenset(
        {Permission.profile_read, Permission.profile_write, Permission.tenants_manage, Permission.jobs_manage}
    ),
    PlatformRole.support: frozenset({Permission.profile_read, Permission.profile_write, Permission.support_enter}),
}

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.student: frozenset({Scope.read, Scope.write}),
    Role.teaching_assistant: frozenset({Scope.read, Scope.write}),
    Role.educator: frozenset({Scope.read, Scope.write}),
    Role.institution_admin: frozenset(Scope),
}

ROLE_LABELS: dict[Role, str] = {
    Role.student: "Student",
    Role.teaching_assistant: "Teaching assistant",
    Role.educator: "Educator",
    Role.institution_admin: "Institution admin",
}
