"""The moderation audit log: every decision, claim, release, escalation and appeal, as it happened."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import utcnow, value_enum


class AuditKind(enum.StrEnum):
    DECISION = "decision"  # a verdict: by a machine, a bank, a vendor or a person
    CLAIM = "claim"
    TAKEOVER = "takeover"  # an admin took a claim another moderator held
    RELEASE = "release"
    ESCALATION = "escalation"
    APPEAL = "appeal"  # an uploader appealed
    APPEAL_DECISION = "appeal_decision"
    CANCEL = "cancel"  # an admin cancelled the image's job before it was moderated: pending → error
    REOPEN = "reopen"  # an admin requeued a photo whose moderation failed: it waits for a provider again


class AuditEvent(db.Model):
    """Who (a person, or the provider that decided), when, what, before → after, and a note.

    Written in the transaction of what it records, and never changed. It names the image by id
    without a foreign key, and its actor by email or provider name as written: the log outlives
    the photos and accounts it speaks of.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_image_at", "virtual_image_id", "at"),
        Index("ix_audit_events_actor_at", "actor_id", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    kind: Mapped[AuditKind] = mapped_column(value_enum(AuditKind, "audit_kind", native_enum=False, length=30))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    virtual_image_id: Mapped[uuid.UUID | None]
    before: Mapped[str | None] = mapped_column(String(40))
    after: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
