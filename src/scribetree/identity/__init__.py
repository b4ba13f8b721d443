"""Identity: people, passwords, sign-in sessions, API tokens and external identities.

Knows nothing of institutions' rules (that is tenancy). Never imports a higher domain.
"""
