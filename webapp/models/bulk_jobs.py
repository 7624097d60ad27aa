"""Bulk NSFW jobs and the incident's mapping table from a job to its virtual images."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import JsonDocument, utcnow, value_enum


class JobStatus(enum.StrEnum):
    UPLOADING = "uploading"
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_JOB_STATUSES


TERMINAL_JOB_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_ERRORS, JobStatus.FAILED, JobStatus.CANCELLED}
)


class BulkJob(db.Model):
    """A batch of photos moderated together. Counters move in single SQL updates, never read-modify-write."""

    __tablename__ = "nsfw_bulk_jobs"
    __table_args__ = (Index("ix_jobs_owner_created", "owner_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(30))
    status: Mapped[JobStatus] = mapped_column(
        value_enum(JobStatus, "job_status"), default=JobStatus.UPLOADING
    )
    # Upload orders handed out to files sent without one (the browser sends its own).
    orders_reserved: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    pending: Mapped[int] = mapped_column(default=0)
    approved: Mapped[int] = mapped_column(default=0)
    flagged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    provider_job_id: Mapped[str | None] = mapped_column(String(128))
    # Where a signed job.completed event is POSTed once the job ends; claimed once, then delivered.
    callback_url: Mapped[str | None] = mapped_column(Text)
    notification_claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    # Problems that belong to no image (a provider result naming an unknown object, ...), shown on the job.
    notes: Mapped[list | None] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    @property
    def done(self) -> int:
        return self.total - self.pending


class BulkJobImage(db.Model):
    """One file of a job: which virtual image it became and its place in the upload order."""

    __tablename__ = "bulk_job_virtual_images"
    __table_args__ = (
        UniqueConstraint("job_id", "upload_order", name="uq_bulk_job_images_order"),
        UniqueConstraint("job_id", "virtual_image_id", name="uq_bulk_job_images_virtual_image"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nsfw_bulk_jobs.id", ondelete="CASCADE"))
    virtual_image_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("virtual_images.id", ondelete="CASCADE"), index=True
    )
    # The object a provider is sent for this image; a result naming it maps back to virtual_image_id.
    s3_key: Mapped[str] = mapped_column(String(1024))
    upload_order: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UploadRefusal(db.Model):
    """A file of a job the server refused at upload: nothing of it was stored, so its name, its place
    in the upload order and why are all there is to show. A file later stored at that place ends it."""

    __tablename__ = "bulk_job_refusals"
    __table_args__ = (UniqueConstraint("job_id", "upload_order", name="uq_bulk_job_refusals_order"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nsfw_bulk_jobs.id", ondelete="CASCADE"))
    upload_order: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    error_code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
