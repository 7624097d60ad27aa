"""What a person uploaded, as moderation sees it: one per photo, its bytes under its session."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.photos import PhotoSession
from webapp.models.types import JsonDocument, utcnow, value_enum


class ModerationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    FLAGGED = "flagged"
    REJECTED = "rejected"
    ERROR = "error"


class VirtualImage(db.Model):
    __tablename__ = "virtual_images"
    __table_args__ = (Index("ix_virtual_images_status_created", "moderation_status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("photo_processing_sessions.session_id", ondelete="CASCADE"), unique=True
    )
    # Display only: never used to build a storage key, always escaped when shown.
    original_filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The PDQ hash of the processed pixels (64 hex digits) and its quality 0-100; set by the worker.
    pdq_hash: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None]
    # What decided it without a provider: a bank entry it matched, or an earlier image with its bytes.
    matched_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(
            "hash_bank_entries.id",
            ondelete="SET NULL",
            use_alter=True,
            name="fk_virtual_images_matched_entry",
        ),
        index=True,
    )
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("virtual_images.id", ondelete="SET NULL", name="fk_virtual_images_duplicate_of")
    )
    moderation_status: Mapped[ModerationStatus] = mapped_column(
        value_enum(ModerationStatus, "moderation_status"),
        default=ModerationStatus.PENDING,
        index=True,
    )
    is_nsfw: Mapped[bool | None]
    # The moderation provider's whole answer, in Rekognition's shape.
    rekognition_data: Mapped[dict | None] = mapped_column(JsonDocument)
    model_version: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(20))
    provider: Mapped[str | None] = mapped_column(String(30))
    moderation_error: Mapped[str | None] = mapped_column(Text)
    # The external provider: when the image was handed over, when it must have answered, and when
    # the service sent the callback that decided it (only one can: the first decides the image).
    external_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    external_deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    external_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Review work: the moderator who holds the image while they decide it (a lease: once
    # claimed_until passes, it is anyone's again), and when and why it was passed to the admins.
    claimed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalation_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    session: Mapped[PhotoSession] = relationship(back_populates="virtual_image")
    # The image's row in its bulk job, if it came in one (read-only here: jobs write their rows).
    job_entry: Mapped["BulkJobImage | None"] = relationship(viewonly=True)  # noqa: F821
    matched_entry: Mapped["BankEntry | None"] = relationship(  # noqa: F821
        viewonly=True, foreign_keys=[matched_entry_id]
    )
    duplicate_of: Mapped["VirtualImage | None"] = relationship(viewonly=True, remote_side=[id])
    # Every decision a person made on it, oldest first (read-only here: reviews write their rows).
    reviews: Mapped[list["ModerationReview"]] = relationship(  # noqa: F821
        viewonly=True, order_by="ModerationReview.created_at"
    )
    # The uploader's appeal, if they made one (there is at most one).
    appeal: Mapped["Appeal | None"] = relationship(viewonly=True)  # noqa: F821
    # The hashes of its sampled frames after the first, when it is an animation.
    frames: Mapped[list["FrameFingerprint"]] = relationship(  # noqa: F821
        viewonly=True, order_by="FrameFingerprint.frame_index"
    )
    claimed_by: Mapped["User | None"] = relationship(viewonly=True, foreign_keys=[claimed_by_id])  # noqa: F821

    @property
    def labels(self) -> list[dict]:
        """The moderation labels, in Rekognition's shape (empty until a provider answered)."""
        return (self.rekognition_data or {}).get("ModerationLabels", [])
