from __future__ import annotations

from scribetree.core.errors import Conflict, Forbidden, InvalidInput, NotFound, ScribetreeError


class TenancyError(ScribetreeError):
    pass


class TenantNotFound(NotFound):
    default_detail = "No institution was found at this address."


class TenantSuspended(TenancyError):
    status_code = 403
    default_detail = (
        "This institution's access to Scribe Tree is suspended. Your work is kept; ask your institution's "
        "administrator for details."
    )


class TenantRequired(Forbidden):
    """A signed-in caller without an institution (a platform account) asked for something that lives in one."""

    default_detail = (
        "This belongs to an institution, and you are signed in as platform staff. Sign in to the institution "
        "to use it."
    )


class MembershipNotFound(NotFound):
    default_detail = "No such member in this institution."


class InvitationNotFound(NotFound):
    default_detail = "No such invitation."


class AccountPasswordRequired(InvalidInput):
    """Joining with an account that already exists needs that account's password (else the link's holder
    could attach any account to an institution)."""

    default_detail = (
        "This email address already has a Scribe Tree account. Enter that account's current password to accept "
        "the invitation."
    )


class AccountPasswordIncorrect(ScribetreeError):
    status_code = 401
    default_detail = (
        "That is not the current password of the account with this email address. Check it and try again, or "
        "reset it with “Forgot your password?” on the sign-in page."
    )


class SlugTaken(Conflict):
    default_detail = "Another institution already uses this address (slug)."


class LastAdmin(Conflict):
    default_detail = (
        "This is the institution's only active admin. Make someone else an admin first, so the institution "
        "is never left without one."
    )


class AlreadyMember(Conflict):
    default_detail = "This person is already a member of the institution."


class ScopeNotAllowed(InvalidInput):
    default_detail = "Your role cannot grant one of the requested scopes."


class SupportAccessInvalid(InvalidInput):
    pass
