"""The building blocks of the OpenAPI document: shared shapes, error answers and small constructors."""

from webapp.models import BankAction, EntryOrigin, ImageKind, JobStatus, ModerationStatus, SessionStatus
from webapp.models.banks import MAX_DISTANCE
from webapp.moderation.providers import PROVIDERS
from webapp.views.describe import COUNTERS
from webapp.views.params import (
    MAX_FILENAME_SEARCH,
    MAX_PAGE,
    MAX_PER_PAGE,
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


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def json_answer(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*statuses: int) -> dict:
    """Error answers of an operation, all in API.md's error shape; 401 and 429 come with every one."""
    answered = sorted({401, 429, *statuses})
    return {str(status): json_answer(ref("Error"), ERRORS[status]) for status in answered}


def path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": UUID}


def paging(default_per_page: int = 50) -> list[dict]:
    return [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": default_per_page},
        },
    ]


def photo_filters() -> list[dict]:
    """The filters of a listing of photos; each may be repeated, and a photo passes with any value given."""
    filters = {
        "verdict": ("Keep photos with this verdict (moderation status).", ModerationStatus),
        "state": ("Keep photos in this processing state.", SessionStatus),
    }
    return [
        {
            "name": name,
            "in": "query",
            "description": description,
            "style": "form",
            "explode": True,
            "schema": {
                "type": "array",
                "items": {"type": "string", "enum": [choice.value for choice in choices]},
            },
        }
        for name, (description, choices) in filters.items()
    ] + [
        {
            "name": "filename",
            "in": "query",
            "description": "Keep photos whose original filename contains this text, in any case (`%` and `_` "
            "are themselves, not wildcards); surrounding spaces are dropped.",
            "schema": {
                "type": "string",
                "maxLength": MAX_FILENAME_SEARCH,
                "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*$",
            },
        }
    ]


def multipart(properties: dict, required: list[str], encoding: dict | None = None) -> dict:
    media = {"schema": {"type": "object", "properties": properties, "required": required}}
    if encoding:
        media["encoding"] = encoding
    return {"required": True, "content": {"multipart/form-data": media}}


def json_body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


PROVIDER = {
    "type": "string",
    "enum": list(PROVIDERS),
    "description": "Moderation provider (default: the server's).",
}
CALLBACK_URL = {"type": "string", "format": "uri", "maxLength": MAX_URL_LENGTH}
JOB_URL = {
    "type": "string",
    "format": "uri",
    "description": "Where the job is answered: `GET /api/bulk-nsfw/jobs/{job_id}`.",
}
QUEUED_JOB = obj({"job_id": UUID, "url": JOB_URL, "status": {"type": "string"}, "total": {"type": "integer"}})

SCHEMAS = {
    "Error": obj(
        {"error": obj({"code": {"type": "string"}, "message": {"type": "string"}})},
    ),
    "Label": obj(
        {
            "Name": {"type": "string"},
            "ParentName": {"type": "string"},
            "Confidence": {"type": "number", "minimum": 0, "maximum": 100},
            "TaxonomyLevel": {"type": "integer"},
        },
        ["Name", "Confidence"],
    ),
    "Image": obj(
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
            "labels": {
                "type": "array",
                "items": ref("Label"),
                "description": "Admins see every label and score. The uploader sees the labels that "
                "decided the verdict: none for an approved image, and for a flagged or rejected one those at "
                "or above a threshold of the policy in force. A bank match's label names the bank for "
                "admins; its uploader reads `Matched a known image`.",
            },
            "model_version": NULLABLE_STRING,
            "source": NULLABLE_STRING,
            "sha256": {"type": "string", "description": "SHA-256 of the uploaded bytes."},
            "pdq_hash": {
                "type": ["string", "null"],
                "description": "PDQ perceptual hash (64 hex digits) of the processed pixels, once processed.",
            },
            "pdq_quality": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
            "match": {
                "type": ["object", "null"],
                "description": "Admins: the bank entry that decided it (source `hash_match`).",
                "properties": {
                    "bank_id": UUID,
                    "bank": {"type": "string"},
                    "action": {"type": "string", "enum": [action.value for action in BankAction]},
                    "entry_id": UUID,
                    "distance": {"type": "integer", "minimum": 0, "maximum": 256},
                    "origin_image_id": {"type": ["string", "null"], "format": "uuid"},
                },
            },
            "duplicate_of": {
                "type": ["string", "null"],
                "format": "uuid",
                "description": "The earlier image of the same owner with the same bytes whose verdict "
                "it reuses (source `duplicate_of`).",
            },
            "reviews": {
                "type": "array",
                "items": ref("Review"),
                "description": "Every decision a person made on it, oldest first.",
            },
        },
        "required": [
            "virtual_image_id",
            "status",
            "is_nsfw",
            "labels",
            "model_version",
            "source",
            "reviews",
        ],
    },
    "Photo": obj(
        {
            "session_id": UUID,
            "status": {"type": "string", "enum": [status.value for status in SessionStatus]},
            "original_image_id": {"type": ["string", "null"], "format": "uuid"},
            "processed_image_id": {"type": ["string", "null"], "format": "uuid"},
            "error": NULLABLE_STRING,
            "created_at": TIME,
            "completed_at": TIME,
            "images": {"type": "array", "items": ref("Image")},
            "moderation": ref("Moderation"),
        }
    ),
    "AcceptedFile": obj(
        {
            "virtual_image_id": UUID,
            "session_id": UUID,
            "upload_order": {"type": "integer"},
            "filename": {"type": "string"},
        }
    ),
    "RefusedFile": obj(
        {
            "filename": {"type": "string"},
            "upload_order": {"type": "integer"},
            "error": obj({"code": {"type": "string"}, "message": {"type": "string"}}),
        }
    ),
    "BatchResult": obj(
        {
            "images": {"type": "array", "items": ref("AcceptedFile")},
            "rejected": {"type": "array", "items": ref("RefusedFile")},
        }
    ),
    "JobImage": obj(
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
    ),
    "Job": obj(
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
    ),
    "ApiToken": obj(
        {
            "id": UUID,
            "name": {"type": "string"},
            "created_at": TIME,
            "last_used_at": {**TIME, "description": "Null: never used (noted at most once a minute)."},
        }
    ),
    "Bank": obj(
        {
            "id": UUID,
            "name": {"type": "string"},
            "action": {"type": "string", "enum": [action.value for action in BankAction]},
            "distance": {"type": "integer", "minimum": 0, "maximum": MAX_DISTANCE},
            "enabled": {"type": "boolean"},
            "receives_review_rejects": {"type": "boolean"},
            "entries": {"type": "integer", "minimum": 0},
            "enabled_entries": {"type": "integer", "minimum": 0},
            "matches": {"type": "integer", "minimum": 0},
            "created_at": TIME,
        }
    ),
    "BankEntry": obj(
        {
            "id": UUID,
            "bank_id": UUID,
            "pdq_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "crop_hashes": {
                "type": "integer",
                "minimum": 0,
                "description": "Centre-crop hashes kept beside.",
            },
            "origin": {"type": "string", "enum": [origin.value for origin in EntryOrigin]},
            "origin_image_id": {"type": ["string", "null"], "format": "uuid"},
            "added_by": NULLABLE_STRING,
            "note": NULLABLE_STRING,
            "enabled": {"type": "boolean"},
            "created_at": TIME,
        }
    ),
    "Review": obj(
        {
            "virtual_image_id": UUID,
            "verdict_before": {"type": "string"},
            "verdict_after": {"type": "string"},
            "reviewer": {
                "type": ["string", "null"],
                "description": "Admins: who decided (an email). Null for the uploader: a moderator decided.",
            },
            "note": {
                "type": ["string", "null"],
                "description": "Admins: the reviewer's internal note. Null for the uploader.",
            },
            "message": {
                "type": ["string", "null"],
                "description": "What the reviewer wrote for the uploader, who reads it with the verdict.",
            },
            "reviewed_at": TIME,
        }
    ),
}
