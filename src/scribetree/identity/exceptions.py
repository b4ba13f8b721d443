from __future__ import annotations

from scribetree.core.errors import InvalidInput, NotFound, ScribetreeError, TooManyRequests, Unauthorized


class IdentityError(ScribetreeError):
    pass


class InvalidCredentials(Unauthorized):
    default_detail = "That email and password do not match an account here. Check both and try again."


class AccountLocked(TooManyRequests):
    pass


class WeakPassword(InvalidInput):
    pass


class LinkInvalid(IdentityError):
    status_code = 400
    default_detail = (
        "This link has expired or was already used. Ask for a new one from the sign-in page "
        "(or ask your administrator for a new invitation)."
    )


class TokenNotFound(NotFound):
    default_detail = "No such API token."


class UserNotFound(NotFound):
    default_detail = "No such user."


class EmailTaken(IdentityError):
    status_code = 409
    default_detail = "An account with this email address already exists."
