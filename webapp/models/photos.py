"""A photo's processing session (its S3 prefix) and the stored objects under that prefix."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import utcnow, value_enum


class SessionStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (SessionStatus.COMPLETED, SessionStatus.FAILED)


class ImageKind(enum.StrEnum):
    ORIGINAL = "original"
    THUMBNAIL_ORIGINAL = "thumbnail_original"
    PROCESSED = "processed"
    THUMBNAIL_PROCESSED = "thumbnail_processed"


class PhotoSession(db.Model):
    """Created and committed before any byte is stored: `session_id` is the photo's S3 prefix."""

    __tablename__ = "photo_processing_sessions"
    __table_args__ = (Index("ix_sessions_owner_created", "owner_id", "created_at"),)

    session_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[SessionStatus] = mapped_column(
        value_enum(SessionStatus, "session_status"), default=SessionStatus.PENDING, index=True
    )
    original_image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(
            "s3_images.image_id", ondelete="CASCADE", use_alter=True, name="fk_sessions_original_image"
        )
    )
    processed_image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(
            "s3_images.image_id", ondelete="SET NULL", use_alter=True, name="fk_sessions_processed_image"
        )
    )
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    images: Mapped[list["S3Image"]] = relationship(
        back_populates="session",
        foreign_keys="S3Image.session_id",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="S3Image.created_at",
    )

    # What moderation makes of the photo: one per session, deleted with it by the database.
    virtual_image: Mapped["VirtualImage | None"] = relationship(  # noqa: F821
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )

    # Set when the client sends the original straight to the bucket.
    direct_upload: Mapped["DirectUpload | None"] = relationship(  # noqa: F821
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def prefix(self) -> str:
        return f"{self.session_id}/"

    def image(self, kind: ImageKind) -> "S3Image | None":
        return next((image for image in self.images if image.kind == kind), None)


class S3Image(db.Model):
    """One stored object of a photo; its key always starts with the session's prefix."""

    __tablename__ = "s3_images"
    __table_args__ = (UniqueConstraint("session_id", "kind", name="uq_s3_images_session_kind"),)

    image_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("photo_processing_sessions.session_id", ondelete="CASCADE")
    )
    kind: Mapped[ImageKind] = mapped_column(value_enum(ImageKind, "image_kind"))
    bucket: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(1024), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    session: Mapped[PhotoSession] = relationship(back_populates="images", foreign_keys=[session_id])
