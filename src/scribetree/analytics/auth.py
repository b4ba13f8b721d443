"""Route authorization for the analytics API (STYLE N5): a tenant sign-in (``profile:read``). Who may see which
figures is decided per object in the service: the student their own, the course's staff their course's."""

from scribetree.tenancy.auth import TenantSigned

AnalyticsRead = TenantSigned

__all__ = ["AnalyticsRead"]
