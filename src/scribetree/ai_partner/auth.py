"""Route authorization for the AI partner API (STYLE N5). Object rules live in the service (through
``writing`` and ``courses`` access): a document's student asks and reflects, the course's staff read.

Reading needs a tenant sign-in; asking, reflecting and changing settings need the ``write`` scope.
"""

from scribetree.tenancy.auth import TenantProfileWrite, TenantSigned

PartnerRead = TenantSigned
PartnerWrite = TenantProfileWrite

__all__ = ["PartnerRead", "PartnerWrite"]
