"""Sign-in, sign-out, password reset and invitation pages (no credential needed to open them)."""
