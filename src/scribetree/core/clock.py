"""The one clock. Tests move it with ``clock.travel()`` instead of patching ``datetime``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    """Timezone-aware now in UTC, shifted by any active ``travel``."""
    return datetime.now(UTC) + _offset


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@contextlib.contextmanager
def travel(delta: timedelta) -> Iterator[None]:
    global _offset
    previous = _offset
    _offset = previous + delta
    try:
        yield
    finally:
        _offset = previous
