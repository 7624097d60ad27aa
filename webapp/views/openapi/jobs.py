"""Bulk jobs (blueprint `bulk_api`): one-request batches, jobs filled over several requests, their
status; and the shapes of a job and of a batch's files."""

from webapp.models import JobStatus, ModerationStatus, SessionStatus
from webapp.services.jobs.bulk_jobs import REFUSALS_SHOWN
from webapp.views.describe import COUNTERS
from webapp.views.openapi import job_files
from webapp.views.openapi.shapes import (
    CALLBACK_URL,
    JOB_URL,
    NULLABLE_STRING,
    PROVIDER,
    QUEUED_JOB,
    TIME,
    UUID,
    body_object,
    errors,
    json_answer,
    json_body,
    listing,
    merged,
    obj,
    paged,
    paging,
    path_id,
    photo_filters,
    ref,
)


def paths() -> dict:
    """The job operations, by path."""
    job_id = [path_id("job_id")]
    return {
        "/api/bulk-nsfw/upload": {"post": job_files.upload_batch()},
        "/api/bulk-nsfw/jobs": {"get": list_jobs(), "post": create_job()},
        "/api/bulk-nsfw/jobs/{job_id}": {"parameters": job_id, "get": get_job(), "delete": delete_job()},
        "/api/bulk-nsfw/jobs/{job_id}/files": {"parameters": job_id, "post": job_files.add_files()},
        "/api/bulk-nsfw/jobs/{job_id}/check": {"parameters": job_id, "post": job_files.check_files()},
        "/api/bulk-nsfw/jobs/{job_id}/submit": {"parameters": job_id, "post": submit_job()},
        "/api/bulk-nsfw/{job_id}/status": {"parameters": job_id, "get": job_status()},
    }


def list_jobs() -> dict:
    return listing("List your jobs, newest first", "jobs", "Job", "Your jobs.")


def create_job() -> dict:
    return {
        "summary": "Open a job for files sent in several requests",
        "requestBody": json_body(
            body_object({"provider": PROVIDER, "callback_url": CALLBACK_URL})
            | {"additionalProperties": False},
            required=False,
        ),
        "responses": {
            "201": json_answer(
                obj(
                    {
                        "job_id": UUID,
                        "url": JOB_URL,
                        "status": {"const": "uploading"},
                        "provider": {"type": "string"},
                        "callback_url": NULLABLE_STRING,
                    }
                ),
                "The job, open for files; `Location` is its `url`.",
            ),
            **errors(400, 422),
        },
    }


def get_job() -> dict:
    return {
        "summary": "A job: its state and counters",
        "description": "Every answer about a job carries this address as its `url`; the job's "
        "images, a page at a time, are at `/api/bulk-nsfw/{job_id}/status`.",
        "responses": {"200": json_answer(ref("Job"), "The job."), **errors(404)},
    }


def delete_job() -> dict:
    return {
        "summary": "Delete a job with every photo of it",
        "responses": {"204": {"description": "Deleted."}, **errors(404, 503)},
    }


def submit_job() -> dict:
    return {
        "summary": "Close the job to new files and queue its photos",
        "responses": {"202": json_answer(QUEUED_JOB, "Queued."), **errors(404, 409, 503)},
    }


def job_status() -> dict:
    refused_files = {
        "type": "array",
        "items": ref("RefusedFile"),
        "maxItems": REFUSALS_SHOWN,
        "description": f"The first {REFUSALS_SHOWN} files refused at upload, in upload order, with why; "
        "`refused` counts them all. A file stored later at the same upload order is no longer refused.",
    }
    job_page = merged(JOB, paged("images", ref("JobImage"), "pages"), obj({"refused_files": refused_files}))
    return {
        "summary": "A job's counters and one page of its images",
        "parameters": paging() + photo_filters(),
        "responses": {"200": json_answer(job_page, "The job."), **errors(400, 404)},
    }


JOB = obj(
    {
        "job_id": UUID,
        "url": JOB_URL,
        "status": {"type": "string", "enum": [status.value for status in JobStatus]},
        "provider": {"type": "string"},
        **{name: {"type": "integer", "minimum": 0} for name in COUNTERS},
        "failed": {
            "type": "integer",
            "minimum": 0,
            "description": "Stored images whose processing or moderation failed (counted in `total`).",
        },
        "refused": {
            "type": "integer",
            "minimum": 0,
            "description": "Files refused at upload, of which nothing was stored (not in `total`).",
        },
        "callback_url": NULLABLE_STRING,
        "error": NULLABLE_STRING,
        "notes": {"type": "array", "items": {"type": "string"}},
        "created_at": TIME,
        "submitted_at": TIME,
        "completed_at": TIME,
    }
)

JOB_IMAGE = obj(
    {
        "virtual_image_id": UUID,
        "session_id": UUID,
        "upload_order": {"type": "integer"},
        "filename": {"type": "string"},
        "processing_status": {"type": "string", "enum": [status.value for status in SessionStatus]},
        "moderation_status": {"type": "string", "enum": [status.value for status in ModerationStatus]},
        "is_nsfw": {"type": ["boolean", "null"]},
        "labels": {
            "type": "array",
            "items": ref("Label"),
            "description": "As in a photo's moderation: the uploader sees only those that decided it.",
        },
        "model_version": NULLABLE_STRING,
        "error": NULLABLE_STRING,
    }
)

SCHEMAS = job_files.SCHEMAS | {"JobImage": JOB_IMAGE, "Job": JOB}
