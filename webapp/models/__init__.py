"""Tables, grouped by concept; importing this package registers them all with SQLAlchemy."""

from webapp.models.banks import Bank, BankAction, BankEntry, BankRevision, EntryOrigin
from webapp.models.bulk_jobs import BulkJob, BulkJobImage, JobStatus, UploadRefusal
from webapp.models.photos import ImageKind, PhotoSession, S3Image, SessionStatus
from webapp.models.users import ApiToken, FirstRun, User
from webapp.models.virtual_images import ModerationStatus, VirtualImage
from webapp.models.webhooks import ModerationReview, WebhookDelivery, WebhookEvent

__all__ = [
    "ApiToken",
    "Bank",
    "BankAction",
    "BankEntry",
    "BankRevision",
    "BulkJob",
    "BulkJobImage",
    "EntryOrigin",
    "FirstRun",
    "ImageKind",
    "JobStatus",
    "ModerationReview",
    "ModerationStatus",
    "PhotoSession",
    "S3Image",
    "SessionStatus",
    "UploadRefusal",
    "User",
    "VirtualImage",
    "WebhookDelivery",
    "WebhookEvent",
]
