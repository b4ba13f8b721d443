"""The alerts' errors. The API renders ``{"error": <class name>, "detail": ...}``."""

from __future__ import annotations

from scribetree.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class AlertNotFound(NotFound):
    default_detail = "No such alert, or you do not have access to it."


class AlertCourseNotFound(NotFound):
    """The course does not exist, is another institution's, or the caller is not on its staff."""

    default_detail = "No such course, or you do not teach it."


class AlertSettingsReadOnly(Forbidden):
    default_detail = "Only the course's instructors and institution admins change its alert thresholds and mutes."


class AlertStatusConflict(Conflict):
    default_detail = "The alert is already closed; it cannot change any more."


class UnknownThreshold(InvalidInput):
    status_code = 422
    default_detail = "There is no such threshold. GET the settings to see the names."


class ThresholdOutOfRange(InvalidInput):
    status_code = 422
    default_detail = "A threshold is outside the range it allows."


class UnknownRule(InvalidInput):
    status_code = 422
    default_detail = "There is no such rule. GET the settings to see the rule codes."


class UnknownTimeZone(InvalidInput):
    status_code = 422
    default_detail = "Unknown time zone; use an IANA name such as 'Europe/Berlin' or 'America/New_York'."


class InvalidQuietHours(InvalidInput):
    status_code = 422
    default_detail = "Quiet hours need both a start and an end as HH:MM (24-hour), and they must differ."
