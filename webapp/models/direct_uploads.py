"""A photo whose client sends its bytes straight to the bucket: what it declared, and whether it is done."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import utcnow


class DirectUpload(db.Model):
    """Made with its session, before any byte is sent; the original's rows are made when it completes.

    Kept after completion (`completed_at`): the worker checks a direct upload's whole file again, as
    the web saw only its first bytes.
    """

    __tablename__ = "direct_uploads"
    # An upload order is held from the moment it is handed out, so no two uploads can complete into it.
    __table_args__ = (UniqueConstraint("job_id", "upload_order", name="uq_direct_uploads_job_order"),)

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("photo_processing_sessions.session_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(1024))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(30))
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nsfw_bulk_jobs.id", ondelete="CASCADE"))
    upload_order: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    session: Mapped["PhotoSession"] = relationship(back_populates="direct_upload")  # noqa: F821
