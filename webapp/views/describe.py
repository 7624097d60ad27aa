"""The JSON shapes /api/openapi.json documents for photos, jobs and batch uploads."""

from flask_login import current_user

from webapp.models import Appeal, BulkJob, ModerationReview, PhotoSession, S3Image, VirtualImage
from webapp.services.banks.hash_matching import HASH_MATCH
from webapp.services.jobs.bulk_jobs import JobPage
from webapp.services.moderation.moderation_details import (
    labels_for,
    labels_frame,
    may_see_moderation_details,
    second_opinion_for,
)
from webapp.services.photos.photos import iso
from webapp.services.photos.uploads import BatchResult
from webapp.views.links import image_url, job_url

COUNTERS = ("total", "pending", "approved", "flagged", "rejected", "failed", "refused", "processed")


def describe_batch_result(result: BatchResult) -> dict:
    return {
        "images": [
            {
                "virtual_image_id": str(photo.virtual_image_id),
                "session_id": str(photo.session_id),
                "upload_order": photo.upload_order,
                "filename": photo.filename,
            }
            for photo in result.accepted
        ],
        "rejected": [
            refused_file(refusal.filename, refusal.upload_order, refusal.error.code, refusal.error.message)
            for refusal in result.refused
        ],
    }


def refused_file(filename: str, upload_order: int, code: str, message: str) -> dict:
    """A file the server refused at upload, and why."""
    return {"filename": filename, "upload_order": upload_order, "error": {"code": code, "message": message}}


def describe_job_status(job: BulkJob, page: JobPage | None) -> dict:
    """A job's counters and, when given, one page of its images and its first refused files."""
    body = {
        "job_id": str(job.id),
        "url": job_url(job),
        "status": job.status.value,
        "provider": job.provider,
        **{name: getattr(job, name) for name in COUNTERS},
        "callback_url": job.callback_url,
        "error": job.error,
        "notes": job.notes or [],
        "created_at": iso(job.created_at),
        "submitted_at": iso(job.submitted_at),
        "completed_at": iso(job.completed_at),
    }
    if page is not None:
        body |= {
            "images": [_describe_row(*row) for row in page.rows],
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
            "refused_files": [
                refused_file(refusal.filename, refusal.upload_order, refusal.error_code, refusal.message)
                for refusal in page.refusals
            ],
        }
    return body


def _describe_row(mapping, virtual_image, session) -> dict:
    return {
        "virtual_image_id": str(virtual_image.id),
        "session_id": str(session.session_id),
        "upload_order": mapping.upload_order,
        "filename": virtual_image.original_filename,
        "processing_status": session.status.value,
        "moderation_status": virtual_image.moderation_status.value,
        "is_nsfw": virtual_image.is_nsfw,
        "labels": labels_for(virtual_image, current_user),
        "model_version": virtual_image.model_version,
        "error": virtual_image.moderation_error or session.error,
    }


def describe_image(image: S3Image) -> dict:
    return {
        "image_id": str(image.image_id),
        "kind": image.kind.value,
        "key": image.key,
        "url": image_url(image),
        "content_type": image.content_type,
        "width": image.width,
        "height": image.height,
        "bytes": image.bytes,
    }


def describe_moderation(virtual_image: VirtualImage | None) -> dict | None:
    if virtual_image is None:
        return None
    return {
        "virtual_image_id": str(virtual_image.id),
        "status": virtual_image.moderation_status.value,
        "is_nsfw": virtual_image.is_nsfw,
        "labels": labels_for(virtual_image, current_user),
        "frame": labels_frame(virtual_image, current_user),
        "second_opinion": second_opinion_for(virtual_image, current_user),
        "model_version": virtual_image.model_version,
        "source": virtual_image.source,
        "sha256": virtual_image.sha256,
        "pdq_hash": virtual_image.pdq_hash,
        "pdq_quality": virtual_image.pdq_quality,
        **_decided_without_provider(virtual_image),
        "reviews": [describe_review(review) for review in virtual_image.reviews],
        "appeal": describe_appeal(virtual_image.appeal) if virtual_image.appeal else None,
    }


def _decided_without_provider(virtual_image: VirtualImage) -> dict:
    """What decided an image in place of its provider, for those who may see it: the bank match
    (those who moderate: banks are their lists) and the earlier image with the same bytes (if theirs
    to see)."""
    details: dict = {"match": None, "duplicate_of": None}
    if virtual_image.source == HASH_MATCH and may_see_moderation_details(current_user):
        details["match"] = (virtual_image.rekognition_data or {}).get("HashMatch")
    earlier = virtual_image.duplicate_of
    if earlier is not None and (current_user.is_moderator or earlier.session.owner_id == current_user.id):
        details["duplicate_of"] = str(earlier.id)
    return details


def describe_review(review: ModerationReview) -> dict:
    """A person's decision: who decided and their internal note only for those who moderate; the
    verdict, its time and the message left for the uploader for everyone who sees the photo."""
    full = may_see_moderation_details(current_user)
    return {
        "virtual_image_id": str(review.virtual_image_id),
        "verdict_before": review.verdict_before,
        "verdict_after": review.verdict_after,
        "reviewer": review.reviewer_email if full else None,
        "note": review.note if full else None,
        "message": review.message,
        "reviewed_at": iso(review.created_at),
    }


def describe_appeal(appeal: Appeal) -> dict:
    """The uploader's appeal and how it ended: who decided it only for those who moderate."""
    described = {
        "status": appeal.status,
        "message": appeal.message,
        "created_at": iso(appeal.created_at),
        "decided_at": iso(appeal.decided_at),
        "reply": appeal.reply,
    }
    if may_see_moderation_details(current_user):
        described["decided_by"] = appeal.decided_by.email if appeal.decided_by else None
    return described


def describe_session(session: PhotoSession) -> dict:
    """The API's view of a photo (GET /api/photos/<session_id> in /api/openapi.json)."""
    return {
        "session_id": str(session.session_id),
        "status": session.status.value,
        "original_image_id": _str_or_none(session.original_image_id),
        "processed_image_id": _str_or_none(session.processed_image_id),
        "error": session.error,
        "created_at": iso(session.created_at),
        "completed_at": iso(session.completed_at),
        "images": [describe_image(image) for image in session.images],
        "moderation": describe_moderation(session.virtual_image),
    }


def _str_or_none(value) -> str | None:
    return None if value is None else str(value)
