"""Tables, grouped by concept; importing this package registers them all with SQLAlchemy."""

from webapp.models.appeals import Appeal, AppealOutcome
from webapp.models.audit import AuditEvent, AuditKind
from webapp.models.banks import Bank, BankAction, BankEntry, BankRevision, EntryOrigin
from webapp.models.bulk_jobs import BulkJob, BulkJobImage, JobStatus, UploadRefusal
from webapp.models.direct_uploads import DirectUpload
from webapp.models.frame_fingerprints import FrameFingerprint
from webapp.models.photos import ImageKind, PhotoSession, S3Image, SessionStatus
from webapp.models.users import ApiToken, FirstRun, RevealOn, Role, User
from webapp.models.virtual_images import ModerationStatus, VirtualImage
from webapp.models.webhooks import ModerationReview, WebhookDelivery, WebhookEvent

__all__ = [
    "ApiToken",
    "Appeal",
    "AppealOutcome",
    "AuditEvent",
    "AuditKind",
    "Bank",
    "BankAction",
    "BankEntry",
    "BankRevision",
    "BulkJob",
    "BulkJobImage",
    "DirectUpload",
    "EntryOrigin",
    "FirstRun",
    "FrameFingerprint",
    "ImageKind",
    "JobStatus",
    "ModerationReview",
    "ModerationStatus",
    "PhotoSession",
    "RevealOn",
    "Role",
    "S3Image",
    "SessionStatus",
    "UploadRefusal",
    "User",
    "VirtualImage",
    "WebhookDelivery",
    "WebhookEvent",
]
