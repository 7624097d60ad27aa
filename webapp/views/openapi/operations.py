"""The operations on photos and bulk jobs, for the OpenAPI document."""

from webapp.views.openapi.shapes import (
    CALLBACK_URL,
    NULLABLE_STRING,
    PROVIDER,
    QUEUED_JOB,
    UUID,
    errors,
    json_answer,
    json_body,
    multipart,
    obj,
    paging,
    path_id,
    ref,
)
from webapp.views.params import MAX_UPLOAD_ORDER


def photo_paths() -> dict:
    """Single photos: upload, list, read, delete."""
    return {
        "/api/photos/upload": {
            "post": {
                "summary": "Upload one photo",
                "description": "JPEG (multi-picture too), PNG, WebP, GIF, HEIC/HEIF or AVIF, by content.",
                "requestBody": multipart(
                    {"file": {"type": "string", "format": "binary"}, "provider": PROVIDER}, ["file"]
                ),
                "responses": {
                    "202": json_answer(
                        obj({"session_id": UUID, "virtual_image_id": UUID, "status": {"const": "pending"}}),
                        "Stored and queued.",
                    ),
                    **errors(400, 409, 413, 415, 422, 503),
                },
            }
        },
        "/api/photos": {
            "get": {
                "summary": "List your photos, newest first",
                "parameters": paging(),
                "responses": {
                    "200": json_answer(
                        obj(
                            {
                                "photos": {"type": "array", "items": ref("Photo")},
                                "page": {"type": "integer"},
                                "per_page": {"type": "integer"},
                                "total": {"type": "integer"},
                            }
                        ),
                        "One page of photos.",
                    ),
                    **errors(400),
                },
            }
        },
        "/api/photos/{session_id}": {
            "parameters": [path_id("session_id")],
            "get": {
                "summary": "A photo: status, stored images with short-lived URLs, moderation",
                "responses": {"200": json_answer(ref("Photo"), "The photo."), **errors(404)},
            },
            "delete": {
                "summary": "Delete a photo, its objects and rows",
                "responses": {"204": {"description": "Deleted."}, **errors(404, 503)},
            },
        },
    }


def job_paths() -> dict:
    """Bulk jobs: one-request batches, jobs filled over several requests, status."""
    job_page = {
        "allOf": [
            ref("Job"),
            obj(
                {
                    "images": {"type": "array", "items": ref("JobImage")},
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "pages": {"type": "integer"},
                }
            ),
        ]
    }
    upload_orders = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": MAX_UPLOAD_ORDER}}
    batch_files = {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1}
    return {
        "/api/bulk-nsfw/upload": {
            "post": {
                "summary": "Create a job from one request's files and submit it",
                "requestBody": multipart(
                    {
                        "files": batch_files,
                        "upload_order": upload_orders,
                        "provider": PROVIDER,
                        "callback_url": CALLBACK_URL,
                    },
                    ["files"],
                ),
                "responses": {
                    "202": json_answer(
                        {
                            "allOf": [
                                QUEUED_JOB,
                                ref("BatchResult"),
                            ]
                        },
                        "The job, with what was stored and what was refused.",
                    ),
                    **errors(400, 413, 422, 503),
                },
            }
        },
        "/api/bulk-nsfw/jobs": {
            "get": {
                "summary": "List your jobs, newest first",
                "responses": {
                    "200": json_answer(obj({"jobs": {"type": "array", "items": ref("Job")}}), "Your jobs."),
                    **errors(),
                },
            },
            "post": {
                "summary": "Open a job for files sent in several requests",
                "requestBody": json_body(
                    {
                        "type": "object",
                        "properties": {"provider": PROVIDER, "callback_url": CALLBACK_URL},
                        "additionalProperties": False,
                    },
                    required=False,
                ),
                "responses": {
                    "201": json_answer(
                        obj(
                            {
                                "job_id": UUID,
                                "status": {"const": "uploading"},
                                "provider": {"type": "string"},
                                "callback_url": NULLABLE_STRING,
                            }
                        ),
                        "The job, open for files.",
                    ),
                    **errors(400, 422),
                },
            },
        },
        "/api/bulk-nsfw/jobs/{job_id}": {
            "parameters": [path_id("job_id")],
            "delete": {
                "summary": "Delete a job with every photo of it",
                "responses": {"204": {"description": "Deleted."}, **errors(404, 503)},
            },
        },
        "/api/bulk-nsfw/jobs/{job_id}/files": {
            "parameters": [path_id("job_id")],
            "post": {
                "summary": "Store more files into an open job",
                "requestBody": multipart({"files": batch_files, "upload_order": upload_orders}, ["files"]),
                "responses": {
                    "200": json_answer(ref("BatchResult"), "What was stored and what was refused."),
                    **errors(400, 404, 409, 413, 503),
                },
            },
        },
        "/api/bulk-nsfw/jobs/{job_id}/submit": {
            "parameters": [path_id("job_id")],
            "post": {
                "summary": "Close the job to new files and queue its photos",
                "responses": {
                    "202": json_answer(
                        QUEUED_JOB,
                        "Queued.",
                    ),
                    **errors(404, 409, 503),
                },
            },
        },
        "/api/bulk-nsfw/{job_id}/status": {
            "parameters": [path_id("job_id")],
            "get": {
                "summary": "A job's counters and one page of its images",
                "parameters": paging(),
                "responses": {"200": json_answer(job_page, "The job."), **errors(400, 404)},
            },
        },
    }
