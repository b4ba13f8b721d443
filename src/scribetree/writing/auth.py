"""Route authorization for the writing API (STYLE N5). Object rules live in ``writing.access``.

Reading needs a tenant sign-in; writing needs a tenant sign-in with the ``write`` scope. Who may see or change
a particular document is decided per object (its author or group, the course's staff).
"""

from scribetree.tenancy.auth import TenantProfileWrite, TenantSigned

WritingRead = TenantSigned
WritingWrite = TenantProfileWrite

__all__ = ["WritingRead", "WritingWrite"]
