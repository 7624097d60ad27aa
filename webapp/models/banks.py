"""Hash banks: named lists of PDQ hashes of images already judged, and what a match of one does."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import utcnow, value_enum

# PDQ's usual match distance (bits of 256), and the most a bank may allow: past it unrelated photos match.
DEFAULT_DISTANCE = 31
MAX_DISTANCE = 52


class BankAction(enum.StrEnum):
    REJECT = "reject"
    FLAG = "flag"


class EntryOrigin(enum.StrEnum):
    REVIEW = "review"
    MANUAL = "manual"
    IMPORT = "import"


class Bank(db.Model):
    __tablename__ = "hash_banks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    action: Mapped[BankAction] = mapped_column(value_enum(BankAction, "bank_action"))
    distance: Mapped[int] = mapped_column(Integer, default=DEFAULT_DISTANCE)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class BankEntry(db.Model):
    """One judged image's hash in a bank; disabling it (a false positive) keeps it on record."""

    __tablename__ = "hash_bank_entries"
    __table_args__ = (
        UniqueConstraint("bank_id", "pdq_hash", name="uq_hash_bank_entries_bank_hash"),
        Index("ix_hash_bank_entries_revision", "revision"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    bank_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hash_banks.id", ondelete="CASCADE"), index=True)
    pdq_hash: Mapped[str] = mapped_column(String(64))
    # Hashes of the image's centre at 95, 90 and 85 % (concatenated hex), when the bank had its pixels:
    # PDQ alone puts a copy cropped 5 % on each side 50-100 bits away, these put it within the distance.
    crop_hashes: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[EntryOrigin] = mapped_column(value_enum(EntryOrigin, "bank_entry_origin"))
    origin_image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("virtual_images.id", ondelete="SET NULL"), index=True
    )
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as written, like a review's reviewer: the record survives the account.
    added_by_email: Mapped[str | None] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The bank revision that added it: workers load what is newer than the revision they hold.
    revision: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    bank: Mapped[Bank] = relationship()
    # The image whose rejection added it, while that image exists (its photo is what pages link to).
    origin_image: Mapped["VirtualImage | None"] = relationship(  # noqa: F821
        viewonly=True, foreign_keys=[origin_image_id]
    )

    def hashes(self) -> list[str]:
        """Every hash this entry matches on: its own, then its crops'."""
        return entry_hashes(self.pdq_hash, self.crop_hashes)


def entry_hashes(pdq_hash: str, crop_hashes: str | None) -> list[str]:
    """An entry's own hash and its crops' (kept as one string of 64-digit hashes)."""
    crops = crop_hashes or ""
    return [pdq_hash] + [crops[start : start + 64] for start in range(0, len(crops), 64)]


class BankRevision(db.Model):
    """One row: how many times entries were added, and an id that changes if the tables are emptied.

    Every transaction that adds entries raises `revision` by one and stamps its rows with it. The
    update locks this row until commit, so revisions become visible in order, and a worker that has
    seen revision N has seen every entry stamped N or less.
    """

    __tablename__ = "hash_bank_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    revision: Mapped[int] = mapped_column(BigInteger)
