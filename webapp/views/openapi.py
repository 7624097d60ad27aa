"""The HTTP API as an OpenAPI 3.1 document: the contract clients depend on, served at /api/openapi.json.

A test compares its operations with the app's routes, and Schemathesis fuzzes every operation
against it, so the document cannot drift from what the server does.
"""

from functools import cache

from webapp.models import ImageKind, JobStatus, ModerationStatus, SessionStatus
from webapp.moderation.providers import PROVIDERS
from webapp.views.describe import COUNTERS
from webapp.views.params import (
    MAX_NAME_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_UPLOAD_ORDER,
    MAX_URL_LENGTH,
)

UUID = {"type": "string", "format": "uuid"}
TIME = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_STRING = {"type": ["string", "null"]}

ERRORS = {
    400: "Malformed: a parameter or body that is not what the operation reads (the message names it).",
    401: "Not authenticated: log in, or send `Authorization: Bearer <token>`.",
    403: "Not allowed (admins only).",
    404: "Not found, or not yours.",
    409: "Conflicts with the state of the job or image.",
    413: "Too large.",
    415: "Not a supported image.",
    422: "Understood but invalid (the message names the field).",
    429: "Too many requests; `Retry-After` says when to try again.",
    503: "A backing service is down; `Retry-After` says when to try again.",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    """Error answers of an operation, all in API.md's error shape; 401 and 429 come with every one."""
    return {str(status): _json(_ref("Error"), ERRORS[status]) for status in sorted({401, 429, *statuses})}


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": UUID}


def _paging(default_per_page: int = 50) -> list[dict]:
    return [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": default_per_page},
        },
    ]


def _multipart(properties: dict, required: list[str], encoding: dict | None = None) -> dict:
    media = {"schema": {"type": "object", "properties": properties, "required": required}}
    if encoding:
        media["encoding"] = encoding
    return {"required": True, "content": {"multipart/form-data": media}}


def _json_body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


PROVIDER = {
    "type": "string",
    "enum": list(PROVIDERS),
    "description": "Moderation provider (default: the server's).",
}
CALLBACK_URL = {"type": "string", "format": "uri", "maxLength": MAX_URL_LENGTH}
QUEUED_JOB = _object({"job_id": UUID, "status": {"type": "string"}, "total": {"type": "integer"}})

SCHEMAS = {
    "Error": _object(
        {"error": _object({"code": {"type": "string"}, "message": {"type": "string"}})},
    ),
    "Label": _object(
        {
            "Name": {"type": "string"},
            "ParentName": {"type": "string"},
            "Confidence": {"type": "number", "minimum": 0, "maximum": 100},
            "TaxonomyLevel": {"type": "integer"},
        },
        ["Name", "Confidence"],
    ),
    "Image": _object(
        {
            "image_id": UUID,
            "kind": {"type": "string", "enum": [kind.value for kind in ImageKind]},
            "key": {"type": "string"},
            "url": {"type": "string", "description": "Short-lived; the link alone lets anyone load it."},
            "content_type": {"type": "string"},
            "width": {"type": ["integer", "null"]},
            "height": {"type": ["integer", "null"]},
            "bytes": {"type": "integer"},
        }
    ),
    "Moderation": {
        "type": ["object", "null"],
        "properties": {
            "virtual_image_id": UUID,
            "status": {"type": "string", "enum": [status.value for status in ModerationStatus]},
            "is_nsfw": {"type": ["boolean", "null"]},
            "labels": {"type": "array", "items": _ref("Label")},
            "model_version": NULLABLE_STRING,
            "source": NULLABLE_STRING,
        },
        "required": ["virtual_image_id", "status", "is_nsfw", "labels", "model_version", "source"],
    },
    "Photo": _object(
        {
            "session_id": UUID,
            "status": {"type": "string", "enum": [status.value for status in SessionStatus]},
            "original_image_id": {"type": ["string", "null"], "format": "uuid"},
            "processed_image_id": {"type": ["string", "null"], "format": "uuid"},
            "error": NULLABLE_STRING,
            "created_at": TIME,
            "completed_at": TIME,
            "images": {"type": "array", "items": _ref("Image")},
            "moderation": _ref("Moderation"),
        }
    ),
    "AcceptedFile": _object(
        {
            "virtual_image_id": UUID,
            "session_id": UUID,
            "upload_order": {"type": "integer"},
            "filename": {"type": "string"},
        }
    ),
    "RefusedFile": _object(
        {
            "filename": {"type": "string"},
            "upload_order": {"type": "integer"},
            "error": _object({"code": {"type": "string"}, "message": {"type": "string"}}),
        }
    ),
    "BatchResult": _object(
        {
            "images": {"type": "array", "items": _ref("AcceptedFile")},
            "rejected": {"type": "array", "items": _ref("RefusedFile")},
        }
    ),
    "JobImage": _object(
        {
            "virtual_image_id": UUID,
            "session_id": UUID,
            "upload_order": {"type": "integer"},
            "filename": {"type": "string"},
            "processing_status": {"type": "string", "enum": [status.value for status in SessionStatus]},
            "moderation_status": {"type": "string", "enum": [status.value for status in ModerationStatus]},
            "is_nsfw": {"type": ["boolean", "null"]},
            "labels": {"type": "array", "items": _ref("Label")},
            "model_version": NULLABLE_STRING,
            "error": NULLABLE_STRING,
        }
    ),
    "Job": _object(
        {
            "job_id": UUID,
            "status": {"type": "string", "enum": [status.value for status in JobStatus]},
            "provider": {"type": "string"},
            **{name: {"type": "integer", "minimum": 0} for name in COUNTERS},
            "callback_url": NULLABLE_STRING,
            "error": NULLABLE_STRING,
            "notes": {"type": "array", "items": {"type": "string"}},
            "created_at": TIME,
            "submitted_at": TIME,
            "completed_at": TIME,
        }
    ),
    "Review": _object(
        {
            "virtual_image_id": UUID,
            "verdict_before": {"type": "string"},
            "verdict_after": {"type": "string"},
            "reviewer": {"type": "string"},
            "note": NULLABLE_STRING,
            "reviewed_at": TIME,
        }
    ),
}


def _paths() -> dict:
    job_page = {
        "allOf": [
            _ref("Job"),
            _object(
                {
                    "images": {"type": "array", "items": _ref("JobImage")},
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
        "/api/photos/upload": {
            "post": {
                "summary": "Upload one photo",
                "description": "JPEG (multi-picture too), PNG, WebP, GIF, HEIC/HEIF or AVIF, by content.",
                "requestBody": _multipart(
                    {"file": {"type": "string", "format": "binary"}, "provider": PROVIDER}, ["file"]
                ),
                "responses": {
                    "202": _json(
                        _object(
                            {"session_id": UUID, "virtual_image_id": UUID, "status": {"const": "pending"}}
                        ),
                        "Stored and queued.",
                    ),
                    **_errors(400, 409, 413, 415, 422, 503),
                },
            }
        },
        "/api/photos": {
            "get": {
                "summary": "List your photos, newest first",
                "parameters": _paging(),
                "responses": {
                    "200": _json(
                        _object(
                            {
                                "photos": {"type": "array", "items": _ref("Photo")},
                                "page": {"type": "integer"},
                                "per_page": {"type": "integer"},
                                "total": {"type": "integer"},
                            }
                        ),
                        "One page of photos.",
                    ),
                    **_errors(400),
                },
            }
        },
        "/api/photos/{session_id}": {
            "parameters": [_path_id("session_id")],
            "get": {
                "summary": "A photo: status, stored images with short-lived URLs, moderation",
                "responses": {"200": _json(_ref("Photo"), "The photo."), **_errors(404)},
            },
            "delete": {
                "summary": "Delete a photo, its objects and rows",
                "responses": {"204": {"description": "Deleted."}, **_errors(404, 503)},
            },
        },
        "/api/bulk-nsfw/upload": {
            "post": {
                "summary": "Create a job from one request's files and submit it",
                "requestBody": _multipart(
                    {
                        "files": batch_files,
                        "upload_order": upload_orders,
                        "provider": PROVIDER,
                        "callback_url": CALLBACK_URL,
                    },
                    ["files"],
                ),
                "responses": {
                    "202": _json(
                        {
                            "allOf": [
                                QUEUED_JOB,
                                _ref("BatchResult"),
                            ]
                        },
                        "The job, with what was stored and what was refused.",
                    ),
                    **_errors(400, 413, 422, 503),
                },
            }
        },
        "/api/bulk-nsfw/jobs": {
            "get": {
                "summary": "List your jobs, newest first",
                "responses": {
                    "200": _json(_object({"jobs": {"type": "array", "items": _ref("Job")}}), "Your jobs."),
                    **_errors(),
                },
            },
            "post": {
                "summary": "Open a job for files sent in several requests",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "properties": {"provider": PROVIDER, "callback_url": CALLBACK_URL},
                        "additionalProperties": False,
                    },
                    required=False,
                ),
                "responses": {
                    "201": _json(
                        _object(
                            {
                                "job_id": UUID,
                                "status": {"const": "uploading"},
                                "provider": {"type": "string"},
                                "callback_url": NULLABLE_STRING,
                            }
                        ),
                        "The job, open for files.",
                    ),
                    **_errors(400, 422),
                },
            },
        },
        "/api/bulk-nsfw/jobs/{job_id}": {
            "parameters": [_path_id("job_id")],
            "delete": {
                "summary": "Delete a job with every photo of it",
                "responses": {"204": {"description": "Deleted."}, **_errors(404, 503)},
            },
        },
        "/api/bulk-nsfw/jobs/{job_id}/files": {
            "parameters": [_path_id("job_id")],
            "post": {
                "summary": "Store more files into an open job",
                "requestBody": _multipart({"files": batch_files, "upload_order": upload_orders}, ["files"]),
                "responses": {
                    "200": _json(_ref("BatchResult"), "What was stored and what was refused."),
                    **_errors(400, 404, 409, 413, 503),
                },
            },
        },
        "/api/bulk-nsfw/jobs/{job_id}/submit": {
            "parameters": [_path_id("job_id")],
            "post": {
                "summary": "Close the job to new files and queue its photos",
                "responses": {
                    "202": _json(
                        QUEUED_JOB,
                        "Queued.",
                    ),
                    **_errors(404, 409, 503),
                },
            },
        },
        "/api/bulk-nsfw/{job_id}/status": {
            "parameters": [_path_id("job_id")],
            "get": {
                "summary": "A job's counters and one page of its images",
                "parameters": _paging(),
                "responses": {"200": _json(job_page, "The job."), **_errors(400, 404)},
            },
        },
        "/api/account": {
            "put": {
                "summary": "Set your default callback URL for job notifications (null clears it)",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "properties": {"default_callback_url": {**CALLBACK_URL, "type": ["string", "null"]}},
                        "required": ["default_callback_url"],
                    }
                ),
                "responses": {
                    "200": _json(
                        _object({"email": {"type": "string"}, "default_callback_url": NULLABLE_STRING}),
                        "Saved.",
                    ),
                    **_errors(400, 422),
                },
            }
        },
        "/api/virtual-images/{virtual_image_id}/review": {
            "parameters": [_path_id("virtual_image_id")],
            "post": {
                "summary": "Approve or reject an image by hand (admins)",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "properties": {
                            "verdict": {"type": "string", "enum": ["approved", "rejected"]},
                            "note": {"type": ["string", "null"], "maxLength": MAX_NOTE_LENGTH},
                        },
                        "required": ["verdict"],
                    }
                ),
                "responses": {"200": _json(_ref("Review"), "Recorded."), **_errors(400, 403, 404, 422)},
            },
        },
        "/api/webhooks/moderation": {
            "post": {
                "summary": "A moderation vendor's verdict, signed per Standard Webhooks",
                "security": [],
                "parameters": [
                    {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                    for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
                ],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "properties": {
                            "virtual_image_id": UUID,
                            "verdict": {"type": "string", "enum": ["approved", "rejected", "flagged"]},
                            "labels": {"type": "array", "items": _ref("Label")},
                            "provider": {"type": "string", "maxLength": MAX_NAME_LENGTH},
                            "model_version": {"type": "string"},
                        },
                        "required": ["virtual_image_id", "verdict"],
                    }
                ),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"status": {"type": "string"}, "webhook_id": {"type": "string"}},
                            "required": ["status", "webhook_id"],
                        },
                        "Applied, or already applied.",
                    ),
                    **_errors(400, 404, 409, 413, 422),
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {}}}},
            }
        },
    }


@cache
def document() -> dict:
    """The OpenAPI 3.1 document of the JSON API."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "photogate",
            "version": "1",
            "description": (
                "Photo intake and content moderation. Errors always have the shape "
                '`{"error": {"code", "message"}}`; ids are UUIDs; times are ISO 8601 UTC. A user sees '
                "and changes only their own photos and jobs; an admin sees all."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`users token`).",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The browser's login; unsafe methods then need the CSRF token.",
                },
            },
        },
    }
