"""Cross-process cache epochs: one counter row per in-process cache that other processes must be able to clear.

Platform bookkeeping, not tenant data (``models.GLOBAL_TABLES``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base

AUTH = "auth"
EDIT_ACCESS = "edit_access"


class CacheEpoch(Base):
    """``epoch`` goes up by one in every transaction that changes what the named cache holds."""

    __tablename__ = "cache_epochs"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
