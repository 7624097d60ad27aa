"""Webhooks in (every accepted delivery, for idempotency), notifications out (a delivery log), and reviews."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import JsonDocument, utcnow


class WebhookEvent(db.Model):
    """A moderation callback we accepted; its unique `webhook_id` makes a replay change nothing."""

    __tablename__ = "webhook_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    webhook_id: Mapped[str] = mapped_column(String(255), unique=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    virtual_image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("virtual_images.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict] = mapped_column(JsonDocument)
    # applied (rows from before callbacks were scoped may also say ignored_reviewed or ignored_stale)
    result: Mapped[str] = mapped_column(String(30))


class ModerationReview(db.Model):
    """One decision by a person: who, when, the verdict before and after, why (an internal note) and
    what the reviewer told the uploader (a message: the only part of the decision they read besides
    the verdict and its time)."""

    __tablename__ = "moderation_reviews"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    virtual_image_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("virtual_images.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as written, so the audit line survives the reviewer's account.
    reviewer_email: Mapped[str] = mapped_column(String(320))
    verdict_before: Mapped[str] = mapped_column(String(20))
    verdict_after: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(db.Model):
    """One attempt to deliver a job's notification to its callback URL."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nsfw_bulk_jobs.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(50))
    url: Mapped[str] = mapped_column(Text)
    attempt: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(default=False)
    next_retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
