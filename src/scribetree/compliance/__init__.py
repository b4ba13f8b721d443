"""Compliance: reading, filtering, verifying and exporting the audit trail (later: consent, exports,
erasure, retention). Writes to the trail happen in every domain through ``core.audit``.
"""
