"""An uploader's appeal of a verdict on their photo, and how it ended."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import utcnow, value_enum


class AppealOutcome(enum.StrEnum):
    UPHELD = "upheld"  # the verdict stands
    OVERTURNED = "overturned"  # the photo was approved


class Appeal(db.Model):
    """One per image at most: an uploader appeals once, and the decision on the appeal is final.

    It must be decided by someone other than the person whose decision it appeals
    (`appealed_reviewer_id`; none when a machine decided).
    """

    __tablename__ = "appeals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    virtual_image_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("virtual_images.id", ondelete="CASCADE"), unique=True
    )
    appellant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text)
    verdict_appealed: Mapped[str] = mapped_column(String(20))
    appealed_reviewer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    outcome: Mapped[AppealOutcome | None] = mapped_column(
        value_enum(AppealOutcome, "appeal_outcome", native_enum=False, length=20)
    )
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What the moderator who decided told the uploader (the uploader never learns who it was).
    reply: Mapped[str | None] = mapped_column(Text)

    # Who decided it: for those who moderate, never for the uploader.
    decided_by: Mapped["User | None"] = relationship(viewonly=True, foreign_keys=[decided_by_id])  # noqa: F821

    @property
    def is_pending(self) -> bool:
        return self.decided_at is None

    @property
    def status(self) -> str:
        """`pending` until decided, then its outcome: `upheld` or `overturned`."""
        return "pending" if self.outcome is None else self.outcome.value
