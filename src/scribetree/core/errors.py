"""The error vocabulary (STYLE E1-E4). Services raise these; each transport renders them once."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel


class ScribetreeError(Exception):
    """A failure the caller can act on. ``status_code`` is what HTTP answers; ``code`` is stable."""

    status_code: ClassVar[int] = 400
    default_detail: ClassVar[str] = "The request could not be completed."

    def __init__(self, detail: str | None = None, *, commits_work: bool = False, **extra: Any) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra
        # Most failures roll the unit of work back. A few must keep what the request wrote on the way
        # (a failed sign-in's counter and audit entry): they set this, and the route class commits.
        self.commits_work = commits_work
        super().__init__(self.detail)

    @property
    def code(self) -> str:
        return type(self).__name__

    @classmethod
    def schema(cls) -> type[BaseModel]:
        """A response model for ``responses={...}`` in endpoint declarations (E2)."""
        return ErrorBody


class ErrorBody(BaseModel):
    error: str
    detail: Any
    request_id: str | None = None


class NotFound(ScribetreeError):
    status_code = 404
    default_detail = "Nothing was found at this address, or you do not have access to it."


class Unauthorized(ScribetreeError):
    status_code = 401
    default_detail = "Sign in, or send a valid API token in the Authorization header."


class Forbidden(ScribetreeError):
    """Only for actions on objects the caller may already see (else NotFound, STYLE N4)."""

    status_code = 403
    default_detail = "Your role does not allow this action."


class Conflict(ScribetreeError):
    status_code = 409
    default_detail = "This conflicts with the current state; reload and try again."


class InvalidInput(ScribetreeError):
    status_code = 422
    default_detail = "Some of the values are not valid."


class TooLarge(ScribetreeError):
    status_code = 413


class TooManyRequests(ScribetreeError):
    status_code = 429
    default_detail = "Too many attempts. Wait a moment and try again."

    def __init__(self, detail: str | None = None, *, retry_after: int = 60, **kw: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **kw)
        self.retry_after = retry_after
