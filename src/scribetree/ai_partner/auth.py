"""Route authorization for the AI partner API (STYLE N5). Object rules live in the service (through
``writing`` and ``courses`` access): a document's student asks and reflects, the course's staff read.

Reading needs a tenant sign-in; asking, reflecting and changing settings need the ``write`` scope; the
institution's provider settings need ``tenant:settings`` (admins, ``admin`` scope for tokens).
"""

from scribetree.tenancy.auth import TenantProfileWrite, TenantSettingsWrite, TenantSigned

PartnerRead = TenantSigned
PartnerWrite = TenantProfileWrite
# The institution's AI provider: institution admins only, reading included (it names the vendor and the key's end).
ProviderSettingsAdmin = TenantSettingsWrite

__all__ = ["PartnerRead", "PartnerWrite", "ProviderSettingsAdmin"]
