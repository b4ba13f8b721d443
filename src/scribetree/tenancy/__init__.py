"""Tenancy: institutions, memberships and roles, invitations, support access and the AuthContext.

Decides *who may act where*; object-level rules of higher domains stay in those domains.
"""
