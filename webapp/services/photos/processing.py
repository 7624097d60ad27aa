"""The worker's pipeline for one photo: derivatives under the photo's prefix, then a terminal state.

Safe to run twice: a terminal session is left alone, keys are fixed per kind, and each derivative
row is an upsert on (session_id, kind), so a retried or duplicated job makes nothing twice.

Each processed photo logs one INFO line with its wall and CPU milliseconds and those of its steps:
where a worker's time goes (bench/throughput.py reads these lines).
"""

import hashlib
import io
import logging
import uuid

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from webapp.extensions import db
from webapp.imaging import (
    Derivatives,
    InvalidImage,
    RenderSettings,
    Rendition,
    inspect_upload,
    make_derivatives,
)
from webapp.imaging.animation import later_frames
from webapp.models import BulkJobImage, ImageKind, PhotoSession, S3Image, SessionStatus, User, VirtualImage
from webapp.models.types import utcnow
from webapp.services import verdicts
from webapp.services.banks import frame_hashes
from webapp.services.jobs import job_progress
from webapp.services.moderation import photo_moderation
from webapp.services.photos.uploads import upload_limits
from webapp.storage import ObjectMissing, get_storage
from webapp.timings import Stopwatch

log = logging.getLogger(__name__)

DERIVATIVE_NAMES = {
    ImageKind.THUMBNAIL_ORIGINAL: "thumbnail_original.jpg",
    ImageKind.PROCESSED: "processed.avif",
    ImageKind.THUMBNAIL_PROCESSED: "thumbnail_processed.jpg",
}


def process_session(session_id: uuid.UUID) -> None:
    """Make the photo's derivatives, moderate it, and mark it completed; or failed if it cannot be."""
    stopwatch = Stopwatch()
    with stopwatch.step("database"):
        session = db.session.get(PhotoSession, session_id)
        if session is None or session.status.is_terminal:
            log.info("nothing to do", extra={"session_id": str(session_id)})
            return
        if not _start(session_id):
            return
        original = session.image(ImageKind.ORIGINAL)
    if original is None:
        return fail_session(session_id, "The original was never stored.")
    try:
        with stopwatch.step("storage"):
            data = get_storage().get(original.key)
        if session.direct_upload is not None:
            with stopwatch.step("validation"):
                _check_sent_file(session, original, data)
        settings = render_settings()
        derivatives = make_derivatives(data, settings, stopwatch.steps)
        with stopwatch.step("frames"):
            # One walk hashes the frames for the banks and keeps them small for the provider.
            frames = later_frames(data, settings, photo_moderation.frame_side(session))
    except ObjectMissing:
        return fail_session(session_id, "The original is missing from storage.")
    except InvalidImage as exc:
        # The photo itself can never be processed; anything else raised here is retried.
        return fail_session(session_id, f"The photo could not be processed: {exc.message}")
    _store_derivatives(session, derivatives, stopwatch)
    with stopwatch.step("database"):
        frame_hashes.replace(session.virtual_image, frames)
    # Includes what decides a photo before its provider: the bank lookup and earlier verdicts.
    with stopwatch.step("moderation"):
        photo_moderation.moderate_photo(session, derivatives.pixels, frames)
    with stopwatch.step("database"):
        _complete(session)
    log.info("photo processed %s", stopwatch.summary(), extra={"session_id": str(session_id)})


def _check_sent_file(session: PhotoSession, original: S3Image, data: bytes) -> None:
    """A file the client sent straight to the bucket was checked by its first bytes: check all of it
    by the upload's rules, and record the SHA-256 and sizes it really has (InvalidImage if refused)."""
    info = inspect_upload(io.BytesIO(data), upload_limits(), decode=False)
    if (original.sha256, original.width, original.height) == (info.sha256, info.width, info.height):
        return
    if original.sha256 != info.sha256:
        log.info("the file sent is not the one declared", extra={"session_id": str(session.session_id)})
    original.sha256, original.width, original.height = info.sha256, info.width, info.height
    session.virtual_image.sha256 = info.sha256
    db.session.commit()


def render_settings() -> RenderSettings:
    config = current_app.config
    return RenderSettings(
        max_side=config["PROCESSED_MAX_SIDE"],
        thumbnail_side=config["THUMBNAIL_SIDE"],
        decode_memory=config["PROCESSING_MEMORY_BYTES"],
        decode_seconds=config["PROCESSING_CPU_SECONDS"],
        animation_frames=config["ANIMATION_SAMPLE_FRAMES"],
    )


def _store_derivatives(session: PhotoSession, derivatives: Derivatives, stopwatch: Stopwatch) -> None:
    renditions = {
        session.prefix + DERIVATIVE_NAMES[kind]: (kind, rendition)
        for kind, rendition in (
            (ImageKind.THUMBNAIL_ORIGINAL, derivatives.thumbnail_original),
            (ImageKind.PROCESSED, derivatives.processed),
            (ImageKind.THUMBNAIL_PROCESSED, derivatives.thumbnail_processed),
        )
    }
    with stopwatch.step("storage"):
        get_storage().put_all(
            {key: (rendition.data, rendition.content_type) for key, (_, rendition) in renditions.items()}
        )
    with stopwatch.step("database"):
        image_ids = _upsert_images(session.session_id, renditions)
        session.processed_image_id = image_ids[ImageKind.PROCESSED]
        if session.virtual_image is not None:
            session.virtual_image.pdq_hash = derivatives.fingerprint.pdq
            session.virtual_image.pdq_quality = derivatives.fingerprint.quality
        db.session.commit()


def _complete(session: PhotoSession) -> None:
    _end(session.session_id, SessionStatus.COMPLETED, None)


def _start(session_id: uuid.UUID) -> bool:
    """Mark the session processing unless another copy of its job already ended it."""
    started = _change_unended(session_id, status=SessionStatus.PROCESSING, updated_at=utcnow())
    db.session.commit()
    return started


def _end(session_id: uuid.UUID, status: SessionStatus, error: str | None) -> bool:
    """End the session unless it already ended, and count it in its job in the same transaction.

    Only one of two racing copies of a job counts it, and no crash can leave a photo ended but not
    counted (its job would never end). Returns whether this call ended it.
    """
    values = {"status": status, "error": error, "completed_at": utcnow(), "updated_at": utcnow()}
    ended = _change_unended(session_id, **values)
    job_id = _job_of(session_id) if ended else None
    steps = [job_progress.advance(job_id, processed=1)] if job_id else []
    db.session.commit()
    job_progress.after_commit(*steps)
    return ended


def _change_unended(session_id: uuid.UUID, **values) -> bool:
    """Change a session that has not ended, in one statement (the caller commits); False if it had."""
    changed = db.session.execute(
        update(PhotoSession)
        .where(
            PhotoSession.session_id == session_id,
            PhotoSession.status.in_([SessionStatus.PENDING, SessionStatus.PROCESSING]),
        )
        .values(**values)
    ).rowcount
    return bool(changed)


def _job_of(session_id: uuid.UUID) -> uuid.UUID | None:
    return db.session.scalar(
        select(BulkJobImage.job_id)
        .join(VirtualImage, VirtualImage.id == BulkJobImage.virtual_image_id)
        .where(VirtualImage.session_id == session_id)
    )


def _upsert_images(
    session_id: uuid.UUID, renditions: dict[str, tuple[ImageKind, Rendition]]
) -> dict[ImageKind, uuid.UUID]:
    """Insert the derivatives' rows in one statement, refreshing any a previous attempt already made;
    returns the id of each kind's row."""
    bucket = get_storage().bucket
    rows = [
        {
            "image_id": uuid.uuid4(),
            "session_id": session_id,
            "kind": kind,
            "bucket": bucket,
            "key": key,
            "content_type": rendition.content_type,
            "bytes": len(rendition.data),
            "width": rendition.width,
            "height": rendition.height,
            "sha256": hashlib.sha256(rendition.data).hexdigest(),
            "created_at": utcnow(),
        }
        for key, (kind, rendition) in renditions.items()
    ]
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(S3Image).values(rows)
    refreshed = {
        name: statement.excluded[name] for name in ("bytes", "width", "height", "sha256", "content_type")
    }
    upsert = statement.on_conflict_do_update(index_elements=["session_id", "kind"], set_=refreshed)
    returned = db.session.execute(upsert.returning(S3Image.kind, S3Image.image_id))
    return {kind: image_id for kind, image_id in returned}


def fail_session(session_id: uuid.UUID, reason: str) -> None:
    """End the session as failed with a reason a person can read (unless it already ended).

    Its image cannot be moderated either, so it ends `error`, never approved by default.
    """
    db.session.rollback()
    if not _end(session_id, SessionStatus.FAILED, reason):
        return
    log.warning("photo failed: %s", reason, extra={"session_id": str(session_id)})
    virtual_image = _virtual_image(session_id)
    if virtual_image:
        verdicts.record_error(virtual_image.id, f"Not moderated: {reason}")


def give_up(session_id: uuid.UUID, reason: str) -> None:
    """The job's retries ran out: keep what was made, and end the photo and its moderation visibly."""
    db.session.rollback()
    session = db.session.get(PhotoSession, session_id)
    if session is None or session.status.is_terminal:
        return
    if session.processed_image_id is None:
        return fail_session(session_id, reason)
    if session.virtual_image:
        verdicts.record_error(session.virtual_image.id, reason)
    _complete(session)


def reopen(session_id: uuid.UUID, admin: User) -> bool:
    """`admin` puts a failed photo back to `pending` (and its unmoderated image), so a requeued job
    redoes it.

    A photo a person has reviewed keeps its verdict. Returns whether anything was reopened.
    """
    reopened = db.session.execute(
        update(PhotoSession)
        .where(PhotoSession.session_id == session_id, PhotoSession.status == SessionStatus.FAILED)
        .values(status=SessionStatus.PENDING, error=None, completed_at=None, updated_at=utcnow())
    ).rowcount
    image = _virtual_image(session_id)
    if image is None:
        db.session.commit()
        return bool(reopened)
    return verdicts.reopen(image, bool(reopened), admin)


def _virtual_image(session_id: uuid.UUID) -> VirtualImage | None:
    session = db.session.get(PhotoSession, session_id)
    return session.virtual_image if session else None
