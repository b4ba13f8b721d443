"""The AI partner's errors. The API renders ``{"error": <class name>, "detail": ..., **extra}``."""

from __future__ import annotations

from typing import Any

from scribetree.core.errors import Conflict, Forbidden, NotFound, TooManyRequests


class PartnerDocumentNotFound(NotFound):
    default_detail = "No such document, or you do not have access to it."


class PartnerAssignmentNotFound(NotFound):
    default_detail = "No such assignment, or you do not have access to it."


class PartnerDisabled(Conflict):
    """409: the educator's settings turn the partner off for this assignment or stage (exam mode included)."""

    default_detail = "The AI partner is turned off for this assignment."


class ReflectionRequired(Conflict):
    """409: write a reflection first (``due``: "initial" or "follow_up", ``min_words``)."""

    default_detail = "Write a short reflection on your own thinking before asking the partner."


class PartnerBudgetExhausted(TooManyRequests):
    """429 with ``resets_at`` (ISO time) and ``Retry-After`` (seconds)."""

    default_detail = "You have used all your requests to the partner for now."

    def __init__(self, detail: str | None = None, *, retry_after: int = 60, **kw: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **kw)


class PartnerStudentsOnly(Forbidden):
    default_detail = "Only the students who write this document can ask the partner or write reflections."


class PartnerStaffOnly(Forbidden):
    default_detail = "Only the course's staff can see the class summary."


class SettingsReadOnly(Forbidden):
    default_detail = (
        "Only the course's instructors and institution admins can change the AI settings; "
        "teaching assistants and students can read them."
    )


class UnknownStage(Conflict):
    """Raised as 422 through ``status_code``: a stage override names a stage the assignment does not have."""

    status_code = 422
    default_detail = "A stage override names a stage this assignment does not have."


class ProviderSettingsInvalid(Conflict):
    """422 with ``field``: the provider settings break a rule (an external provider needs an https address, a
    model and a key; a changed address needs the key entered again). Nothing is stored."""

    status_code = 422
    default_detail = "These provider settings are not valid; nothing was changed."


class ProviderSettingsForbidden(Forbidden):
    default_detail = "Only institution admins can read or change the institution's AI provider."
