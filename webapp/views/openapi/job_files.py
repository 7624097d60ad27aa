"""Files into a bulk job (blueprint `bulk_api`): a one-request batch, more files into an open job,
which files a job holds already; and the shapes of what was stored and refused."""

from webapp.services.photos.uploads import MAX_FILENAME_LENGTH
from webapp.views.bulk_api import MAX_CHECKED_FILES
from webapp.views.openapi.shapes import (
    CALLBACK_URL,
    PROVIDER,
    QUEUED_JOB,
    UPLOAD_LIMITS,
    UUID,
    body_object,
    errors,
    json_answer,
    json_body,
    merged,
    multipart,
    obj,
    ref,
)
from webapp.views.params import MAX_UPLOAD_ORDER

# The SHA-256 of an empty file, as the API page's example shows it.
SHA256_EXAMPLE = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

UPLOAD_ORDERS = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": MAX_UPLOAD_ORDER}}
BATCH_FILES = {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1}


def upload_batch() -> dict:
    form = {
        "files": BATCH_FILES,
        "upload_order": UPLOAD_ORDERS,
        "provider": PROVIDER,
        "callback_url": CALLBACK_URL,
    }
    return {
        "summary": "Create a job from one request's files and submit it",
        "description": UPLOAD_LIMITS,
        "requestBody": multipart(form, ["files"]),
        "responses": {
            "202": json_answer(
                merged(QUEUED_JOB, BATCH_RESULT), "The job, with what was stored and what was refused."
            ),
            **errors(400, 413, 422, 503),
        },
    }


def add_files() -> dict:
    return {
        "summary": "Store more files into an open job",
        "description": UPLOAD_LIMITS,
        "requestBody": multipart({"files": BATCH_FILES, "upload_order": UPLOAD_ORDERS}, ["files"]),
        "responses": {
            "200": json_answer(ref("BatchResult"), "What was stored and what was refused."),
            **errors(400, 404, 409, 413, 503),
        },
    }


def check_files() -> dict:
    sent = body_object(
        {
            "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$", "examples": [SHA256_EXAMPLE]},
            "size": {"type": "integer", "minimum": 0},
            "filename": {"type": ["string", "null"], "maxLength": MAX_FILENAME_LENGTH},
        },
        ["sha256", "size"],
    )
    checked = obj(
        {
            "sha256": {"type": "string"},
            "size": {"type": "integer"},
            "filename": {"type": "string"},
            "status": {"type": "string", "enum": ["present", "missing"]},
            "upload_order": {"type": ["integer", "null"]},
        }
    )
    answer = obj(
        {
            "job_id": UUID,
            "status": {"type": "string"},
            "next_upload_order": {"type": "integer", "minimum": 0},
            "files": {"type": "array", "items": checked},
        }
    )
    files = {"type": "array", "minItems": 1, "maxItems": MAX_CHECKED_FILES, "items": sent}
    return {
        "summary": "Ask which files the job holds already, to resume a batch",
        "description": "A client that lost track of a batch (a closed tab, a crash) hashes its files "
        f"and sends up to {MAX_CHECKED_FILES:,} per request; it then uploads only the `missing` ones, "
        "numbering them from `next_upload_order`. A file is present when the job holds an image with "
        "the same SHA-256 and size, whatever its name. A first run may skip files the job has the same way.",
        "requestBody": json_body(body_object({"files": files}, ["files"])),
        "responses": {
            "200": json_answer(answer, "Each file, present or missing, in the order sent."),
            **errors(400, 404, 422),
        },
    }


ACCEPTED_FILE = obj(
    {
        "virtual_image_id": UUID,
        "session_id": UUID,
        "upload_order": {"type": "integer"},
        "filename": {"type": "string"},
    }
)

REFUSED_FILE = obj(
    {
        "filename": {"type": "string"},
        "upload_order": {"type": "integer"},
        "error": obj({"code": {"type": "string"}, "message": {"type": "string"}}),
    }
)

BATCH_RESULT = obj(
    {
        "images": {"type": "array", "items": ref("AcceptedFile")},
        "rejected": {"type": "array", "items": ref("RefusedFile")},
    }
)

SCHEMAS = {"AcceptedFile": ACCEPTED_FILE, "RefusedFile": REFUSED_FILE, "BatchResult": BATCH_RESULT}
