"""The operations on photos, bulk jobs and hash banks, for the OpenAPI document."""

from webapp.models import BankAction
from webapp.models.banks import MAX_DISTANCE
from webapp.services.bank_entries import NOTE_LENGTH
from webapp.services.banks import NAME_LENGTH
from webapp.services.bulk_jobs import REFUSALS_SHOWN
from webapp.services.hash_lists import MAX_REPORTED, SHOWN_CHARACTERS
from webapp.views.openapi.shapes import (
    CALLBACK_URL,
    JOB_URL,
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
    photo_filters,
    ref,
)
from webapp.views.params import MAX_NOTE_LENGTH, MAX_UPLOAD_ORDER

# Hex digests as the API page's examples show them (the SHA-256 of an empty file; a PDQ hash).
SHA256_EXAMPLE = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PDQ_EXAMPLE = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"

# Said of every upload operation.
UPLOAD_LIMITS = (
    "Every file of the request, refused ones too, and its bytes count against the uploader's limits "
    "(`UPLOADS_PER_USER` files, `UPLOAD_MEGABYTES_PER_USER` MB): 429 with `Retry-After` past them, and 413 "
    "`over_upload_limit` for a request that carries more than a whole window lets through."
)


def photo_paths() -> dict:
    """Single photos: upload, list, read, delete."""
    return {
        "/api/photos/upload": {
            "post": {
                "summary": "Upload one photo",
                "description": "JPEG (multi-picture too), PNG, WebP, GIF, HEIC/HEIF or AVIF, by content. "
                + UPLOAD_LIMITS,
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
                "parameters": paging() + photo_filters(),
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
                    "refused_files": {
                        "type": "array",
                        "items": ref("RefusedFile"),
                        "maxItems": REFUSALS_SHOWN,
                        "description": f"The first {REFUSALS_SHOWN} files refused at upload, in upload "
                        "order, with why; `refused` counts them all. A file stored later at the same upload "
                        "order is no longer refused.",
                    },
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
                "description": UPLOAD_LIMITS,
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
            },
        },
        "/api/bulk-nsfw/jobs/{job_id}": {
            "parameters": [path_id("job_id")],
            "get": {
                "summary": "A job: its state and counters",
                "description": "Every answer about a job carries this address as its `url`; the job's "
                "images, a page at a time, are at `/api/bulk-nsfw/{job_id}/status`.",
                "responses": {"200": json_answer(ref("Job"), "The job."), **errors(404)},
            },
            "delete": {
                "summary": "Delete a job with every photo of it",
                "responses": {"204": {"description": "Deleted."}, **errors(404, 503)},
            },
        },
        "/api/bulk-nsfw/jobs/{job_id}/files": {
            "parameters": [path_id("job_id")],
            "post": {
                "summary": "Store more files into an open job",
                "description": UPLOAD_LIMITS,
                "requestBody": multipart({"files": batch_files, "upload_order": upload_orders}, ["files"]),
                "responses": {
                    "200": json_answer(ref("BatchResult"), "What was stored and what was refused."),
                    **errors(400, 404, 409, 413, 503),
                },
            },
        },
        "/api/bulk-nsfw/jobs/{job_id}/check": {
            "parameters": [path_id("job_id")],
            "post": {
                "summary": "Ask which files the job holds already, to resume a batch",
                "description": "A client that lost track of a batch (a closed tab, a crash) hashes its files "
                "and sends up to 1,000 per request; it then uploads only the `missing` ones, numbering them "
                "from `next_upload_order`. A file is present when the job holds an image with the same "
                "SHA-256 and size, whatever its name. A first run may skip files the job has the same way.",
                "requestBody": json_body(
                    obj(
                        {
                            "files": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 1000,
                                "items": obj(
                                    {
                                        "sha256": {
                                            "type": "string",
                                            "pattern": "^[0-9a-fA-F]{64}$",
                                            "examples": [SHA256_EXAMPLE],
                                        },
                                        "size": {"type": "integer", "minimum": 0},
                                        "filename": {"type": ["string", "null"], "maxLength": 255},
                                    },
                                    ["sha256", "size"],
                                ),
                            }
                        }
                    )
                ),
                "responses": {
                    "200": json_answer(
                        obj(
                            {
                                "job_id": UUID,
                                "status": {"type": "string"},
                                "next_upload_order": {"type": "integer", "minimum": 0},
                                "files": {
                                    "type": "array",
                                    "items": obj(
                                        {
                                            "sha256": {"type": "string"},
                                            "size": {"type": "integer"},
                                            "filename": {"type": "string"},
                                            "status": {"type": "string", "enum": ["present", "missing"]},
                                            "upload_order": {"type": ["integer", "null"]},
                                        }
                                    ),
                                },
                            }
                        ),
                        "Each file, present or missing, in the order sent.",
                    ),
                    **errors(400, 404, 422),
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
                "parameters": paging() + photo_filters(),
                "responses": {"200": json_answer(job_page, "The job."), **errors(400, 404)},
            },
        },
    }


def bank_paths() -> dict:
    """Hash banks (admins): banks, their entries, and hash lists in and out."""
    bank_fields = {
        "name": {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH},
        "action": {"type": "string", "enum": [action.value for action in BankAction]},
        "distance": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_DISTANCE},
        "enabled": {"type": ["boolean", "null"]},
    }
    hash_list = {"type": "string", "description": "One PDQ hash (64 hex digits) per line, an optional note."}
    malformed_line = obj(
        {
            "line": {"type": "integer", "minimum": 1},
            "error": {"type": "string"},
            "content": {
                "type": "string",
                "maxLength": SHOWN_CHARACTERS,
                "description": f"The line's first {SHOWN_CHARACTERS} characters (`…` when there is more); "
                "bytes that are not UTF-8 and control characters as `\\xNN`.",
            },
        }
    )
    invalid_hash_list = obj(
        {
            "error": obj(
                {
                    "code": {"type": "string", "const": "invalid_hash_list"},
                    "message": {"type": "string"},
                    "lines": {"type": "array", "items": malformed_line, "maxItems": MAX_REPORTED},
                    "malformed_lines": {"type": "integer", "minimum": 1},
                }
            )
        }
    )
    return {
        "/api/banks": {
            "get": {
                "summary": "List the hash banks, with their entry and match counts",
                "responses": {
                    "200": json_answer(obj({"banks": {"type": "array", "items": ref("Bank")}}), "The banks."),
                    **errors(403),
                },
            },
            "post": {
                "summary": "Create a hash bank",
                "requestBody": json_body(
                    {"type": "object", "properties": bank_fields, "required": ["name", "action"]}
                ),
                "responses": {"201": json_answer(ref("Bank"), "Created."), **errors(400, 403, 409, 422)},
            },
        },
        "/api/banks/{bank_id}": {
            "parameters": [path_id("bank_id")],
            "get": {
                "summary": "One hash bank",
                "responses": {"200": json_answer(ref("Bank"), "The bank."), **errors(403, 404)},
            },
            "patch": {
                "summary": "Rename a bank, change its action or distance, switch it on or off",
                "requestBody": json_body({"type": "object", "properties": bank_fields}),
                "responses": {"200": json_answer(ref("Bank"), "Changed."), **errors(400, 403, 404, 409, 422)},
            },
        },
        "/api/banks/{bank_id}/entries": {
            "parameters": [path_id("bank_id")],
            "get": {
                "summary": "A bank's entries, newest first",
                "parameters": paging(),
                "responses": {
                    "200": json_answer(
                        obj(
                            {
                                "entries": {"type": "array", "items": ref("BankEntry")},
                                "page": {"type": "integer"},
                                "per_page": {"type": "integer"},
                                "total": {"type": "integer"},
                            }
                        ),
                        "One page of entries.",
                    ),
                    **errors(400, 403, 404),
                },
            },
            "post": {
                "summary": "Add a PDQ hash by hand (200 if the bank has it already)",
                "requestBody": json_body(
                    {
                        "type": "object",
                        "properties": {
                            "pdq_hash": {
                                "type": "string",
                                "pattern": "^[0-9a-fA-F]{64}$",
                                "examples": [PDQ_EXAMPLE],
                            },
                            "note": {"type": ["string", "null"], "maxLength": MAX_NOTE_LENGTH},
                        },
                        "required": ["pdq_hash"],
                    }
                ),
                "responses": {
                    "201": json_answer(ref("BankEntry"), "Added."),
                    "200": json_answer(ref("BankEntry"), "The bank had it already."),
                    **errors(400, 403, 404, 422),
                },
            },
        },
        "/api/banks/{bank_id}/entries/{entry_id}": {
            "parameters": [path_id("bank_id"), path_id("entry_id")],
            "patch": {
                "summary": "Disable an entry (a false positive) or enable it again, or change its note",
                "requestBody": json_body(
                    {
                        "type": "object",
                        "properties": {
                            "enabled": {"type": ["boolean", "null"]},
                            "note": {"type": ["string", "null"], "maxLength": MAX_NOTE_LENGTH},
                        },
                    }
                ),
                "responses": {"200": json_answer(ref("BankEntry"), "Changed."), **errors(400, 403, 404, 422)},
            },
        },
        "/api/banks/{bank_id}/import": {
            "parameters": [path_id("bank_id")],
            "post": {
                "summary": "Import a hash list: every line, or none if one is malformed",
                "description": "A text or CSV file, one PDQ hash per line with an optional note column "
                f"of at most {NOTE_LENGTH:,} characters (a `pdq,note` header and blank lines are allowed); "
                "each line is read on its own, so a quote never runs on into the next. A 422 imports "
                f"nothing: `error.lines` (`[{{line, error, content}}]`) names the first {MAX_REPORTED} "
                "malformed lines, each with how it starts, and `error.malformed_lines` counts them all.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "text/csv": {"schema": hash_list},
                        "text/plain": {"schema": hash_list},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {"file": {"type": "string", "format": "binary"}},
                                "required": ["file"],
                            }
                        },
                    },
                },
                "responses": {
                    "200": json_answer(
                        obj({"added": {"type": "integer"}, "already_present": {"type": "integer"}}),
                        "Imported.",
                    ),
                    **errors(400, 403, 404, 413),
                    "422": json_answer(invalid_hash_list, "Malformed lines: nothing was imported."),
                },
            },
        },
        "/api/banks/{bank_id}/export": {
            "parameters": [path_id("bank_id")],
            "get": {
                "summary": "Export the bank's enabled entries as the hash list import reads",
                "responses": {
                    "200": {
                        "description": "`hash[,note]` per line; a note a spreadsheet would run as a "
                        "formula (starting `=`, `+`, `-` or `@`) is written after a `'`, which import "
                        "takes off.",
                        "content": {"text/csv": {"schema": hash_list}},
                    },
                    **errors(403, 404),
                },
            },
        },
    }
