"""Bulk NSFW jobs: creation, the mapping to their images, submission, cancelling and status pages.

Their counters live in job_counters, and they move on in job_progress.
"""

import logging
import uuid
from dataclasses import dataclass, replace

from redis.exceptions import RedisError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import aliased, selectinload

from webapp.errors import AppError, NotFound, parse_id
from webapp.extensions import db
from webapp.models import (
    BulkJob,
    BulkJobImage,
    DirectUpload,
    JobStatus,
    ModerationStatus,
    PhotoSession,
    S3Image,
    UploadRefusal,
    User,
    VirtualImage,
)
from webapp.models.bulk_jobs import TERMINAL_JOB_STATUSES
from webapp.models.types import utcnow
from webapp.services import verdicts
from webapp.services.jobs import job_progress, notifications, upload_refusals
from webapp.services.paging import Paged
from webapp.services.photo_filters import NO_FILTER, PhotoFilter

log = logging.getLogger(__name__)

REFUSALS_SHOWN = 100


class JobNotUploading(AppError):
    code = "job_not_uploading"
    status = 409
    message = "This job was already submitted; create a new job for more files."


@dataclass(frozen=True)
class JobPage(Paged):
    job: BulkJob
    rows: list  # (BulkJobImage, VirtualImage, PhotoSession) in upload order
    page: int
    per_page: int
    total: int  # the images that pass `filters`
    filters: PhotoFilter = NO_FILTER
    refusals: tuple[UploadRefusal, ...] = ()  # the first REFUSALS_SHOWN files refused at upload


def create_job(owner: User, provider: str, callback_url: str | None = None) -> BulkJob:
    """A job open for files; its completion is POSTed to `callback_url` (else the owner's default)."""
    url = notifications.callback_url_for(owner, callback_url)
    job = BulkJob(owner_id=owner.id, provider=provider, status=JobStatus.UPLOADING, callback_url=url)
    db.session.add(job)
    db.session.commit()
    return job


def discard_empty_job(job: BulkJob) -> None:
    """Remove a job that never got a file (its one request failed); a job with files is kept."""
    db.session.rollback()
    db.session.execute(delete(BulkJob).where(BulkJob.id == job.id, BulkJob.total == 0))
    db.session.commit()


def visible_jobs(viewer: User):
    query = select(BulkJob)
    return query if viewer.is_admin else query.where(BulkJob.owner_id == viewer.id)


def find_job(viewer: User, job_id: str | uuid.UUID) -> BulkJob:
    """The job, if it exists and `viewer` may see it; NotFound otherwise."""
    job = db.session.scalar(visible_jobs(viewer).where(BulkJob.id == parse_id(job_id)))
    if job is None:
        raise NotFound()
    return job


def list_jobs(viewer: User, limit: int = 50) -> list[BulkJob]:
    return list(db.session.scalars(visible_jobs(viewer).order_by(BulkJob.created_at.desc()).limit(limit)))


def running_jobs(limit: int) -> list[BulkJob]:
    """The newest bulk jobs that have not ended, the ones an admin may cancel."""
    query = select(BulkJob).where(BulkJob.status.not_in(TERMINAL_JOB_STATUSES))
    return list(db.session.scalars(query.order_by(BulkJob.created_at.desc()).limit(limit)))


def next_upload_orders(job: BulkJob, count: int) -> list[int]:
    """Reserve `count` consecutive upload orders for files sent without one, atomically."""
    last = db.session.execute(
        update(BulkJob)
        .where(BulkJob.id == job.id)
        .values(orders_reserved=BulkJob.orders_reserved + count)
        .returning(BulkJob.orders_reserved)
    ).scalar_one()
    db.session.commit()
    return list(range(last - count, last))


def ensure_uploading(job: BulkJob) -> None:
    db.session.refresh(job)
    if job.status != JobStatus.UPLOADING:
        raise JobNotUploading()


def add_to_job(job_id: uuid.UUID, virtual_image_id: uuid.UUID, s3_key: str, upload_order: int) -> None:
    """Map a stored file into its job (the caller commits): one more in `total` and in `pending`, and
    its mapping row.

    The job row is updated first, and only while it is uploading: a submit racing with this file
    waits for its commit and then counts it, or this file is refused because the job was closed.
    """
    opened = db.session.execute(
        update(BulkJob)
        .where(BulkJob.id == job_id, BulkJob.status == JobStatus.UPLOADING)
        .values(total=BulkJob.total + 1, pending=BulkJob.pending + 1)
    ).rowcount
    if not opened:
        raise JobNotUploading()
    db.session.execute(
        insert(BulkJobImage).values(
            id=uuid.uuid4(),
            job_id=job_id,
            virtual_image_id=virtual_image_id,
            s3_key=s3_key,
            upload_order=upload_order,
            created_at=utcnow(),
        )
    )


@dataclass(frozen=True)
class FileCheck:
    """A file a client may still have to send: its SHA-256, size and name, and whether the job has it."""

    sha256: str
    size: int
    filename: str
    present: bool = False
    upload_order: int | None = None


def check_files(job: BulkJob, files: list[FileCheck]) -> tuple[list[FileCheck], int]:
    """Which of these files the job holds already (same SHA-256 and size), and the first upload order
    after every one it holds: what a client resuming a batch sends, and from where it numbers."""
    hashes = {file.sha256 for file in files}
    held = {
        (sha256, size): order
        for sha256, size, order in db.session.execute(
            select(VirtualImage.sha256, S3Image.bytes, BulkJobImage.upload_order)
            .join(BulkJobImage, BulkJobImage.virtual_image_id == VirtualImage.id)
            .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
            .join(S3Image, S3Image.image_id == PhotoSession.original_image_id)
            .where(BulkJobImage.job_id == job.id, VirtualImage.sha256.in_(hashes))
        )
    }
    checked = [
        replace(
            file, present=(file.sha256, file.size) in held, upload_order=held.get((file.sha256, file.size))
        )
        for file in files
    ]
    # Orders handed to uploads straight to the bucket are taken too, completed or not.
    highest = [
        db.session.scalar(select(func.max(column)).where(job_column == job.id))
        for column, job_column in (
            (BulkJobImage.upload_order, BulkJobImage.job_id),
            (DirectUpload.upload_order, DirectUpload.job_id),
        )
    ]
    return checked, max(job.orders_reserved, -1, *(order for order in highest if order is not None)) + 1


def submit_job(job: BulkJob) -> BulkJob:
    """Close the job to new files. Its photos were queued as they arrived and may all be done: such a
    job moves on here (it ends, or its job-level provider starts), as a worker's count would move it.

    Returns the job as submitted (`queued`); it may have moved on before the caller answers.
    """
    submitted = db.session.execute(
        update(BulkJob)
        .where(BulkJob.id == job.id, BulkJob.status == JobStatus.UPLOADING)
        .values(status=JobStatus.QUEUED, submitted_at=utcnow())
    ).rowcount
    db.session.commit()
    if not submitted:
        raise JobNotUploading()
    db.session.refresh(job)
    db.session.expunge(job)
    # A photo counted before this commit left the job uploading; one counted after moves it itself.
    if job.processed or not job.total:
        step = job_progress.advance(job.id, submitted=True)
        db.session.commit()
        try:
            job_progress.after_commit(step)
        except RedisError:
            log.warning("job submitted, its next step left to the reconciler: Redis did not answer")
    return job


def job_sessions(job_id: uuid.UUID):
    """A select of the job's photos (their session ids), in upload order."""
    return (
        select(VirtualImage.session_id)
        .join(BulkJobImage, BulkJobImage.virtual_image_id == VirtualImage.id)
        .where(BulkJobImage.job_id == job_id)
        .order_by(BulkJobImage.upload_order)
    )


class JobAlreadyEnded(AppError):
    code = "job_already_ended"
    status = 409
    message = "This job has already ended."


def cancel_job(job: BulkJob, admin: User) -> BulkJob:
    """`admin` stops a job: it ends `cancelled`, and every photo of it still waiting ends visibly, not
    silently.

    Photos not yet processed end `failed`; images not yet moderated end `error`, the admin's decision in
    the audit log. Jobs already queued for them find their session ended and do nothing.
    """
    reason = "The job was cancelled."
    cancelled = db.session.execute(
        update(BulkJob)
        .where(BulkJob.id == job.id, BulkJob.status.not_in(TERMINAL_JOB_STATUSES))
        .values(status=JobStatus.CANCELLED, completed_at=utcnow())
    ).rowcount
    if not cancelled:
        db.session.rollback()
        raise JobAlreadyEnded()
    images = select(BulkJobImage.virtual_image_id).where(BulkJobImage.job_id == job.id)
    db.session.execute(
        update(PhotoSession)
        .where(
            PhotoSession.session_id.in_(job_sessions(job.id)),
            PhotoSession.status.in_(["pending", "processing"]),
        )
        .values(status="failed", error=reason, completed_at=utcnow())
    )
    waiting = db.session.scalars(
        images.join(VirtualImage).where(VirtualImage.moderation_status == ModerationStatus.PENDING)
    )
    verdicts.record(dict.fromkeys(waiting, verdicts.failed(reason, admin)), job.id)
    db.session.refresh(job)
    return job


def job_page(
    job: BulkJob, page: int, per_page: int, with_images: bool = False, filters: PhotoFilter = NO_FILTER
) -> JobPage:
    """One page of the job's images that pass `filters`, in upload order (with their stored images if
    asked for).

    Unfiltered, the work grows with the page, not the job: the page of mapping rows is cut first, on
    the (job_id, upload_order) index, and only those rows are joined. Right after a big job's rows
    land, before PostgreSQL has fresh statistics, a plain join would be planned for a few rows
    and read all of them. A filter has to read the job's images to count those it keeps.
    """
    page, per_page = max(page, 1), min(max(per_page, 1), 500)
    images = select(BulkJobImage).where(BulkJobImage.job_id == job.id)
    total = job.total
    if filters.active:
        images = (
            images.join(VirtualImage, VirtualImage.id == BulkJobImage.virtual_image_id)
            .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
            .where(*filters.conditions())
        )
        total = db.session.scalar(select(func.count()).select_from(images.subquery()))
    mapping_page = images.order_by(BulkJobImage.upload_order).limit(per_page).offset((page - 1) * per_page)
    mapping = aliased(BulkJobImage, mapping_page.subquery())
    query = (
        select(mapping, VirtualImage, PhotoSession)
        .join(VirtualImage, VirtualImage.id == mapping.virtual_image_id)
        .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
        .order_by(mapping.upload_order)
    )
    if with_images:
        query = query.options(selectinload(PhotoSession.images))
    rows = db.session.execute(query).all()
    refusals = tuple(upload_refusals.of_job(job.id, REFUSALS_SHOWN)) if job.refused else ()
    return JobPage(job, rows, page, per_page, total, filters, refusals)
