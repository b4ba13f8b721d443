"""Route authorization for the alerts API (STYLE N5). The object rule (only the course's staff) is
``alerts.access``: reading needs a tenant sign-in, changing an alert or settings the ``write`` scope."""

from scribetree.tenancy.auth import TenantProfileWrite, TenantSigned

AlertsRead = TenantSigned
AlertsWrite = TenantProfileWrite

__all__ = ["AlertsRead", "AlertsWrite"]
