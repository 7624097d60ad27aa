"""Nothing stranded: find work PostgreSQL says is unfinished that has no live job, and queue it again.

RQ is at least once at best: a crash between commit and enqueue, a Redis that lost its data, or
a worker killed mid-job can each leave a photo, an image or a job without a live job. Every job
queued here is idempotent, so a second copy of work that was not really lost changes nothing.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.worker import Worker
from sqlalchemy import and_, exists, or_, select

from webapp.extensions import db
from webapp.models import (
    BulkJob,
    DirectUpload,
    ModerationStatus,
    PhotoSession,
    SessionStatus,
    VirtualImage,
    WebhookDelivery,
)
from webapp.models import JobStatus as BulkJobStatus
from webapp.models.bulk_jobs import TERMINAL_JOB_STATUSES
from webapp.models.types import utcnow
from webapp.providers import registry
from webapp.queue import (
    enqueue_external_request,
    enqueue_notification,
    enqueue_photo_processing,
    processing_job_id,
    redis_connection,
)
from webapp.services.jobs import job_progress
from webapp.services.moderation import external_moderation
from webapp.services.photos import direct_uploads
from webapp.storage import get_storage

log = logging.getLogger(__name__)

WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)
BATCH = 1000


@dataclass
class Report:
    abandoned_uploads: list[uuid.UUID] = field(default_factory=list)
    expired_direct_uploads: list[uuid.UUID] = field(default_factory=list)
    photos: list[uuid.UUID] = field(default_factory=list)
    external_requests: list[uuid.UUID] = field(default_factory=list)
    external_deadlines: list[uuid.UUID] = field(default_factory=list)
    bulk_analyses: list[uuid.UUID] = field(default_factory=list)
    notifications: list[uuid.UUID] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(items) for items in vars(self).values())


def reconcile() -> Report:
    """Queue again everything unfinished whose job is gone; returns what was queued."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["RECONCILE_AFTER"])
    report = Report(
        abandoned_uploads=_abandoned_uploads(cutoff),
        expired_direct_uploads=direct_uploads.expire(),
        photos=_photos(cutoff),
        external_requests=_external_requests(cutoff),
        external_deadlines=_external_deadlines(),
        bulk_analyses=_bulk_analyses(cutoff),
        notifications=_notifications(cutoff),
    )
    if report.total:
        log.warning("reconciler queued stranded work again: %s", report)
    return report


def is_live(job_id: str) -> bool:
    """Whether a job with this id is waiting, or running on a worker that is still alive."""
    connection = redis_connection()
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status in WAITING:
        return True
    if status == JobStatus.STARTED and job.worker_name:
        # A worker killed outright stops refreshing its key, which expires after its TTL.
        return (
            Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection) is not None
        )
    return False


def _abandoned_uploads(cutoff) -> list[uuid.UUID]:
    """Sessions whose upload failed half-way and could not be undone then (the database was down):
    the client was answered 503, so they were never accepted; their objects and rows go. A file a
    client is sending straight to the bucket has its own, longer, time (`direct_uploads.expire`)."""
    query = select(PhotoSession).where(
        PhotoSession.original_image_id.is_(None),
        PhotoSession.status == SessionStatus.PENDING,
        PhotoSession.created_at < cutoff,
        ~exists().where(DirectUpload.session_id == PhotoSession.session_id),
    )
    abandoned = list(db.session.scalars(query.limit(BATCH)))
    ids = [session.session_id for session in abandoned]
    for session in abandoned:
        get_storage().delete_prefix(session.prefix)
        db.session.delete(session)
    db.session.commit()
    return ids


def _photos(cutoff) -> list[uuid.UUID]:
    """Unfinished photos quiet since the cutoff, a batch's too while it is still uploading."""
    query = (
        select(PhotoSession.session_id)
        .join(VirtualImage, VirtualImage.session_id == PhotoSession.session_id)
        .where(
            PhotoSession.status.in_([SessionStatus.PENDING, SessionStatus.PROCESSING]),
            PhotoSession.original_image_id.is_not(None),
            PhotoSession.updated_at < cutoff,
        )
        .limit(BATCH)
    )
    stranded = [sid for sid in db.session.scalars(query) if not is_live(processing_job_id(sid))]
    for session_id in stranded:
        enqueue_photo_processing(session_id)
    return stranded


def _external_requests(cutoff) -> list[uuid.UUID]:
    """Images handed to the external service (by their provider, or as a second opinion) whose sending job
    was lost before their deadline."""
    query = select(VirtualImage.id).where(
        VirtualImage.moderation_status == ModerationStatus.PENDING,
        VirtualImage.external_requested_at < cutoff,
        VirtualImage.external_deadline_at > utcnow(),
        VirtualImage.reviewed_at.is_(None),
    )
    stranded = [
        image_id for image_id in db.session.scalars(query.limit(BATCH)) if not is_live(f"external-{image_id}")
    ]
    for image_id in stranded:
        remaining = db.session.get(VirtualImage, image_id).external_deadline_at - utcnow()
        enqueue_external_request(image_id, max(1, int(remaining.total_seconds())))
    return stranded


def _external_deadlines() -> list[uuid.UUID]:
    """Images past their deadline whose deadline check was lost: they end `error` now."""
    query = select(VirtualImage.id).where(
        VirtualImage.moderation_status == ModerationStatus.PENDING,
        VirtualImage.external_deadline_at < utcnow() - timedelta(seconds=5),
    )
    expired = list(db.session.scalars(query.limit(BATCH)))
    for image_id in expired:
        external_moderation.deadline_passed(image_id)
    return expired


def _bulk_analyses(cutoff) -> list[uuid.UUID]:
    """Bulk jobs whose photos are all processed but whose analysis is neither started nor polled."""
    query = select(BulkJob.id).where(
        BulkJob.provider.in_(registry.names_of(registry.Kind.PER_JOB)),
        BulkJob.status.in_([BulkJobStatus.QUEUED, BulkJobStatus.PROCESSING]),
        BulkJob.processed >= BulkJob.total,
        BulkJob.updated_at < cutoff,
    )
    stalled = [job_id for job_id in db.session.scalars(query) if not is_live(f"bulk-start-{job_id}")]
    for job_id in stalled:
        job_progress.start_provider(job_id)
    return stalled


def _notifications(cutoff) -> list[uuid.UUID]:
    """Ended jobs whose claimed notification was neither delivered nor is being retried."""
    delivered = exists().where(WebhookDelivery.job_id == BulkJob.id, WebhookDelivery.delivered.is_(True))
    recent_attempt = exists().where(
        WebhookDelivery.job_id == BulkJob.id,
        or_(WebhookDelivery.created_at >= cutoff, WebhookDelivery.next_retry_at.is_(None)),
    )
    query = select(BulkJob.id).where(
        and_(BulkJob.status.in_(TERMINAL_JOB_STATUSES), BulkJob.notification_claimed_at < cutoff),
        ~delivered,
        ~recent_attempt,
    )
    stranded = [
        job_id for job_id in db.session.scalars(query.limit(BATCH)) if not is_live(f"notify-{job_id}")
    ]
    for job_id in stranded:
        enqueue_notification(job_id)
    return stranded
