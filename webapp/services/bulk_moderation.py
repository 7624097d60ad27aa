"""Rekognition's bulk analysis for a whole job: manifest, start, scheduled polls, results by id.

Results go back by database id, never by path: each output line names its `source-ref`, the
unique `s3_key` of one `bulk_job_virtual_images` row, and so one `virtual_image_id`.
"""

import json
import logging
import uuid
from collections import Counter

from flask import current_app
from sqlalchemy import select, text, update
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import BulkJob, BulkJobImage, ImageKind, JobStatus, ModerationStatus, S3Image, VirtualImage
from webapp.models.types import utcnow
from webapp.moderation import ModerationFailed, providers, rekognition_bulk
from webapp.moderation.rekognition import rekognition_source
from webapp.moderation.rekognition_bulk import ManifestEntry
from webapp.queue import enqueue_job_step
from webapp.services import job_counters, moderation, notifications
from webapp.storage import get_storage

log = logging.getLogger(__name__)

START = "workers.jobs.start_bulk_moderation"
POLL = "workers.jobs.poll_bulk_moderation"


def start(job_id: uuid.UUID) -> None:
    """Queue the start of the job's analysis (every photo of it is processed)."""
    enqueue_job_step(START, job_id, "bulk-start")


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
            providers.rekognition_client(), job_id, bucket, minimum
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
                moderation.stored_object(original_image), moderation.stored_object(thumbnail_image)
            )
        except ModerationFailed as exc:
            moderation.record_error(mapping.virtual_image_id, f"Not moderated: {exc}")
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
    status = rekognition_bulk.get_analysis(providers.rekognition_client(), job.provider_job_id)
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
    """Write every result and error by virtual_image_id in one statement, then the job's counters."""
    policy = providers.policy()
    rows = []
    for virtual_image_id, result in outcome.results.items():
        verdict = policy.verdict(result.labels)
        rows.append((virtual_image_id, verdict, verdict in moderation.NSFW_VERDICTS, result, None))
    rows += [
        (virtual_image_id, ModerationStatus.ERROR, None, None, error)
        for virtual_image_id, error in outcome.errors.items()
    ]
    written = _write_verdicts(rows)
    notes = [f"Result for an object not in this job: {ref}" for ref in outcome.unknown]
    notes += [f"Duplicate result ignored for {ref}" for ref in outcome.duplicates]
    if notes:
        log.warning("bulk results that map to no image: %s", notes, extra={"job_id": str(job_id)})
        job = db.session.get(BulkJob, job_id)
        job.notes = [*(job.notes or []), *notes]
    job_counters.count_outcomes(job_id, written)
    db.session.commit()
    notifications.job_maybe_finished(job_id)
    return written


def _write_verdicts(rows: list[tuple]) -> Counter:
    """Set each still-pending image's verdict; returns how many of each verdict were written."""
    if not rows:
        return Counter()
    if db.engine.dialect.name != "postgresql":
        # The embedded SQLite mode has no arrays to unnest; its batches are small.
        return Counter(status for status in (_write_one(*row) for row in rows) if status)
    ids, statuses, nsfw, data, versions, sources, errors = zip(*(_columns(*row) for row in rows), strict=True)
    written = db.session.execute(
        text(
            """
            UPDATE virtual_images AS v
               SET moderation_status = CAST(r.status AS moderation_status), is_nsfw = r.is_nsfw,
                   rekognition_data = CAST(r.data AS jsonb), model_version = r.model_version,
                   source = r.source, moderation_error = r.error, updated_at = now()
              FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[]), CAST(:nsfw AS boolean[]),
                          CAST(:data AS text[]), CAST(:versions AS text[]), CAST(:sources AS text[]),
                          CAST(:errors AS text[]))
                   AS r(id, status, is_nsfw, data, model_version, source, error)
             WHERE v.id = r.id AND v.moderation_status = 'pending'
         RETURNING r.status
            """
        ),
        {
            "ids": list(ids),
            "statuses": list(statuses),
            "nsfw": list(nsfw),
            "data": list(data),
            "versions": list(versions),
            "sources": list(sources),
            "errors": list(errors),
        },
    ).scalars()
    return Counter(ModerationStatus(status) for status in written)


def _columns(virtual_image_id, verdict, is_nsfw, result, error) -> tuple:
    return (
        str(virtual_image_id),
        verdict.value,
        is_nsfw,
        json.dumps(result.answer) if result else None,
        result.model_version if result else None,
        result.source if result else None,
        error,
    )


def _write_one(virtual_image_id, verdict, is_nsfw, result, error) -> ModerationStatus | None:
    values = {
        "moderation_status": verdict,
        "is_nsfw": is_nsfw,
        "moderation_error": error,
        "updated_at": utcnow(),
    }
    if result:
        values |= {
            "rekognition_data": result.answer,
            "model_version": result.model_version,
            "source": result.source,
        }
    applied = db.session.execute(
        update(VirtualImage)
        .where(
            VirtualImage.id == virtual_image_id, VirtualImage.moderation_status == ModerationStatus.PENDING
        )
        .values(**values)
    ).rowcount
    return verdict if applied else None


def fail_pending(job_id: uuid.UUID, reason: str) -> None:
    """The provider's job failed: every image still pending ends `error`, and so does the job."""
    ids = [entry.virtual_image_id for entry in _pending_entries(job_id)]
    written = _write_verdicts([(image_id, ModerationStatus.ERROR, None, None, reason) for image_id in ids])
    db.session.execute(update(BulkJob).where(BulkJob.id == job_id).values(error=reason))
    job_counters.count_outcomes(job_id, written)
    db.session.execute(
        update(BulkJob)
        .where(
            BulkJob.id == job_id, BulkJob.status.in_([JobStatus.COMPLETED_WITH_ERRORS, JobStatus.COMPLETED])
        )
        .values(status=JobStatus.FAILED)
    )
    db.session.commit()
    notifications.job_maybe_finished(job_id)
