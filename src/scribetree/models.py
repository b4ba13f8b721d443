"""Every table, imported in one place so that Alembic and the architecture tests see the whole schema.

Sits at the top of the layer stack (beside ``app``); no domain imports it.
"""

from scribetree.ai_partner.budget_models import AiBudgetOverride
from scribetree.ai_partner.models import AiExchange, AiLevelChange, AiProviderSettings, AiReflection
from scribetree.alerts.interventions_models import Intervention
from scribetree.alerts.models import (
    Alert,
    AlertCourseSettings,
    AlertDelivery,
    AlertEducatorPrefs,
    AlertWatermark,
)
from scribetree.analytics.models import DailyActivityRow, DocumentMetricsRow
from scribetree.compliance.research_models import ResearchQueryLog, ResearchSettings
from scribetree.core.audit import AuditChainHead, AuditEvent
from scribetree.core.cache_epochs import CacheEpoch
from scribetree.core.db import Base
from scribetree.core.jobs_models import Job, JobSchedule, WorkerHeartbeat
from scribetree.courses.extension_models import DeadlineExtension
from scribetree.courses.models import (
    Assignment,
    AssignmentGroup,
    AssignmentGroupMember,
    AssignmentTemplate,
    Course,
    CourseMember,
)
from scribetree.identity.models import ApiToken, ExternalIdentity, PasswordReset, User, UserSession
from scribetree.integrity.models import IntegrityOutcome, IntegrityReport, IntegrityResponse, IntegritySettings
from scribetree.integrity.similarity_models import (
    SimilarityFingerprint,
    SimilarityMatch,
    SimilaritySettings,
    SimilaritySubmission,
)
from scribetree.tenancy.models import Invitation, Membership, SupportAccessGrant, Tenant
from scribetree.writing.feedback_models import Comment, Grade
from scribetree.writing.models import Document, DocumentVersion, EditBatch, Submission, WritingSession
from scribetree.writing.notification_models import Notification

__all__ = [
    "AiBudgetOverride",
    "AiExchange",
    "AiLevelChange",
    "AiProviderSettings",
    "AiReflection",
    "Alert",
    "AlertCourseSettings",
    "AlertDelivery",
    "AlertEducatorPrefs",
    "AlertWatermark",
    "ApiToken",
    "Assignment",
    "AssignmentGroup",
    "AssignmentGroupMember",
    "AssignmentTemplate",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "CacheEpoch",
    "Comment",
    "Course",
    "CourseMember",
    "DailyActivityRow",
    "DeadlineExtension",
    "Document",
    "DocumentMetricsRow",
    "DocumentVersion",
    "EditBatch",
    "ExternalIdentity",
    "Grade",
    "IntegrityOutcome",
    "IntegrityReport",
    "IntegrityResponse",
    "IntegritySettings",
    "Intervention",
    "Invitation",
    "Job",
    "JobSchedule",
    "Membership",
    "Notification",
    "PasswordReset",
    "ResearchQueryLog",
    "ResearchSettings",
    "SimilarityFingerprint",
    "SimilarityMatch",
    "SimilaritySettings",
    "SimilaritySubmission",
    "Submission",
    "SupportAccessGrant",
    "Tenant",
    "User",
    "UserSession",
    "WorkerHeartbeat",
    "WritingSession",
]

# Global tables: not owned by one tenant (STYLE N1). Each says why. An architecture test fails when a
# table has no tenant_id and is not listed here.
GLOBAL_TABLES: dict[str, str] = {
    "tenants": "the tenants themselves",
    "users": "a person may belong to several institutions; roles live in tenant-scoped memberships",
    "user_sessions": "operator sessions act in no tenant; tenant_id is set for every other session",
    "password_resets": "a password belongs to the person, not to one institution",
    "audit_events": "tenant_id set per tenant chain; NULL is the platform chain",
    "audit_chain_heads": "one head per chain, keyed by chain name",
    "jobs": "tenant_id set for tenant work; NULL for platform jobs",
    "job_schedules": "platform schedule of periodic jobs",
    "worker_heartbeats": "worker processes serve every tenant",
    "cache_epochs": "one counter per in-process cache (sign-in, edit access), shared by every process",
}
