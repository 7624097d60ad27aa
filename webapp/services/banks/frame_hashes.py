"""An animation's frame hashes as kept: written by the worker, read by review banking."""

from sqlalchemy import delete

from webapp.extensions import db
from webapp.imaging.animation import FrameFingerprint as SampledFrame
from webapp.models import FrameFingerprint, VirtualImage


def replace(image: VirtualImage | None, frames: list[SampledFrame]) -> None:
    """Keep these as the image's frame hashes, in place of any an earlier run of its job kept.

    A still image has none, and never had any (its bytes are the same on every run): no statement.
    """
    if image is None or not frames:
        return
    db.session.execute(delete(FrameFingerprint).where(FrameFingerprint.virtual_image_id == image.id))
    db.session.add_all(
        FrameFingerprint(
            virtual_image_id=image.id,
            frame_index=frame.index,
            pdq_hash=frame.fingerprint.pdq,
            pdq_quality=frame.fingerprint.quality,
        )
        for frame in frames
    )
    db.session.commit()
