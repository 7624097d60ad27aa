"""PDQ fingerprints for photos processed before the worker computed them (the worker sets new ones)."""

import io
import logging

from PIL import Image
from sqlalchemy import select

from webapp.extensions import db
from webapp.imaging import fingerprint
from webapp.models import ImageKind, PhotoSession, S3Image, VirtualImage
from webapp.storage import ObjectMissing, get_storage

log = logging.getLogger(__name__)
BATCH = 200


def backfill() -> int:
    """Fingerprint every processed photo that has none, from its processed AVIF; returns how many.

    Safe to run again, or beside the workers: it only fills hashes that are still missing, walking
    the images in id order so one whose processed object is gone is logged and passed, not retried.
    """
    done, after = 0, None
    while rows := _missing(after):
        for image, key in rows:
            try:
                found = fingerprint(Image.open(io.BytesIO(get_storage().get(key))))
            except ObjectMissing:
                log.warning(
                    "processed image missing, not fingerprinted", extra={"virtual_image_id": str(image.id)}
                )
                continue
            image.pdq_hash, image.pdq_quality = found.pdq, found.quality
            done += 1
        db.session.commit()
        after = rows[-1][0].id
    return done


def _missing(after) -> list:
    """The next images without a fingerprint that have a processed object, with its key."""
    query = (
        select(VirtualImage, S3Image.key)
        .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
        .join(S3Image, S3Image.image_id == PhotoSession.processed_image_id)
        .where(VirtualImage.pdq_hash.is_(None), S3Image.kind == ImageKind.PROCESSED)
        .order_by(VirtualImage.id)
        .limit(BATCH)
    )
    return list(db.session.execute(query if after is None else query.where(VirtualImage.id > after)).all())
