"""Courses, course members (enrollment), assignment templates, assignments and assignment groups.

JSON columns hold small, validated documents (schemas.py checks their shape on every write):

- ``stages``: ``[{"key": "draft", "label": "Draft", "due_at": "2026-12-01T17:00:00+00:00" | null}, ...]``
- ``rubric``: ``{"criteria": [{"title", "description", "levels": [{"label", "points", "description"}]}],
  "total_points"}`` (``total_points`` = sum of each criterion's highest level) or NULL for no rubric
- ``objectives``: ``[{"text": "...", "bloom": "analyze"}, ...]``
- ``ai_settings``: an opaque object owned by the AI partner domain (size-limited here)

``late_policy``: ``accept`` (late work accepted and flagged late), ``penalty`` (accepted, flagged, and
``late_penalty_percent`` is deducted per started day late), ``reject`` (no submission after ``due_at``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import scribetree.core.cache_epochs  # noqa: F401  (its listeners publish changes of these tables to every process)
from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class CourseRole(StrEnum):
    instructor = "instructor"
    ta = "ta"
    student = "student"


class AssignmentKind(StrEnum):
    individual = "individual"
    group = "group"


class LatePolicy(StrEnum):
    accept = "accept"
    penalty = "penalty"
    reject = "reject"


class Resubmission(StrEnum):
    none = "none"
    until_due = "until_due"
    unlimited = "unlimited"


class Bloom(StrEnum):
    """Revised Bloom's taxonomy (Anderson & Krathwohl, 2001), lowest to highest."""

    remember = "remember"
    understand = "understand"
    apply = "apply"
    analyze = "analyze"
    evaluate = "evaluate"
    create = "create"


class TemplateVisibility(StrEnum):
    private = "private"  # only its author
    institution = "institution"  # every educator of the institution


class Course(RecordMixin, TenantScoped, Base):
    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("tenant_id", "join_code"),)

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    section: Mapped[str | None] = mapped_column(String(100), nullable=True)
    term: Mapped[str | None] = mapped_column(String(100), nullable=True)
    starts_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    join_code: Mapped[str | None] = mapped_column(String(16), nullable=True)  # NULL: joining by code is off
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class CourseMember(RecordMixin, TenantScoped, Base):
    __tablename__ = "course_members"
    __table_args__ = (
        UniqueConstraint("course_id", "user_id"),
        Index("ix_course_members_tenant_user", "tenant_id", "user_id"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[CourseRole] = mapped_column(String(20))


class _AssignmentFields:
    """What a template and an assignment share (a template is deployed by copying these)."""

    title: Mapped[str] = mapped_column(String(200))
    instructions_md: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[AssignmentKind] = mapped_column(String(20), default=AssignmentKind.individual)
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    word_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    word_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    late_policy: Mapped[LatePolicy] = mapped_column(String(20), default=LatePolicy.accept)
    late_penalty_percent: Mapped[int] = mapped_column(Integer, default=0)
    resubmission: Mapped[Resubmission] = mapped_column(String(20), default=Resubmission.until_due)
    ai_statement_required: Mapped[bool] = mapped_column(Boolean, default=False)
    ai_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rubric: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    objectives: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class AssignmentTemplate(_AssignmentFields, RecordMixin, TenantScoped, Base):
    """The institution's library: private to the author or shared with every educator of the institution."""

    __tablename__ = "assignment_templates"

    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[TemplateVisibility] = mapped_column(String(20), default=TemplateVisibility.private)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class Assignment(_AssignmentFields, RecordMixin, TenantScoped, Base):
    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_course", "course_id"),)

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # NULL: draft
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assignment_templates.id", ondelete="SET NULL"), nullable=True
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class AssignmentGroup(RecordMixin, TenantScoped, Base):
    __tablename__ = "assignment_groups"
    __table_args__ = (UniqueConstraint("assignment_id", "name"),)

    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))


class AssignmentGroupMember(RecordMixin, TenantScoped, Base):
    """``assignment_id`` is repeated here so that a student is in at most one group per assignment."""

    __tablename__ = "assignment_group_members"
    __table_args__ = (
        UniqueConstraint("assignment_id", "user_id"),
        Index("ix_assignment_group_members_group", "group_id"),
    )

    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignment_groups.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
