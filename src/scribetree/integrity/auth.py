"""Route authorization for the integrity API (STYLE N5). Object rules live in the service (through the
writing and courses access checks): a submission's student and the course's staff read its report; the
student responds; staff record outcomes and change the assignment's setting.
"""

from scribetree.tenancy.auth import TenantProfileWrite, TenantSigned

IntegrityRead = TenantSigned
IntegrityWrite = TenantProfileWrite

__all__ = ["IntegrityRead", "IntegrityWrite"]
