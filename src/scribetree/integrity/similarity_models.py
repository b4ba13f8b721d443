"""Similarity: the winnowing fingerprint index, the matches found when a submission is indexed, and the
institution's consent to compare across courses.

- ``similarity_submissions``: one row per indexed submission (its place: assignment, course, author; the
  parameters it was fingerprinted with; its state). The job that indexes a submission creates it.
- ``similarity_fingerprints``: the winnowed k-gram hashes of a submission with the character span of the
  k-gram in the submission's text (``start``, ``end``: code-point offsets) and whether the span lies in quoted
  or cited text. Looked up by ``(tenant_id, hash)``; no submission is ever rescanned to find matches.
- ``similarity_matches``: one row per pair of submissions that share fingerprints, written when the later one
  is indexed (``submission_id`` is the later, ``other_submission_id`` the earlier). ``passages`` holds the
  aligned spans ``[{"a": [start, end], "b": [start, end], "quoted": bool}]`` (``a`` in ``submission_id``'s
  text, ``b`` in the other's); the texts themselves are read from the submissions' snapshots when shown.
- ``similarity_settings``: one row per institution; ``cross_course`` (default off) allows comparing with
  submissions of other courses of the same institution.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class IndexState(StrEnum):
    indexed = "indexed"
    superseded = "superseded"  # a later attempt of the same document replaced it in the index


class MatchScope(StrEnum):
    assignment = "assignment"
    course = "course"
    institution = "institution"


class SimilaritySubmission(RecordMixin, TenantScoped, Base):
    __tablename__ = "similarity_submissions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "submission_id"),
        Index("ix_similarity_submissions_course", "tenant_id", "course_id"),
    )

    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    state: Mapped[IndexState] = mapped_column(String(20), default=IndexState.indexed)
    k: Mapped[int] = mapped_column(Integer)  # words per k-gram
    window: Mapped[int] = mapped_column(Integer)  # winnowing window (k-grams)
    token_count: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint_count: Mapped[int] = mapped_column(Integer, default=0)
    quoted_chars: Mapped[int] = mapped_column(Integer, default=0)
    cross_course: Mapped[bool] = mapped_column(Boolean, default=False)  # compared across courses when indexed
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)


class SimilarityFingerprint(TenantScoped, Base):
    __tablename__ = "similarity_fingerprints"
    __table_args__ = (Index("ix_similarity_fingerprints_hash", "tenant_id", "hash"),)

    # No single-column index: ``(tenant_id, hash)`` leads with the tenant (see migration 0011).
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)

    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    start: Mapped[int] = mapped_column(Integer, primary_key=True)
    end: Mapped[int] = mapped_column(Integer)
    hash: Mapped[int] = mapped_column(BigInteger)
    quoted: Mapped[bool] = mapped_column(Boolean, default=False)


class SimilarityMatch(RecordMixin, TenantScoped, Base):
    __tablename__ = "similarity_matches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "submission_id", "other_submission_id"),
        Index("ix_similarity_matches_other", "tenant_id", "other_submission_id"),
    )

    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    other_submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    scope: Mapped[MatchScope] = mapped_column(String(20))
    shared_fingerprints: Mapped[int] = mapped_column(Integer)
    chars: Mapped[int] = mapped_column(Integer)  # unquoted matched characters in submission_id's text
    other_chars: Mapped[int] = mapped_column(Integer)  # the same in the other's text
    quoted_chars: Mapped[int] = mapped_column(Integer)  # matched characters in quoted or cited text
    share: Mapped[float] = mapped_column(Float)  # chars / len(submission_id's text)
    other_share: Mapped[float] = mapped_column(Float)  # other_chars / len(other text)
    passages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class SimilaritySettings(RecordMixin, TenantScoped, Base):
    __tablename__ = "similarity_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    cross_course: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
