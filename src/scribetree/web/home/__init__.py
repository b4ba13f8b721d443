"""The role-aware home page and the person's own account (password, sessions, API tokens)."""
