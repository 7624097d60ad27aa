"""The PDQ hashes of an animation's sampled frames after the first, where matching and banks find them."""

import uuid

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


class FrameFingerprint(db.Model):
    """One sampled frame's hash; the first frame's is the image's own `pdq_hash`, never a row here."""

    __tablename__ = "frame_fingerprints"

    virtual_image_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("virtual_images.id", ondelete="CASCADE"), primary_key=True
    )
    # Its index in the file, counting from 0 (the first frame).
    frame_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pdq_hash: Mapped[str] = mapped_column(String(64))
    pdq_quality: Mapped[int] = mapped_column(Integer)
