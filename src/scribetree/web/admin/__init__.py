"""Institution administration pages: members and invitations, the audit trail, branding."""
