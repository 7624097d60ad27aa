"""Uploads straight to the bucket (blueprint `uploads_api`): what the server offers, a presigned POST per
file, and completing one; and the shapes of each."""

from webapp.services.photos.direct_uploads import CONTENT_TYPES
from webapp.services.photos.uploads import MAX_FILENAME_LENGTH
from webapp.views.openapi.job_files import SHA256_EXAMPLE
from webapp.views.openapi.shapes import (
    PROVIDER,
    UPLOAD_LIMITS,
    UUID,
    body_object,
    errors,
    json_answer,
    json_body,
    obj,
    path_id,
    ref,
)
from webapp.views.params import MAX_UPLOAD_ORDER
from webapp.views.uploads_api import MAX_DECLARED_FILES

NULLABLE_ORDER = {"type": ["integer", "null"]}


def paths() -> dict:
    """The direct-upload operations, by path."""
    return {
        "/api/uploads": {"get": capabilities(), "post": issue_uploads()},
        "/api/uploads/{session_id}/complete": {
            "parameters": [path_id("session_id")],
            "post": complete_upload(),
        },
    }


def capabilities() -> dict:
    offer = obj(
        {
            "direct": {
                "type": "boolean",
                "description": "Whether files may be sent straight to the bucket here (S3 storage); when "
                "false, send them to `POST /api/photos/upload` or the batch API.",
            },
            "max_file_bytes": {"type": "integer"},
            "max_files": {"type": "integer", "description": "Most files one `POST /api/uploads` declares."},
            "content_types": {"type": "array", "items": {"type": "string"}},
            "expires_in": {"type": "integer", "description": "Seconds each presigned POST stays valid."},
            "abandon_after": {
                "type": "integer",
                "description": "Seconds after which an upload never completed is removed, object too.",
            },
        }
    )
    return {
        "summary": "Ask how to upload: straight to the bucket, or through this server",
        "responses": {"200": json_answer(offer, "What this server offers."), **errors()},
    }


def issue_uploads() -> dict:
    declared = body_object(
        {
            "filename": {"type": ["string", "null"], "maxLength": MAX_FILENAME_LENGTH},
            "size": {"type": "integer", "minimum": 0, "examples": [1048576]},
            "content_type": {"type": "string", "enum": list(CONTENT_TYPES), "examples": ["image/jpeg"]},
            "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$", "examples": [SHA256_EXAMPLE]},
            "upload_order": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_UPLOAD_ORDER,
                "description": "Its place in the job (only with `job_id`; one is reserved when left out).",
            },
        },
        ["size", "content_type", "sha256"],
    )
    files = {"type": "array", "minItems": 1, "maxItems": MAX_DECLARED_FILES, "items": declared}
    body = body_object(
        {
            "files": files,
            "job_id": {**UUID, "description": "An `uploading` job of yours the files go into."},
            "provider": PROVIDER | {"description": "For files sent without a job (a job has its own)."},
        },
        ["files"],
    )
    answer = obj(
        {
            "uploads": {"type": "array", "items": ref("DirectUpload")},
            "rejected": {"type": "array", "items": ref("RefusedDeclaredFile")},
        }
    )
    return {
        "summary": "Get a presigned POST for each file, to send it straight to the bucket",
        "description": (
            "For each file a photo session, and a form to POST it to S3 with: send every entry of "
            "`fields`, then the file as the field `file` (multipart/form-data, no credentials) to `url`, "
            "which takes exactly the declared size and content type at `{session_id}/original.<ext>` "
            "until `expires_at`; then call `complete_url`. Asking again for a job's upload order that is "
            "not completed, with the same filename, size and SHA-256, gives the same session with a fresh "
            "POST (after S3 answered 403: it expired). A file refused for what it declares is in "
            "`rejected` (`file_too_large`, `unsupported_image`, `empty_file`, `duplicate_upload_order`). "
            "Only when `GET /api/uploads` says `direct` (else 409 `direct_uploads_unavailable`). "
            f"{UPLOAD_LIMITS} The declared sizes count as bytes."
        ),
        "requestBody": json_body(body),
        "responses": {
            "200": json_answer(answer, "Where to send each file, and the files refused."),
            **errors(400, 404, 409, 413, 422, 503),
        },
    }


def complete_upload() -> dict:
    accepted = obj(
        {
            "session_id": UUID,
            "virtual_image_id": UUID,
            "status": {"const": "pending"},
            "upload_order": NULLABLE_ORDER,
        }
    )
    return {
        "summary": "Say a file is in the bucket: it is checked and queued",
        "description": (
            "The server reads the object's size and first bytes and applies the upload's rules (the worker "
            "checks the whole file again before processing it). Completing again answers the same. 409 "
            "`upload_missing`: nothing is stored yet (send the file, then complete again). A refusal (413 "
            "`file_too_large`, 415 `unsupported_image`, 422 `size_mismatch`, `corrupt_image`, "
            "`too_many_pixels`, `too_many_frames`, …) deletes the object and ends the upload; so does "
            "submitting its job first (then 404)."
        ),
        "responses": {
            "202": json_answer(accepted, "Stored and queued."),
            **errors(404, 409, 413, 415, 422, 503),
        },
    }


DIRECT_UPLOAD = obj(
    {
        "session_id": UUID,
        "filename": {"type": "string"},
        "upload_order": NULLABLE_ORDER,
        "url": {"type": "string", "format": "uri"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        "expires_at": {"type": "string", "format": "date-time"},
        "complete_url": {"type": "string"},
    }
)

REFUSED_DECLARED_FILE = obj(
    {
        "filename": {"type": "string"},
        "upload_order": NULLABLE_ORDER,
        "error": obj({"code": {"type": "string"}, "message": {"type": "string"}}),
    }
)

SCHEMAS = {"DirectUpload": DIRECT_UPLOAD, "RefusedDeclaredFile": REFUSED_DECLARED_FILE}
