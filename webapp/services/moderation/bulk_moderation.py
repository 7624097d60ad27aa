"""Rekognition's bulk analysis for a whole job: manifest, start, scheduled polls, results by id.

Results go back by database id, never by path: each output line names its `source-ref`, the
unique `s3_key` of one `bulk_job_virtual_images` row, and so one `virtual_image_id`.
"""

import logging
import uuid
from collections import Counter

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import (
    BulkJob,
    BulkJobImage,
    ImageKind,
    ModerationStatus,
    S3Image,
    VirtualImage,
)
from webapp.models.types import utcnow
from webapp.providers import ModerationFailed, registry, rekognition_bulk
from webapp.providers.rekognition import rekognition_source
from webapp.providers.rekognition_bulk import ManifestEntry
from webapp.queue import POLL_BULK_MODERATION as POLL
from webapp.queue import enqueue_job_step
from webapp.services import verdicts
from webapp.services.moderation import photo_moderation, second_opinion
from webapp.storage import get_storage

log = logging.getLogger(__name__)
# The provider the audit log names for an image the job-level analysis could not moderate.
BULK = registry.RekognitionBulk.name


def start_analysis(job_id: uuid.UUID) -> None:
    """Write the manifest under jobs/{job_id}/, start the analysis once, and schedule its first poll."""
    job = db.session.get(BulkJob, job_id)
    if job is None or job.status.is_terminal:
        return
    if job.provider_job_id is None:
        entries = _manifest_entries(job_id)
        bucket = get_storage().bucket
        manifest = rekognition_bulk.build_manifest(bucket, entries)
        get_storage().put(rekognition_bulk.manifest_key(job_id), manifest, "application/jsonl")
        minimum = current_app.config["MODERATION_MIN_CONFIDENCE"]
        job.provider_job_id = rekognition_bulk.start_analysis(
            registry.rekognition_client(), job_id, bucket, minimum
        )
        db.session.commit()
    _schedule_poll(job_id)


def _schedule_poll(job_id: uuid.UUID) -> None:
    # A poll is a scheduled job, not a worker sleeping; each has its own id, because the one
    # running now must not be overwritten by the one it schedules.
    enqueue_job_step(
        POLL, job_id, f"bulk-poll-{uuid.uuid4().hex[:8]}", delay=current_app.config["BULK_POLL_SECONDS"]
    )


def _manifest_entries(job_id: uuid.UUID) -> list:
    """One entry per pending image: the object Rekognition can read (the original or its JPEG)."""
    original, thumbnail = aliased(S3Image), aliased(S3Image)
    rows = db.session.execute(
        select(BulkJobImage, original, thumbnail)
        .join(VirtualImage, VirtualImage.id == BulkJobImage.virtual_image_id)
        .join(
            original, (original.session_id == VirtualImage.session_id) & (original.kind == ImageKind.ORIGINAL)
        )
        .outerjoin(
            thumbnail,
            (thumbnail.session_id == VirtualImage.session_id)
            & (thumbnail.kind == ImageKind.THUMBNAIL_ORIGINAL),
        )
        .where(BulkJobImage.job_id == job_id, VirtualImage.moderation_status == ModerationStatus.PENDING)
        .order_by(BulkJobImage.upload_order)
    ).all()
    entries = []
    for mapping, original_image, thumbnail_image in rows:
        try:
            source = rekognition_source(
                photo_moderation.stored_object(original_image),
                photo_moderation.stored_object(thumbnail_image),
            )
        except ModerationFailed as exc:
            verdicts.record_error(mapping.virtual_image_id, f"Not moderated: {exc}", BULK)
            continue
        mapping.s3_key = source.key
        entries.append(ManifestEntry(mapping.virtual_image_id, source.key, mapping.upload_order))
    db.session.commit()
    return entries


def poll(job_id: uuid.UUID) -> None:
    """Check the analysis; write its results back when it is done, else poll again later."""
    job = db.session.get(BulkJob, job_id)
    if job is None or job.status.is_terminal or job.provider_job_id is None:
        return
    status = rekognition_bulk.get_analysis(registry.rekognition_client(), job.provider_job_id)
    if status.state == "running":
        # Touched on every poll: the reconciler only restarts polling for a job quiet for long.
        job.updated_at = utcnow()
        db.session.commit()
        _schedule_poll(job_id)
    elif status.state == "failed":
        fail_pending(job_id, f"Rekognition's bulk analysis failed: {status.failure}")
    else:
        storage = get_storage()
        summary = storage.get(status.summary_key) if status.summary_key else None
        outcome = rekognition_bulk.read_outcome(
            _pending_entries(job_id), storage.bucket, storage.get(status.results_key), summary
        )
        write_outcome(job_id, outcome)


def _pending_entries(job_id: uuid.UUID) -> list:
    rows = db.session.execute(
        select(BulkJobImage.virtual_image_id, BulkJobImage.s3_key, BulkJobImage.upload_order)
        .join(VirtualImage, VirtualImage.id == BulkJobImage.virtual_image_id)
        .where(BulkJobImage.job_id == job_id, VirtualImage.moderation_status == ModerationStatus.PENDING)
        .order_by(BulkJobImage.upload_order)
    ).all()
    return [ManifestEntry(*row) for row in rows]


def write_outcome(job_id: uuid.UUID, outcome) -> Counter:
    """Write every result and error by virtual_image_id (one statement), then the job's counters."""
    policy = registry.policy()
    # Only the results in the cascade's band go on to the second provider; the rest are decided here.
    escalated = second_opinion.hand_over_uncertain(BULK, outcome.results)
    outcomes = {
        image_id: verdicts.judged(result, policy)
        for image_id, result in outcome.results.items()
        if image_id not in escalated
    }
    outcomes |= {image_id: verdicts.failed(error, BULK) for image_id, error in outcome.errors.items()}
    notes = [f"Result for an object not in this job: {ref}" for ref in outcome.unknown]
    notes += [f"Duplicate result ignored for {ref}" for ref in outcome.duplicates]
    if notes:
        log.warning("bulk results that map to no image: %s", notes, extra={"job_id": str(job_id)})
        job = db.session.get(BulkJob, job_id)
        job.notes = [*(job.notes or []), *notes]
    return verdicts.record(outcomes, job_id)


def fail_pending(job_id: uuid.UUID, reason: str) -> None:
    """The provider's job failed: every image still pending ends `error`, and the job `failed`."""
    # The job's error is what makes the counters end it `failed` rather than completed.
    db.session.execute(update(BulkJob).where(BulkJob.id == job_id).values(error=reason))
    outcomes = {entry.virtual_image_id: verdicts.failed(reason, BULK) for entry in _pending_entries(job_id)}
    verdicts.record(outcomes, job_id)
