"""When an alert may reach an educator: quiet hours and the daily digest, in the educator's own time zone.

Pure functions over times; the service stores the answer as ``alert_deliveries.due_at``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scribetree.alerts.models import DeliveryMode


def zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_hhmm(value: str) -> int:
    h, m = value.split(":")
    return int(h) * 60 + int(m)


def fmt_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def in_quiet(minute: int, start: int | None, end: int | None) -> bool:
    """Is ``minute`` after local midnight inside [start, end)? start > end wraps midnight (22:00-07:00)."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def due_at(
    now: datetime,
    *,
    mode: DeliveryMode,
    tz: str,
    quiet_start: int | None,
    quiet_end: int | None,
    digest_hour: int,
) -> datetime:
    """Immediate: now, or the end of quiet hours when now is inside them. Digest: the next ``digest_hour:00``
    local time (then moved past quiet hours, should the educator put the digest inside them)."""
    z = zone(tz) or ZoneInfo("UTC")
    local = now.astimezone(z)
    if mode == DeliveryMode.digest:
        at = local.replace(hour=digest_hour, minute=0, second=0, microsecond=0)
        if at <= local:
            at = (at + timedelta(days=1)).replace(hour=digest_hour)
        local = at
    minute = local.hour * 60 + local.minute
    if in_quiet(minute, quiet_start, quiet_end):
        assert quiet_end is not None
        end = local.replace(hour=quiet_end // 60, minute=quiet_end % 60, second=0, microsecond=0)
        if end <= local:
            end = end + timedelta(days=1)
            end = end.replace(hour=quiet_end // 60, minute=quiet_end % 60)  # keep wall time across DST
        local = end
    return local.astimezone(now.tzinfo) if now.tzinfo else local
