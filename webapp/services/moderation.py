"""Moderating photos and writing verdicts back by virtual_image_id, through the policy in force.

A verdict is written only over `pending`, in the statement that checks it, so a result that
arrives twice (a retried job, a replayed callback) is applied once and counted once.
"""

import uuid

from PIL import Image
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import ImageKind, ModerationStatus, PhotoSession, S3Image, VirtualImage
from webapp.models.types import utcnow
from webapp.moderation import ModerationFailed, ModerationResult
from webapp.moderation import providers as moderation_providers
from webapp.moderation.rekognition import StoredObject, rekognition_source
from webapp.services import bulk_jobs, external_moderation, job_counters, notifications

NSFW_VERDICTS = frozenset({ModerationStatus.FLAGGED, ModerationStatus.REJECTED})


def moderate_photo(session: PhotoSession, pixels: Image.Image) -> None:
    """Ask the photo's provider and record its verdict; job-level providers answer later.

    ModerationUnavailable propagates so the job is retried; ModerationFailed ends the image `error`.
    """
    virtual_image = db.session.scalar(
        select(VirtualImage).where(VirtualImage.session_id == session.session_id)
    )
    if virtual_image is None or virtual_image.moderation_status != ModerationStatus.PENDING:
        return
    if virtual_image.provider in moderation_providers.JOB_LEVEL_PROVIDERS:
        return
    if virtual_image.provider == moderation_providers.EXTERNAL:
        if virtual_image.external_requested_at is None:
            external_moderation.hand_over(virtual_image)
        return
    try:
        result = _ask(virtual_image.provider, session, pixels)
    except ModerationFailed as exc:
        record_error(virtual_image.id, f"Not moderated: {exc}")
        return
    record_result(virtual_image.id, result)


def _ask(provider: str, session: PhotoSession, pixels: Image.Image) -> ModerationResult:
    if provider == moderation_providers.REKOGNITION:
        source = rekognition_source(
            stored_object(session.image(ImageKind.ORIGINAL)),
            stored_object(session.image(ImageKind.THUMBNAIL_ORIGINAL)),
        )
        return moderation_providers.rekognition_moderator().moderate(source)
    return moderation_providers.local_model().moderate(pixels)


def stored_object(image: S3Image | None) -> StoredObject | None:
    """The provider-facing description of a stored image."""
    if image is None:
        return None
    return StoredObject(image.bucket, image.key, image.content_type, image.width, image.height, image.bytes)


def record_result(virtual_image_id: uuid.UUID, result: ModerationResult) -> ModerationStatus | None:
    """Apply a provider's answer through the policy; returns the verdict, or None if already decided."""
    verdict = moderation_providers.policy().verdict(result.labels)
    applied = _decide(
        virtual_image_id,
        moderation_status=verdict,
        is_nsfw=verdict in NSFW_VERDICTS,
        rekognition_data=result.answer,
        model_version=result.model_version,
        source=result.source,
        moderation_error=None,
    )
    return verdict if applied else None


def record_error(virtual_image_id: uuid.UUID, reason: str) -> bool:
    """The image could not be moderated: `error`, never approved by default."""
    return _decide(
        virtual_image_id, moderation_status=ModerationStatus.ERROR, is_nsfw=None, moderation_error=reason
    )


def _decide(virtual_image_id: uuid.UUID, **values) -> bool:
    applied = db.session.execute(
        update(VirtualImage)
        .where(
            VirtualImage.id == virtual_image_id, VirtualImage.moderation_status == ModerationStatus.PENDING
        )
        .values(**values, updated_at=utcnow())
    ).rowcount
    job_id = bulk_jobs.job_of(virtual_image_id) if applied else None
    if job_id:
        job_counters.count_outcomes(job_id, {values["moderation_status"]: 1})
    db.session.commit()
    if job_id:
        notifications.job_maybe_finished(job_id)
    return bool(applied)


def top_labels(virtual_image: VirtualImage, count: int = 3) -> list[dict]:
    """The image's most confident labels, for lists and tables."""
    labels = (virtual_image.rekognition_data or {}).get("ModerationLabels", [])
    return sorted(labels, key=lambda item: item["Confidence"], reverse=True)[:count]
